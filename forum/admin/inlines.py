"""Read-only inlines: what happened to a comment or a member, never edited here."""

from __future__ import annotations

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from forum.models import CommentLike, CommentRevision, ModerationAction, Report


class LatestFormSet(BaseInlineFormSet):
    """The newest `shown` rows alone, in one query: a comment can have 100 k likes (its page
    took 7.8 s with 10 k and was killed with 100 k), a member thousands of recorded actions.
    The rest are on the model's change list, filtered to this object (`all_url`)."""

    shown = 20

    def get_queryset(self):
        if not hasattr(self, "_queryset"):
            rows = list(super().get_queryset()[: self.shown + 1])
            self.more = len(rows) > self.shown  # one more row than shown: older ones exist
            self._queryset = rows[: self.shown]
        return self._queryset

    @property
    def has_more(self) -> bool:
        self.get_queryset()
        return self.more

    @property
    def all_url(self) -> str:
        opts = self.model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        return f"{url}?{urlencode({f'{self.fk.name}__id__exact': self.instance.pk})}"


class ReadOnlyInline(admin.TabularInline):
    """Newest first, the latest `LatestFormSet.shown` only, with a link to all of them."""

    formset = LatestFormSet
    template = "admin/forum/latest_tabular.html"
    ordering = ["-created_at", "-pk"]
    extra = 0
    can_delete = False
    select: tuple[str, ...] = ()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.select_related(*self.select) if self.select else queryset

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RevisionInline(ReadOnlyInline):
    model = CommentRevision
    fields = ["written_at", "replaced_at", "body"]
    ordering = ["-replaced_at", "-pk"]
    verbose_name_plural = _("edit history")


class LikeInline(ReadOnlyInline):
    model = CommentLike
    fields = ["member", "created_at"]
    select = ("member",)
    verbose_name_plural = _("liked by")


def moderator_name(user) -> str:
    # Plain names: moderators may not open the user admin a link would lead to.
    return user.get_username() if user else _("the forum, automatically")


def acted_by(log: ModerationAction) -> str:
    """Who took an action, from the name recorded with it: still there once the account is gone."""
    if log.actor_name:
        return log.actor_name
    if log.kind == ModerationAction.Kind.AUTO_HIDE:
        return _("the forum, automatically")
    # An action whose account was deleted before names were recorded with the action.
    return _("unknown")


class ReportInline(ReadOnlyInline):
    model = Report
    fields = [
        "created_at",
        "reporter",
        "reason",
        "text",
        "weight",
        "status",
        "resolver",
        "resolved_at",
        "resolution_note",
    ]
    select = ("reporter", "resolved_by")

    @admin.display(description=_("resolved by"))
    def resolver(self, report: Report) -> str | None:
        return report.resolved_by and moderator_name(report.resolved_by)


class ActionInline(ReadOnlyInline):
    model = ModerationAction
    fields = ["created_at", "moderator", "kind", "reason", "status_before", "status_after"]

    @admin.display(description=_("moderator"))
    def moderator(self, log: ModerationAction) -> str:
        return acted_by(log)
