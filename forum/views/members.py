"""A member's profile, where their name on a comment leads: who they are and what they wrote."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.views.decorators.http import require_safe

from forum import claims, selectors
from forum.models import Member
from forum.views.common import page_number, viewer_member

PER_PAGE = 20
TEMPLATE = "forum/member.html"


def _member(slug: str) -> Member:
    """The member at `slug` with their account; an active account that has no member yet (it
    never took part) shows as an empty profile of its own, unsaved."""
    member = Member.objects.select_related("user").profiles().filter(slug=slug).first()
    if member is not None:
        return member
    account = get_object_or_404(get_user_model(), username=slug, is_active=True)
    return Member(user=account, display_name=account.get_username(), slug=slug)


@require_safe
def member_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The profile and a page of the member's visible comments, newest first; an htmx request
    for a later page gets its comments to append and the pager that follows them. Four queries
    for a visitor, however many comments there are: the member with the account, their counts,
    the courses they teach, the page of comments; a signed-in member on an imported profile
    adds one, the state of their claim."""
    member = _member(slug)
    page = page_number(request)
    comments, has_next = [], False
    if member.pk is not None:
        comments, has_next = selectors.profile_comments(member, page=page, per_page=PER_PAGE)
    if page > 1 and not comments:
        raise Http404("no such page")
    context = {"profile": member, "account": member.user, "comments": comments, "page": page}
    context["has_next"] = has_next
    if request.htmx and page > 1:
        return TemplateResponse(request, TEMPLATE + "#more", context)
    if member.pk is not None:
        context["counts"] = selectors.profile_counts(member)
        context["courses"] = list(member.courses_taught.order_by("title"))
        context["claim_state"] = claims.claim_state(viewer_member(request), member)
    return TemplateResponse(request, TEMPLATE, context)
