"""Courses and lessons in the admin: their lists with comment counts and public pages.

A lesson's HTML is rendered from its Markdown whenever it is saved, so saving an edited
body re-renders it, and the "re-render" action saves lessons whose renderer has changed. A body
edited here is stored as the lesson's next revision, as an import that changes it is; when its
blocks change, `blocks_changed` is told (the forum's admin moves the comments on them).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.db import transaction
from django.db.models import Count, Model, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from lessons.models import Course, Lesson
from lessons.rendering import lesson_blocks
from lessons.revisions import revision_record


def page_link(obj: Model) -> SafeString:
    return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), _("Open the page"))


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "teacher", "lesson_total", "comment_total", "page"]
    search_fields = ["title", "slug", "teacher"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                lesson_total=Count("lessons"),
                comment_total=Coalesce(Sum("lessons__comment_count"), 0),
            )
        )

    @admin.display(description=_("lessons"), ordering="lesson_total")
    def lesson_total(self, course: Course) -> int:
        return course.lesson_total

    @admin.display(description=_("comments"), ordering="comment_total")
    def comment_total(self, course: Course) -> int:
        return course.comment_total

    @admin.display(description=_("page"))
    def page(self, course: Course) -> SafeString:
        return page_link(course)


# Kept by the site and the importer, shown but never edited here.
COUNTS_AND_SOURCE = [
    "comment_count",
    "like_count",
    "source_ref",
    "source_digest",
    "created_at",
    "updated_at",
]


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "course",
        "number",
        "position",
        "comment_count",
        "like_count",
        "page",
        "updated_at",
    ]
    list_filter = ["course", "is_preview"]
    search_fields = ["title", "slug", "course__title"]
    list_select_related = ["course"]
    prepopulated_fields = {"slug": ["title"]}
    fieldsets = [
        (None, {"fields": ["course", "title", "slug", "number", "position"]}),
        (_("Body"), {"fields": ["body_markdown"]}),
        (
            _("Counts and source"),
            {
                "classes": ["collapse"],
                "fields": COUNTS_AND_SOURCE,
            },
        ),
    ]
    readonly_fields = COUNTS_AND_SOURCE
    actions = ["rerender"]

    @admin.display(description=_("page"))
    def page(self, lesson: Lesson) -> SafeString:
        return page_link(lesson)

    def save_model(self, request: HttpRequest, obj: Lesson, form, change: bool) -> None:
        """Save (in the admin's transaction); a new or changed body is the next revision."""
        before = ("", [])
        if change:
            before = Lesson.objects.values_list("body_markdown", "body_blocks").get(pk=obj.pk)
        # A browser sends a textarea's lines ended by CRLF, and the form strips the ends: a body
        # saved unedited stays the body it was, byte for byte.
        obj.body_markdown = obj.body_markdown.replace("\r\n", "\n")
        if obj.body_markdown == before[0].replace("\r\n", "\n").strip():
            obj.body_markdown = before[0]
        super().save_model(request, obj, form, change)
        if not change or before[0] != obj.body_markdown:
            revision_record(lesson=obj)
        if change and before[1] != obj.body_blocks:
            self.blocks_changed(obj, old_blocks=lesson_blocks(before[1]))

    def blocks_changed(self, lesson: Lesson, *, old_blocks: dict[str, str]) -> None:
        """`lesson`'s blocks are no longer `old_blocks` (anchor → text): nothing here."""

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        """As Lesson.delete does, one by one: their courses' other lessons show them."""
        courses = list(queryset.values_list("course", flat=True).distinct())
        super().delete_queryset(request, queryset)
        Course.objects.filter(pk__in=courses).update(updated_at=timezone.now())

    @admin.action(
        description=_("Re-render the body from Markdown"),
        permissions=["change"],
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )
    def rerender(self, request: HttpRequest, queryset: QuerySet) -> None:
        lessons = list(queryset)
        for lesson in lessons:
            old_blocks = lesson.body_blocks
            with transaction.atomic():
                lesson.save(update_fields=["body_html", "body_blocks", "updated_at"])
                if lesson.body_blocks != old_blocks:
                    self.blocks_changed(lesson, old_blocks=lesson_blocks(old_blocks))
        self.message_user(
            request,
            _("Re-rendered %(count)d lessons.") % {"count": len(lessons)},
            messages.SUCCESS,
        )
