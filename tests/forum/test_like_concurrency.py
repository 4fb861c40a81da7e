"""Likes stay exact when many members like at once (PostgreSQL: real parallel connections)."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.db import connection, connections

from forum import likes, services
from forum.models import Comment, CommentLike
from tests.factories import CommentFactory, LessonFactory, MemberFactory

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
    return errors


def test_fifty_members_liking_at_once_add_exactly_fifty():
    comment = CommentFactory(imported_like_count=6, like_count=6)
    members = MemberFactory.create_batch(50)
    errors = in_parallel(50, lambda i: likes.like_add(member=members[i], comment=comment))
    assert errors == []
    comment.refresh_from_db()
    assert comment.like_count == 56
    assert CommentLike.objects.filter(comment=comment).count() == 50


def test_one_member_sending_ten_likes_at_once_leaves_one_like():
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
    assert CommentLike.objects.filter(comment=comment).count() == 1


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
    out = io.StringIO()
    call_command("recount", "--check", stdout=out)
    assert "No drift" in out.getvalue()
