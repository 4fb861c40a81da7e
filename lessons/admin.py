"""Courses and lessons in the admin: their lists with comment counts and public pages.

A lesson's HTML is rendered from its Markdown whenever it is saved, so saving an edited
body re-renders it, and the "re-render" action saves lessons whose renderer has changed.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.db.models import Count, Model, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from lessons.models import Course, Lesson


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
            lesson.save(update_fields=["body_html", "body_blocks", "updated_at"])
        self.message_user(
            request,
            _("Re-rendered %(count)d lessons.") % {"count": len(lessons)},
            messages.SUCCESS,
        )
