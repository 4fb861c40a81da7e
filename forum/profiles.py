"""A member's profile as they write it on the settings page: their display name and bio."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from forum import identity
from forum.caching import stamps
from forum.models import Member

DISPLAY_NAME_MAX_LENGTH = 50
BIO_MAX_LENGTH = 280  # Member.bio's length

# Bidi embeddings, overrides and isolates: in a name they would turn the text after it around
# (marks, joiners and the other format characters stay: emoji sequences need them).
BIDI_CONTROLS = frozenset({*range(0x202A, 0x202F), *range(0x2066, 0x206A)})


def _has_controls(text: str, *, allowed: str = "") -> bool:
    return any(
        char not in allowed
        and (unicodedata.category(char) in {"Cc", "Cs", "Zl", "Zp"} or ord(char) in BIDI_CONTROLS)
        for char in text
    )


def display_name_refusal(*, member: Member, display_name: str) -> str | None:
    """Why `display_name` (trimmed; "" for the user name) may not be the member's new display
    name, or None. The name they already have is always theirs to keep."""
    if not display_name or display_name == member.display_name:
        return None
    if len(display_name) > DISPLAY_NAME_MAX_LENGTH:
        return _("A display name holds at most %(limit)d characters.") % {
            "limit": DISPLAY_NAME_MAX_LENGTH
        }
    if _has_controls(display_name):
        return _("A name cannot hold control characters or line breaks.")
    return identity.name_refusal(display_name, member=member)


@transaction.atomic
def profile_save(*, member: Member, display_name: str, bio: str) -> Member:
    """Save the member's display name ("" shows their user name) and bio (plain text, shown
    escaped). A name refused by forum.identity's rule, or either text too long or holding
    control characters, raises ValidationError keyed by the field, and nothing changes. A new
    name moves the page stamps of the lessons they wrote on."""
    display_name = display_name.strip()
    bio = bio.replace("\r\n", "\n").replace("\r", "\n").strip()
    errors = {}
    if refusal := display_name_refusal(member=member, display_name=display_name):
        errors["display_name"] = [ValidationError(refusal, code="display_name")]
    if len(bio) > BIO_MAX_LENGTH:
        message = _("A bio holds at most %(limit)d characters.") % {"limit": BIO_MAX_LENGTH}
        errors["bio"] = [ValidationError(message, code="bio")]
    elif _has_controls(bio, allowed="\n\t"):
        errors["bio"] = [ValidationError(_("A bio cannot hold control characters."), code="bio")]
    if errors:
        raise ValidationError(errors)
    new_name = display_name or (member.user.get_username() if member.user_id else "")
    renamed = new_name != member.display_name
    member.display_name = new_name
    member.bio = bio
    member.save(update_fields=["display_name", "bio"])
    if renamed:
        stamps.pages_changed(member_ids=[member.pk])
    return member
