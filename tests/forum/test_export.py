"""export_lesson writes the source format back; importing an export reproduces the lessons."""

from __future__ import annotations

from pathlib import Path

import pytest

from forum.importing.source import parse_page
from forum.models import Comment, Member
from lessons.models import Course, Lesson
from tests.forum.corpus_reader import read_page
from tests.forum.import_helpers import SEED, corpus_page, row_counts, run_command, run_import

pytestmark = pytest.mark.django_db

WITH_REPLIES = "with-replies/gb20__开篇词｜30-60K，转型云原生架构师和SRE需要哪些能力？.md"


def snapshot() -> dict[str, list[tuple]]:
    """Everything an export must carry, without database ids."""
    lessons = [
        (
            lesson.course.title,
            lesson.course.teacher,
            lesson.number,
            lesson.title,
            lesson.body_markdown,
            lesson.comment_count,
        )
        for lesson in Lesson.objects.select_related("course").order_by("course__title", "slug")
    ]
    comments = [
        (
            c.lesson.title,
            c.source_position,
            c.parent.source_position if c.parent else None,
            c.member.display_name,
            c.member.avatar_url,
            c.body,
            c.imported_like_count,
            c.like_count,
            c.imported_reply_count,
            c.reply_count,
            c.created_at,
            c.created_date_only,
            c.is_featured,
            c.is_author_reply,
            c.author_reply_label,
        )
        for c in Comment.objects.select_related("lesson", "member", "parent").order_by(
            "lesson__title", "source_position", "parent__source_position", "pk"
        )
    ]
    return {"lessons": lessons, "comments": comments}


def test_exported_seed_reads_like_the_seed() -> None:
    run_import(SEED)
    lesson = Lesson.objects.select_related("course").get()

    run = run_command("export_lesson", f"{lesson.course.slug}/{lesson.slug}")

    assert run.error is None, run.stderr
    exported = run.stdout.encode()
    assert read_page(exported).comments == read_page(SEED.read_bytes()).comments
    assert parse_page(exported).body_markdown == lesson.body_markdown


def test_lesson_can_be_named_by_id() -> None:
    run_import(SEED)
    run = run_command("export_lesson", str(Lesson.objects.get().pk))
    assert run.error is None
    assert "精选留言（18）" in run.stdout


def test_unknown_lesson_is_refused() -> None:
    run = run_command("export_lesson", "no-such-course/no-such-lesson")
    assert run.error is not None
    assert "no lesson 'no-such-course/no-such-lesson'" in str(run.error)


def test_several_lessons_need_an_output_directory(tmp_path: Path) -> None:
    run_import(SEED)
    run_import(corpus_page(WITH_REPLIES), "--course", "云原生架构师")
    run = run_command("export_lesson", "--all")
    assert run.error is not None
    assert "--output" in str(run.error)


def test_export_imported_into_an_empty_database_reproduces_the_lessons(tmp_path: Path) -> None:
    run_import(SEED)
    run_import(corpus_page(WITH_REPLIES), "--course", "云原生架构师")
    assert Comment.objects.filter(is_author_reply=True).exists()
    assert Comment.objects.filter(author_reply_label="编辑回复").exists()
    before = snapshot()

    exported = run_command("export_lesson", "--all", "--output", str(tmp_path))
    assert exported.error is None, exported.stderr
    Course.objects.all().delete()
    Member.objects.all().delete()
    assert set(row_counts().values()) == {0}
    run = run_import(tmp_path)

    assert run.error is None, run.stderr
    assert "lessons: 2 created" in run.stdout
    assert snapshot() == before
