"""Likes on comments and lessons, and the recount of every denormalized counter.

A like is a row guarded by a unique constraint, so a double click, two tabs or a retried request
leave one like; the counter moves with F() in the same transaction only when a row was really
added or removed, so it stays exact under concurrency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection, models, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from forum import activity
from forum.models import Comment, CommentLike, LessonLike, Member
from forum.moderation import participation_check
from lessons.models import Lesson


def _likeable(member: Member, comment: Comment) -> None:
    participation_check(member)
    if comment.member_id == member.pk:
        raise PermissionDenied(_("You cannot like your own comment."))
    if comment.status != Comment.Status.PUBLISHED or comment.is_deleted:
        raise PermissionDenied(_("This comment can no longer be liked."))


def _insert_once(model: type[models.Model], **values: Any) -> bool:
    """Insert a row with `created_at` now unless one with the same unique fields exists; True
    if it was inserted. One statement, INSERT … ON CONFLICT DO NOTHING, where get_or_create
    takes four (SELECT, SAVEPOINT, INSERT, RELEASE)."""
    meta = model._meta
    (unique,) = (c for c in meta.constraints if isinstance(c, models.UniqueConstraint))
    values["created_at"] = connection.ops.adapt_datetimefield_value(timezone.now())
    columns = [meta.get_field(name).column for name in values]
    quote = connection.ops.quote_name
    # Only the model's quoted names are formatted in; every value is a parameter.
    sql = "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO NOTHING RETURNING {}".format(  # noqa: S608
        quote(meta.db_table),
        ", ".join(map(quote, columns)),
        ", ".join(["%s"] * len(columns)),
        ", ".join(quote(meta.get_field(name).column) for name in unique.fields),
        quote(meta.pk.column),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(values.values()))
        return cursor.fetchone() is not None


def _like_count_move(comment: Comment, delta: int) -> None:
    """Move the comment's like count by `delta`, and its thread's `version` (the key of the
    thread's cached HTML), the thread's row first as every write does; `comment.like_count`
    becomes the new count. A comment that starts its thread is one UPDATE … RETURNING."""
    activity.like_counted(comment)
    meta = Comment._meta
    quote = connection.ops.quote_name
    table, pk, likes, version = (
        quote(name)
        for name in (
            meta.db_table,
            meta.pk.column,
            meta.get_field("like_count").column,
            meta.get_field("version").column,
        )
    )
    root_id = comment.root_id or comment.pk
    with connection.cursor() as cursor:
        # Only the model's quoted names are formatted in; every value is a parameter.
        if root_id != comment.pk:
            cursor.execute(
                f"UPDATE {table} SET {version} = {version} + 1 WHERE {pk} = %s",  # noqa: S608
                [root_id],
            )
        cursor.execute(
            f"UPDATE {table} SET {likes} = {likes} + %s, {version} = {version} + %s "  # noqa: S608
            f"WHERE {pk} = %s RETURNING {likes}",
            [delta, int(root_id == comment.pk), comment.pk],
        )
        (comment.like_count,) = cursor.fetchone()


@transaction.atomic
def like_add(*, member: Member, comment: Comment) -> bool:
    """Like `comment`; False when the member already liked it (nothing changes).
    When it is added, `comment.like_count` is the new count."""
    _likeable(member, comment)
    created = _insert_once(CommentLike, member=member.pk, comment=comment.pk)
    if created:
        _like_count_move(comment, +1)
    return created


@transaction.atomic
def like_remove(*, member: Member, comment: Comment) -> bool:
    """Take a like back; False when there was none. When it is taken back,
    `comment.like_count` is the new count."""
    deleted, _rows = CommentLike.objects.filter(member=member, comment=comment).delete()
    if deleted:
        _like_count_move(comment, -1)
    return bool(deleted)


@transaction.atomic
def lesson_like_add(*, member: Member, lesson: Lesson) -> bool:
    participation_check(member)
    created = _insert_once(LessonLike, member=member.pk, lesson=lesson.pk)
    if created:
        Lesson.objects.filter(pk=lesson.pk).update(like_count=F("like_count") + 1)
        activity.discussion_changed(lesson_id=lesson.pk)
    return created


@transaction.atomic
def lesson_like_remove(*, member: Member, lesson: Lesson) -> bool:
    deleted, _rows = LessonLike.objects.filter(member=member, lesson=lesson).delete()
    if deleted:
        Lesson.objects.filter(pk=lesson.pk).update(like_count=F("like_count") - 1)
        activity.discussion_changed(lesson_id=lesson.pk)
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


def _count(queryset: models.QuerySet, field: str) -> Subquery:
    counted = queryset.values(field).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted), Value(0))


def _expected_counters() -> dict[str, tuple[models.QuerySet, str, models.Expression]]:
    listed_replies = Comment.objects.counted().filter(parent=OuterRef("pk"))
    lesson_comments = Comment.objects.counted().filter(lesson=OuterRef("pk"))
    return {
        "comment likes": (
            Comment.objects.all(),
            "like_count",
            F("imported_like_count")
            + _count(CommentLike.objects.filter(comment=OuterRef("pk")), "comment"),
        ),
        "comment replies": (Comment.objects.all(), "reply_count", _count(listed_replies, "parent")),
        "lesson comments": (
            Lesson.objects.all(),
            "comment_count",
            _count(lesson_comments, "lesson"),
        ),
        "lesson threads": (
            Lesson.objects.all(),
            "thread_count",
            _count(lesson_comments.filter(parent__isnull=True), "lesson"),
        ),
        "lesson likes": (
            Lesson.objects.all(),
            "like_count",
            _count(LessonLike.objects.filter(lesson=OuterRef("pk")), "lesson"),
        ),
    }


def counters_recount(*, fix: bool) -> list[Drift]:
    """Compare every denormalized counter with its rows; with `fix`, set the right values."""
    drifts = []
    for what, (queryset, field, expression) in _expected_counters().items():
        wrong = (
            queryset.annotate(expected=expression)
            .filter(~Q(**{field: F("expected")}))
            .values_list("pk", field, "expected")
        )
        found = [Drift(what, pk, stored, actual) for pk, stored, actual in wrong]
        drifts.extend(found)
        if fix and found:
            with transaction.atomic():
                queryset.filter(pk__in=[d.pk for d in found]).update(**{field: expression})
    if fix and drifts:
        activity.generation_bump()  # the fixed counters show on cached pages
    return drifts
