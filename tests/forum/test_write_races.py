"""Writes stay exact when they race (PostgreSQL: real parallel connections, whole requests).

Each write is a request through the site made by the test client in its own thread, on its own
database connection; the service functions re-read their row under a lock, in the one lock
order (forum.caching.stamps), so counters, history and double submissions come out exact.
"""

from __future__ import annotations

import io
import re
import threading

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from forum import services
from forum.models import Comment, CommentRevision
from tests.factories import CommentFactory, LessonFactory, MemberFactory, UserFactory, moderator
from tests.forum.test_like_concurrency import assert_no_drift, in_parallel

pytestmark = pytest.mark.django_db(transaction=True)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("parallel writers need PostgreSQL (make test runs this half on it)")


def _author_client(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def _thread():
    author = MemberFactory(user=UserFactory())
    root = services.comment_post(author=author, lesson=LessonFactory(), body="主题")
    replies = [
        services.comment_post(author=author, lesson=root.lesson, parent=root, body=f"回复{i}")
        for i in (1, 2)
    ]
    return author, root, replies


def test_two_deletes_at_once_count_once_and_answer_alike(postgres):
    author, root, (first, _second) = _thread()
    clients = [_author_client(author) for _ in range(2)]
    answers = [None, None]

    def delete(index: int) -> None:
        response = clients[index].post(reverse("forum:comment-delete", args=[first.pk]))
        answers[index] = (response.status_code, response["Location"])

    assert in_parallel(2, delete) == []
    assert answers[0] == answers[1]
    root.refresh_from_db()
    assert root.reply_count == 1
    assert_no_drift()


def test_a_reply_deleted_twice_at_once_leaves_its_sibling_shown_after_the_thread_is_deleted(
    postgres,
):
    author, root, (first, second) = _thread()
    clients = [_author_client(author) for _ in range(2)]
    url = reverse("forum:comment-delete", args=[first.pk])
    assert in_parallel(2, lambda index: clients[index].post(url)) == []
    clients[0].post(reverse("forum:comment-delete", args=[root.pk]))
    html = Client().get(root.lesson.get_absolute_url()).content.decode()
    assert f'data-comment-id="{second.pk}"' in html
    assert_no_drift()


def test_a_moderator_hiding_while_the_author_deletes_leaves_no_drift(postgres):
    """Both through whole requests: the author's delete, the moderator's hide action in the
    admin (with its reason, as the confirmation page posts it)."""
    staff = Client()
    staff.force_login(moderator())
    changelist = reverse("admin:forum_comment_changelist")
    for _ in range(20):
        author, _root, (first, _second) = _thread()
        writer = _author_client(author)
        answers = {}

        def race(index: int, comment=first, writer=writer, answers=answers) -> None:
            if index == 0:
                url = reverse("forum:comment-delete", args=[comment.pk])
                answers["delete"] = writer.post(url).status_code
            else:
                hide = {"action": "hide", ACTION_CHECKBOX_NAME: [comment.pk], "post": "yes"}
                answers["hide"] = staff.post(changelist, {**hide, "reason": "广告"}).status_code

        assert in_parallel(2, race) == []
        # Hidden first, the comment is no longer the author's to delete: "no such comment".
        assert answers["hide"] == 302 and answers["delete"] in {302, 404}, answers
        first.refresh_from_db()
        assert first.status == Comment.Status.HIDDEN
    assert_no_drift()


def test_ten_edits_at_once_keep_every_text_they_replaced(postgres):
    author = MemberFactory(user=UserFactory())
    comment = services.comment_post(author=author, lesson=LessonFactory(), body="v0")
    clients = [_author_client(author) for _ in range(10)]
    url = reverse("forum:comment-edit", args=[comment.pk])

    def edit(index: int) -> None:
        response = clients[index].post(url, {"body": f"v{index + 1}"})
        assert response.status_code == 302

    assert in_parallel(10, edit) == []
    comment.refresh_from_db()
    revisions = CommentRevision.objects.filter(comment=comment).order_by("pk")
    history = list(revisions.values_list("body", flat=True))
    # In the order the edits committed, each revision holds the text its edit replaced: the
    # first v0, then each edit's text in turn, and the comment the last one's.
    assert history[0] == "v0"
    assert len(set(history)) == 10 and comment.body not in history
    assert {*history, comment.body} == {f"v{i}" for i in range(11)}


def test_a_recount_while_members_post_loses_no_comment(postgres):
    lesson = LessonFactory()
    root = CommentFactory(lesson=lesson)
    Comment.objects.filter(pk=root.pk).update(reply_count=7)  # drifted: recount fixes it
    posters = [_author_client(MemberFactory(user=UserFactory())) for _ in range(4)]
    url = reverse("forum:comment-reply", args=[root.pk])
    done = threading.Event()

    def work(index: int) -> None:
        if index == 4:
            for _ in range(3):
                call_command("recount", stdout=io.StringIO())
            done.set()
            return
        for number in range(5):
            posters[index].post(url, {"body": f"第{index}-{number}条"})

    assert in_parallel(5, work) == []
    assert done.is_set()
    assert Comment.objects.filter(parent=root).count() == 20
    assert_no_drift()


@pytest.mark.parametrize("at_once", [True, False])
def test_a_form_sent_twice_posts_one_comment(at_once):
    if at_once and connection.vendor != "postgresql":
        pytest.skip("parallel writers need PostgreSQL (make test runs this half on it)")
    lesson = LessonFactory()
    member = MemberFactory(user=UserFactory())
    clients = [_author_client(member) for _ in range(2)]
    url = reverse("forum:comment-create", args=[lesson.pk])
    form = {"body": "只发一次", "submission": "one-form-key"}
    answers = [None, None]

    def send(index: int) -> None:
        response = clients[index].post(url, form)
        answers[index] = (response.status_code, response["Location"])

    if at_once:
        assert in_parallel(2, send) == []
    else:
        send(0)
        send(1)
    assert Comment.objects.filter(lesson=lesson).count() == 1
    assert answers[0] == answers[1]
    lesson.refresh_from_db()
    assert lesson.comment_count == 1


def test_a_second_comment_written_in_the_same_form_is_posted(client):
    """htmx keeps the form (and its key) after a post: what is written next is a new comment."""
    lesson = LessonFactory()
    client.force_login(MemberFactory(user=UserFactory()).user)
    url = reverse("forum:comment-create", args=[lesson.pk])
    for body in ("第一条", "第二条"):
        client.post(url, {"body": body, "submission": "kept-form-key"}, **HTMX)
    assert Comment.objects.filter(lesson=lesson).count() == 2


def test_every_members_page_has_a_new_form_key(client):
    lesson = LessonFactory()
    client.force_login(UserFactory())
    keys = {
        re.search(
            r'name="submission" value="([^"]+)"',
            client.get(lesson.get_absolute_url()).content.decode(),
        )[1]
        for _ in range(3)
    }
    assert len(keys) == 3
