"""Claims of imported identities: the moderators' queue, open claims first, oldest first.

Approving links the claimant's account to the identity (forum.linking); refusing tells the
claimant the reason. Both go through the reason page and are recorded in the audit trail.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Case, Count, F, IntegerField, QuerySet, Value, When
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from forum import claims
from forum.admin.reasons import EVERYWHERE, confirmed
from forum.admin.view_only import ViewOnlyAdmin
from forum.models import MemberClaim

OPEN = MemberClaim.Status.OPEN


def comments_url(member_id: int) -> str:
    return reverse("admin:forum_comment_changelist") + f"?member__id__exact={member_id}"


@admin.register(MemberClaim)
class MemberClaimAdmin(ViewOnlyAdmin):
    list_display = ["identity", "claimant_link", "short_reason", "status", "age", "decided_by"]
    list_filter = ["status"]
    search_fields = ["member__display_name", "claimant__display_name", "reason"]
    list_select_related = ["member", "claimant", "decided_by"]
    fields = [
        "identity",
        "claimant_link",
        "reason",
        "status",
        "created_at",
        "decided_by",
        "decided_at",
        "decision_note",
    ]
    readonly_fields = fields
    actions = ["approve", "refuse"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(identity_comments=Count("member__comments"))

    def get_ordering(self, request: HttpRequest) -> list:
        # The queue: open claims, oldest first; then the decided ones, latest first.
        return [
            Case(When(status=OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()),
            Case(When(status=OPEN, then="created_at")).asc(),
            F("decided_at").desc(nulls_last=True),
            "-pk",
        ]

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("forum.view_memberclaim")

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("forum.change_memberclaim")

    @admin.display(description=_("imported identity"), ordering="member__display_name")
    def identity(self, claim: MemberClaim) -> SafeString:
        count = getattr(claim, "identity_comments", None)
        if count is None:
            count = claim.member.comments.count()
        return format_html(
            '<a href="{}">{}</a> (<a href="{}">{}</a>)',
            claim.member.get_absolute_url(),
            claim.member,
            comments_url(claim.member_id),
            _("%(count)d comments") % {"count": count},
        )

    @admin.display(description=_("claimed by"), ordering="claimant__display_name")
    def claimant_link(self, claim: MemberClaim) -> SafeString:
        url = reverse("admin:forum_member_change", args=[claim.claimant_id])
        return format_html(
            '<a href="{}">{}</a> (<a href="{}">{}</a>)',
            url,
            claim.claimant,
            claim.claimant.get_absolute_url(),
            _("profile"),
        )

    @admin.display(description=_("reason"))
    def short_reason(self, claim: MemberClaim) -> str:
        return claim.reason if len(claim.reason) <= 120 else claim.reason[:119] + "…"

    @admin.display(description=_("waiting for"), ordering="created_at")
    def age(self, claim: MemberClaim) -> str:
        return timesince(claim.created_at)

    def _decide(self, request: HttpRequest, queryset: QuerySet, *, approve: bool):
        title = _("Approve the claim") if approve else _("Refuse the claim")
        action = "approve" if approve else "refuse"
        form = confirmed(
            self, request, queryset, action=action, title=title, reason_required=not approve
        )
        if isinstance(form, TemplateResponse):
            return form
        done = 0
        for claim in queryset.filter(status=OPEN).order_by("created_at", "pk"):
            try:
                if approve:
                    claims.claim_approve(
                        moderator=request.user, claim=claim, note=form.cleaned_data["reason"]
                    )
                else:
                    claims.claim_refuse(
                        moderator=request.user, claim=claim, note=form.cleaned_data["reason"]
                    )
            except ValidationError as error:
                self.message_user(request, f"{claim}: {' '.join(error.messages)}", messages.ERROR)
            else:
                done += 1
        self.message_user(
            request,
            _("%(action)s: done for %(count)d claims.") % {"action": title, "count": done},
            messages.SUCCESS if done else messages.WARNING,
        )
        return None

    @admin.action(description=_("Approve the claim"), permissions=["decide"], location=EVERYWHERE)
    def approve(self, request: HttpRequest, queryset: QuerySet):
        return self._decide(request, queryset, approve=True)

    @admin.action(description=_("Refuse the claim"), permissions=["decide"], location=EVERYWHERE)
    def refuse(self, request: HttpRequest, queryset: QuerySet):
        return self._decide(request, queryset, approve=False)
