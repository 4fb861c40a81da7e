"""Lift a member's suspension or ban from the command line; the counterpart of suspend_member.

NAME follows suspend_member's rules (display name, account username or `#ID`), and so does who
the action is recorded under (the operating-system user, or --by). A member who is not
suspended is left alone and nothing is recorded.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from forum.management.members import by_argument_add, command_actor, member_find
from forum.moderation import member_state, member_unsuspend


class Command(BaseCommand):
    help = "Lift a member's suspension or ban; the action is recorded."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", metavar="NAME", help="Display name, account name or #ID.")
        parser.add_argument("--reason", default="", help="Why, for the audit trail.")
        by_argument_add(parser)

    def handle(self, *args, name: str, reason: str, by: str | None, **options) -> None:
        moderator, actor_name = command_actor(by)
        member = member_find(name)
        if not member.is_suspended:
            self.stdout.write(
                f"{member.display_name} (#{member.pk}) is not suspended; nothing changed."
            )
            return
        was = member_state(member)
        member_unsuspend(
            moderator=moderator, member=member, reason=reason.strip(), actor_name=actor_name
        )
        self.stdout.write(f"Lifted: {member.display_name} (#{member.pk}) was {was}.")
