"""Likes on comments and lessons: separate, idempotent like and unlike requests."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from forum import likes, services
from forum.ratelimit import rate_limited
from forum.views.common import back_to, comment_or_404, member_required, page_number
from lessons.models import Lesson


@require_POST
@member_required
@rate_limited("like")
def comment_like(request: HttpRequest, comment_id: int, action: str) -> HttpResponse:
    """`action` is like or unlike: two idempotent requests, never a blind toggle."""
    comment = comment_or_404(request, comment_id, for_like=True)
    member = services.member_for(request.user)
    if action == "like":
        changed = likes.like_add(member=member, comment=comment)
    else:
        changed = likes.like_remove(member=member, comment=comment)
    if not request.htmx:
        lesson = Lesson.objects.select_related("course").only("slug", "course__slug")
        url = lesson.get(pk=comment.lesson_id).get_absolute_url()
        return back_to(request, url, f"comment-{comment.pk}")
    if not changed:  # liked or unliked already, maybe from another tab: show today's count
        comment.refresh_from_db(fields=["like_count"])
    comment.liked = action == "like"
    return render(
        request,
        "forum/includes/comment.html#like-button",
        {"comment": comment, "viewer": member},
    )


@require_POST
@member_required
@rate_limited("like")
def lesson_like(request: HttpRequest, lesson_id: int, action: str) -> HttpResponse:
    lesson = get_object_or_404(Lesson.objects.select_related("course"), pk=lesson_id)
    member = services.member_for(request.user)
    if action == "like":
        likes.lesson_like_add(member=member, lesson=lesson)
    else:
        likes.lesson_like_remove(member=member, lesson=lesson)
    if not request.htmx:
        return back_to(request, lesson.get_absolute_url(), "lesson-like")
    lesson.refresh_from_db(fields=["like_count"])
    lesson.liked = action == "like"
    return render(
        request, "forum/lesson.html#lesson-like-button", {"lesson": lesson, "viewer": member}
    )


# A popular comment has 100 k likes: the list comes a page at a time, newest first.
LIKERS_PER_PAGE = 50


@require_safe
@member_required
@vary_on_headers("HX-Request")
def comment_likers(request: HttpRequest, comment_id: int) -> HttpResponse:
    """Who liked a comment, for its author and moderators: a page of likes in one query (one
    more row than shown says whether a next page exists); htmx's "load more" gets the page's
    items alone."""
    comment = comment_or_404(request, comment_id)
    is_author = comment.member.user_id == request.user.pk
    if not (is_author or request.user.has_perm("forum.moderate_comment")):
        raise PermissionDenied
    page = page_number(request)
    start = (page - 1) * LIKERS_PER_PAGE
    newest_first = comment.likes.select_related("member").order_by("-created_at", "-pk")
    rows = list(newest_first[start : start + LIKERS_PER_PAGE + 1])
    if page > 1 and not rows:
        raise Http404("no such page")
    context = {
        "comment": comment,
        "likes": rows[:LIKERS_PER_PAGE],
        "next_page": page + 1 if len(rows) > LIKERS_PER_PAGE else None,
    }
    template = "forum/likers.html"
    if request.htmx:
        template += "#likers-page"
    return render(request, template, context)
