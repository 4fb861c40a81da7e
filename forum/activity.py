"""What keeps cached pages and fragments from ever being stale.

Every change visible on a lesson page calls `discussion_changed`: it moves the thread's
`version` (the key of its cached HTML) and the lesson's `activity_at` (the anonymous page's ETag),
in the database, so every app server sees it on its next request. Changes that show on many
threads at once (a member's name or avatar) move the cache-wide generation instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache
from django.db.models import F
from django.utils import timezone

from forum.models import Comment
from lessons.models import Lesson

GENERATION_KEY = "forum:generation"


def counters_move(comment: Comment, delta: int) -> None:
    """Move the counters that count `comment` (published and not deleted) by `delta`:
    the lesson's comments (and threads, for a top-level comment) and the parent's replies."""
    if comment.parent_id:
        Lesson.objects.filter(pk=comment.lesson_id).update(comment_count=F("comment_count") + delta)
        Comment.objects.filter(pk=comment.parent_id).update(reply_count=F("reply_count") + delta)
    else:
        Lesson.objects.filter(pk=comment.lesson_id).update(
            comment_count=F("comment_count") + delta, thread_count=F("thread_count") + delta
        )


def discussion_changed(*, lesson_id: int, root_ids: Iterable[int | None] = ()) -> None:
    """Call it first in a write's transaction: it locks the lesson's row before any comment
    row, and every write doing the same is what keeps concurrent writes free of deadlocks."""
    Lesson.objects.filter(pk=lesson_id).update(activity_at=timezone.now())
    roots = sorted({pk for pk in root_ids if pk})
    if roots:
        Comment.objects.filter(pk__in=roots).update(version=F("version") + 1)


def comment_changed(comment: Comment) -> None:
    discussion_changed(lesson_id=comment.lesson_id, root_ids=[comment.root_id or comment.pk])


def generation() -> int:
    return cache.get_or_set(GENERATION_KEY, 1, timeout=None)


def generation_bump() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 2, timeout=None)


def member_saved(**kwargs) -> None:
    """A member's name or avatar shows in every thread they wrote in."""
    generation_bump()
