"""The member's notifications: the list behind the header's bell, opening one, marking all read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from forum import services
from forum.models import Comment, Member, Notification
from forum.notifications.services import notification_open, notifications_read_all
from forum.views.common import MAX_PAGE, member_required, page_number

PER_PAGE = 20
Kind = Notification.Kind
# Told of the forum's decision on a comment that may since be hidden: listed whatever became of
# the comment. Every other kind is about a comment others can read, and goes when it does.
DECISIONS = (Kind.MODERATION, Kind.REPORT)


def _readable(comment: Comment, member: Member) -> bool:
    """Whether the reader can open the comment's page: published, or their own in review."""
    own_pending = comment.member_id == member.pk and comment.status == Comment.Status.PENDING
    return comment.is_counted or (own_pending and comment.deleted_at is None)


def _shown(notification: Notification, member: Member) -> bool:
    """Whether the item may quote its comment: one the reader can read, or their own (a
    moderator's decision on it)."""
    comment = notification.comment
    return _readable(comment, member) or comment.member_id == member.pk


@dataclass
class NotificationPage:
    notifications: list[Notification]
    number: int
    has_next: bool


def notifications_page(member: Member, page: int) -> NotificationPage:
    """A page of the member's notifications, newest first, in one query with who did it and the
    comment (one more row than shown says whether a next page exists)."""
    start = (page - 1) * PER_PAGE
    rows = list(
        Notification.objects.filter(recipient=member)
        .filter(
            Q(kind__in=DECISIONS)
            | Q(comment__status=Comment.Status.PUBLISHED, comment__deleted_at__isnull=True)
        )
        .select_related("actor", "comment__lesson")
        .defer(
            "comment__body_html",
            "comment__lesson__body_markdown",
            "comment__lesson__body_html",
            "comment__lesson__body_blocks",
        )
        .order_by("-created_at", "-pk")[start : start + PER_PAGE + 1]
    )
    just_now = timezone.now() - timedelta(minutes=1)
    for notification in rows:
        notification.shows_comment = _shown(notification, member)
        notification.is_new = notification.created_at > just_now  # "0 minutes ago" reads oddly
    return NotificationPage(rows[:PER_PAGE], page, len(rows) > PER_PAGE)


@require_safe
@member_required
def notification_list(request: HttpRequest) -> HttpResponse:
    member = services.member_for(request.user)
    page = notifications_page(member, page_number(request))
    if page.number > 1 and not page.notifications:
        raise Http404("no such page")
    return TemplateResponse(request, "forum/notifications.html", {"page": page, "viewer": member})


@require_safe
@member_required
def notification_detail(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Open a notification: it is read, and the reader is taken to its comment (back to the
    list where the comment is no longer there to read). Only its recipient's."""
    member = services.member_for(request.user)
    notification = get_object_or_404(
        Notification.objects.select_related("comment"), pk=notification_id, recipient=member
    )
    notification_open(member=member, notification=notification)
    if not _readable(notification.comment, member):
        return redirect("forum:notifications")
    return redirect(notification.comment.get_absolute_url())


@require_POST
@member_required
def notifications_mark_read(request: HttpRequest) -> HttpResponse:
    """全部标为已读. htmx gets the list again and the bell out of band; without JavaScript,
    Post/Redirect/Get back to the list."""
    member = services.member_for(request.user)
    notifications_read_all(member=member)
    if not request.htmx:
        return redirect(reverse("forum:notifications"))
    page = notifications_page(member, _posted_page(request))
    if not page.notifications:
        page = notifications_page(member, 1)
    context = {"page": page, "viewer": member, "oob": True}
    return TemplateResponse(request, "forum/notifications.html#read-all-result", context)


def _posted_page(request: HttpRequest) -> int:
    """The page the form was sent from, so htmx shows it again (the first if it is not one)."""
    try:
        page = int(request.POST.get("page", "1"))
    except ValueError:
        return 1
    return page if 1 <= page <= MAX_PAGE else 1
