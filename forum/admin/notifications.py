"""Notifications, for moderators: what each member was told, and whether its email went out."""

from __future__ import annotations

from django.contrib import admin

from forum.admin.view_only import ViewOnlyAdmin
from forum.models import Notification


@admin.register(Notification)
class NotificationAdmin(ViewOnlyAdmin):
    list_display = ["recipient", "kind", "actor", "comment", "created_at", "read_at", "email"]
    list_filter = ["kind", "email"]
    search_fields = ["recipient__display_name"]
    list_select_related = ["recipient", "actor", "comment"]
    date_hierarchy = "created_at"
    actions = None
