from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from forum.models.discussion import Comment, Member


class Notification(models.Model):
    """Something that happened to what a member wrote, told to them in the page (the bell) and,
    as they chose, by email. The row is also the email's outbox: `email` says what is still to
    be sent, so a send that failed, or whose task was lost, is sent later and never twice."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("Replies to your comments")
        AUTHOR_REPLY = "author-reply", _("Teacher's answers to your comments")
        MENTION = "mention", _("Mentions of you")
        LIKE = "like", _("Likes on your comments")
        FEATURED = "featured", _("Your comments featured or pinned")
        MODERATION = "moderation", _("Moderators' decisions on your comments")
        REPORT = "report", _("Outcomes of your reports")

    class Delivery(models.TextChoices):
        PAGE = "page", _("In the page only")
        EMAIL = "email", _("Email at once")
        DIGEST = "digest", _("Daily digest")
        OFF = "off", _("Off")

    class Email(models.TextChoices):
        NONE = "", _("none")
        PENDING = "pending", _("to send")
        SENDING = "sending", _("being sent")
        DIGEST = "digest", _("waits for the digest")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    recipient = models.ForeignKey(
        Member,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        Member,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Who did it: the replier, the latest liker; empty for the forum itself."),
    )
    comment = models.ForeignKey(
        Comment,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("comment"),
        help_text=_("The comment it is about, and links to: the reply, the liked comment…"),
    )
    action = models.CharField(
        _("action"),
        max_length=30,
        blank=True,
        help_text=_("What was done: feature or pin; the moderation action; upheld or dismissed."),
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    others = models.PositiveIntegerField(
        _("others"), default=0, help_text=_("Likes: how many besides the latest liker.")
    )
    since = models.DateTimeField(
        _("since"), default=timezone.now, help_text=_("Likes: counted from this time on.")
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    email = models.CharField(
        _("email"), max_length=10, choices=Email.choices, default=Email.NONE, blank=True
    )
    email_attempts = models.PositiveSmallIntegerField(_("send attempts"), default=0)
    email_claimed_at = models.DateTimeField(_("send started at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            # Likes are told as one unread row per comment: "〈latest〉和另外 9 人赞了你的留言".
            models.UniqueConstraint(
                fields=["recipient", "comment"],
                condition=Q(kind="like", read_at__isnull=True),
                name="notification_one_unread_like",
            )
        ]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at", "-id"], name="notification_recipient_new"
            ),
            # The outbox: what the worker, the digest and the sweep look for.
            models.Index(
                fields=["email", "created_at"],
                condition=Q(email__in=["pending", "sending", "digest"]),
                name="notification_outbox",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None
