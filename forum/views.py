from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from lessons.models import Lesson


@require_safe
def lesson_page(request: HttpRequest, course_slug: str, lesson_slug: str) -> HttpResponse:
    lesson = get_object_or_404(
        Lesson.objects.select_related("course"), course__slug=course_slug, slug=lesson_slug
    )
    siblings = Lesson.objects.filter(course=lesson.course).in_reading_order()
    previous_lesson = siblings.filter(position__lt=lesson.position).last()
    next_lesson = siblings.filter(position__gt=lesson.position).first()
    return render(
        request,
        "forum/lesson.html",
        {"lesson": lesson, "previous_lesson": previous_lesson, "next_lesson": next_lesson},
    )
