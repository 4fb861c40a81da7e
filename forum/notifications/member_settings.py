"""A member's own settings: the language of their pages and emails, and how each kind of
notification reaches them (the settings page writes them here, in one transaction)."""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from forum.models import Member
from forum.notifications.preferences import DEFAULTS, Delivery, Kind


@transaction.atomic
def member_settings_save(*, member: Member, language: str, deliveries: Mapping[str, str]) -> Member:
    """Save the member's language ("" for the site's) and their deliveries (kind → delivery;
    a kind left out keeps its default). Only choices that differ from a kind's default are
    stored, so a default changed later reaches everyone who never chose."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Choose a language from the list."), code="language")
    unknown = set(deliveries) - set(Kind.values)
    if unknown or any(how not in Delivery.values for how in deliveries.values()):
        raise ValidationError(_("Choose how each notification reaches you."), code="delivery")
    member.language = language
    member.notification_settings = {
        kind: how for kind, how in deliveries.items() if how != DEFAULTS[kind]
    }
    member.save(update_fields=["language", "notification_settings"])
    return member
