"""`@username` in a comment: which members it names (longest user name first)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse

from forum.models import Member
from lessons.rendering import mention_runs

MAX_MENTIONS = 5


def mentioned(body: str) -> list[Member]:
    """The members `body` mentions, in the order it first names them, at most MAX_MENTIONS:
    each `@` names the account whose user name is the longest that the text after it starts
    with (`@独行老师你好` names 独行), among active accounts (every one can read every lesson).
    One query, none without an `@`."""
    runs = mention_runs(body)
    if not runs:
        return []
    prefixes = {run[:end] for run in runs for end in range(1, len(run) + 1)}
    accounts = (
        get_user_model()
        .objects.filter(username__in=prefixes, is_active=True, member__isnull=False)
        .select_related("member")
    )
    by_name = {account.username: account.member for account in accounts}
    found: list[Member] = []
    for run in runs:
        name = next((run[:end] for end in range(len(run), 0, -1) if run[:end] in by_name), None)
        if name is not None and by_name[name] not in found:
            found.append(by_name[name])
            if len(found) == MAX_MENTIONS:
                break
    return found


def links(named: list[Member]) -> dict[str, str]:
    """What `render_comment_markdown` links each mentioned name to: the member's page."""
    return {member.user.username: member_url(member.user.username) for member in named}


def member_url(username: str) -> str:
    return reverse("forum:member", args=[username])
