"""Deleting an account: the member leaves, at their choice with or without their comments.

Kept comments stay under the member's row, which is emptied of everything that said who they
were and shows as 已注销用户 (`Member.left_at`): replies keep their thread and the counters stay
true. Deleted comments go as if their author had deleted each (forum.services.comment_delete):
a placeholder where replies hang on them, the counters and the notifications they caused taken
back. Either way their likes, notifications, open reports and account go, and the audit trail
keeps its records, naming them only as 已注销用户 #<member id>.
"""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Greatest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from forum.caching import stamps
from forum.counting import subquery_count
from forum.models import (
    Comment,
    CommentLike,
    LessonLike,
    Member,
    MemberClaim,
    ModerationAction,
    Notification,
    Report,
)
from forum.notifications.services import ABOUT_ITS_TEXT
from forum.search.sync import comments_reindex
from lessons.models import Lesson

Status = Comment.Status
Kind = ModerationAction.Kind
# Audit records whose target is the member (not one of their comments): the target is their name.
MEMBER_KINDS = (
    Kind.SUSPEND,
    Kind.BAN,
    Kind.UNSUSPEND,
    Kind.HIDE_ALL,
    Kind.LINK_ACCOUNT,
    Kind.EDIT_MEMBER,
    Kind.CLAIM_APPROVED,
    Kind.CLAIM_REFUSED,
)
# Audit records whose before and after hold the member's names (display name, user name).
NAMING_KINDS = (Kind.EDIT_MEMBER, Kind.LINK_ACCOUNT)


def left_label(member_id: int) -> str:
    """How the audit trail names a member who left: 已注销用户 #<id>, in the site's language
    (stored text, read by every moderator)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _("Deleted member #%(id)d") % {"id": member_id}


def left_slug(member_id: int) -> str:
    """A profile address that says nothing and that no user name ("~") or imported name (no
    ".") can take."""
    return f"~deleted.{member_id}"


def account_delete_refusal(user: AbstractBaseUser) -> str:
    """Why this account cannot be deleted from its settings, or "" when it can. Staff,
    moderators and teachers of a course hold roles others rely on (the audit trail names them,
    the course's 作者回复 are theirs): an administrator takes the role away first."""
    if user.is_staff or user.is_superuser or user.has_perm("forum.moderate_comment"):
        return _(
            "Accounts of staff and moderators are closed by an administrator: "
            "ask one to take your role away first."
        )
    if Member.objects.filter(user=user, courses_taught__isnull=False).exists():
        return _(
            "You teach a course: ask an administrator to hand it to another teacher "
            "before you delete your account."
        )
    return ""


def _lessons_touched(member: Member) -> list[int]:
    """The lessons whose pages or counters change: written on, liked on, liked."""
    written = Comment.objects.filter(member=member).values_list("lesson_id")
    liked_on = Comment.objects.filter(likes__member=member).values_list("lesson_id")
    liked = LessonLike.objects.filter(member=member).values_list("lesson_id")
    return sorted({pk for (pk,) in written.union(liked_on, liked)})


def _unread_take_back(notifications: QuerySet) -> None:
    """Take unread `notifications` out of their recipients' bell counts (before deleting
    them): one UPDATE for every recipient."""
    unread = notifications.filter(read_at__isnull=True)
    Member.objects.filter(pk__in=unread.values("recipient")).update(
        unread_notifications=Greatest(
            F("unread_notifications")
            - subquery_count(unread.filter(recipient=OuterRef("pk")), "recipient"),
            0,
        )
    )


def _comments_delete(member: Member, now) -> None:
    """comment_delete for every comment of theirs at once: the counters that counted them move
    by what they counted, what they told others is taken back, and they are marked deleted
    (placeholders where replies hang on them). Removed ones were taken away already."""
    mine = Comment.objects.filter(member=member, deleted_at__isnull=True).exclude(
        status=Status.REMOVED
    )
    counted = mine.filter(status=Status.PUBLISHED)
    Lesson.objects.filter(pk__in=counted.values("lesson")).update(
        comment_count=F("comment_count")
        - subquery_count(counted.filter(lesson=OuterRef("pk")), "lesson"),
        thread_count=F("thread_count")
        - subquery_count(counted.filter(lesson=OuterRef("pk"), parent=None), "lesson"),
    )
    Comment.objects.filter(pk__in=counted.values("parent")).update(
        reply_count=F("reply_count")
        - subquery_count(counted.filter(parent=OuterRef("pk")), "parent")
    )
    told = Notification.objects.filter(comment__in=mine.values("pk"), kind__in=ABOUT_ITS_TEXT)
    _unread_take_back(told)
    told.delete()
    deleted = list(mine.values_list("pk", flat=True))
    mine.update(deleted_at=now)
    comments_reindex(deleted)


def _likes_remove(member: Member) -> None:
    """Their likes go, each liked count one less. An unread like notification that named them
    as the latest liker names the one before them, or goes if nobody else is left to tell of;
    one that counted them counts them no more (as forum.notifications.services counts)."""
    likes = CommentLike.objects.filter(member=member)
    unread = Notification.objects.filter(
        kind=Notification.Kind.LIKE, read_at__isnull=True, comment__in=likes.values("comment")
    )
    others_since = CommentLike.objects.filter(
        comment=OuterRef("comment"), created_at__gt=OuterRef("since")
    ).exclude(member=member)
    latest_other = others_since.order_by("-created_at", "-pk").values("member")[:1]
    unread.filter(actor=member).update(actor=Subquery(latest_other))
    nobody = unread.filter(actor=None)
    _unread_take_back(nobody)
    nobody.delete()
    unread.update(others=Greatest(subquery_count(others_since, "comment") - 1, 0))
    Comment.objects.filter(pk__in=likes.values("comment")).update(like_count=F("like_count") - 1)
    likes.delete()
    lesson_likes = LessonLike.objects.filter(member=member)
    Lesson.objects.filter(pk__in=lesson_likes.values("lesson")).update(
        like_count=F("like_count") - 1
    )
    lesson_likes.delete()


def _reports_withdraw(member: Member, now) -> None:
    """Their open reports are closed (they weigh nothing any more); closed ones stay, as the
    decisions they took part in."""
    with translation.override(settings.LANGUAGE_CODE):
        note = _("Withdrawn: the reporter deleted their account.")
    Report.objects.filter(reporter=member, status=Report.Status.OPEN).update(
        status=Report.Status.DISMISSED, resolved_at=now, resolution_note=note
    )


def _audit_anonymize(member: Member, user: AbstractBaseUser) -> None:
    """The audit trail keeps every record, its kind, time, reasons, the comment and the member's
    row it points at; where it copied their name (acted on, or acting), it says 已注销用户 #id
    instead; a member edit's or account link's before and after, which held their names, are
    emptied."""
    label = left_label(member.pk)
    records = ModerationAction.objects.filter(member=member)
    records.update(member_name=label)
    records.filter(kind__in=MEMBER_KINDS).update(target=label)
    records.filter(kind__in=NAMING_KINDS).update(status_before="", status_after="")
    ModerationAction.objects.filter(actor=user).update(actor_name=label)


def _avatar_forget(name: str) -> None:
    """After the commit: delete the avatar's file unless another member shows the same image
    (files are named by their content)."""
    if not Member.objects.filter(avatar=name).exists():
        Member._meta.get_field("avatar").storage.delete(name)


@transaction.atomic
def account_delete(*, user: AbstractBaseUser, keep_comments: bool) -> Member | None:
    """Delete the account. With `keep_comments` its comments stay, shown as 已注销用户;
    without, they are deleted. Returns the member row left behind (None for an account that
    never took part). Refused (PermissionDenied) for staff, moderators and teachers."""
    refusal = account_delete_refusal(user)
    if refusal:
        raise PermissionDenied(refusal)
    member = Member.objects.select_for_update().filter(user=user).first()
    if member is None:
        user.delete()
        return None
    now = timezone.now()
    lesson_ids = _lessons_touched(member)
    # The lock order of every discussion write (forum.caching.stamps): the lessons' rows first,
    # in order, then the rows changed, then the stamps, last.
    list(Lesson.objects.filter(pk__in=lesson_ids).order_by("pk").select_for_update().values("pk"))
    if not keep_comments:
        _comments_delete(member, now)
    _likes_remove(member)
    Notification.objects.filter(recipient=member).delete()
    _reports_withdraw(member, now)
    # Their claims on imported identities: asked with a reason in their words, decided or not.
    MemberClaim.objects.filter(claimant=member).delete()
    _audit_anonymize(member, user)
    avatar = member.avatar.name
    user.delete()  # and with it its email addresses (the member's row lets it go)
    Member.objects.filter(pk=member.pk).update(
        user=None,
        display_name="",
        bio="",
        avatar="",
        avatar_url="",
        language="",
        notification_settings={},
        name_skeleton="",
        account_skeleton="",
        unread_notifications=0,
        slug=left_slug(member.pk),
        left_at=now,
    )
    if avatar:
        transaction.on_commit(partial(_avatar_forget, avatar))
    stamps.pages_changed(lesson_ids=lesson_ids)
    member.refresh_from_db()
    return member
