from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from forum.models.discussion import Comment, Member
from lessons.models import Course


class Report(models.Model):
    """A reader's report of a comment; one open report per member and comment."""

    class Reason(models.TextChoices):
        SPAM = "spam", _("Spam or advertising")
        ABUSE = "abuse", _("Abusive or hateful")
        OFF_TOPIC = "off-topic", _("Off topic")
        OTHER = "other", _("Something else")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        UPHELD = "upheld", _("upheld")
        DISMISSED = "dismissed", _("dismissed")

    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, related_name="reports", verbose_name=_("comment")
    )
    reporter = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="reports_made", verbose_name=_("reporter")
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    text = models.TextField(_("details"), blank=True, max_length=1000)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    # The weight as it was when reported (forum.trust.report_weight): the reporter's record
    # changes later, the decision it took part in does not. Reports made before weights were
    # kept each counted 1.
    weight = models.FloatField(
        _("weight"),
        default=1.0,
        help_text=_("How much the report counted toward hiding the comment when it was made."),
    )
    created_at = models.DateTimeField(_("reported at"), auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution_note = models.CharField(_("resolution note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            models.UniqueConstraint(
                fields=["comment", "reporter"],
                condition=Q(status="open"),
                name="report_one_open_per_member",
            )
        ]
        indexes = [models.Index(fields=["status", "comment"], name="report_status_comment")]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} → {self.comment_id}"


class ModerationAction(models.Model):
    """The audit trail: every moderation action, who took it, on what, and why. Never edited."""

    class Kind(models.TextChoices):
        PUBLISH = "publish", _("publish")
        HIDE = "hide", _("hide")
        SPAM = "spam", _("mark as spam")
        REMOVE = "remove", _("remove")
        RESTORE = "restore", _("restore")
        FEATURE = "feature", _("feature")
        UNFEATURE = "unfeature", _("unfeature")
        PIN = "pin", _("pin")
        UNPIN = "unpin", _("unpin")
        AUTO_HIDE = "auto-hide", _("hidden by reports")
        REPORTS_UPHELD = "reports-upheld", _("reports upheld")
        REPORTS_DISMISSED = "reports-dismissed", _("reports dismissed")
        SUSPEND = "suspend", _("suspend member")
        BAN = "ban", _("ban member")
        UNSUSPEND = "unsuspend", _("lift suspension")
        HIDE_ALL = "hide-all", _("hide all of a member's content")
        LINK_ACCOUNT = "link-account", _("link member to account")
        EDIT_MEMBER = "edit-member", _("edit member")
        CLAIM_APPROVED = "claim-approved", _("approve identity claim")
        CLAIM_REFUSED = "claim-refused", _("refuse identity claim")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("moderator"),
        help_text=_("Empty when the forum acted by itself (e.g. hidden by reports)."),
    )
    # The names are copied when the action is recorded: deleting an account, a member or a
    # lesson (and with it its comments) empties the foreign keys, and the record must still
    # say who acted on whom.
    actor_name = models.CharField(
        _("moderator's name"),
        max_length=200,
        blank=True,
        help_text=_("Who acted, as recorded then; empty when the forum acted by itself."),
    )
    kind = models.CharField(_("action"), max_length=30, choices=Kind.choices)
    comment = models.ForeignKey(
        Comment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="moderation_actions",
        verbose_name=_("comment"),
    )
    member = models.ForeignKey(
        Member,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="moderation_actions",
        verbose_name=_("member"),
    )
    member_name = models.CharField(
        _("member's name"),
        max_length=150,
        blank=True,
        help_text=_("The member acted on, or the comment's author, as named then."),
    )
    target = models.CharField(_("target"), max_length=200, help_text=_("What was acted on."))
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    # Room for a member's edited fields, each value cut short.
    status_before = models.CharField(_("before"), max_length=300, blank=True)
    status_after = models.CharField(_("after"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("moderation action")
        verbose_name_plural = _("moderation log")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.target}"


class CourseModeration(models.Model):
    """A course's own moderation policy, overriding the site-wide setting."""

    class Premoderation(models.TextChoices):
        SITE = "site", _("as the site (FORUM_PREMODERATION)")
        ON = "on", _("new members' comments wait for review")
        OFF = "off", _("publish at once")

    course = models.OneToOneField(
        Course, on_delete=models.CASCADE, related_name="moderation", verbose_name=_("course")
    )
    premoderation = models.CharField(
        _("pre-moderation"),
        max_length=10,
        choices=Premoderation.choices,
        default=Premoderation.SITE,
    )

    class Meta:
        verbose_name = _("course moderation policy")
        verbose_name_plural = _("course moderation policies")

    def __str__(self) -> str:
        return str(self.course)


class ReportedComment(Comment):
    """Comments with open reports: the admin's 待处理举报 queue, a second list of comments."""

    class Meta:
        proxy = True
        verbose_name = _("reported comment")
        verbose_name_plural = _("Pending reports")
