from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from forum.models.discussion import Comment, Member


class QueueDismissal(models.Model):
    """A teacher's "不需要回复" on a comment: it leaves the teaching queue (forum.teaching) for
    every teacher of the course until someone takes it back. Recorded with who and when."""

    comment = models.OneToOneField(
        Comment,
        on_delete=models.CASCADE,
        related_name="queue_dismissal",
        verbose_name=_("comment"),
    )
    member = models.ForeignKey(
        Member,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("dismissed by"),
    )
    created_at = models.DateTimeField(_("dismissed at"), default=timezone.now)

    class Meta:
        verbose_name = _("no reply needed")
        verbose_name_plural = _("no reply needed")

    def __str__(self) -> str:
        return f"{self.member} ✕ {self.comment_id}"
