"""`manage.py search_index`: --check finds every kind of drift, --rebuild repairs it, resumably;
and the lesson admin keeps a lesson's documents in step."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from forum.models import Comment, SearchDocument
from forum.search import search
from forum.search.sync import comments_reindex, lesson_reindex
from tests.factories import CommentFactory, CourseFactory, LessonFactory, lesson_admin_form
from tests.forum.import_helpers import run_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def indexed():
    lesson = LessonFactory(body_markdown="## 第一节\n\n向量数据库\n\n## 第二节\n\n写时复制")
    comments = [CommentFactory(lesson=lesson, body=f"第{n}条：缓存穿透") for n in range(5)]
    comments_reindex([c.pk for c in comments])
    lesson_reindex(lesson)
    return lesson, comments


def test_an_index_in_step_passes_the_check(indexed) -> None:
    run = run_command("search_index", "--check")
    assert run.error is None, run.stdout
    assert "missing: 0" in run.stdout and "stale: 0" in run.stdout and "extra: 0" in run.stdout


def test_the_check_reports_missing_stale_and_extra_documents_and_fails(indexed) -> None:
    lesson, comments = indexed
    SearchDocument.objects.filter(comment=comments[0]).delete()
    SearchDocument.objects.filter(comment=comments[1]).update(tokens="别的 词元")
    Comment.objects.filter(pk=comments[2].pk).update(status=Comment.Status.HIDDEN)
    SearchDocument.objects.filter(lesson=lesson, kind="lesson", section=1).update(text="旧的")

    run = run_command("search_index", "--check")

    assert run.error is not None  # exit status 1
    assert f"missing: 1\n  comment {comments[0].pk}" in run.stdout
    assert f"stale: 2\n  comment {comments[1].pk}\n  lesson {lesson.pk}" in run.stdout
    assert f"extra: 1\n  comment {comments[2].pk}" in run.stdout


def test_rebuild_repairs_every_drift(indexed) -> None:
    lesson, comments = indexed
    SearchDocument.objects.all().delete()
    Comment.objects.filter(pk=comments[2].pk).update(status=Comment.Status.HIDDEN)

    run = run_command("search_index", "--rebuild", "--batch", "2")

    assert run.error is None
    assert "comments: 5/5" in run.stdout
    assert run_command("search_index", "--check").error is None
    found = {hit.document.comment_id for hit in search("缓存穿透", per_page=100).hits}
    assert found == {c.pk for c in comments} - {comments[2].pk}
    assert {hit.document.lesson_id for hit in search("写时复制").hits} == {lesson.pk}


def test_rebuild_resumes_after_the_last_id_it_reported(indexed) -> None:
    _lesson, comments = indexed
    SearchDocument.objects.filter(kind="comment").delete()

    run = run_command("search_index", "--rebuild", "--after", str(comments[2].pk))

    assert "comments: 2/2" in run.stdout
    indexed_ids = set(SearchDocument.objects.values_list("comment_id", flat=True))
    assert indexed_ids - {None} == {comments[3].pk, comments[4].pk}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 table is SQLite's")
def test_the_check_finds_a_full_text_index_that_lost_its_rows(indexed) -> None:
    _lesson, comments = indexed
    with connection.cursor() as cursor:  # as a restore of the table alone would leave it
        cursor.execute("DROP TRIGGER forum_search_fts_delete")
        cursor.execute("DELETE FROM forum_searchdocument WHERE comment_id = %s", [comments[0].pk])
    run = run_command("search_index", "--check")
    assert run.error is not None
    assert "the full-text index" in run.stdout


def test_a_lesson_saved_in_the_admin_is_searched_as_it_now_reads(superuser_client) -> None:
    lesson = LessonFactory(body_markdown="旧的正文")
    lesson_reindex(lesson)
    response = superuser_client.post(
        reverse("admin:lessons_lesson_change", args=[lesson.pk]),
        lesson_admin_form(lesson, body_markdown="新的正文讲向量数据库"),
    )
    assert response.status_code == 302
    assert {hit.document.lesson_id for hit in search("向量数据库").hits} == {lesson.pk}
    assert search("旧的正文").hits == []


def test_a_lesson_moved_to_another_course_in_the_admin_takes_its_comments_along(
    superuser_client,
) -> None:
    lesson = LessonFactory()
    comments_reindex([CommentFactory(lesson=lesson, body="向量数据库的索引").pk])
    elsewhere = CourseFactory()
    form = lesson_admin_form(lesson, course=elsewhere.pk)
    response = superuser_client.post(reverse("admin:lessons_lesson_change", args=[lesson.pk]), form)
    assert response.status_code == 302
    assert len(search("向量数据库", kind="comments", course=elsewhere).hits) == 1
    assert search("向量数据库", kind="comments", course=lesson.course).hits == []


def test_the_command_runs_with_the_system_checks_as_manage_py_runs_it(indexed) -> None:
    out = io.StringIO()
    call_command("search_index", "--check", skip_checks=False, stdout=out)
    assert "the search index is in step" in out.getvalue()
