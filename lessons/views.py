from __future__ import annotations

from django.db.models import Count, F, Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from lessons.models import Course


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    courses = Course.objects.annotate(
        lesson_total=Count("lessons"),
        comment_total=Sum("lessons__comment_count"),
        active_at=Max("lessons__activity_at"),
    ).order_by(F("active_at").desc(nulls_last=True), "title")
    return render(request, "lessons/home.html", {"courses": courses})


@require_safe
def course_detail(request: HttpRequest, course_slug: str) -> HttpResponse:
    course = get_object_or_404(Course, slug=course_slug)
    lessons = course.lessons.in_reading_order().only(
        "course_id",
        "number",
        "slug",
        "title",
        "comment_count",
        "activity_at",
        "created_at",
        "is_preview",
    )
    return render(request, "lessons/course_detail.html", {"course": course, "lessons": lessons})
