"""One click to stop (RFC 8058): the signed token an email's unsubscribe link carries, and the
write it allows. The token names a member and a kind of notification (or the daily digest) and
is all the proof it needs: mail clients post it with no session, so it is short, signed with a
salt of its own, and good for nothing else."""

from __future__ import annotations

import base64
import hmac

from django.db import transaction
from django.utils.crypto import salted_hmac

from forum.models import Member, Notification
from forum.notifications.preferences import Delivery, delivery

DIGEST = "digest"  # the token of a digest stops every kind it gathers
SALT = "forum.notifications.unsubscribe"


def _signature(value: str) -> str:
    # 128 bits of HMAC-SHA256 are plenty against guessing and keep the header short.
    digest = salted_hmac(SALT, value, algorithm="sha256").digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def unsubscribe_token(member: Member, kind: str) -> str:
    """`<member id>.<kind>.<signature>`, e.g. `42.reply.Zm9v…` (35 characters or so)."""
    value = f"{member.pk}.{kind}"
    return f"{value}.{_signature(value)}"


def unsubscribe_target(token: str) -> tuple[int, str] | None:
    """The member id and kind a token names, or None when it is not one this site signed."""
    value, _, signature = token.rpartition(".")
    member_id, _, kind = value.partition(".")
    if not (member_id.isdigit() and (kind in Notification.Kind.values or kind == DIGEST)):
        return None
    if not hmac.compare_digest(signature.encode(), _signature(value).encode()):
        return None
    return int(member_id), kind


@transaction.atomic
def unsubscribe(*, member: Member, kind: str) -> list[str]:
    """Turn `kind` off for `member` (for DIGEST: every kind that comes in the digest); the
    kinds turned off. Emails already waiting for them are not sent (the sender asks again)."""
    current = Member.objects.select_for_update().get(pk=member.pk)
    if kind == DIGEST:
        kinds = [k for k in Notification.Kind.values if delivery(current, k) == Delivery.DIGEST]
    else:
        kinds = [kind]
    current.notification_settings = {
        **(current.notification_settings or {}),
        **dict.fromkeys(kinds, Delivery.OFF.value),
    }
    current.save(update_fields=["notification_settings"])
    member.notification_settings = current.notification_settings
    return kinds
