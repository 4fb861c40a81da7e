"""One-click unsubscribe from a notification email (RFC 8058)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from forum.models import Member, Notification
from forum.notifications.unsubscribe import DIGEST, unsubscribe, unsubscribe_target


# The signed token in the URL is the proof, and mail clients post it with no session or
# CSRF cookie (RFC 8058); the token allows this one write and nothing else.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def email_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page with a button (mail scanners fetch links: a GET changes nothing); POST with
    `List-Unsubscribe=One-Click`, from that button or a mail client: turn the kind off."""
    target = unsubscribe_target(token)
    if target is None:
        return HttpResponseBadRequest(_("This unsubscribe link is not valid."))
    member_id, kind = target
    member = Member.objects.filter(pk=member_id, user__isnull=False).first()
    if member is None:
        raise Http404
    what = _("the daily digest") if kind == DIGEST else Notification.Kind(kind).label
    context = {"what": what, "done": False}
    if request.method == "POST":
        if request.POST.get("List-Unsubscribe") != "One-Click":
            return HttpResponseBadRequest(_("This unsubscribe request is not valid."))
        unsubscribe(member=member, kind=kind)
        context["done"] = True
    return render(request, "forum/unsubscribe.html", context)
