from __future__ import annotations

from django.db.models import Count, F, Max, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from lessons.models import Course, Lesson
from lessons.revisions import folded, revision_diff


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


def _lesson(lesson_id: int) -> Lesson:
    lessons = Lesson.objects.select_related("course").defer("body_markdown", "body_blocks")
    return get_object_or_404(lessons, pk=lesson_id)


def _number(request: HttpRequest, name: str, default: int, last: int) -> int:
    """A revision number from the query string: `default` when absent, Http404 if it is not
    one of the lesson's."""
    value = request.GET.get(name, "")
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= last:
        raise Http404("no such revision")
    return int(value)


@require_safe
def revision_list(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """修订记录: the lesson's revisions, and what changed between two of them (by default the
    one before the current and the current)."""
    lesson = _lesson(lesson_id)
    revisions = list(lesson.revisions.defer("body_markdown", "body_html").order_by("-number"))
    last = revisions[0].number if revisions else 0
    context = {"lesson": lesson, "revisions": revisions}
    if last >= 2:
        old = _number(request, "from", last - 1, last)
        new = _number(request, "to", last, last)
        by_number = {r.number: r for r in revisions}
        context.update(
            old=by_number[old],
            new=by_number[new],
            rows=folded(revision_diff(by_number[old].blocks, by_number[new].blocks)),
        )
    return render(request, "lessons/revisions.html", context)


@require_safe
def revision_detail(request: HttpRequest, lesson_id: int, number: int) -> HttpResponse:
    """One revision's text, as the lesson showed it then."""
    lesson = _lesson(lesson_id)
    revision = get_object_or_404(lesson.revisions.defer("body_markdown"), number=number)
    return render(request, "lessons/revision.html", {"lesson": lesson, "revision": revision})
