from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from lessons.rendering import lesson_blocks, lesson_units, render_lesson_body


def unicode_slug(text: str, *, fallback: str) -> str:
    """A readable Unicode slug (Chinese kept); `fallback` when nothing is left."""
    return slugify(text, allow_unicode=True)[:200].strip("-") or fallback


class Course(models.Model):
    slug = models.SlugField(_("slug"), max_length=200, unique=True, allow_unicode=True)
    title = models.CharField(_("title"), max_length=200)
    teacher = models.CharField(_("teacher"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("lessons:course", kwargs={"course_slug": self.slug})


class LessonQuerySet(models.QuerySet):
    def in_reading_order(self) -> LessonQuerySet:
        return self.order_by("position", "number", "pk")


class Lesson(models.Model):
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="lessons", verbose_name=_("course")
    )
    number = models.PositiveIntegerField(
        _("number"), null=True, blank=True, help_text=_("Empty for a preface or an extra.")
    )
    position = models.IntegerField(
        _("position"), default=0, help_text=_("Reading order within the course.")
    )
    slug = models.SlugField(_("slug"), max_length=200, allow_unicode=True)
    title = models.CharField(_("title"), max_length=300)
    body_markdown = models.TextField(_("body (Markdown)"), blank=True)
    body_html = models.TextField(_("body (rendered)"), blank=True, editable=False)
    # The rendered body cut at its blocks (lessons.rendering.lesson_units): the page shows each
    # block with its comments beside it, and comments are re-attached by the blocks' texts.
    body_blocks = models.JSONField(_("body (blocks)"), default=list, blank=True, editable=False)
    revision_number = models.PositiveIntegerField(
        _("revision"),
        default=0,
        editable=False,
        help_text=_("The number of the current revision of the body; 0 before the first."),
    )
    source_ref = models.CharField(_("source"), max_length=1000, blank=True)
    source_digest = models.CharField(_("source digest"), max_length=64, blank=True)
    is_preview = models.BooleanField(
        _("preview"),
        default=False,
        help_text=_("The source held only the beginning of a longer article."),
    )
    comment_count = models.PositiveIntegerField(_("comments"), default=0, editable=False)
    thread_count = models.PositiveIntegerField(_("top-level comments"), default=0, editable=False)
    like_count = models.PositiveIntegerField(_("likes"), default=0, editable=False)
    activity_at = models.DateTimeField(
        _("last discussion change"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Moves with every change to the lesson's discussion."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Saving or deleting a lesson moves its course's `updated_at` too: a lesson's title and place
    # show on the course's other lessons' pages (their navigation).
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = LessonQuerySet.as_manager()

    class Meta:
        ordering = ["course", "position", "number", "pk"]
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")
        constraints = [
            models.UniqueConstraint(fields=["course", "slug"], name="lesson_unique_slug"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        if getattr(self, "_rendered_from", None) != self.body_markdown:
            self.render_body()
        if not self.slug:
            self.slug = unicode_slug(self.title, fallback=f"lesson-{self.number or 0}")
        super().save(*args, **kwargs)
        Course.objects.filter(pk=self.course_id).update(updated_at=timezone.now())

    def get_absolute_url(self) -> str:
        return reverse(
            "forum:lesson",
            kwargs={"course_slug": self.course.slug, "lesson_slug": self.slug},
        )

    @property
    def reading_minutes(self) -> int:
        """About how long the article takes to read: Chinese is read at some 400 characters a
        minute (whitespace and Markdown's marks aside), at least one minute."""
        characters = sum(1 for ch in self.body_markdown if ch.isalnum())
        return max(1, round(characters / 400))

    @property
    def source_url(self) -> str:
        """Where the lesson was imported from, when that was a web page (not a file)."""
        web = self.source_ref[:8].lower().startswith(("https://", "http://"))
        return self.source_ref if web else ""

    def delete(self, *args, **kwargs) -> tuple[int, dict[str, int]]:
        deleted = super().delete(*args, **kwargs)
        Course.objects.filter(pk=self.course_id).update(updated_at=timezone.now())
        return deleted

    def render_body(self) -> None:
        """Render the body now (the importer does it before its transaction); save() then
        renders again only if body_markdown has changed since."""
        self.body_html = render_lesson_body(self.body_markdown)
        self.body_blocks = lesson_units(self.body_html)
        self._rendered_from = self.body_markdown

    @property
    def blocks(self) -> dict[str, str]:
        """Anchor → text of each block of the body, in order."""
        return lesson_blocks(self.body_blocks)


class LessonRevision(models.Model):
    """A lesson's body as one import or admin edit left it: every change of the body stores
    one, numbered from 1; the lesson shows the newest."""

    lesson = models.ForeignKey(
        Lesson, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("lesson")
    )
    number = models.PositiveIntegerField(_("number"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    source_ref = models.CharField(_("source"), max_length=1000, blank=True)
    body_markdown = models.TextField(_("body (Markdown)"), blank=True)
    body_html = models.TextField(_("body (rendered)"), blank=True, editable=False)
    body_blocks = models.JSONField(_("body (blocks)"), default=list, blank=True, editable=False)

    class Meta:
        ordering = ["lesson", "number"]
        verbose_name = _("lesson revision")
        verbose_name_plural = _("lesson revisions")
        constraints = [
            models.UniqueConstraint(fields=["lesson", "number"], name="lesson_revision_unique")
        ]

    def __str__(self) -> str:
        return f"{self.lesson_id} r{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("lessons:revision", args=[self.lesson_id, self.number])

    @property
    def blocks(self) -> dict[str, str]:
        return lesson_blocks(self.body_blocks)

    @property
    def source_url(self) -> str:
        """Where this revision was imported from, when that was a web page (a file's path on
        the server is not shown)."""
        return self.source_ref if self.source_ref.startswith(("https://", "http://")) else ""
