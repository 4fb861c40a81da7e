"""How each kind of notification reaches a member: their choice, or the kind's default."""

from __future__ import annotations

from forum.models import Member, Notification

Kind = Notification.Kind
Delivery = Notification.Delivery

DEFAULTS = {
    Kind.REPLY: Delivery.EMAIL,
    Kind.AUTHOR_REPLY: Delivery.EMAIL,
    Kind.MENTION: Delivery.EMAIL,
    Kind.LIKE: Delivery.PAGE,
    Kind.FEATURED: Delivery.PAGE,
    Kind.MODERATION: Delivery.EMAIL,
    Kind.REPORT: Delivery.PAGE,
}


def delivery(member: Member, kind: str) -> str:
    """How `kind` reaches `member` (read from the member's row: no query)."""
    chosen = (member.notification_settings or {}).get(kind)
    return chosen if chosen in Delivery.values else DEFAULTS[kind]


def deliveries(member: Member) -> dict[str, str]:
    """Every kind's delivery for `member`, in the order the settings page lists them."""
    return {kind: delivery(member, kind) for kind in Kind.values}
