"""Suspend or ban a member from the command line.

For operators who need to act without the admin — a spam wave at night, a scripted clean-up.
The action is recorded like any other, under the operating-system user who ran the command
("root (command line)"), or under a moderator's site account given with --by.

NAME is a member's display name, a linked account's username, or `#ID`. Imported display names
are not unique, so a name that fits several members is refused with the candidates listed.
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from forum.management.members import by_argument_add, command_actor, local_time, member_find
from forum.moderation import member_state, member_suspend

MAX_DAYS = 3650


def days_type(value: str) -> int:
    days = int(value)
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"give 1 to {MAX_DAYS} days, or --ban")
    return days


class Command(BaseCommand):
    help = "Suspend a member for N days, or ban them, with a reason; the action is recorded."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", metavar="NAME", help="Display name, account name or #ID.")
        length = parser.add_mutually_exclusive_group(required=True)
        length.add_argument("--days", type=days_type, help="Suspend for this many days.")
        length.add_argument("--ban", action="store_true", help="Ban until lifted.")
        parser.add_argument(
            "--reason", required=True, help="Why; the member is shown it while suspended."
        )
        by_argument_add(parser)

    def handle(
        self, *args, name: str, days: int | None, ban: bool, reason: str, by: str | None, **options
    ):
        reason = reason.strip()
        if not reason:
            raise CommandError("--reason must say why")
        moderator, actor_name = command_actor(by)
        member = member_find(name)
        was = member_state(member)
        until = None if ban else timezone.now() + timedelta(days=days)
        member_suspend(
            moderator=moderator, member=member, until=until, reason=reason, actor_name=actor_name
        )
        if ban:
            done = f"Banned {member.display_name} (#{member.pk})"
        else:
            zone = timezone.get_current_timezone_name()
            done = (
                f"Suspended {member.display_name} (#{member.pk}) until {local_time(until)} {zone}"
            )
        self.stdout.write(f"{done}; was {was}. Reason: {reason}")
