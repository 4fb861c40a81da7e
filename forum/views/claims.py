"""Claiming an imported identity from its profile (forum.claims)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from forum import claims, services
from forum.models import Member
from forum.ratelimit import rate_limited
from forum.views.common import member_required

FRAGMENTS = "forum/includes/claim.html"


@require_http_methods(["GET", "POST"])
@member_required
@rate_limited("claim")
def member_claim(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the claim form (a fragment for htmx, else a page of its own); POST: send the claim.
    Only an imported identity nobody holds can be claimed: any other profile is 404 here."""
    member = get_object_or_404(Member.objects.filter(user=None).exclude(import_key=""), slug=slug)
    claimant = services.member_for(request.user)
    form: dict = {}
    if request.method == "POST":
        form["reason"] = request.POST.get("reason", "")
        try:
            claims.claim_create(claimant=claimant, member=member, reason=form["reason"])
        except ValidationError as error:
            form["errors"] = error.messages
        else:
            done = _("Thank you. A moderator will look at your claim; you will be told here.")
            if request.htmx:
                return render(request, f"{FRAGMENTS}#claim-done", {"message": done})
            messages.success(request, done)
            return redirect(member.get_absolute_url())
    context = {
        "profile": member,
        "claim_state": claims.claim_state(claimant, member),
        "form": form,
    }
    if request.htmx:
        fragment = "claim-control" if context["claim_state"] == "open" else "claim-form"
        return render(request, f"{FRAGMENTS}#{fragment}", context)
    return render(request, "forum/claim.html", context, status=400 if form.get("errors") else 200)
