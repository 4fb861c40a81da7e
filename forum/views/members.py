"""A member's page, where `@username` in a comment leads: who they are and what they wrote."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.views.decorators.http import require_safe

from forum.models import Comment, Member
from forum.views.common import page_number

PER_PAGE = 20


@require_safe
def member_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The member's name, when they joined and their visible comments, newest first, a page at
    a time: two queries (the member with its account, one more comment than shown)."""
    member = get_object_or_404(
        Member.objects.with_profile().select_related("user"),
        slug=slug,
    )
    account = member.user
    page = page_number(request)
    start = (page - 1) * PER_PAGE
    comments = list(
        Comment.objects.counted()
        .filter(member=member)
        .select_related("lesson")
        .defer("body_html", "lesson__body_markdown", "lesson__body_html")
        .order_by("-created_at", "-pk")[start : start + PER_PAGE + 1]
    )
    if page > 1 and not comments:
        raise Http404("no such page")
    context = {
        "account": account,
        "profile": member,
        "comments": comments[:PER_PAGE],
        "page": page,
        "has_next": len(comments) > PER_PAGE,
    }
    return TemplateResponse(request, "forum/member.html", context)
