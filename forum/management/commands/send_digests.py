"""Mail the daily digests, and enqueue again the notification emails whose task was lost.

Members may choose to get a kind of notification as one email a day instead of one each: those
rows wait with `email="digest"` until this command gathers each member's rows made before the
start of today (Asia/Shanghai) into one email. Run it every hour, by cron or a systemd timer
(docs/scaling.md): the first run after midnight mails the digests, the others find none due
(and retry a digest SMTP refused); running it again, or twice at once, mails nothing twice.

Instant emails are sent by the task worker. Its queue can lose a task (a worker killed while
sending, a queue emptied by hand); the rows still say what is to be sent, and this command
enqueues those again, so a lost task delays an email by an hour or so, never loses it.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from forum.notifications.digest import send_digests
from forum.notifications.tasks import sweep_lost_emails


class Command(BaseCommand):
    help = "Mail each member's daily digest and re-enqueue lost notification emails."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be mailed; change nothing."
        )

    def handle(self, *args, dry_run: bool, **options) -> None:
        run = send_digests(dry_run=dry_run)
        lost = sweep_lost_emails(dry_run=dry_run)
        would = "would be " if dry_run else ""
        self.stdout.write(
            f"Digests {would}sent: {len(run.sent)} "
            f"({sum(count for _member, count in run.sent)} notifications); "
            f"no longer to send: {run.dropped}; lost emails {would}enqueued again: {lost}."
        )
        if run.failed:
            raise CommandError(
                f"{len(run.failed)} digests not sent (SMTP); they are sent on the next run."
            )
