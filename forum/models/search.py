"""What search finds: one document per visible comment and per section of a lesson."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lessons.models import Course, Lesson


class SearchDocument(models.Model):
    """A passage search can find, with its tokens (forum.search.tokenizer).

    The full-text index is the database's own and not a field here: on SQLite an FTS5 table
    over `title_tokens` and `tokens` (kept by triggers on this table), on PostgreSQL a stored
    tsvector column computed from them with a GIN index (migration 0023). Only what readers
    may see has a document: forum.search.sync writes them in the write's transaction.
    """

    class Kind(models.TextChoices):
        LESSON = "lesson", _("lesson")
        COMMENT = "comment", _("comment")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    lesson = models.ForeignKey(
        Lesson, on_delete=models.CASCADE, related_name="+", verbose_name=_("lesson")
    )
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="+", verbose_name=_("course")
    )
    comment = models.OneToOneField(
        "forum.Comment",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="search_document",
        verbose_name=_("comment"),
    )
    # A lesson is indexed by section (and a long section in parts): a tsvector counts
    # positions only up to 16,383, and a hit can lead to the part of the lesson it is in.
    section = models.PositiveIntegerField(_("section"), default=0)
    heading = models.CharField(_("heading"), max_length=300, blank=True)
    text = models.TextField(_("text"), help_text=_("The plain text the snippets are cut from."))
    title_tokens = models.TextField(_("title tokens"), blank=True)
    tokens = models.TextField(_("tokens"), blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("search document")
        verbose_name_plural = _("search documents")
        constraints = [
            models.UniqueConstraint(
                fields=["lesson", "section"],
                condition=Q(kind="lesson"),
                name="searchdocument_unique_section",
            )
        ]
        indexes = [models.Index(fields=["created_at", "id"], name="searchdocument_newest")]

    def __str__(self) -> str:
        return self.text[:40]
