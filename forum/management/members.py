"""What the member commands share: finding a member by name, naming who runs the command,
and showing times."""

from __future__ import annotations

import getpass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import CommandError, CommandParser
from django.db.models import Count, Q
from django.utils import timezone

from forum.models import Member

COMMAND_LINE = "command line"


def local_time(moment: datetime) -> str:
    """A time in the site's zone (Asia/Shanghai), as operators read it."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def by_argument_add(parser: CommandParser) -> None:
    parser.add_argument(
        "--by",
        metavar="USERNAME",
        help="The moderator's site account the action is recorded under.",
    )


def command_actor(username: str | None) -> tuple[AbstractBaseUser | None, str]:
    """Who the audit trail says acted: the moderator named by --by, if any, and in any case the
    operating-system user who ran the command — "root (command line)", or
    "alice (command line, OS user root)"."""
    try:
        os_user = getpass.getuser()
    except OSError:  # no login name in the environment nor in the password database
        os_user = "unknown"
    if username is None:
        return None, f"{os_user} ({COMMAND_LINE})"
    User = get_user_model()
    try:
        user = User._default_manager.get_by_natural_key(username)
    except User.DoesNotExist:
        raise CommandError(f"--by: there is no site account named {username!r}.") from None
    # An action is recorded under a moderator's name only if they could have taken it themselves.
    if not (user.is_active and user.has_perm("forum.change_member")):
        raise CommandError(f"--by: {username!r} is not a moderator (forum.change_member).")
    return user, f"{user.get_username()} ({COMMAND_LINE}, OS user {os_user})"


def member_find(name: str) -> Member:
    """The one member that NAME names (display name, account username or #ID)."""
    number = name[1:]
    if name.startswith("#") and number.isascii() and number.isdigit():
        found = Member.objects.filter(pk=int(number))
    else:
        found = Member.objects.filter(Q(display_name=name) | Q(user__username=name))
    candidates = list(
        found.select_related("user").annotate(comment_total=Count("comments")).order_by("pk")
    )
    if not candidates:
        raise CommandError(f"No member named {name!r} (display name, account name or #ID).")
    if len(candidates) > 1:
        lines = [f"{len(candidates)} members are named {name!r}; give one as #ID:"]
        for member in candidates:
            account = f"account {member.user.get_username()}" if member.user else "no account"
            comments = f"{member.comment_total} comment{'' if member.comment_total == 1 else 's'}"
            lines.append(f"  #{member.pk}  {member.display_name}  {comments}  {account}")
        raise CommandError("\n".join(lines))
    return candidates[0]
