"""What the member commands share: finding a member by name, and showing times."""

from __future__ import annotations

from datetime import datetime

from django.core.management.base import CommandError
from django.db.models import Count, Q
from django.utils import timezone

from forum.models import Member

COMMAND_LINE = "command line"


def local_time(moment: datetime) -> str:
    """A time in the site's zone (Asia/Shanghai), as operators read it."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


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
