"""Every real page of the shared corpus imports, and stores what an independent reading finds."""

from __future__ import annotations

from pathlib import Path

import pytest

from forum.models import Comment
from lessons.models import Lesson
from lessons.rendering import drop_invisible_controls
from tests.forum.corpus_reader import corpus_dir, corpus_files, read_page
from tests.forum.import_helpers import NO_CORPUS, run_import, shanghai_wall_time, top_level_comments

pytestmark = pytest.mark.django_db

CORPUS = corpus_dir()
EMPTY_PAGE = "sample/be042__直播加餐-如何设计面试连招？.md"
PAGES = [
    pytest.param(path, index, id=str(path.relative_to(CORPUS)))
    for index, path in enumerate(corpus_files())
    if path.stat().st_size
] or [pytest.param(None, 0, id="no-corpus", marks=pytest.mark.skip(reason=NO_CORPUS))]


@pytest.mark.skipif(CORPUS is None, reason=NO_CORPUS)
def test_whole_corpus_imports_except_the_empty_page_with_keep_going() -> None:
    folders = sorted(path for path in CORPUS.iterdir() if path.is_dir())
    pages = [path for path in corpus_files() if path.stat().st_size]

    run = run_import(*folders, "--keep-going")

    assert len(folders) == 5
    assert str(run.error) == f"1 of {len(pages) + 1} pages failed"
    assert run.error_lines == [f"error: {CORPUS / EMPTY_PAGE}: empty page"]
    assert f"lessons: {len(pages)} created, 0 updated, 0 unchanged" in run.stdout
    assert "1 failed" in run.stdout
    assert set(Lesson.objects.values_list("source_ref", flat=True)) == {str(p) for p in pages}


@pytest.mark.parametrize(("path", "index"), PAGES)
def test_corpus_page_stores_what_the_page_holds(path: Path, index: int) -> None:
    """Imported alone, in a course of its own, compared with corpus_reader's reading."""
    course = f"{path.parent.name}-{index}"
    run = run_import(path, "--course", course)
    assert run.error is None, run.stderr
    expected = read_page(path.read_bytes()).comments
    lesson = Lesson.objects.get(course__title=course)
    stored = top_level_comments(lesson)

    assert len(stored) == len(expected)
    assert [c.source_position for c in stored] == list(range(1, len(expected) + 1))
    assert [c.member.display_name for c in stored] == [r.name[:150] for r in expected]
    assert [c.member.avatar_url for c in stored] == [r.avatar_url for r in expected]
    assert [c.imported_like_count for c in stored] == [r.likes or 0 for r in expected]
    assert [c.like_count for c in stored] == [r.likes or 0 for r in expected]
    assert [c.imported_reply_count for c in stored] == [r.reply_count for r in expected]
    assert [shanghai_wall_time(c.created_at) for c in stored] == [r.created for r in expected]
    assert [c.created_date_only for c in stored] == [not r.has_time for r in expected]
    # Invisible control characters (a backspace in six real comments) are dropped on import.
    assert [c.body for c in stored] == [drop_invisible_controls(r.body) for r in expected]
    assert all(c.is_featured for c in stored)

    replies = {
        reply.parent_id: reply
        for reply in Comment.objects.filter(lesson=lesson, parent__isnull=False)
    }
    assert len(replies) == sum(1 for r in expected if r.author_reply)
    for comment, read in zip(stored, expected, strict=True):
        if not read.author_reply:
            assert comment.pk not in replies
            continue
        reply = replies[comment.pk]
        assert reply.body == read.author_reply
        assert reply.author_reply_label == read.author_reply_label
        assert reply.is_author_reply == (read.author_reply_label != "编辑回复")
        assert reply.root_id == comment.pk
        assert reply.source_position is None
