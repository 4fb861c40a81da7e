"""A member's page, where `@username` in a comment leads: who they are and what they wrote."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.views.decorators.http import require_safe

from forum.models import Comment
from forum.views.common import page_number

PER_PAGE = 20


@require_safe
def member_page(request: HttpRequest, username: str) -> HttpResponse:
    """The account's name, when it joined and its visible comments, newest first, a page at a
    time: two queries (the account with its member, one more comment than shown)."""
    account = get_object_or_404(
        get_user_model().objects.select_related("member"), username=username, is_active=True
    )
    page = page_number(request)
    member = getattr(account, "member", None)
    comments = []
    if member is not None:
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
