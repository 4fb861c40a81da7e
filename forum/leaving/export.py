"""Everything the forum keeps about a member, as one JSON document they can download.

Built in a fixed number of queries however much they wrote (one per kind of row), each row
with the columns it shows and nothing rendered: the Markdown they wrote, not its HTML.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from forum.models import Comment, CommentLike, LessonLike, Member, Notification, Report
from forum.notifications.preferences import deliveries
from lessons.models import Lesson

FORMAT = "lesson-forum-member-export"
VERSION = 1


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _absolute(path: str) -> str:
    """A URL a reader can open outside the site (an uploaded avatar's is a path here)."""
    return urljoin(settings.FORUM_SITE_URL + "/", path) if path else ""


def _lesson(lesson: Lesson) -> dict[str, str]:
    return {"title": lesson.title, "url": _absolute(lesson.get_absolute_url())}


def export_filename(user: AbstractBaseUser) -> str:
    """`lesson-forum-<user name>-<date>.json`, the date in the site's time zone."""
    return f"lesson-forum-{user.get_username()}-{timezone.localdate():%Y-%m-%d}.json"


def _profile(user: AbstractBaseUser, member: Member | None) -> dict[str, Any]:
    addresses = EmailAddress.objects.filter(user=user).order_by("-primary", "email")
    return {
        "user_name": user.get_username(),
        "display_name": member.display_name if member else "",
        "bio": member.bio if member else "",
        "joined": _time(user.date_joined),
        "email_addresses": [
            {"email": a.email, "verified": a.verified, "primary": a.primary} for a in addresses
        ],
        "language": member.language if member else "",
        "notification_settings": deliveries(member) if member else {},
        "avatar_url": _absolute(member.avatar_src) if member else "",
        "profile_url": _absolute(member.get_absolute_url()) if member else "",
    }


# The comment columns an export shows; the lesson's article and a comment's HTML stay behind.
COMMENT_FIELDS = (
    "parent_id",
    "body",
    "status",
    "created_at",
    "edited_at",
    "deleted_at",
    "like_count",
    "is_author_reply",
    "is_featured",
    "lesson__title",
    "lesson__slug",
    "lesson__course__slug",
)


def _comments(member: Member) -> list[dict[str, Any]]:
    rows = (
        Comment.objects.filter(member=member)
        .select_related("lesson__course")
        .only(*COMMENT_FIELDS)
        .order_by("created_at", "pk")
    )
    return [
        {
            "id": c.pk,
            "lesson": _lesson(c.lesson),
            "parent_id": c.parent_id,
            "body_markdown": c.body,
            "status": c.status,
            "author_reply": c.is_author_reply,
            "featured": c.is_featured,
            "created_at": _time(c.created_at),
            "edited_at": _time(c.edited_at),
            "deleted_at": _time(c.deleted_at),
            "like_count": c.like_count,
            "permalink": _absolute(c.get_absolute_url()),
        }
        for c in rows
    ]


def _likes(member: Member) -> dict[str, list[dict[str, Any]]]:
    comment_likes = (
        CommentLike.objects.filter(member=member)
        .select_related("comment__lesson__course")
        .only(
            "created_at",
            "comment__id",
            "comment__lesson__title",
            "comment__lesson__slug",
            "comment__lesson__course__slug",
        )
        .order_by("created_at", "pk")
    )
    lesson_likes = (
        LessonLike.objects.filter(member=member)
        .select_related("lesson__course")
        .only("created_at", "lesson__title", "lesson__slug", "lesson__course__slug")
        .order_by("created_at", "pk")
    )
    return {
        "comments": [
            {
                "comment_id": like.comment_id,
                "permalink": _absolute(like.comment.get_absolute_url()),
                "lesson": _lesson(like.comment.lesson),
                "liked_at": _time(like.created_at),
            }
            for like in comment_likes
        ],
        "lessons": [
            {"lesson": _lesson(like.lesson), "liked_at": _time(like.created_at)}
            for like in lesson_likes
        ],
    }


def _reports(member: Member) -> list[dict[str, Any]]:
    rows = Report.objects.filter(reporter=member).order_by("created_at", "pk")
    return [
        {
            "comment_id": r.comment_id,
            "reason": r.reason,
            "text": r.text,
            "status": r.status,
            "reported_at": _time(r.created_at),
            "resolved_at": _time(r.resolved_at),
        }
        for r in rows.only("comment", "reason", "text", "status", "created_at", "resolved_at")
    ]


def _notifications(member: Member) -> list[dict[str, Any]]:
    rows = (
        Notification.objects.filter(recipient=member)
        .select_related("actor")
        .only(
            "kind",
            "comment",
            "action",
            "reason",
            "others",
            "created_at",
            "read_at",
            "actor__display_name",
            "actor__left_at",
        )
        .order_by("created_at", "pk")
    )
    return [
        {
            "kind": n.kind,
            "comment_id": n.comment_id,
            "by": n.actor.shown_name if n.actor else "",
            "others": n.others,
            "action": n.action,
            "reason": n.reason,
            "created_at": _time(n.created_at),
            "read_at": _time(n.read_at),
        }
        for n in rows
    ]


def member_export(*, user: AbstractBaseUser) -> dict[str, Any]:
    """The account's data: profile, comments, likes, reports and notifications. Seven queries
    (the member, the email addresses, then one per list); two for an account that never took
    part."""
    member = Member.objects.filter(user=user).first()
    data: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _time(timezone.now()),
        "site": settings.FORUM_SITE_URL,
        "profile": _profile(user, member),
        "comments": [],
        "likes": {"comments": [], "lessons": []},
        "reports": [],
        "notifications": [],
    }
    if member is not None:
        data["comments"] = _comments(member)
        data["likes"] = _likes(member)
        data["reports"] = _reports(member)
        data["notifications"] = _notifications(member)
    return data
