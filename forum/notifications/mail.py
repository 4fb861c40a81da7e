"""Notification emails: what they say (in the member's language, Chinese first), to which
address, and the headers that let a mail client stop them in one click (RFC 8058)."""

from __future__ import annotations

import email.policy
from datetime import date
from urllib.parse import urlsplit

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from forum.models import Comment, Member, Notification
from forum.notifications.preferences import Delivery, delivery
from forum.notifications.unsubscribe import DIGEST, unsubscribe_token

Kind = Notification.Kind
EXCERPT_CHARS = 300
HIDING = ("hide", "spam", "remove", "auto-hide")
# Headers a mail client reads as one URL: folded (or RFC 2047-encoded, as Python's email package
# does with a long word) it is no longer one, and one-click unsubscribe breaks.
UNFOLDED = {"list-unsubscribe", "list-unsubscribe-post"}


class _ListHeadersUnfolded(email.policy.EmailPolicy):
    """The policy the mail backend chose, except that the List-Unsubscribe headers are written
    on one line whatever their length (RFC 5322 allows 998 characters; a host name has 253)."""

    def fold(self, name: str, value: str) -> str:
        if name.lower() in UNFOLDED:
            return super(_ListHeadersUnfolded, self.clone(max_line_length=0)).fold(name, value)
        return super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() in UNFOLDED:
            unfolded = self.clone(max_line_length=0)
            return super(_ListHeadersUnfolded, unfolded).fold_binary(name, value)
        return super().fold_binary(name, value)


UNFOLDING = _ListHeadersUnfolded()


class NotificationEmail(EmailMultiAlternatives):
    def message(self, *, policy: email.policy.Policy = email.policy.default):
        return super().message(policy=UNFOLDING + policy)


def absolute(path: str) -> str:
    return settings.FORUM_SITE_URL + path


def settings_url() -> str:
    try:
        return absolute(reverse("settings"))
    except NoReverseMatch:
        return absolute("/settings/")


def site_domain() -> str:
    return urlsplit(settings.FORUM_SITE_URL).hostname or "localhost"


def recipient_address(member: Member) -> str | None:
    """The member's verified address (the primary first), or None. Never an unverified one:
    anyone can type someone else's address into a sign-up form."""
    user = member.user
    if user is None or not user.is_active:
        return None
    return (
        EmailAddress.objects.filter(user=user, verified=True)
        .order_by("-primary", "pk")
        .values_list("email", flat=True)
        .first()
    )


def not_to_send(notification: Notification) -> str:
    """Why this notification's email is no longer to be sent ("" if it is): what it tells is
    no longer true, or the member no longer wants it."""
    comment, recipient = notification.comment, notification.recipient
    if recipient.user_id is None:
        return "no account"
    if delivery(recipient, notification.kind) in (Delivery.OFF, Delivery.PAGE):
        return "not wanted"
    if notification.kind == Kind.MODERATION:
        if comment.deleted_at is not None:
            return "comment deleted"
        hidden = notification.action in HIDING
        if hidden == (comment.status == Comment.Status.PUBLISHED):
            return "decision undone"
    elif notification.kind != Kind.REPORT and not comment.is_counted:
        return "comment not shown"
    return ""


def summary(notification: Notification) -> str:
    """One sentence saying what happened, in the active language."""
    who = notification.actor.shown_name if notification.actor else ""
    who = who or _("Someone")
    kind, action = notification.kind, notification.action
    if kind == Kind.REPLY:
        return _("%(name)s replied to your comment") % {"name": who}
    if kind == Kind.AUTHOR_REPLY:
        return _("The teacher %(name)s answered your comment (author reply)") % {"name": who}
    if kind == Kind.MENTION:
        return _("%(name)s mentioned you in a comment") % {"name": who}
    if kind == Kind.LIKE:
        if not notification.others:
            return _("%(name)s liked your comment") % {"name": who}
        return ngettext(
            "%(name)s and %(count)d other person liked your comment",
            "%(name)s and %(count)d other people liked your comment",
            notification.others,
        ) % {"name": who, "count": notification.others}
    if kind == Kind.FEATURED:
        if action == "pin":
            return _("Your comment was pinned")
        return _("Your comment was featured")
    if kind == Kind.MODERATION:
        if action == "publish":
            return _("A moderator approved your comment")
        if action == "restore":
            return _("A moderator restored your comment")
        return _("A moderator hid your comment")
    if action == "upheld":
        return _("Your report was upheld: the comment was hidden")
    return _("Your report was dismissed: the comment stays")


def _item(notification: Notification) -> dict:
    comment = notification.comment
    # A report's outcome does not repeat the text of a comment that was hidden.
    shown = comment.is_counted or notification.recipient_id == comment.member_id
    excerpt = Truncator(comment.body).chars(EXCERPT_CHARS) if shown else ""
    return {
        "notification": notification,
        "summary": summary(notification),
        "is_author_reply": notification.kind == Kind.AUTHOR_REPLY,
        "lesson": comment.lesson.title,
        "excerpt": excerpt,
        "quoted": "\n".join(f"> {line}" for line in excerpt.splitlines()),
        "reason": notification.reason,
        "url": absolute(comment.get_absolute_url()),
    }


def _item_text(item: dict) -> str:
    """An item as plain text: built here rather than in a template, which would escape it."""
    lines = [item["summary"], _("Lesson: %(lesson)s") % {"lesson": item["lesson"]}]
    if item["is_author_reply"]:
        lines[0] += f" [{_('Author reply')}]"
    if item["quoted"]:
        lines += ["", item["quoted"]]
    if item["reason"]:
        lines += ["", _("Reason: %(reason)s") % {"reason": item["reason"]}]
    lines += ["", _("Read it: %(url)s") % {"url": item["url"]}]
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _language(member: Member) -> str:
    return member.language or settings.LANGUAGE_CODE


def _email(
    *,
    member: Member,
    to: str,
    template: str,
    context: dict,
    text: list[str],
    subject: str,
    kind: str,
    id_: str,
) -> NotificationEmail:
    """The email: `text` (paragraphs) as its plain part, `template` with `context` as its HTML
    part, and the footer's links in both."""
    unsubscribe_url = absolute(reverse("forum:unsubscribe", args=[unsubscribe_token(member, kind)]))
    context |= {"settings_url": settings_url(), "unsubscribe_url": unsubscribe_url}
    stop = (
        _("Stop the daily digest: %(url)s")
        if kind == DIGEST
        else _("Stop emails like this one: %(url)s")
    )
    footer = [
        "--",
        _("Choose which emails you get: %(url)s") % {"url": context["settings_url"]},
        stop % {"url": unsubscribe_url},
    ]
    message = NotificationEmail(
        subject=_one_line(subject),
        body="\n\n".join(text) + "\n\n" + "\n".join(footer) + "\n",
        to=[to],
        headers={
            "Message-ID": f"<{id_}@{site_domain()}>",
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(
        render_to_string(f"forum/email/{template}.html", context), "text/html"
    )
    return message


def notification_email(notification: Notification, *, to: str) -> NotificationEmail:
    """The email of one notification; its Message-ID is the notification's, so a copy sent
    twice (a worker that died after SMTP took it) is recognizably the same message."""
    member = notification.recipient
    with translation.override(_language(member)):
        item = _item(notification)
        subject = _("%(what)s · %(lesson)s") % {"what": item["summary"], "lesson": item["lesson"]}
        return _email(
            member=member,
            to=to,
            template="notification",
            context={"item": item},
            text=[_item_text(item)],
            subject=subject,
            kind=notification.kind,
            id_=f"notification-{notification.pk}",
        )


def digest_email(
    member: Member, notifications: list[Notification], *, to: str, day: date
) -> NotificationEmail:
    """One email with the member's digest notifications, oldest first."""
    with translation.override(_language(member)):
        count = len(notifications)
        subject = ngettext(
            "Lesson Forum: %(count)d notification",
            "Lesson Forum: %(count)d notifications",
            count,
        ) % {"count": count}
        items = [_item(n) for n in notifications]
        intro = _("What happened to your comments, up to %(day)s:") % {"day": f"{day:%Y-%m-%d}"}
        return _email(
            member=member,
            to=to,
            template="digest",
            context={"items": items, "day": day},
            text=[intro, *map(_item_text, items)],
            subject=subject,
            kind=DIGEST,
            id_=f"digest-{member.pk}-{day:%Y%m%d}-{notifications[0].pk}",
        )
