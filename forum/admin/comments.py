"""Comments: the read-only change pages and the status actions."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator, capfirst
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from forum import moderation
from forum.admin.inlines import ActionInline, LikeInline, ReportInline, RevisionInline
from forum.admin.reasons import EVERYWHERE, confirmed
from forum.admin.view_only import ViewOnlyAdmin
from forum.models import Comment, ModerationAction, Report
from lessons.models import Course

Kind = ModerationAction.Kind
OPEN = Report.Status.OPEN


def shorten(text: str, length: int = 60) -> str:
    return Truncator(" ".join(text.split())).chars(length)


def open_report_count() -> Count:
    return Count("reports", filter=Q(reports__status=OPEN))


def has_open_reports() -> Exists:
    return Exists(Report.objects.filter(comment=OuterRef("pk"), status=OPEN))


def comment_change_url(pk: int) -> str:
    return reverse("admin:forum_comment_change", args=[pk])


class CourseFilter(admin.SimpleListFilter):
    title = _("course")
    parameter_name = "course"

    def lookups(self, request, model_admin):
        return Course.objects.values_list("pk", "title")

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        pk = row_id(self.value())
        return queryset.none() if pk is None else queryset.filter(lesson__course_id=pk)


def row_id(value: str) -> int | None:
    """`value` as a row's id, or None when it can be none (not a number, or out of the 64-bit
    range SQLite refuses with an error rather than finding nothing)."""
    try:
        pk = int(value)
    except ValueError:
        return None
    return pk if 0 < pk < 2**63 else None


class IdLookupsChecked:
    """An admin whose changelist filters by ids from the query string (`?lesson=…`) refuses an id
    that can be no row's with a 400, instead of letting the database fail on it."""

    def lookup_allowed(self, lookup: str, value: str, request=None) -> bool:
        relations = {field.name for field in self.model._meta.get_fields() if field.is_relation}
        if lookup in relations and row_id(value) is None:
            return False
        return super().lookup_allowed(lookup, value, request)


class OpenReportsFilter(admin.SimpleListFilter):
    title = _("open reports")
    parameter_name = "open_reports"

    def lookups(self, request, model_admin):
        return [("yes", _("Has open reports")), ("no", _("No open reports"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(has_open_reports())
        if self.value() == "no":
            return queryset.filter(~has_open_reports())
        return queryset


def comment_action(kind: Kind) -> Callable:
    def action(modeladmin: CommentAdmin, request: HttpRequest, queryset: QuerySet):
        return modeladmin.moderate(request, queryset, kind)

    action.__name__ = kind.value
    return admin.action(
        action, description=capfirst(kind.label), permissions=["moderate"], location=EVERYWHERE
    )


@admin.register(Comment)
class CommentAdmin(ViewOnlyAdmin):
    """Status changes go through the actions, each recorded; the change page only shows."""

    list_display = [
        "excerpt",
        "lesson_title",
        "member",
        "status",
        "is_featured",
        "is_pinned",
        "like_count",
        "reply_count",
        "open_reports",
        "created",
    ]
    list_filter = [
        "status",
        CourseFilter,
        ("lesson", admin.RelatedOnlyFieldListFilter),
        "is_featured",
        "is_author_reply",
        OpenReportsFilter,
        "created_at",
    ]
    search_fields = ["body", "member__display_name"]
    list_select_related = ["lesson", "member"]
    actions = [
        comment_action(kind)
        for kind in (
            Kind.PUBLISH,
            Kind.HIDE,
            Kind.SPAM,
            Kind.FEATURE,
            Kind.UNFEATURE,
            Kind.PIN,
            Kind.UNPIN,
            Kind.REMOVE,
            Kind.RESTORE,
        )
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "body",
                    "block_quote",
                    "parent_and_replies",
                    "lesson_page",
                    "member",
                    "created_at",
                    "edited_at",
                ]
            },
        ),
        (
            _("Moderation"),
            {
                "fields": [
                    "status",
                    "deleted_at",
                    "is_featured",
                    "featured_at",
                    "is_pinned",
                    "pinned_at",
                    "is_author_reply",
                    "author_reply_label",
                ]
            },
        ),
        (
            _("Counts"),
            {
                "fields": [
                    "like_count",
                    "imported_like_count",
                    "reply_count",
                    "imported_reply_count",
                ]
            },
        ),
        (
            _("Source"),
            {
                "classes": ["collapse"],
                "fields": ["source_key", "source_position", "created_date_only", "depth"],
            },
        ),
    ]
    inlines = [ReportInline, ActionInline, RevisionInline, LikeInline]

    class Media:
        css = {"all": ["css/admin.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(open_report_count=open_report_count())

    def get_readonly_fields(self, request, obj=None):
        return flatten_fieldsets(self.fieldsets)

    def has_moderate_permission(self, request) -> bool:
        return request.user.has_perm("forum.moderate_comment")

    def view_on_site(self, comment: Comment) -> str:
        return reverse("forum:comment", args=[comment.pk])

    @admin.display(description=_("comment"), ordering="body")
    def excerpt(self, comment: Comment) -> str:
        return shorten(comment.body)

    @admin.display(description=_("open reports"), ordering="open_report_count")
    def open_reports(self, comment: Comment) -> int:
        return comment.open_report_count

    @admin.display(description=_("lesson"), ordering="lesson__title")
    def lesson_title(self, comment: Comment) -> str:
        return comment.lesson.title  # cut to the column's width by css/admin.css

    @admin.display(description=_("created at"), ordering="created_at")
    def created(self, comment: Comment) -> str:
        # Numbers take a third of the locale's 2026年12月7日 04:40 in a column of many rows.
        return date_format(localtime(comment.created_at), "Y-m-d H:i")

    @admin.display(description=_("lesson"))
    def lesson_page(self, comment: Comment) -> SafeString:
        url = f"{comment.lesson.get_absolute_url()}#comment-{comment.pk}"
        return format_html('<a href="{}">{}</a>', url, comment.lesson)

    @admin.display(description=_("parent and replies"))
    def parent_and_replies(self, comment: Comment) -> SafeString:
        """The comment it answers and the replies it got, each linked to its page here."""

        def items(comments: Iterable[Comment]) -> SafeString:
            return format_html_join(
                "",
                '<li><a href="{}">#{} {}</a> — {} ({})</li>',
                (
                    (
                        comment_change_url(c.pk),
                        c.pk,
                        shorten(c.body),
                        c.member,
                        c.get_status_display(),
                    )
                    for c in comments
                ),
            )

        with_member = Comment.objects.select_related("member")
        parent = with_member.filter(pk=comment.parent_id) if comment.parent_id else []
        # The first replies only (one more says whether there are others), as in the inlines.
        replies = list(with_member.filter(parent=comment).order_by("created_at", "pk")[:21])
        if len(replies) <= 20:
            return format_html(
                "<p>{}</p><ul>{}</ul><p>{}</p><ul>{}</ul>",
                _("In reply to:") if parent else _("A top-level comment."),
                items(parent),
                _("Replies: %(count)d") % {"count": len(replies)},
                items(replies),
            )
        all_replies = reverse("admin:forum_comment_changelist") + f"?parent__id__exact={comment.pk}"
        return format_html(
            '<p>{}</p><ul>{}</ul><p>{} <a href="{}" data-all-rows>{}</a></p><ul>{}</ul>',
            _("In reply to:") if parent else _("A top-level comment."),
            items(parent),
            _("The first 20 replies:"),
            all_replies,
            _("See all replies"),
            items(replies[:20]),
        )

    def moderate(self, request: HttpRequest, queryset: QuerySet, kind: Kind):
        title = capfirst(kind.label)
        form = confirmed(self, request, queryset, action=kind.value, title=title)
        if isinstance(form, TemplateResponse):
            return form
        done = moderation.comments_moderate(
            moderator=request.user,
            comments=queryset,
            action=kind,
            reason=form.cleaned_data["reason"],
        )
        self.message_user(
            request,
            _("%(action)s: done for %(count)d comments.") % {"action": title, "count": len(done)},
            messages.SUCCESS,
        )
        return None
