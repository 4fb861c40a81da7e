"""The audit trail of moderation actions, and the courses' pre-moderation policies."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from forum.admin.comments import comment_change_url
from forum.admin.inlines import acted_by
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
        "member_link",
        "reason",
        "status_before",
        "status_after",
    ]
    list_filter = ["kind", ("actor", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["target", "reason", "actor_name", "member_name"]
    actions = None

    @admin.display(description=_("moderator"), ordering="actor_name")
    def moderator(self, log: ModerationAction) -> str:
        return acted_by(log)

    @admin.display(description=_("target"), ordering="target")
    def target_link(self, log: ModerationAction) -> str:
        # The target's text was written with the action; the link only while the comment exists.
        if log.comment_id:
            return format_html(
                '<a href="{}">{}</a>', comment_change_url(log.comment_id), log.target
            )
        return log.target

    @admin.display(description=_("member"), ordering="member_name")
    def member_link(self, log: ModerationAction) -> str:
        name = log.member_name or (f"#{log.member_id}" if log.member_id else "")
        if log.member_id:
            url = reverse("admin:forum_member_change", args=[log.member_id])
            return format_html('<a href="{}">{}</a>', url, name)
        return name


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
