"""The teacher's workspace, /teach/: the queue of comments waiting for an answer, answering in
place, "不需要回复", the charts, and their CSV."""

from __future__ import annotations

import csv
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import reswap, retarget

from forum import services
from forum.models import Comment, Member
from forum.ratelimit import rate_limited
from forum.teaching import charts
from forum.teaching import services as teaching
from forum.teaching.questions import asks_question
from forum.teaching.selectors import (
    QUEUE_SORTS,
    Queue,
    QueueFilter,
    Workspace,
    dismissed_for,
    lesson_counts,
    queue_for,
    waiting,
    workspace_for,
)
from forum.views.common import member_required, page_number, page_on_this_site


def _workspace(request: HttpRequest) -> Workspace:
    return workspace_for(request.user, services.member_for(request.user))


def _filter(params: QueryDict, workspace: Workspace, *, page: int = 1) -> QueueFilter:
    """The queue's filter from a query string; what is not one of the choices is ignored."""
    slug = params.get("course", "")
    course = next((c for c in workspace.courses if c.slug == slug), None)
    lesson = params.get("lesson", "")
    sort = params.get("sort", "old")
    return QueueFilter(
        course=course,
        lesson_id=int(lesson) if lesson.isdigit() and len(lesson) < 12 else None,
        questions=params.get("questions") == "1",
        sort=sort if sort in QUEUE_SORTS else "old",
        page=page,
    )


def _counts_context(request: HttpRequest, workspace: Workspace) -> dict:
    """After an htmx answer or mark: the total and the counts per lesson of the queue page the
    form was on (its `next`), for the fragment to update out of band. One query."""
    page = page_on_this_site(request, request.POST.get("next", ""))
    choice = _filter(QueryDict(urlsplit(page).query), workspace)
    counts = lesson_counts(choice.apply(waiting(workspace), lesson=False))
    return {"choice": choice, "queue": Queue([], False, counts)}


def _query(choice: QueueFilter, **changes) -> str:
    """The query string of the queue under `choice`, with `changes`; defaults left out."""
    values = {
        "course": choice.course.slug if choice.course else "",
        "lesson": choice.lesson_id or "",
        "questions": "1" if choice.questions else "",
        "sort": "" if choice.sort == "old" else choice.sort,
        "page": "" if choice.page == 1 else choice.page,
        **changes,
    }
    if values["page"] == 1:
        values["page"] = ""
    query = urlencode([(k, v) for k, v in values.items() if v not in ("", None)])
    return f"?{query}" if query else ""


@require_safe
@member_required
def teach_queue(request: HttpRequest) -> HttpResponse:
    """The comments waiting for a teacher's answer, oldest first; or those marked "不需要回复"."""
    workspace = _workspace(request)
    choice = _filter(request.GET, workspace, page=page_number(request))
    show_dismissed = request.GET.get("show") == "dismissed"
    here = reverse("forum:teach") + _query(choice)
    context = {
        "workspace": workspace,
        "choice": choice,
        "here": here,
        "show_dismissed": show_dismissed,
        "sorts": [("old", _("Oldest first")), ("new", _("Newest first"))],
        "csv_url": reverse("forum:teach-queue-csv") + _query(choice, page=""),
    }
    if show_dismissed:
        context["dismissed"] = dismissed_for(workspace, choice)
        return TemplateResponse(request, "forum/teach/queue.html", context)
    queue = queue_for(workspace, choice)
    if choice.page > 1 and not queue.comments:
        raise Http404("no such page")
    for comment in queue.comments:
        comment.can_answer = workspace.teaches(comment.lesson.course_id)
        comment.asks = asks_question(comment.body)
    context.update(
        queue=queue,
        next_url=reverse("forum:teach") + _query(choice, page=choice.page + 1),
        previous_url=reverse("forum:teach") + _query(choice, page=choice.page - 1),
    )
    return TemplateResponse(request, "forum/teach/queue.html", context)


def _queued(request: HttpRequest, workspace: Workspace, comment_id: int) -> Comment:
    """A visible comment of the workspace's courses (404 for any other)."""
    comments = Comment.objects.counted().select_related(
        "member", "lesson__course", "parent__member"
    )
    comments = comments.defer("lesson__body_markdown", "lesson__body_html", "lesson__body_blocks")
    comment = get_object_or_404(comments, pk=comment_id)
    if not any(course.pk == comment.lesson.course_id for course in workspace.courses):
        raise Http404("no such comment")
    return comment


def _back(request: HttpRequest, comment: Comment | None = None) -> HttpResponse:
    """Post/Redirect/Get to the queue page the form was on."""
    page = page_on_this_site(request, request.POST.get("next", "")) or reverse("forum:teach")
    return redirect(page + (f"#queue-item-{comment.pk}" if comment else ""))


@require_http_methods(["GET", "POST"])
@member_required
@rate_limited("reply")
def comment_answer(request: HttpRequest, comment_id: int) -> HttpResponse:
    """GET: the answer form under the comment (htmx), or on its own page; POST: post the
    answer, as a reply on the lesson page is posted, which makes it the 作者回复."""
    workspace = _workspace(request)
    comment = _queued(request, workspace, comment_id)
    member = services.member_for(request.user)
    teaching.answer_check(request.user, member, comment)
    here = page_on_this_site(request, request.POST.get("next") or request.GET.get("next", ""))
    context = {"comment": comment, "form": {}, "here": here or reverse("forum:teach")}
    template = "forum/teach/queue.html"
    if request.method == "GET":
        if request.htmx:
            return render(request, f"{template}#answer-form", context)
        return render(request, "forum/teach/answer.html", context)
    return _answer_post(request, workspace, comment, member, context)


def _answer_post(
    request: HttpRequest, workspace: Workspace, comment: Comment, member: Member, context: dict
) -> HttpResponse:
    body = request.POST.get("body", "")
    try:
        answer = services.comment_post(
            author=member,
            lesson=comment.lesson,
            parent=comment,
            body=body,
            submission=request.POST.get("submission", ""),
        )
    except ValidationError as error:
        context["form"] = {"body": body, "errors": error.messages}
        if request.htmx:
            response = render(request, "forum/teach/queue.html#answer-form", context)
            return reswap(retarget(response, f"#answer-slot-{comment.pk}"), "innerHTML")
        return render(request, "forum/teach/answer.html", context, status=400)
    if request.htmx:
        context.update(answer=answer, **_counts_context(request, workspace))
        return render(request, "forum/teach/queue.html#answered", context)
    return _back(request)


@require_POST
@member_required
def comment_dismiss(request: HttpRequest, comment_id: int, action: str) -> HttpResponse:
    """ "不需要回复" (`dismiss`) and its undo (`undismiss`)."""
    workspace = _workspace(request)
    comment = _queued(request, workspace, comment_id)
    member = services.member_for(request.user)
    try:
        if action == "dismiss":
            teaching.dismissal_add(user=request.user, member=member, comment=comment)
        else:
            teaching.dismissal_remove(user=request.user, member=member, comment=comment)
    except ValidationError as error:
        return HttpResponse(" ".join(error.messages), status=400)
    if request.htmx:
        context = {
            "comment": comment,
            "here": page_on_this_site(request, request.POST.get("next", "")),
            "workspace": workspace,
            **_counts_context(request, workspace),
        }
        if action == "dismiss":
            return render(request, "forum/teach/queue.html#dismissed-item", context)
        comment.can_answer = workspace.teaches(comment.lesson.course_id)
        comment.asks = asks_question(comment.body)
        return render(request, "forum/teach/queue.html#restored-item", context)
    return _back(request, comment if action == "undismiss" else None)


def _glance_course(request: HttpRequest, workspace: Workspace):
    slug = request.GET.get("course", "")
    course = next((c for c in workspace.courses if c.slug == slug), None)
    if course is None and slug:
        raise Http404("no such course")
    return course


@require_safe
@member_required
def teach_glance(request: HttpRequest) -> HttpResponse:
    """How the discussion of a course (or every course of the workspace) is doing: charts, each
    with its table."""
    workspace = _workspace(request)
    course = _glance_course(request, workspace)
    figures = charts.course_figures(workspace, course, today=timezone.localdate())
    context = {
        "workspace": workspace,
        "course": course,
        "figures": figures,
        "csv_url": reverse("forum:teach-weekly-csv")
        + (f"?{urlencode({'course': course.slug})}" if course else ""),
    }
    if workspace.is_moderator:
        context["moderation"] = charts.moderation_figures(
            workspace, course, today=timezone.localdate()
        )
    return TemplateResponse(request, "forum/teach/glance.html", context)


def _csv(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # Excel reads UTF-8 only with its byte order mark
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return response


def _cell(value) -> object:
    """A spreadsheet runs a cell starting with = + - @ as a formula: people wrote these."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@require_safe
@member_required
def queue_csv(request: HttpRequest) -> HttpResponse:
    """The whole queue under the page's filter, oldest first (at most 10,000 rows)."""
    workspace = _workspace(request)
    choice = _filter(request.GET, workspace)
    comments = (
        choice.apply(waiting(workspace))
        .select_related("member", "lesson__course")
        .only(
            "pk",
            "body",
            "created_at",
            "parent_id",
            "member__display_name",
            "member__left_at",
            "lesson__title",
            "lesson__slug",
            "lesson__course__title",
            "lesson__course__slug",
        )
        .order_by(*QUEUE_SORTS[choice.sort])[:10_000]
    )
    site = request.build_absolute_uri("/")[:-1]
    rows = (
        (
            c.pk,
            c.lesson.course.title,
            c.lesson.title,
            c.member.shown_name,
            timezone.localtime(c.created_at).isoformat(),
            "reply" if c.parent_id else "comment",
            "yes" if asks_question(c.body) else "no",
            c.body,
            site + c.get_absolute_url(),
        )
        for c in comments
    )
    header = ["id", "course", "lesson", "author", "created_at", "kind", "question", "body", "url"]
    return _csv("queue.csv", header, rows)


@require_safe
@member_required
def weekly_csv(request: HttpRequest) -> HttpResponse:
    """The weekly figures of the charts page."""
    workspace = _workspace(request)
    course = _glance_course(request, workspace)
    figures = charts.course_figures(workspace, course, today=timezone.localdate())
    header = [
        "week",
        "comments",
        "top_level",
        "answered_by_teacher",
        "answered_share_percent",
        "median_hours_to_first_answer",
    ]
    return _csv("weekly.csv", header, (week.csv_row() for week in figures.weeks))
