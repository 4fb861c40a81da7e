"""Likes on comments and lessons, and the recount of every denormalized counter.

A like is a row guarded by a unique constraint, so a double click, two tabs or a retried request
leave one like; the counter moves with F() in the same transaction only when a row was really
added or removed, so it stays exact under concurrency.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.db.models import F, OuterRef, Q
from django.utils.translation import gettext as _

from forum.caching import stamps
from forum.counting import subquery_count
from forum.models import Comment, CommentLike, LessonLike, Member, Notification
from forum.moderation import participation_check
from forum.notifications.services import notify_liked
from lessons.models import Lesson


def _likeable(member: Member, comment: Comment) -> None:
    participation_check(member)
    if comment.member_id == member.pk:
        raise PermissionDenied(_("You cannot like your own comment."))
    if comment.status != Comment.Status.PUBLISHED or comment.is_deleted:
        raise PermissionDenied(_("This comment can no longer be liked."))


def _add_once(
    row: models.Model, *, lesson_id: int, lock_lesson: bool, then: Callable[[], object]
) -> bool:
    """Add the row and then `then()`, in one transaction that moves the lesson's stamp; False,
    with nothing changed, when the member already has the row (the unique constraint decides,
    also between concurrent requests): the duplicate rolls the transaction back whole, two round
    trips fewer than a savepoint around the insert (inside a caller's transaction, it is one)."""
    added = False
    try:
        with (
            transaction.atomic(),
            stamps.discussion_write(lesson_id=lesson_id, lock_lesson=lock_lesson),
        ):
            row.save(force_insert=True)
            added = True
            then()
    except IntegrityError:
        if added:
            raise
        return False
    return True


def _like_count_move(comment: Comment, delta: int) -> None:
    """Move the comment's like count by `delta`; `comment.like_count` becomes the new count
    (saving an expression reads the value back in the same UPDATE … RETURNING)."""
    comment.like_count = F("like_count") + delta
    comment.save(update_fields=["like_count"])


def like_add(*, member: Member, comment: Comment) -> bool:
    """Like `comment`; False when the member already liked it (nothing changes).
    When it is added, `comment.like_count` is the new count."""
    _likeable(member, comment)
    like = CommentLike(member=member, comment=comment)

    def then() -> None:
        _like_count_move(comment, +1)
        notify_liked(comment, like=like)

    return _add_once(like, lesson_id=comment.lesson_id, lock_lesson=False, then=then)


@transaction.atomic
def like_remove(*, member: Member, comment: Comment) -> bool:
    """Take a like back; False when there was none. When it is taken back,
    `comment.like_count` is the new count."""
    with stamps.discussion_write(lesson_id=comment.lesson_id, lock_lesson=False):
        deleted, _rows = CommentLike.objects.filter(member=member, comment=comment).delete()
        if deleted:
            _like_count_move(comment, -1)
    return bool(deleted)


def lesson_like_add(*, member: Member, lesson: Lesson) -> bool:
    participation_check(member)
    return _add_once(
        LessonLike(member=member, lesson=lesson),
        lesson_id=lesson.pk,
        lock_lesson=True,
        then=lambda: Lesson.objects.filter(pk=lesson.pk).update(like_count=F("like_count") + 1),
    )


@transaction.atomic
def lesson_like_remove(*, member: Member, lesson: Lesson) -> bool:
    with stamps.discussion_write(lesson_id=lesson.pk):
        deleted, _rows = LessonLike.objects.filter(member=member, lesson=lesson).delete()
        if deleted:
            Lesson.objects.filter(pk=lesson.pk).update(like_count=F("like_count") - 1)
    return bool(deleted)


def liked_comment_ids(member: Member | None, comments: list[Comment]) -> set[int]:
    """Which of `comments` the member liked: one query for a whole page."""
    if member is None or not comments:
        return set()
    return set(
        CommentLike.objects.filter(member=member, comment__in=comments).values_list(
            "comment_id", flat=True
        )
    )


@dataclass(frozen=True)
class Drift:
    what: str
    pk: int
    stored: int
    actual: int


def _expected_counters() -> dict[str, tuple[type[models.Model], str, models.Expression]]:
    listed_replies = Comment.objects.counted().filter(parent=OuterRef("pk"))
    lesson_comments = Comment.objects.counted().filter(lesson=OuterRef("pk"))
    return {
        "comment likes": (
            Comment,
            "like_count",
            F("imported_like_count")
            + subquery_count(CommentLike.objects.filter(comment=OuterRef("pk")), "comment"),
        ),
        "comment replies": (Comment, "reply_count", subquery_count(listed_replies, "parent")),
        "lesson comments": (
            Lesson,
            "comment_count",
            subquery_count(lesson_comments, "lesson"),
        ),
        "lesson threads": (
            Lesson,
            "thread_count",
            subquery_count(lesson_comments.filter(parent__isnull=True), "lesson"),
        ),
        "lesson likes": (
            Lesson,
            "like_count",
            subquery_count(LessonLike.objects.filter(lesson=OuterRef("pk")), "lesson"),
        ),
    }


def _drifts(comments: models.QuerySet, lessons: models.QuerySet) -> list[Drift]:
    found = []
    for what, (model, field, expression) in _expected_counters().items():
        queryset = comments if model is Comment else lessons
        wrong = (
            queryset.annotate(expected=expression)
            .filter(~Q(**{field: F("expected")}))
            .values_list("pk", field, "expected")
        )
        found += [Drift(what, pk, stored, actual) for pk, stored, actual in wrong]
    return found


def _unread() -> models.Expression:
    unread = Notification.objects.filter(recipient=OuterRef("pk"), read_at__isnull=True)
    return subquery_count(unread, "recipient")


def _unread_drifts() -> list[Drift]:
    wrong = (
        Member.objects.annotate(expected=_unread())
        .filter(~Q(unread_notifications=F("expected")))
        .values_list("pk", "unread_notifications", "expected")
    )
    return [Drift("member unread notifications", *row) for row in wrong]


def counters_recount(*, fix: bool) -> list[Drift]:
    """Compare every denormalized counter with its rows; with `fix`, set the right values:
    lesson by lesson, under the locks every write takes (the lesson's row, then its comments'),
    so a write made meanwhile is neither lost nor counted twice. A member's unread count is
    set from their unread rows in one UPDATE (a notification told meanwhile adds its own one
    after it)."""
    drifts = _drifts(Comment.objects.all(), Lesson.objects.all())
    unread = _unread_drifts()
    if not fix:
        return drifts + unread
    if unread:
        Member.objects.filter(pk__in=[d.pk for d in unread]).update(unread_notifications=_unread())
    comments = [d.pk for d in drifts if d.what.startswith("comment")]
    lessons = {d.pk for d in drifts if d.what.startswith("lesson")}
    lessons.update(Comment.objects.filter(pk__in=comments).values_list("lesson_id", flat=True))
    for lesson_id in sorted(lessons):
        with transaction.atomic(), stamps.discussion_write(lesson_id=lesson_id):
            own = Comment.objects.filter(lesson=lesson_id).order_by("pk")
            list(own.select_for_update().values_list("pk", flat=True))
            for model, field, expression in _expected_counters().values():
                scope = own if model is Comment else Lesson.objects.filter(pk=lesson_id)
                wrong = scope.annotate(expected=expression).filter(~Q(**{field: F("expected")}))
                model.objects.filter(pk__in=list(wrong.values_list("pk", flat=True))).update(
                    **{field: expression}
                )
    return drifts + unread
