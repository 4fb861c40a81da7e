"""Readers report a comment to the moderators."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from forum import moderation, services
from forum.models import Report
from forum.ratelimit import rate_limited
from forum.views.common import comment_or_404, member_required
from forum.views.discussion import thread_page


@require_http_methods(["GET", "POST"])
@member_required
@rate_limited("report")
def comment_report(request: HttpRequest, comment_id: int) -> HttpResponse:
    """GET: the report form (a fragment for htmx); POST: file the report."""
    comment = comment_or_404(request, comment_id)
    form = {"reasons": Report.Reason.choices}
    if request.method == "POST":
        reporter = services.member_for(request.user)
        form |= {"reason": request.POST.get("reason", ""), "text": request.POST.get("text", "")}
        try:
            moderation.report_create(
                reporter=reporter, comment=comment, reason=form["reason"], text=form["text"]
            )
        except ValidationError as error:
            form["errors"] = error.messages
        else:
            thanks = _("Thank you. A moderator will look at this comment.")
            if request.htmx:
                return render(
                    request, "forum/includes/comment.html#report-done", {"message": thanks}
                )
            messages.success(request, thanks)
            return redirect(f"{reverse('forum:comment', args=[comment.pk])}#comment-{comment.pk}")
    if request.htmx:
        return render(
            request, "forum/includes/comment.html#report-form", {"comment": comment, "form": form}
        )
    status = 400 if form.get("errors") else 200
    return thread_page(request, comment, open_form="report", form=form, status=status)
