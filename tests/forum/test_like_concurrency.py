"""Likes stay exact when many members like at once (PostgreSQL: real parallel connections).

Each like is a whole request through the site (sessions, middleware, the like view) made by
the test client in its own thread, and so on its own database connection.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client

from forum import likes, services
from forum.models import Comment, CommentLike, Notification
from tests.factories import CommentFactory, LessonFactory, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("parallel writers need PostgreSQL (make test runs this half on it)")


def in_parallel(count: int, work: Callable[[int], object]) -> list[BaseException]:
    """Run `work(i)` in `count` threads, each on its own database connection, all at once."""
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            start.wait()
            work(index)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    hung = [thread for thread in threads if thread.is_alive()]
    assert not hung, f"{len(hung)} of {count} workers still running after 60 s"
    return errors


def signed_in_clients(count: int) -> list[Client]:
    """A logged-in client per new member (so `count` distinct members)."""
    clients = []
    for _ in range(count):
        client = Client()
        client.force_login(MemberFactory(user=UserFactory()).user)
        clients.append(client)
    return clients


def assert_no_drift() -> None:
    out = io.StringIO()
    call_command("recount", "--check", stdout=out)
    assert "No drift" in out.getvalue()


def test_fifty_members_liking_at_once_add_exactly_fifty():
    comment = CommentFactory(imported_like_count=6, like_count=6)
    clients = signed_in_clients(50)
    statuses = []
    errors = in_parallel(
        50, lambda i: statuses.append(clients[i].post(f"{comment.url}like/").status_code)
    )
    assert errors == []
    assert statuses == [302] * 50
    comment.refresh_from_db()
    assert comment.like_count == 56
    assert CommentLike.objects.filter(comment=comment).count() == 50
    assert_no_drift()


def test_one_member_sending_ten_likes_at_once_leaves_one_like():
    comment = CommentFactory(imported_like_count=6, like_count=6)
    (signed_in,) = signed_in_clients(1)
    tabs = [Client() for _ in range(10)]  # one member's session in ten tabs
    for tab in tabs:
        tab.cookies = signed_in.cookies
    statuses = []
    errors = in_parallel(
        10,
        lambda i: statuses.append(
            tabs[i].post(f"{comment.url}like/", headers={"HX-Request": "true"}).status_code
        ),
    )
    assert errors == []
    assert statuses == [200] * 10
    comment.refresh_from_db()
    assert comment.like_count == 7
    assert CommentLike.objects.filter(comment=comment).count() == 1
    assert_no_drift()


def test_like_add_from_many_connections_at_once_creates_one_like():
    """The service's own answer under the race: exactly one caller created the like."""
    comment = CommentFactory(imported_like_count=6, like_count=6)
    member = MemberFactory()
    created = []
    errors = in_parallel(
        10, lambda i: created.append(likes.like_add(member=member, comment=comment))
    )
    assert errors == []
    assert created.count(True) == 1
    comment.refresh_from_db()
    assert comment.like_count == 7


def test_counters_have_no_drift_after_a_storm_of_likes_and_unlikes():
    comment = services.comment_post(author=MemberFactory(), lesson=LessonFactory(), body="好")
    members = MemberFactory.create_batch(20)

    def like_then_maybe_unlike(index: int) -> None:
        likes.like_add(member=members[index], comment=comment)
        if index % 2:
            likes.like_remove(member=members[index], comment=comment)
        likes.like_add(member=members[index], comment=comment)
        likes.like_add(member=members[index], comment=comment)

    assert in_parallel(20, like_then_maybe_unlike) == []
    assert Comment.objects.get(pk=comment.pk).like_count == 20
    assert_no_drift()


def test_ten_members_liking_at_once_make_one_notification_naming_one_and_nine_others():
    author = services.member_for(UserFactory())
    comment = CommentFactory(member=author)
    members = [MemberFactory(user=UserFactory()) for _ in range(10)]
    assert in_parallel(10, lambda i: likes.like_add(member=members[i], comment=comment)) == []
    (notification,) = Notification.objects.filter(recipient=author)
    assert (notification.kind, notification.others) == ("like", 9)
    assert notification.actor in members
    author.refresh_from_db()
    assert author.unread_notifications == 1
    assert_no_drift()
