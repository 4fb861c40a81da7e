"""Leaving: download your data, delete your account (both from the settings page)."""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from forum.leaving.deletion import account_delete, account_delete_refusal
from forum.leaving.export import export_filename, member_export
from forum.ratelimit import rate_limited
from forum.views.common import member_required


@require_http_methods(["GET", "POST"])
@member_required
@rate_limited("export")
def data_export(request: HttpRequest) -> HttpResponse:
    """GET: what the download holds, and its button; POST: the download, a JSON attachment
    (a POST, so that it is counted against the export's rate limit and needs the CSRF token)."""
    if request.method == "GET":
        return render(request, "forum/settings_export.html")
    response = JsonResponse(
        member_export(user=request.user), json_dumps_params={"ensure_ascii": False, "indent": 2}
    )
    response["Content-Disposition"] = content_disposition_header(
        True, export_filename(request.user)
    )
    response["Cache-Control"] = "no-store"
    return response


class AccountDeleteForm(forms.Form):
    comments = forms.ChoiceField(
        label=_("Your comments"),
        choices=[
            ("keep", _("Keep them, shown as written by “Deleted member”")),
            ("delete", _("Delete them (replies to them stay, under a placeholder)")),
        ],
        widget=forms.RadioSelect,
    )
    confirm = forms.BooleanField(label=_("I understand that this cannot be undone."))


@require_http_methods(["GET", "POST"])
@member_required
@reauthentication_required
def account_delete_page(request: HttpRequest) -> HttpResponse:
    """The confirmation page, shown only after the password was given again recently
    (allauth's "confirm access" page, ACCOUNT_REAUTHENTICATION_TIMEOUT); its POST deletes the
    account, logs out and goes home."""
    refusal = account_delete_refusal(request.user)
    form = AccountDeleteForm(request.POST if request.method == "POST" else None)
    if request.method == "GET" or refusal or not form.is_valid():
        status = 200 if request.method == "GET" else 403 if refusal else 400
        context = {"form": form, "refusal": refusal}
        return render(request, "forum/settings_delete.html", context, status=status)
    try:
        account_delete(user=request.user, keep_comments=form.cleaned_data["comments"] == "keep")
    except PermissionDenied as error:  # a role given meanwhile
        context = {"form": form, "refusal": str(error)}
        return render(request, "forum/settings_delete.html", context, status=403)
    logout(request)
    messages.success(request, _("Your account was deleted. Goodbye, and thank you."))
    return redirect("lessons:home")
