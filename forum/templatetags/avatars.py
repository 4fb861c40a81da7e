"""The avatar part of the settings page, with what it needs from the member and settings."""

from __future__ import annotations

from django import template
from django.conf import settings

from forum import services

register = template.Library()


@register.inclusion_tag("forum/includes/settings_avatar.html", takes_context=True)
def avatar_settings(context: template.Context) -> dict:
    """The member's current avatar (or letter), the upload form with its errors if it was just
    refused, and the remove button when there is an avatar to remove."""
    return {
        "member": services.member_for(context["request"].user),
        "avatar_form": context.get("avatar_form"),
        "avatar_max_mb": f"{settings.FORUM_IMAGE_MAX_BYTES / (1024 * 1024):g}",
        "csrf_token": context.get("csrf_token"),
    }
