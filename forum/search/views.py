"""The search page, /search/?q=…: the whole page, or for htmx the part it replaces."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_safe

from forum.ratelimit import client_ip, limit_hit, too_many_requests
from forum.search import KINDS, ORDERS, PER_PAGE, search
from forum.views.common import page_number
from lessons.models import Course, Lesson

TEMPLATE = "forum/search.html"


def _lesson(value: str) -> Lesson | None:
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return (
        Lesson.objects.select_related("course")
        .only("title", "slug", "course__slug", "course__title")
        .filter(pk=int(value))
        .first()
    )


@require_safe
def search_page(request: HttpRequest) -> HttpResponse:
    """Anything typed is text to look for, never syntax; a query that holds nothing to look
    for gets a message. Three queries for a visitor: the courses of the filter, the page of
    ids from the full-text index, their documents (one more with a lesson to search within).
    htmx requests get the results (from the page's own form) or the page's content (from the
    header's box, typed into on any page)."""
    query = request.GET.get("q", "")
    kind = request.GET.get("kind", "")
    kind = kind if kind in KINDS else ""
    order = request.GET.get("order", "")
    order = order if order in ORDERS else ORDERS[0]
    page = page_number(request)
    lesson = _lesson(request.GET.get("lesson", ""))
    courses = list(Course.objects.order_by("title").only("slug", "title"))
    course = None
    if lesson is None:
        course = next((c for c in courses if c.slug == request.GET.get("course")), None)
    results = None
    if query.strip():
        user_id = request.user.pk if request.user.is_authenticated else None
        wait = limit_hit("search", user_id=user_id, ip=client_ip(request))
        if wait is not None:
            return too_many_requests(request, wait)
        results = search(query, kind=kind, course=course, lesson=lesson, order=order, page=page)
    context = {
        "q": query,
        "kind": kind,
        "order": order,
        "course": course,
        "courses": courses,
        "lesson": lesson,
        "results": results,
        "first_number": (page - 1) * PER_PAGE + 1,
    }
    template = TEMPLATE
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results" if request.htmx.target == "search-results" else "#main"
    return TemplateResponse(request, template, context)
