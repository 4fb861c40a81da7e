"""Comments on blocks across the revision pairs of the shared corpus (issue 20, Done means 2):
the `-r…` folders hold older revisions of pages of the folders they are named after."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from forum.anchoring import ORPHANED
from forum.management.commands.anchor_shares import revision_pairs
from forum.models import AnchorState, Comment, Member
from lessons.models import Lesson
from tests.forum.corpus_reader import corpus_dir
from tests.forum.import_helpers import NO_CORPUS, run_command, run_import

CORPUS = corpus_dir()
pytestmark = [pytest.mark.django_db, pytest.mark.skipif(CORPUS is None, reason=NO_CORPUS)]


def test_the_command_prints_the_shares_and_loses_no_comment():
    run = run_command("anchor_shares", str(CORPUS))
    assert run.error is None, run.stderr
    last = run.stdout.splitlines()[-1]
    assert last.startswith("all: ") and last.endswith("lost or on another lesson's block: 0")
    assert "unchanged  99." in last  # almost every block is unchanged there


def test_imported_revisions_keep_every_comment_on_its_own_lesson(tmp_path: Path):
    """Through the import itself, on the sample pairs and three lessons of the course: a
    comment on every block of each older page, then the newer pages imported over them."""
    pairs = [p for folder in revision_pairs(CORPUS).values() for p in folder if p[1] is not None]
    chosen = [p for p in pairs if "sample" in p[0].parent.name] + [
        p for p in pairs if p[0].name.startswith(("01-", "02-", "03-"))
    ]
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    old_dir.mkdir(), new_dir.mkdir()
    for n, (old, new) in enumerate(chosen):  # a folder each, so that names cannot meet
        for path, folder in ((old, old_dir), (new, new_dir)):
            (folder / str(n)).mkdir()
            shutil.copy(path, folder / str(n) / path.name)
    assert run_import(old_dir, "--course", "修订").error is None
    reader = Member.objects.create(display_name="读者")
    lessons = list(Lesson.objects.all())
    Comment.objects.bulk_create(
        Comment(lesson=lesson, member=reader, body="问", body_html="<p>问</p>", block_id=anchor,
                block_quote=text[:500], revision_number=lesson.revision_number)
        for lesson in lessons
        for anchor, text in lesson.blocks.items()
    )  # fmt: skip
    before = dict(Comment.objects.filter(member=reader).values_list("pk", "lesson_id"))
    assert run_import(new_dir, "--course", "修订").error is None

    after = Comment.objects.filter(member=reader).select_related("lesson")
    assert {c.pk: c.lesson_id for c in after} == before  # none lost, none moved lesson
    assert Lesson.objects.count() == len(lessons)
    for comment in after:
        if comment.anchor_state == AnchorState.ORPHANED:
            assert comment.block_id not in comment.lesson.blocks
        else:
            assert comment.block_id in comment.lesson.blocks
    states = list(after.values_list("anchor_state", flat=True))
    assert states.count(ORPHANED) <= len(states) // 50
    assert {lesson.revision_number for lesson in Lesson.objects.all()} == {2}
