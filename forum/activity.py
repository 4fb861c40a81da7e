"""What keeps cached pages and fragments from ever being stale.

Every change visible on a lesson page calls `discussion_changed` (or, for a comment's likes,
`like_counted`): it moves the thread's `version` (the key of its cached HTML) in the database and
the lesson's stamp in the shared cache (what a cached page is checked against), so every app
server sees it on its next request; a like moves the version with its count (forum.likes).
Changes that show on many lessons at once (a member's name or avatar, a lesson or course edited)
move the cache-wide generation instead, which is part of every stamp, as is the release (the
code and templates the page was rendered with).

Stamps are random tokens, not counters: a token that the cache evicted and makes anew can never
equal one that an old entry was stored with. They are moved at once and again when the write's
transaction commits: a page rendered in between, from the data before the commit, is never served
after it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from forum.models import Comment
from lessons.models import Lesson

GENERATION_KEY = "forum:generation"


def _release() -> str:
    """A digest of the code, templates and translations this process renders with, so that
    what one release cached is never served by another (app servers updated in turn)."""
    digest = hashlib.sha256()
    for folder in ("forum", "lessons", "templates"):
        for path in sorted((settings.BASE_DIR / folder).rglob("*")):
            if path.suffix in {".py", ".html", ".mo"}:
                digest.update(str(path.relative_to(settings.BASE_DIR)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


RELEASE = _release()


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
    _move_now_and_on_commit(_lesson_stamp_key(lesson_id))


def comment_changed(comment: Comment) -> None:
    discussion_changed(lesson_id=comment.lesson_id, root_ids=[comment.root_id or comment.pk])


def like_counted(comment: Comment) -> None:
    """A comment's like count changes, in its thread alone: the lesson's stamp moves, and the
    caller moves the thread's version with the count (forum.likes). The lesson's row is left
    alone, so that likes on one lesson do not wait for each other."""
    _move_now_and_on_commit(_lesson_stamp_key(comment.lesson_id))


def _lesson_stamp_key(lesson_id: int) -> str:
    return f"forum:lesson-stamp:{lesson_id}"


def _move(key: str) -> None:
    cache.set(key, secrets.token_hex(8), timeout=None)


def _move_now_and_on_commit(key: str) -> None:
    _move(key)
    transaction.on_commit(partial(_move, key))


def _tokens(*keys: str) -> list[str]:
    """The current token of each key (one round trip), making one where the cache has none."""
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            cache.add(key, secrets.token_hex(8), timeout=None)
            found[key] = cache.get(key)
    return [str(found[key]) for key in keys]


def generation() -> str:
    return f"{RELEASE}.{_tokens(GENERATION_KEY)[0]}"


def generation_bump() -> None:
    _move_now_and_on_commit(GENERATION_KEY)


def lesson_stamp(lesson_id: int) -> str:
    """What a cached page of the lesson was rendered at: moves with every change it shows."""
    return ".".join([RELEASE, *_tokens(GENERATION_KEY, _lesson_stamp_key(lesson_id))])


def member_saved(**kwargs) -> None:
    """A member's name or avatar shows in every thread they wrote in."""
    generation_bump()


def lesson_or_course_saved(**kwargs) -> None:
    """A lesson's title shows in its course's other lessons' navigation, a course's everywhere."""
    generation_bump()
