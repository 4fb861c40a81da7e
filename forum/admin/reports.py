"""Reports, one by one and as the 待处理举报 queue of reported comments.

Both lists resolve reports with the same actions: agree and hide or remove the comment,
or disagree and close the reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from forum import moderation
from forum.admin.comments import (
    OPEN,
    CourseFilter,
    IdLookupsChecked,
    Kind,
    comment_change_url,
    has_open_reports,
    open_report_count,
    shorten,
)
from forum.admin.inlines import moderator_name
from forum.admin.reasons import EVERYWHERE, confirmed
from forum.admin.view_only import ViewOnlyAdmin
from forum.models import Comment, Report
from forum.models.moderation import ReportedComment


def reporter_record_counts() -> dict[str, Count]:
    """How many of a report's reporter's reports were upheld and dismissed."""
    made = "reporter__reports_made"
    return {
        "reporter_upheld": Count(made, filter=Q(**{f"{made}__status": Report.Status.UPHELD})),
        "reporter_dismissed": Count(made, filter=Q(**{f"{made}__status": Report.Status.DISMISSED})),
    }


def record_text(report: Report) -> str:
    return _("%(upheld)d upheld, %(dismissed)d dismissed before") % {
        "upheld": report.reporter_upheld,
        "dismissed": report.reporter_dismissed,
    }


def weight_text(weight: float | None) -> str:
    """A report's weight as moderators read it: 1, 1.25, 0."""
    return f"{weight or 0:g}"


def resolution(name: str, description: str, *, upheld: bool, outcome: str = "") -> Callable:
    def action(modeladmin: ResolvesReports, request: HttpRequest, queryset: QuerySet):
        form = confirmed(
            modeladmin, request, queryset, action=name, title=description, reason_required=True
        )
        if isinstance(form, TemplateResponse):
            return form
        comments = list(modeladmin.reported_comments(queryset))
        with transaction.atomic():
            closed = sum(
                moderation.reports_resolve(
                    moderator=request.user,
                    comment=comment,
                    upheld=upheld,
                    outcome=outcome,
                    reason=form.cleaned_data["reason"],
                )
                for comment in comments
            )
        modeladmin.message_user(
            request,
            _("Closed %(reports)d reports on %(comments)d comments.")
            % {"reports": closed, "comments": len(comments)},
            messages.SUCCESS,
        )
        return None

    action.__name__ = name
    return admin.action(
        action, description=description, permissions=["resolve"], location=EVERYWHERE
    )


class ResolvesReports(ViewOnlyAdmin):
    """Resolving reports takes the report permission; nothing is added, edited or deleted."""

    actions = [
        resolution("uphold_hide", _("Agree → hide the comment"), upheld=True, outcome=Kind.HIDE),
        resolution(
            "uphold_remove", _("Agree → remove the comment"), upheld=True, outcome=Kind.REMOVE
        ),
        resolution("dismiss", _("Disagree → keep the comment, close the reports"), upheld=False),
    ]

    def reported_comments(self, queryset: QuerySet) -> Iterable[Comment]:
        raise NotImplementedError

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("forum.view_report")

    def has_resolve_permission(self, request) -> bool:
        return request.user.has_perm("forum.change_report")


@admin.register(ReportedComment)
class ReportedCommentAdmin(IdLookupsChecked, ResolvesReports):
    list_display = [
        "excerpt",
        "open_weight",
        "open_reports",
        "reports",
        "member",
        "status",
        "created_at",
    ]
    list_display_links = None
    list_filter = [CourseFilter, "status"]
    search_fields = ["body", "member__display_name"]
    list_select_related = ["lesson", "member"]

    class Media:
        css = {"all": ["css/admin.css"]}

    def get_queryset(self, request):
        reports = (
            Report.objects.filter(status=OPEN)
            .select_related("reporter")
            .annotate(**reporter_record_counts())
            .order_by("created_at")
        )
        # Not super(): it orders before the count to order by exists.
        return (
            self.model._default_manager.filter(has_open_reports())
            .annotate(
                open_report_count=open_report_count(),
                open_report_weight=Sum("reports__weight", filter=Q(reports__status=OPEN)),
            )
            .prefetch_related(Prefetch("reports", queryset=reports, to_attr="open_reports"))
            .order_by(*self.get_ordering(request))
        )

    def get_ordering(self, request):
        # What weighs most first: a pile of reports from new accounts hides nothing and
        # comes after a comment that established members reported.
        return ["-open_report_weight", "-open_report_count", "-created_at"]

    def reported_comments(self, queryset: QuerySet) -> Iterable[Comment]:
        return queryset

    @admin.display(description=_("comment"))
    def excerpt(self, comment: Comment) -> SafeString:
        return format_html(
            '<a href="{}">{}</a><br><span class="quiet">{}</span>',
            comment_change_url(comment.pk),
            shorten(comment.body),
            comment.lesson,
        )

    @admin.display(description=_("open reports"), ordering="-open_report_count")
    def open_reports(self, comment: Comment) -> int:
        return comment.open_report_count

    @admin.display(description=_("weight of open reports"), ordering="-open_report_weight")
    def open_weight(self, comment: Comment) -> str:
        return weight_text(comment.open_report_weight)

    @admin.display(description=_("reports"))
    def reports(self, comment: Comment) -> SafeString:
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><strong>{}</strong> {} ({}; {}) {}</li>",
                (
                    (
                        r.get_reason_display(),
                        r.reporter,
                        _("weight %(weight)s") % {"weight": weight_text(r.weight)},
                        record_text(r),
                        shorten(r.text, 120),
                    )
                    for r in comment.open_reports
                ),
            ),
        )


@admin.register(Report)
class ReportAdmin(ResolvesReports):
    list_display = [
        "created_at",
        "comment_link",
        "reason",
        "details",
        "reporter",
        "weight",
        "reporter_record",
        "status",
        "resolver",
        "resolution_note",
    ]
    list_filter = ["status", "reason", "created_at"]
    search_fields = ["text", "reporter__display_name", "comment__body"]
    list_select_related = ["comment", "reporter", "resolved_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(**reporter_record_counts())

    def reported_comments(self, queryset: QuerySet) -> Iterable[Comment]:
        return Comment.objects.filter(
            pk__in={report.comment_id for report in queryset if report.status == OPEN}
        )

    @admin.display(description=_("comment"), ordering="comment")
    def comment_link(self, report: Report) -> SafeString:
        return format_html(
            '<a href="{}">{}</a>',
            comment_change_url(report.comment_id),
            shorten(report.comment.body),
        )

    @admin.display(description=_("details"), ordering="text")
    def details(self, report: Report) -> str:
        return shorten(report.text)

    @admin.display(description=_("reporter's earlier reports"), ordering="-reporter_upheld")
    def reporter_record(self, report: Report) -> str:
        return record_text(report)

    @admin.display(description=_("resolved by"), ordering="resolved_by__username")
    def resolver(self, report: Report) -> str | None:
        return report.resolved_by and moderator_name(report.resolved_by)
