"""The teacher's workspace: the queue, answering in place, "不需要回复", the charts, the CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from forum import services
from forum.models import Comment, QueueDismissal, Report
from forum.teaching import charts
from forum.teaching.questions import asks_question, question_filter
from tests.factories import (
    CommentFactory,
    CourseFactory,
    LessonFactory,
    MemberFactory,
    UserFactory,
    moderator,
    teacher_of,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
QUEUE = "/teach/"


@pytest.fixture(autouse=True)
def no_rate_limits(settings):
    settings.FORUM_RATE_LIMIT_SCALE = 0


@pytest.fixture
def lesson():
    return LessonFactory()


@pytest.fixture
def teacher(lesson):
    return teacher_of(lesson.course)


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


class QueueReader(HTMLParser):
    """The ids of the page's queue entries, and the per-lesson counts (the markup contract)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[int] = []
        self.counts: list[int] = []
        self._in_count = False

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        if "data-queue-item" in attrs:
            self.ids.append(int(attrs["data-comment-id"]))
        self._in_count = tag == "td" and "data-count" in attrs

    def handle_data(self, data) -> None:
        if self._in_count:
            self.counts.append(int(data))
            self._in_count = False


def queue_ids(client: Client, url: str = QUEUE) -> list[int]:
    response = client.get(url)
    assert response.status_code == 200
    reader = QueueReader()
    reader.feed(response.content.decode())
    return reader.ids


# ---------------------------------------------------------------------------------------------
# What waits


def test_the_queue_holds_exactly_what_waits_for_a_teacher(lesson, teacher):
    asking = CommentFactory(lesson=lesson, body="这里为什么要这样做？")
    answered = CommentFactory(lesson=lesson)
    CommentFactory(lesson=lesson, member=teacher, parent=answered, is_author_reply=True)
    deleted = CommentFactory(lesson=lesson, deleted_at=timezone.now())
    pending = CommentFactory(lesson=lesson, status=Comment.Status.PENDING)
    by_teacher = CommentFactory(lesson=lesson, member=teacher)
    to_teacher = CommentFactory(lesson=lesson, parent=by_teacher, body="老师，那这个呢")
    to_reader = CommentFactory(lesson=lesson, parent=asking, body="同问")
    naming = CommentFactory(
        lesson=lesson, parent=asking, body=f"@{teacher.user.username} 能看一下吗"
    )
    elsewhere = CommentFactory()
    ids = queue_ids(client_of(teacher.user))
    assert ids == [asking.pk, to_teacher.pk, naming.pk]
    assert {answered.pk, deleted.pk, pending.pk, to_reader.pk, elsewhere.pk}.isdisjoint(ids)


def test_an_answer_whose_reply_was_deleted_waits_again(lesson, teacher):
    comment = CommentFactory(lesson=lesson)
    CommentFactory(
        lesson=lesson,
        member=teacher,
        parent=comment,
        is_author_reply=True,
        deleted_at=timezone.now(),
    )
    assert queue_ids(client_of(teacher.user)) == [comment.pk]


def test_oldest_first_by_default_and_newest_on_request(lesson, teacher):
    now = timezone.now()
    old = CommentFactory(lesson=lesson, created_at=now - timedelta(days=9))
    new = CommentFactory(lesson=lesson, created_at=now)
    client = client_of(teacher.user)
    assert queue_ids(client) == [old.pk, new.pk]
    assert queue_ids(client, QUEUE + "?sort=new") == [new.pk, old.pk]


def test_filters_by_course_lesson_and_questions(teacher, lesson):
    other_lesson = LessonFactory(course=lesson.course)
    second = CourseFactory()
    teacher.courses_taught.add(second)
    a = CommentFactory(lesson=lesson, body="怎么理解这一段")
    b = CommentFactory(lesson=other_lesson, body="写得真好")
    c = CommentFactory(lesson=LessonFactory(course=second), body="对吗?")
    client = client_of(teacher.user)
    assert queue_ids(client) == [a.pk, b.pk, c.pk]
    assert queue_ids(client, f"{QUEUE}?course={second.slug}") == [c.pk]
    assert queue_ids(client, f"{QUEUE}?lesson={other_lesson.pk}") == [b.pk]
    assert queue_ids(client, f"{QUEUE}?questions=1") == [a.pk, c.pk]


def test_counts_per_lesson_add_up_to_the_total(teacher, lesson):
    other = LessonFactory(course=lesson.course)
    for _ in range(3):
        CommentFactory(lesson=lesson)
    CommentFactory(lesson=other)
    response = client_of(teacher.user).get(QUEUE)
    reader = QueueReader()
    reader.feed(response.content.decode())
    assert reader.counts == [3, 1]
    assert response.context["queue"].total == 4 == len(reader.ids)


def test_a_teacher_sees_only_their_courses_and_a_moderator_every_course(teacher, lesson):
    mine = CommentFactory(lesson=lesson)
    theirs = CommentFactory()
    assert queue_ids(client_of(teacher.user)) == [mine.pk]
    assert queue_ids(client_of(moderator())) == [mine.pk, theirs.pk]


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("这里为什么用 FIFO", True),
        ("请问老师，第二段", True),
        ("怎么部署到生产", True),
        ("对吗?", True),
        ("对吗？", True),
        ("学到了，感谢老师", False),
        ("打卡", False),
        ("? 是什么意思我知道了", False),
    ],
)
def test_the_question_rule(text, asks):
    assert asks_question(text) is asks


def test_the_question_filter_agrees_with_the_rule(lesson):
    texts = ["为什么", "打卡", "好?", "好？ ", "如何做", "100%", "it's_ok?"]
    for text in texts:
        CommentFactory(lesson=lesson, body=text)
    found = set(Comment.objects.filter(question_filter()).values_list("body", flat=True))
    assert found == {text for text in texts if asks_question(text)}


# ---------------------------------------------------------------------------------------------
# Answering, dismissing


def test_answering_without_javascript_posts_an_author_reply_and_leaves_the_queue(lesson, teacher):
    comment = CommentFactory(lesson=lesson, body="这里为什么？")
    client = client_of(teacher.user)
    form = client.get(reverse("forum:teach-answer", args=[comment.pk]) + "?next=/teach/")
    assert form.status_code == 200
    assert b"data-answer-form" in form.content
    response = client.post(
        reverse("forum:teach-answer", args=[comment.pk]), {"body": "因为顺序。", "next": QUEUE}
    )
    assert response.status_code == 302
    assert response["Location"] == QUEUE
    answer = Comment.objects.get(parent=comment)
    assert answer.is_author_reply and answer.member == teacher
    assert queue_ids(client) == []
    lesson_page = client.get(lesson.get_absolute_url())
    assert lesson_page.status_code == 200
    assert "因为顺序。" in lesson_page.content.decode()


def test_answering_with_htmx_replaces_the_entry(lesson, teacher):
    comment = CommentFactory(lesson=lesson)
    client = client_of(teacher.user)
    form = client.get(reverse("forum:teach-answer", args=[comment.pk]), **HTMX)
    assert form.status_code == 200
    assert b"<html" not in form.content
    response = client.post(
        reverse("forum:teach-answer", args=[comment.pk]), {"body": "好问题"}, **HTMX
    )
    assert response.status_code == 200
    assert b"data-queue-answered" in response.content
    assert b"data-queue-item" not in response.content
    assert Comment.objects.get(parent=comment).is_author_reply
    # The total and the counts per lesson change with it, out of band.
    assert response.context["queue"].total == 0
    assert b'id="queue-total" data-queue-total data-hx-swap-oob="true"' in response.content
    assert b'id="lesson-counts" data-lesson-counts data-hx-swap-oob="true"' in response.content


def test_a_mark_updates_the_total_and_the_counts_per_lesson(lesson, teacher):
    other = LessonFactory(course=lesson.course)
    CommentFactory(lesson=lesson)
    marked = CommentFactory(lesson=other)
    CommentFactory(lesson=other)
    client = client_of(teacher.user)
    url = reverse("forum:teach-dismiss", args=[marked.pk])
    response = client.post(url, {"next": f"{QUEUE}?lesson={other.pk}"}, **HTMX)
    counts = {c.lesson_id: c.waiting for c in response.context["queue"].lessons}
    assert counts == {other.pk: 1, lesson.pk: 1}
    undo = reverse("forum:teach-undismiss", args=[marked.pk])
    response = client.post(undo, {"next": QUEUE}, **HTMX)
    assert b"data-queue-item" in response.content
    assert response.context["queue"].total == 3


def test_a_blank_answer_shows_the_form_again(lesson, teacher):
    comment = CommentFactory(lesson=lesson)
    client = client_of(teacher.user)
    url = reverse("forum:teach-answer", args=[comment.pk])
    assert client.post(url, {"body": "  "}).status_code == 400
    response = client.post(url, {"body": ""}, **HTMX)
    assert response["HX-Retarget"] == f"#answer-slot-{comment.pk}"
    assert not Comment.objects.filter(parent=comment).exists()


def test_another_teachers_answer_removes_it_too(lesson, teacher):
    comment = CommentFactory(lesson=lesson)
    colleague = teacher_of(lesson.course)
    services.comment_post(author=colleague, lesson=lesson, parent=comment, body="我来答")
    assert queue_ids(client_of(teacher.user)) == []


def test_a_moderator_does_not_answer_as_author(lesson):
    comment = CommentFactory(lesson=lesson)
    client = client_of(moderator())
    response = client.post(reverse("forum:teach-answer", args=[comment.pk]), {"body": "嗯"})
    assert response.status_code == 403
    assert not Comment.objects.filter(parent=comment).exists()


def test_no_reply_needed_is_recorded_and_undone(lesson, teacher):
    comment = CommentFactory(lesson=lesson)
    client = client_of(teacher.user)
    response = client.post(
        reverse("forum:teach-dismiss", args=[comment.pk]), {"next": QUEUE}, **HTMX
    )
    assert b"data-queue-dismissed" in response.content
    mark = QueueDismissal.objects.get(comment=comment)
    assert mark.member == teacher
    assert queue_ids(client) == []
    listed = client.get(QUEUE + "?show=dismissed").content.decode()
    assert f'data-comment-id="{comment.pk}"' in listed
    response = client.post(reverse("forum:teach-undismiss", args=[comment.pk]), {"next": QUEUE})
    assert response.status_code == 302
    assert not QueueDismissal.objects.exists()
    assert queue_ids(client) == [comment.pk]


def test_the_queue_features_and_pins_through_the_lesson_pages_actions(lesson, teacher):
    comment = CommentFactory(lesson=lesson)
    client = client_of(teacher.user)
    page = client.get(QUEUE).content.decode()
    assert f'action="{comment.url}feature/"' in page and f'action="{comment.url}pin/"' in page
    response = client.post(f"{comment.url}feature/", {"next": QUEUE})
    assert response["Location"].startswith(QUEUE)
    comment.refresh_from_db()
    assert comment.is_featured


@pytest.mark.parametrize(
    "url",
    [
        QUEUE,
        "/teach/glance/",
        "/teach/queue.csv",
        "/teach/weekly.csv",
        "/teach/comments/{pk}/answer/",
    ],
)
def test_a_member_who_teaches_nothing_is_refused(url, lesson):
    comment = CommentFactory(lesson=lesson)
    target = url.format(pk=comment.pk)
    assert client_of(UserFactory()).get(target).status_code == 403
    # A teacher of another course has a workspace, which does not hold this comment.
    other = client_of(teacher_of(CourseFactory()).user).get(target)
    assert other.status_code == (404 if "{pk}" in url else 200)
    for action in ("answer", "dismiss", "undismiss"):
        response = client_of(UserFactory()).post(f"/teach/comments/{comment.pk}/{action}/")
        assert response.status_code == 403
    assert not QueueDismissal.objects.exists()


# ---------------------------------------------------------------------------------------------
# Queries


def _comments(lesson, teacher, n: int) -> None:
    readers = [MemberFactory() for _ in range(10)]
    now = timezone.now()
    rows = [
        Comment(
            lesson=lesson,
            member=readers[i % 10],
            body=f"第{i}条：为什么？" if i % 3 else f"第{i}条",
            body_html=f"<p>第{i}条</p>",
            created_at=now - timedelta(hours=i),
        )
        for i in range(n)
    ]
    Comment.objects.bulk_create(rows)
    answered = Comment.objects.filter(lesson=lesson).order_by("pk")[: n // 4]
    Comment.objects.bulk_create(
        Comment(
            lesson=lesson,
            member=teacher,
            parent=c,
            root=c,
            depth=1,
            body="答",
            body_html="<p>答</p>",
            is_author_reply=True,
            created_at=c.created_at + timedelta(hours=2),
        )
        for c in answered
    )


@pytest.mark.parametrize("n", [100, 1000])
def test_the_queue_and_the_charts_cost_a_fixed_number_of_queries(
    n, lesson, teacher, django_assert_num_queries
):
    _comments(lesson, teacher, n)
    client = client_of(teacher.user)
    client.get(QUEUE)  # the session's first request stores nothing new after it
    # session, account and member, its permissions (2); the courses, the teachers' names; the
    # page, the counts per lesson
    with django_assert_num_queries(8):
        assert client.get(QUEUE).status_code == 200
    with django_assert_num_queries(8):
        assert client.get(QUEUE + "?questions=1&sort=new").status_code == 200
    # session, account and member, its permissions (2); the courses, the teachers' names; the
    # weekly counts, the answer times, the waiting per lesson
    with django_assert_num_queries(9):
        assert client.get("/teach/glance/").status_code == 200
    staff = client_of(moderator())
    staff.get("/teach/glance/")
    # and for a moderator the reports and the comments in review
    with django_assert_num_queries(11):
        assert staff.get("/teach/glance/").status_code == 200


# ---------------------------------------------------------------------------------------------
# Charts


class ChartReader(HTMLParser):
    """Each chart's bar values from the SVG and the numbers of its table."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: dict[str, dict] = {}
        self._chart = None
        self._svg = False

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        if tag == "figure" and "data-chart" in attrs:
            self._chart = self.charts.setdefault(
                attrs["data-chart"], {"bars": [], "cells": [], "svg": None, "title": False}
            )
        elif self._chart is None:
            return
        elif tag == "svg":
            self._chart["svg"] = attrs
            self._svg = True
        elif tag == "title" and self._svg:
            self._chart["title"] = True
        elif tag == "rect" and "data-value" in attrs:
            horizontal = self._chart["svg"]["data-horizontal"] == "true"
            length = attrs["width"] if horizontal else attrs["height"]
            self._chart["bars"].append((float(attrs["data-value"]), float(length)))
        elif tag == "td" and "data-value" in attrs:
            self._chart["cells"].append(attrs["data-value"])

    def handle_endtag(self, tag) -> None:
        if tag == "svg":
            self._svg = False
        if tag == "figure":
            self._chart = None


def test_the_charts_numbers_equal_their_tables(lesson, teacher):
    _comments(lesson, teacher, 60)
    staff = moderator()
    comment = Comment.objects.filter(lesson=lesson, parent=None).first()
    reporter = MemberFactory()
    Report.objects.create(comment=comment, reporter=reporter, reason="spam")
    CommentFactory(lesson=lesson, status=Comment.Status.PENDING)
    response = client_of(staff).get(f"/teach/glance/?course={lesson.course.slug}")
    assert response.status_code == 200
    reader = ChartReader()
    reader.feed(response.content.decode())
    expected = {"comments", "answered", "answer-time", "waiting-lessons"}
    expected |= {"reports", "resolution-time", "review"}
    assert set(reader.charts) == expected
    for key, chart in reader.charts.items():
        assert chart["svg"] is not None and chart["svg"]["role"] == "img", key
        assert chart["title"], key
        bars = [value for value, _height in chart["bars"]]
        cells = [float(cell) if cell else 0.0 for cell in chart["cells"]]
        assert bars == cells, key
        top = max(bars)
        for value, length in chart["bars"]:  # drawn to scale
            assert length == pytest.approx(value / top * _room(key) if top else 0, abs=0.05)


def _room(key: str) -> float:
    if key in {"waiting-lessons", "review"}:
        return charts.WIDTH - charts.LABEL_WIDTH - charts.RIGHT - 40  # a horizontal bar's width
    return charts.HEIGHT - charts.TOP - charts.BOTTOM


def test_weekly_figures_count_answers_and_take_the_median(lesson, teacher):
    now = timezone.now()
    comments = [
        CommentFactory(lesson=lesson, created_at=now - timedelta(minutes=m)) for m in (1, 2, 3)
    ]
    for comment, hours in zip(comments[:2], (1, 3), strict=True):
        CommentFactory(
            lesson=lesson,
            member=teacher,
            parent=comment,
            is_author_reply=True,
            created_at=comment.created_at + timedelta(hours=hours),
        )
    workspace = _workspace(teacher)
    figures = charts.course_figures(workspace, None, today=timezone.localdate())
    week = figures.weeks[-1]
    assert (week.comments, week.top_level, week.answered) == (3, 3, 2)
    assert week.answered_share == 67
    assert week.median_hours == 2.0 == figures.median_hours


def _workspace(teacher):
    from forum.teaching.selectors import workspace_for

    return workspace_for(teacher.user, teacher)


def test_median_of_an_even_count_is_the_mean_of_the_middle_two():
    spans = [timedelta(hours=h) for h in (4, 1, 2, 10)]
    assert charts._median_hours(spans) == 3.0
    assert charts._median_hours([]) is None


# ---------------------------------------------------------------------------------------------
# CSV


def test_the_queue_csv_lists_the_queue_and_defuses_formulas(lesson, teacher):
    first = CommentFactory(lesson=lesson, body='=HYPERLINK("x")为什么')
    second = CommentFactory(lesson=lesson, body="好")
    response = client_of(teacher.user).get("/teach/queue.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "id"
    assert [int(row[0]) for row in rows[1:]] == [first.pk, second.pk]
    assert rows[1][7].startswith("'=")
    assert rows[1][6] == "yes" and rows[2][6] == "no"


def test_the_weekly_csv_has_a_row_per_week(lesson, teacher):
    CommentFactory(lesson=lesson)
    response = client_of(teacher.user).get("/teach/weekly.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + charts.WEEKS
    assert rows[-1][1] == "1"


def test_the_queue_goes_on_a_page_at_a_time(lesson, teacher):
    from forum.teaching.selectors import QUEUE_PER_PAGE

    now = timezone.now()
    comments = [
        CommentFactory(lesson=lesson, created_at=now - timedelta(minutes=QUEUE_PER_PAGE + 1 - n))
        for n in range(QUEUE_PER_PAGE + 1)
    ]
    client = client_of(teacher.user)
    first = client.get(QUEUE + "?questions=0")
    assert first.context["queue"].has_next
    assert first.context["next_url"] == QUEUE + "?page=2"
    assert queue_ids(client, QUEUE + "?page=2") == [comments[-1].pk]
    second = client.get(QUEUE + "?page=2")
    assert second.context["previous_url"] == QUEUE
    assert client.get(QUEUE + "?page=3").status_code == 404


def test_a_question_on_a_passage_shows_the_passage_in_the_queue(teacher):
    lesson = LessonFactory(
        course=teacher.courses_taught.get(), body_markdown="第一段。\n\n第二段讲缓存。"
    )
    block = next(a for a, text in lesson.blocks.items() if text.startswith("第二段"))
    services.comment_post(author=MemberFactory(), lesson=lesson, body="这里怎么理解？", block=block)
    html = client_of(teacher.user).get(QUEUE).content.decode()
    assert f'href="{lesson.get_absolute_url()}#{block}"' in html and "第二段讲缓存。" in html
