"""The personal parts of the forum's pages: each `{% personal %}` region the templates declare,
what it is rendered from, and for which member it is rendered again. A page shared by members
is rendered for a member who wrote and liked nothing (`stand_in`); a member's copy renders again
only the regions that differ for them. The property tests in tests/forum/test_page_contract.py
prove each page equals the plain render for its reader."""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Permission
from django.db.models import CharField, Exists, Q, QuerySet, StringAgg, Subquery, Value
from django.db.models.functions import Cast
from django.template.context import Context

from forum.caching.slots import region
from forum.caching.stamps import STAMP_FIELDS, Stamp
from forum.models import Comment, CommentLike, LessonLike, Member
from forum.prepared import prepared
from lessons.models import Lesson

COMMENT = "forum/includes/comment.html"
LESSON = "forum/lesson.html"
BASE = "base.html"


CURATING_PERMISSIONS = ("moderate_comment", "curate_own_lessons")


@prepared
def _standing(*, user_id: int, member_id: int, lesson_id: int) -> QuerySet:
    roles = Permission.objects.filter(
        content_type__app_label="forum", codename__in=CURATING_PERMISSIONS
    ).filter(Q(user=user_id) | Q(group__user=user_id))
    pending = Comment.objects.filter(
        member=member_id, lesson=lesson_id, status=Comment.Status.PENDING
    )
    liked = (
        CommentLike.objects.filter(member=member_id, comment__lesson=lesson_id)
        .values("member")  # one group: the member's likes
        .annotate(ids=StringAgg(Cast("comment", CharField()), Value(",")))
        .values("ids")
    )
    return Lesson.objects.filter(pk=lesson_id).values_list(
        *STAMP_FIELDS,
        Exists(LessonLike.objects.filter(member=member_id, lesson=lesson_id)),
        Exists(pending),
        Exists(roles),
        Subquery(liked),
    )


@dataclass(frozen=True)
class Standing:
    """A member on a lesson, as far as its page's cache is concerned."""

    stamp: Stamp
    lesson_liked: bool
    shares_copies: bool  # no role to feature and pin, no comment of theirs awaiting review
    liked: frozenset[int]  # the lesson's comments they liked


def standing(user: AbstractBaseUser, member: Member, lesson_id: int) -> Standing | None:
    """The lesson's stamp and the member's standing on it, with the comments they liked, in one
    query (forum.prepared: it runs on every lesson page a member opens); None if there is no
    such lesson."""
    found = _standing(user_id=user.pk, member_id=member.pk, lesson_id=lesson_id)
    if found is None:
        return None
    *stamp, lesson_liked, has_pending, has_role, liked = found
    liked = frozenset(int(pk) for pk in liked.split(",")) if liked else frozenset()
    return Standing(tuple(stamp), bool(lesson_liked), not has_pending and not has_role, liked)


@dataclass(frozen=True)
class Reader:
    """A member reading a shared page, as far as its personal parts tell."""

    user: AbstractBaseUser
    member: Member
    liked: frozenset[int]  # of the lesson's comments
    lesson_liked: bool


@dataclass(frozen=True)
class CommentControls:
    """What a comment's like button and actions are rendered from."""

    pk: int
    url: str
    member_id: int | None
    parent_id: int | None
    like_count: int
    imported_like_count: int
    status: str
    is_featured: bool
    is_pinned: bool
    liked: bool


@dataclass(frozen=True)
class LessonLikeControl:
    pk: int
    like_count: int
    liked: bool


def _controls(context: Context) -> CommentControls:
    comment = context["comment"]
    return CommentControls(
        pk=comment.pk,
        url=comment.url,
        member_id=comment.member_id,
        parent_id=comment.parent_id,
        like_count=comment.like_count,
        imported_like_count=comment.imported_like_count,
        status=comment.status,
        is_featured=comment.is_featured,
        is_pinned=comment.is_pinned,
        liked=getattr(comment, "liked", False),
    )


def _like_for(controls: CommentControls, reader: Reader) -> dict | str | None:
    liked = controls.pk in reader.liked
    if controls.member_id == reader.member.pk:
        return {"comment": replace(controls, liked=liked)}
    return "liked" if liked else None


def _actions_for(controls: CommentControls, reader: Reader) -> dict | None:
    return {"comment": controls} if controls.member_id == reader.member.pk else None


region(
    "comment-like",
    template=COMMENT,
    render_for=_like_for,
    variants=lambda controls: {"liked": {"comment": replace(controls, liked=True)}},
)(_controls)
region("comment-actions", template=COMMENT, render_for=_actions_for)(_controls)


@region(
    "lesson-like",
    template=LESSON,
    render_for=lambda lesson, reader: "liked" if reader.lesson_liked else None,
    variants=lambda lesson: {"liked": {"lesson": replace(lesson, liked=True)}},
)
def _lesson_like(context: Context) -> LessonLikeControl:
    lesson = context["lesson"]
    return LessonLikeControl(lesson.pk, lesson.like_count, getattr(lesson, "liked", False))


@region("member-name", template=BASE, render_for=lambda _data, reader: {})
def _member_name(context: Context) -> None:
    return None


@region(
    "notification-bell",
    template=BASE,
    # The stand-in has nothing unread: a reader with nothing unread has the shared copy's bell.
    render_for=lambda _data, reader: {} if reader.member.unread_notifications else None,
)
def _notification_bell(context: Context) -> None:
    return None


def stand_in() -> AbstractBaseUser:
    """The reader a members' shared copy is rendered for: an account with no permission whose
    member wrote and liked nothing (pk 0, which no row has)."""
    user = get_user_model()(pk=0, username="")
    user._state.adding = False
    member = Member(pk=0, display_name="", user=None)
    member._state.adding = False
    Member._meta.get_field("user").remote_field.set_cached_value(user, member)
    user._perm_cache = set()
    user._user_perm_cache = set()
    user._group_perm_cache = set()
    return user
