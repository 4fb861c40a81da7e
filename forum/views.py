from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from forum.selectors import thread_for
from lessons.models import Lesson


def _page_number(request: HttpRequest) -> int:
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        raise Http404("no such page") from None
    if page < 1:
        raise Http404("no such page")
    return page


@require_safe
def lesson_page(request: HttpRequest, course_slug: str, lesson_slug: str) -> HttpResponse:
    lesson = get_object_or_404(
        Lesson.objects.select_related("course"), course__slug=course_slug, slug=lesson_slug
    )
    siblings = list(
        Lesson.objects.filter(course=lesson.course).in_reading_order().values_list("slug", "title")
    )
    index = [slug for slug, _ in siblings].index(lesson.slug)
    previous_lesson = siblings[index - 1] if index > 0 else None
    next_lesson = siblings[index + 1] if index + 1 < len(siblings) else None
    threads = thread_for(lesson, page=_page_number(request))
    return render(
        request,
        "forum/lesson.html",
        {
            "lesson": lesson,
            "previous_lesson": previous_lesson,
            "next_lesson": next_lesson,
            "threads": threads,
        },
    )
