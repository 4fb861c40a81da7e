from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from forum.models.discussion import Member


class MemberClaimQuerySet(models.QuerySet):
    def open(self) -> MemberClaimQuerySet:
        return self.filter(status=MemberClaim.Status.OPEN)


class MemberClaim(models.Model):
    """A member's request to become an imported identity (a commenter or teacher brought by an
    import), decided by a moderator: approved, the identity's history is merged into theirs."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")

    member = models.ForeignKey(
        Member,
        on_delete=models.CASCADE,
        related_name="claims",
        verbose_name=_("imported identity"),
    )
    claimant = models.ForeignKey(
        Member,
        on_delete=models.CASCADE,
        related_name="claims_made",
        verbose_name=_("claimed by"),
    )
    reason = models.TextField(
        _("reason"), max_length=1000, help_text=_("Why the claimant says it is theirs.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("claimed at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(
        _("decision note"),
        max_length=500,
        blank=True,
        help_text=_("The moderator's reason, shown to the claimant."),
    )

    objects = MemberClaimQuerySet.as_manager()

    class Meta:
        verbose_name = _("identity claim")
        verbose_name_plural = _("identity claims")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "claimant"],
                condition=Q(status="open"),
                name="claim_one_open_per_member",
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="claim_status_created")]

    def __str__(self) -> str:
        return f"{self.claimant} → {self.member}"
