"""The daily digest: one email per member with the notifications they chose to get that way,
made before the start of today (the site's time zone). Each row is claimed with a conditional
UPDATE before it is mailed, so two runs, even at once, never mail one twice."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from forum.models import Notification
from forum.notifications import mail
from forum.notifications.tasks import SEND_ERRORS

logger = logging.getLogger(__name__)
Email = Notification.Email


@dataclass
class DigestRun:
    sent: list[tuple[int, int]] = field(default_factory=list)  # (member id, notifications)
    failed: list[int] = field(default_factory=list)  # member ids, their rows kept for next time
    dropped: int = 0  # rows no longer to be mailed


def start_of_today(now: datetime) -> datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def due(now: datetime):
    return Notification.objects.filter(email=Email.DIGEST, created_at__lt=start_of_today(now))


def _claim(ids: list[int], now: datetime) -> list[int]:
    # One UPDATE per row, so that this run knows exactly which rows are its own.
    return [
        pk
        for pk in ids
        if Notification.objects.filter(pk=pk, email=Email.DIGEST).update(
            email=Email.SENDING, email_claimed_at=now
        )
    ]


def send_digests(*, now: datetime | None = None, dry_run: bool = False) -> DigestRun:
    """Mail every member their digest; with `dry_run`, only say whose it would be."""
    now = now or timezone.now()
    day = (start_of_today(now) - timedelta(days=1)).date()
    run = DigestRun()
    waiting = due(now).order_by("recipient", "created_at", "pk").values_list("recipient", "pk")
    by_member: dict[int, list[int]] = {}
    for member_id, pk in waiting:
        by_member.setdefault(member_id, []).append(pk)
    for member_id, ids in by_member.items():
        if dry_run:
            run.sent.append((member_id, len(ids)))
            continue
        claimed = _claim(ids, now)
        rows = list(
            Notification.objects.filter(pk__in=claimed)
            .select_related("recipient__user", "actor", "comment__lesson")
            .order_by("created_at", "pk")
        )
        keep = [n for n in rows if not mail.not_to_send(n)]
        address = mail.recipient_address(rows[0].recipient) if keep else None
        if address is None:
            keep = []
        dropped = [n.pk for n in rows if n not in keep]
        Notification.objects.filter(pk__in=dropped).update(email=Email.NONE)
        run.dropped += len(dropped)
        if not keep:
            continue
        kept = [n.pk for n in keep]
        try:
            mail.digest_email(keep[0].recipient, keep, to=address, day=day).send(using="default")
        except SEND_ERRORS as error:
            Notification.objects.filter(pk__in=kept).update(email=Email.DIGEST)
            logger.warning("Digest of member %s not sent: %r", member_id, error)
            run.failed.append(member_id)
            continue
        Notification.objects.filter(pk__in=kept).update(email=Email.SENT, emailed_at=timezone.now())
        run.sent.append((member_id, len(kept)))
    return run
