"""What is being discussed, for pages outside the discussion (the home page is lessons'; lessons
never imports forum, so its template asks for the discussion here)."""

from __future__ import annotations

from django import template
from django.db.models import QuerySet

from forum.models import Comment, Report
from forum.selectors import course_teachers, teacher_slug
from lessons.models import Course

register = template.Library()


@register.simple_tag
def latest_comments(limit: int = 6) -> list[Comment]:
    """The newest comments everyone can see, across all courses, in one query."""
    return list(
        Comment.objects.counted()
        .select_related("member", "lesson__course")
        .defer(
            "lesson__body_markdown",
            "lesson__body_html",
            "lesson__body_blocks",
            "lesson__course__description",
        )
        .order_by("-created_at", "-pk")[:limit]
    )


@register.simple_tag
def moderation_queue() -> dict[str, int]:
    """What waits for a moderator, for the admin's index: open reports, comments in review."""
    return {
        "open_reports": Report.objects.filter(status=Report.Status.OPEN).count(),
        "pending_comments": Comment.objects.filter(status=Comment.Status.PENDING).count(),
    }


@register.simple_tag
def with_teacher_slugs(courses: QuerySet[Course]) -> QuerySet[Course]:
    """`courses`, each with the profile address its teacher line links to (`teacher_slug`), in
    their own query."""
    return courses.annotate(teacher_slug=teacher_slug("pk"))


@register.simple_tag
def course_teacher_slug(course: Course) -> str | None:
    """The profile address `course`'s teacher line links to, if its teacher has one."""
    return course_teachers(course).values_list("slug", flat=True).first()
