"""Notification emails, sent by the task worker (Django's Tasks API), never in a request.

The notification's row is the outbox (`Notification.email`). A task claims its row with one
conditional UPDATE (pending → sending), talks to SMTP outside any transaction, then marks the
row sent; so a task run twice, or two at once, sends once. SMTP refusing or not answering puts
the row back to pending and enqueues a task for a later try, which the row's attempt count ties
to it: a stray older task finds nothing to claim. What a lost task would leave behind (a row
pending with no task, a worker that died while sending) `sweep_lost_emails` finds and enqueues
again; `manage.py send_digests` runs it. A worker that died after SMTP took the message but
before the row said so sends it again once: the same Message-ID says it is the same message.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.tasks import task
from django.utils import timezone

from forum.models import Notification
from forum.notifications import mail

logger = logging.getLogger(__name__)
Email = Notification.Email

MAX_ATTEMPTS = 15
# A claim older than this is a worker that died: SMTP's timeout is 10 s.
CLAIM_EXPIRES = timedelta(minutes=10)
# A row pending this long past when its task was due has lost its task.
LOST_AFTER = timedelta(minutes=15)
# What a send that may work later raises: SMTP errors, refused or dropped connections, timeouts.
SEND_ERRORS = (smtplib.SMTPException, OSError)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try: base, 2 × base, 4 × base… up to the max."""
    seconds = settings.FORUM_EMAIL_RETRY_BASE * 2 ** min(max(attempts - 1, 0), 20)
    return timedelta(seconds=min(seconds, settings.FORUM_EMAIL_RETRY_MAX))


def _permanent(error: Exception) -> bool:
    """The server refused the address or the message for good (a 5xx answer)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _message in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def _claim(notification_id: int, attempt: int, now: datetime) -> bool:
    waiting = Q(email=Email.PENDING, email_attempts=attempt)
    abandoned = Q(email=Email.SENDING, email_claimed_at__lt=now - CLAIM_EXPIRES)
    return bool(
        Notification.objects.filter(waiting | abandoned, pk=notification_id).update(
            email=Email.SENDING, email_claimed_at=now, email_attempts=F("email_attempts") + 1
        )
    )


def _settle(notification_id: int, email: str, **fields) -> None:
    Notification.objects.filter(pk=notification_id).update(email=email, **fields)


@task()
def send_notification_email(notification_id: int, attempt: int = 0) -> str:
    """Send one notification's email if it is still to be sent; what became of it."""
    if not _claim(notification_id, attempt, timezone.now()):
        return "not claimed"  # sent, being sent, deleted, or a newer try owns it
    notification = (
        Notification.objects.select_related("recipient__user", "actor", "comment__lesson")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None:
        return "deleted"
    why_not = mail.not_to_send(notification)
    address = None if why_not else mail.recipient_address(notification.recipient)
    if address is None:
        _settle(notification_id, Email.NONE)
        return why_not or "no verified address"
    message = mail.notification_email(notification, to=address)
    try:
        message.send(using="default")
    except SEND_ERRORS as error:
        return _failed(notification, error)
    _settle(notification_id, Email.SENT, emailed_at=timezone.now())
    return "sent"


def _failed(notification: Notification, error: Exception) -> str:
    attempts = notification.email_attempts
    if attempts >= MAX_ATTEMPTS or _permanent(error):
        _settle(notification.pk, Email.FAILED)
        logger.error(
            "Notification email %s failed after %d tries: %r", notification.pk, attempts, error
        )
        return "failed"
    delay = retry_delay(attempts)
    _settle(notification.pk, Email.PENDING)
    enqueue_email(notification.pk, attempt=attempts, run_after=timezone.now() + delay)
    logger.warning(
        "Notification email %s not sent (try %d), again in %s: %r",
        notification.pk,
        attempts,
        delay,
        error,
    )
    return "retry"


def enqueue_email(
    notification_id: int, *, attempt: int = 0, run_after: datetime | None = None
) -> None:
    """Queue the email's task (`attempt`: the tries it follows)."""
    queued = (
        send_notification_email.using(run_after=run_after) if run_after else send_notification_email
    )
    queued.enqueue(notification_id, attempt)


def sweep_lost_emails(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Enqueue again the instant emails whose task was lost: pending well past when their task
    was due, or claimed by a worker that died. How many."""
    now = now or timezone.now()
    cutoff = now - LOST_AFTER
    candidates = Notification.objects.filter(
        Q(email=Email.PENDING, email_claimed_at__isnull=True, created_at__lt=cutoff)
        | Q(email=Email.PENDING, email_claimed_at__lt=cutoff)
        | Q(email=Email.SENDING, email_claimed_at__lt=now - CLAIM_EXPIRES)
    ).values_list("pk", "email", "email_attempts", "email_claimed_at")
    lost = [
        (pk, attempts)
        for pk, email, attempts, claimed_at in candidates.order_by("pk")
        # A retry is due at its claim + its delay: only past that (and LOST_AFTER) is it lost.
        if email == Email.SENDING
        or claimed_at is None
        or claimed_at + retry_delay(attempts) < cutoff
    ]
    if not dry_run:
        for pk, attempts in lost:
            enqueue_email(pk, attempt=attempts)
    return len(lost)
