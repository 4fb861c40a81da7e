"""Members: standing, suspensions and bans, hiding everything a member wrote, account links."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from forum import linking, moderation
from forum.admin.inlines import ActionInline
from forum.admin.reasons import EVERYWHERE, ReasonForm, confirmed, reason_page
from forum.models import Member


class StandingFilter(admin.SimpleListFilter):
    title = _("standing")
    parameter_name = "standing"

    def lookups(self, request, model_admin):
        return [("active", _("Active")), ("suspended", _("Suspended")), ("banned", _("Banned"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "banned":
            return queryset.filter(is_banned=True)
        if self.value() == "suspended":
            return queryset.filter(is_banned=False, suspended_until__gt=now)
        if self.value() == "active":
            return queryset.filter(is_banned=False).exclude(suspended_until__gt=now)
        return queryset


class YesNoFilter(admin.SimpleListFilter):
    """A yes/no filter on one condition, written as a Q object in `condition`."""

    condition: Q

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(self.condition)
        if self.value() == "no":
            return queryset.exclude(self.condition)
        return queryset


class HasAccountFilter(YesNoFilter):
    title = _("has an account")
    parameter_name = "has_account"
    condition = Q(user__isnull=False)


class TeachesFilter(YesNoFilter):
    title = _("teaches")
    parameter_name = "teaches"
    # Exists, not a join: a join would repeat a member per course and inflate comment counts.
    condition = Q(Exists(Member.courses_taught.through.objects.filter(member=OuterRef("pk"))))


class LinkAccountForm(ReasonForm):
    username = forms.CharField(label=_("Username of the site account"), max_length=150)

    field_order = ["username", "reason"]

    def clean_username(self):
        User = get_user_model()
        try:
            return User._default_manager.get_by_natural_key(self.cleaned_data["username"])
        except User.DoesNotExist:
            raise ValidationError(_("There is no account with this username.")) from None


def as_text(value: object) -> str:
    """A form value as the audit trail writes it: courses as their titles, in order."""
    if value is None:
        return ""
    if isinstance(value, QuerySet | list):
        return ", ".join(sorted(str(item) for item in value))
    return str(value)


def suspension(days: int, description: str) -> Callable:
    def action(modeladmin: MemberAdmin, request: HttpRequest, queryset: QuerySet):
        return modeladmin.suspend(request, queryset, days=days, action=name, title=description)

    name = action.__name__ = f"suspend_{days}d"
    return admin.action(
        action, description=description, permissions=["change"], location=EVERYWHERE
    )


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "standing", "comments", "created_at"]
    list_filter = [StandingFilter, HasAccountFilter, TeachesFilter]
    search_fields = ["display_name", "user__username"]
    list_select_related = ["user"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "display_name",
                    "slug",
                    "bio",
                    "avatar",
                    "avatar_url",
                    "user",
                    "comments",
                    "created_at",
                ]
            },
        ),
        (_("Teaching"), {"fields": ["courses_taught"]}),
        (
            _("Standing"),
            {"fields": ["standing", "suspended_until", "is_banned", "suspension_reason"]},
        ),
        (_("Import"), {"classes": ["collapse"], "fields": ["import_key"]}),
    ]
    # Suspensions and the account link change only through the recorded actions.
    # The avatar changes only through the member's settings (checked and re-encoded there).
    readonly_fields = [
        "slug",
        "avatar",
        "user",
        "comments",
        "created_at",
        "standing",
        "suspended_until",
        "is_banned",
        "suspension_reason",
        "import_key",
    ]
    filter_horizontal = ["courses_taught"]
    inlines = [ActionInline]
    actions = [
        suspension(1, _("Suspend for 1 day")),
        suspension(7, _("Suspend for 7 days")),
        suspension(30, _("Suspend for 30 days")),
        "ban",
        "unsuspend",
        "hide_all",
        "remove_avatar",
        "link_account",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(comment_count=Count("comments"))

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        """Saving an edited member (name, avatar, courses taught) is recorded in the audit
        trail too: here, once the courses are saved, within the admin's transaction."""
        super().save_related(request, form, formsets, change)
        if change:
            changes = {
                field: (as_text(form.initial.get(field)), as_text(form.cleaned_data[field]))
                for field in form.changed_data
            }
            moderation.member_edit_record(
                moderator=request.user, member=form.instance, changes=changes
            )

    def has_moderate_permission(self, request) -> bool:
        return request.user.has_perm("forum.moderate_comment")

    @admin.display(description=_("standing"))
    def standing(self, member: Member) -> str:
        if member.is_banned:
            return _("Banned")
        if member.is_suspended:
            until = date_format(timezone.localtime(member.suspended_until), "SHORT_DATETIME_FORMAT")
            return _("Suspended until %(until)s") % {"until": until}
        return _("Active")

    @admin.display(description=_("comments"), ordering="comment_count")
    def comments(self, member: Member) -> SafeString:
        url = reverse("admin:forum_comment_changelist") + f"?member__id__exact={member.pk}"
        return format_html('<a href="{}">{}</a>', url, member.comment_count)

    def suspend(
        self, request: HttpRequest, queryset: QuerySet, *, days: int | None, action: str, title: str
    ):
        """Suspend for `days`, or ban when `days` is None; the member sees the reason."""
        form = confirmed(self, request, queryset, action=action, title=title, reason_required=True)
        if isinstance(form, TemplateResponse):
            return form
        until = None if days is None else timezone.now() + timedelta(days=days)
        members = list(queryset)
        for member in members:
            moderation.member_suspend(
                moderator=request.user,
                member=member,
                until=until,
                reason=form.cleaned_data["reason"],
            )
        self.message_user(
            request,
            _("%(action)s: done for %(count)d members.") % {"action": title, "count": len(members)},
            messages.SUCCESS,
        )
        return None

    @admin.action(description=_("Ban"), permissions=["change"], location=EVERYWHERE)
    def ban(self, request: HttpRequest, queryset: QuerySet):
        return self.suspend(request, queryset, days=None, action="ban", title=_("Ban"))

    @admin.action(
        description=_("Lift the suspension or ban"), permissions=["change"], location=EVERYWHERE
    )
    def unsuspend(self, request: HttpRequest, queryset: QuerySet):
        title = _("Lift the suspension or ban")
        form = confirmed(self, request, queryset, action="unsuspend", title=title)
        if isinstance(form, TemplateResponse):
            return form
        members = list(queryset)
        for member in members:
            moderation.member_unsuspend(
                moderator=request.user, member=member, reason=form.cleaned_data["reason"]
            )
        self.message_user(
            request,
            _("%(action)s: done for %(count)d members.") % {"action": title, "count": len(members)},
            messages.SUCCESS,
        )
        return None

    @admin.action(
        description=_("Hide all of this member's content"),
        permissions=["moderate"],
        location=EVERYWHERE,
    )
    def hide_all(self, request: HttpRequest, queryset: QuerySet):
        return self.each_member(
            request,
            queryset,
            action="hide_all",
            title=_("Hide all of this member's content"),
            act=moderation.member_hide_all,
            done=_("Hid %(count)d comments."),
        )

    @admin.action(
        description=_("Remove the uploaded avatar"), permissions=["moderate"], location=EVERYWHERE
    )
    def remove_avatar(self, request: HttpRequest, queryset: QuerySet):
        return self.each_member(
            request,
            queryset,
            action="remove_avatar",
            title=_("Remove the uploaded avatar"),
            act=moderation.member_avatar_remove,
            done=_("Removed %(count)d avatars."),
            reason_required=True,
        )

    def each_member(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        *,
        action: str,
        title: str,
        act: Callable[..., int],
        done: str,
        reason_required: bool = False,
    ) -> TemplateResponse | None:
        """Ask for the reason, then `act` on each chosen member; `act` answers how many things
        it changed, and `done` says their total."""
        form = confirmed(
            self, request, queryset, action=action, title=title, reason_required=reason_required
        )
        if isinstance(form, TemplateResponse):
            return form
        reason, moderator = form.cleaned_data["reason"], request.user
        count = sum(act(moderator=moderator, member=member, reason=reason) for member in queryset)
        self.message_user(request, done % {"count": count}, messages.SUCCESS)
        return None

    @admin.action(
        description=_("Link to a site account"), permissions=["change"], location=EVERYWHERE
    )
    def link_account(self, request: HttpRequest, queryset: QuerySet):
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one member to link."), messages.ERROR)
            return None
        title = _("Link to a site account")
        form = confirmed(
            self,
            request,
            queryset,
            action="link_account",
            title=title,
            form_class=LinkAccountForm,
        )
        if isinstance(form, TemplateResponse):
            return form
        member, user = queryset.get(), form.cleaned_data["username"]
        try:
            linking.member_link_account(
                moderator=request.user, member=member, user=user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form.add_error(None, error)
            return reason_page(
                self, request, queryset, action="link_account", title=title, form=form
            )
        self.message_user(
            request,
            _("%(member)s is now linked to the account %(username)s.")
            % {"member": member, "username": user.get_username()},
            messages.SUCCESS,
        )
        return None
