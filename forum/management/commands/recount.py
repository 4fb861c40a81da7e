"""Recompute every denormalized counter from its rows and report what drifted.

Counters (likes, replies, a lesson's comments and likes) move with F() in the same transaction
as their rows, so drift means a bug, a manual database edit or an interrupted bulk operation.
`--check` only reports and exits non-zero when anything drifted.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from forum.likes import counters_recount


class Command(BaseCommand):
    help = "Recount likes, replies and comment counts from the rows; --check only reports."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Report drift and exit non-zero; change nothing."
        )

    def handle(self, *args, check: bool, **options) -> None:
        drifts = counters_recount(fix=not check)
        for drift in drifts:
            self.stdout.write(
                f"{drift.what} #{drift.pk}: stored {drift.stored}, rows say {drift.actual}"
            )
        if not drifts:
            self.stdout.write("No drift: every counter matches its rows.")
            return
        if check:
            raise CommandError(f"{len(drifts)} counters drifted (run recount to fix them)")
        self.stdout.write(self.style.SUCCESS(f"Fixed {len(drifts)} counters."))
