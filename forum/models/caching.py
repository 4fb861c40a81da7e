from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from lessons.models import Lesson


class LessonStamp(models.Model):
    """What a cached page of a lesson was rendered at (forum.caching.stamps): a value that
    changes, in the writing transaction, with everything the lesson's pages show. Kept apart
    from the lesson's row so that likes, which move it, never wait for comment writes' lock on
    the lesson."""

    lesson = models.OneToOneField(
        Lesson,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="page_stamp",
        verbose_name=_("lesson"),
    )
    value = models.BigIntegerField(_("stamp"))

    class Meta:
        verbose_name = _("page stamp")
        verbose_name_plural = _("page stamps")

    def __str__(self) -> str:
        return f"{self.lesson_id}: {self.value}"
