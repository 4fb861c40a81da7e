"""The audit trail of moderation actions, and the courses' pre-moderation policies."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from forum.admin.comments import comment_change_url
from forum.admin.inlines import moderator_name
from forum.admin.view_only import ViewOnlyAdmin
from forum.models import CourseModeration, ModerationAction


@admin.register(ModerationAction)
class ModerationActionAdmin(ViewOnlyAdmin):
    """The audit trail: visible to moderators, changeable by nobody, superusers included."""

    list_display = [
        "created_at",
        "moderator",
        "kind",
        "target_link",
        "reason",
        "status_before",
        "status_after",
    ]
    list_filter = ["kind", ("actor", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["target", "reason", "actor__username"]
    list_select_related = ["actor"]
    actions = None

    @admin.display(description=_("moderator"), ordering="actor__username")
    def moderator(self, log: ModerationAction) -> str:
        return moderator_name(log.actor)

    @admin.display(description=_("target"), ordering="target")
    def target_link(self, log: ModerationAction) -> str:
        if log.comment_id:
            return format_html(
                '<a href="{}">{}</a>', comment_change_url(log.comment_id), log.target
            )
        if log.member_id:
            url = reverse("admin:forum_member_change", args=[log.member_id])
            return format_html('<a href="{}">{}</a>', url, log.target)
        return log.target


@admin.register(CourseModeration)
class CourseModerationAdmin(admin.ModelAdmin):
    """A course's pre-moderation policy: a site setting, so superusers only."""

    list_display = ["course", "premoderation"]
    list_filter = ["premoderation"]

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser
