"""Invalidation: what keeps a cached page from ever being served once it is stale.

A lesson's pages show its discussion (forum's rows, whose writes move the lesson's
`LessonStamp` in the writing transaction) and its course's content (the course and its lessons:
the course's `updated_at` moves with every save of either, in `lessons`). `stamp_of` reads both
in one query;
a page is cached with the stamp read before its rows, and served only while the stamp is still
the same. Stamps live in the database, so every process and app server sees a write on its next
request, with or without Redis, and a stamp moves exactly when its write commits.

Every write that changes a lesson's pages calls one of the two functions here:
- `discussion_write(lesson_id=…)` around a write to one lesson's discussion (a comment posted,
  edited, deleted, moderated; a like). It also fixes the lock order every write follows:
  the lesson's row first (comment writes only: likes never lock it, so likes on one lesson do
  not wait for each other), then the rows the write changes, then the stamp's row, last, so
  that it is held only until the commit.
- `pages_changed(…)` for what shows on many lessons: a member's name or avatar (the lessons they
  wrote on), counters recomputed.
Creating a member changes no page.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db.models import QuerySet
from django.utils import timezone

from forum.models import Comment, LessonStamp
from forum.prepared import prepared
from lessons.models import Lesson

Stamp = tuple  # (the discussion's value, the course's updated_at), as the database gives them


@contextmanager
def discussion_write(*, lesson_id: int, lock_lesson: bool = True) -> Iterator[None]:
    """Wrap a write to a lesson's discussion, inside its transaction: the lesson's row is
    locked first (unless `lock_lesson` is off, as for likes), the stamp moved last."""
    if lock_lesson:
        Lesson.objects.filter(pk=lesson_id).update(activity_at=timezone.now())
    yield
    _move([lesson_id])


def pages_changed(*, lesson_ids: Iterable[int] = (), member_ids: Iterable[int] = ()) -> None:
    """Every cached page of these lessons, and of the lessons these members wrote on, is stale
    from this transaction's commit on."""
    lessons = set(lesson_ids)
    member_ids = list(member_ids)
    if member_ids:
        written_on = Comment.objects.filter(member__in=member_ids).values_list("lesson_id")
        lessons.update(pk for (pk,) in written_on.distinct().order_by())
    _move(sorted(lessons))


def _move(lesson_ids: list[int]) -> None:
    """A new random value for each lesson's stamp, in sorted order (the one lock order): a
    random value, not a count, so that a database restored from a backup never gives a stamp
    that an older cached page was stored with."""
    LessonStamp.objects.bulk_create(
        [LessonStamp(lesson_id=pk, value=secrets.randbits(62)) for pk in lesson_ids],
        update_conflicts=True,
        unique_fields=["lesson"],
        update_fields=["value"],
    )


# A lesson's stamp: its discussion's, and its course's `updated_at`, which moves with every
# change to the course or any of its lessons.
STAMP_FIELDS = ("page_stamp__value", "course__updated_at")


@prepared
def _stamp(*, lesson_id: int) -> QuerySet:
    return Lesson.objects.filter(pk=lesson_id).values_list(*STAMP_FIELDS)


def stamp_of(lesson_id: int) -> Stamp | None:
    """The lesson's stamp now, or None if there is no such lesson: one query (forum.prepared)."""
    found = _stamp(lesson_id=lesson_id)
    return None if found is None else tuple(found)
