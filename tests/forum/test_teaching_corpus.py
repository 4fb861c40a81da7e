"""The teacher's queue on the shared corpus's pages with teacher replies (skipped without it)."""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest
from django.test import Client

from forum import linking
from forum.models import Comment, Member
from forum.teaching.questions import asks_question, question_filter
from lessons.models import Lesson
from tests.factories import UserFactory, moderator
from tests.forum.corpus_reader import corpus_dir, read_page
from tests.forum.import_helpers import NO_CORPUS, run_import
from tests.forum.test_teaching import QueueReader

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported() -> dict[int, int]:
    """Every with-replies page imported; per lesson, how many of the page's comments have no
    作者回复 (read from the page by the independent reader)."""
    root = corpus_dir()
    if root is None:
        pytest.skip(NO_CORPUS)
    waiting: dict[int, int] = {}
    for path in sorted((root / "with-replies").iterdir()):
        run = run_import(path)
        assert run.error is None, run.stderr
        lesson = Lesson.objects.order_by("-pk").first()
        page = read_page(path.read_bytes())
        unanswered = [c for c in page.comments if c.author_reply_label != "作者回复"]
        waiting[lesson.pk] = waiting.get(lesson.pk, 0) + len(unanswered)
    return waiting


def test_the_queue_lists_exactly_the_comments_without_a_teacher_answer(imported):
    # The teacher of the course with the most answers, linked to an account.
    answers = Counter(
        Comment.objects.filter(is_author_reply=True).values_list("member_id", flat=True)
    )
    teacher = Member.objects.get(pk=answers.most_common(1)[0][0])
    user = UserFactory()
    linking.member_link_account(moderator=moderator(), member=teacher, user=user)
    client = Client()
    client.force_login(user)

    taught = set(Lesson.objects.filter(course__teachers=teacher).values_list("pk", flat=True))
    expected = {pk: n for pk, n in imported.items() if pk in taught and n}
    assert expected, "the teacher's lessons have comments waiting"

    page = client.get("/teach/")
    reader = QueueReader()
    reader.feed(page.content.decode())
    counts = {c.lesson_id: c.waiting for c in page.context["queue"].lessons}
    assert counts == expected
    assert sorted(reader.counts, reverse=True) == sorted(expected.values(), reverse=True)
    assert page.context["queue"].total == sum(expected.values())

    listed = csv.reader(io.StringIO(client.get("/teach/queue.csv").content.decode("utf-8-sig")))
    ids = [int(row[0]) for row in list(listed)[1:]]
    assert len(ids) == len(set(ids)) == sum(expected.values())
    for comment in Comment.objects.filter(pk__in=ids):
        assert comment.parent_id is None and comment.lesson_id in taught
        assert not comment.replies.filter(is_author_reply=True).exists()
    answered = Comment.objects.filter(
        lesson__in=taught, parent=None, replies__is_author_reply=True
    ).values_list("pk", flat=True)
    assert set(answered).isdisjoint(ids)


def test_the_question_rule_on_the_corpus(imported):
    bodies = list(Comment.objects.filter(parent=None).values_list("pk", "body"))
    by_rule = {pk for pk, body in bodies if asks_question(body)}
    by_filter = set(
        Comment.objects.filter(parent=None).filter(question_filter()).values_list("pk", flat=True)
    )
    assert by_rule == by_filter
    # Real comments: many ask, most do not.
    assert 0.05 < len(by_rule) / len(bodies) < 0.6
