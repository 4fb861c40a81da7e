"""Print the moderation queue as plain-text tables: for a terminal, a cron mail or a chat paste.

Three sections: comments with open reports (most reported first), comments waiting for review,
and members suspended or banned lately or still. Names and comments are mostly Chinese, so
columns are padded by display width (a CJK character takes two cells) and long text is cut
with "…". Readers' text is stripped of control characters, so it cannot move the cursor or
colour the terminal. The report costs a fixed number of queries however long the queue is.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count, F, Min, OuterRef, Q, Subquery
from django.utils import timezone

from forum.management.members import local_time
from forum.models import Comment, Member, ModerationAction, Report
from forum.moderation import member_state

Kind = ModerationAction.Kind


def char_width(char: str) -> int:
    if unicodedata.category(char) in ("Mn", "Me"):  # combining marks sit on the previous char
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def text_width(text: str) -> int:
    return sum(char_width(char) for char in text)


def clean(value: object) -> str:
    """One line of printable text: whitespace runs become one space, control chars go."""
    text = " ".join(str(value).split())
    return "".join(char for char in text if unicodedata.category(char) not in ("Cc", "Cf"))


def truncate(text: str, width: int) -> str:
    if not width or text_width(text) <= width:
        return text
    kept, used = [], 0
    for char in text:
        used += char_width(char)
        if used > width - 1:
            break
        kept.append(char)
    return "".join(kept) + "…"


@dataclass(frozen=True)
class Column:
    title: str
    limit: int = 0  # the widest the column gets; 0 for no limit
    right: bool = False


def table(columns: Sequence[Column], rows: Sequence[Sequence[object]]) -> list[str]:
    cells = [
        [truncate(clean(v), c.limit) for c, v in zip(columns, row, strict=True)] for row in rows
    ]
    widths = [
        max([text_width(column.title), *(text_width(row[i]) for row in cells)])
        for i, column in enumerate(columns)
    ]

    def line(values: Sequence[str]) -> str:
        padded = []
        for column, width, value in zip(columns, widths, values, strict=True):
            fill = " " * (width - text_width(value))
            padded.append(fill + value if column.right else value + fill)
        return "  ".join(padded).rstrip()

    return [
        line([column.title for column in columns]),
        line(["-" * width for width in widths]),
        *(line(row) for row in cells),
    ]


def author(member: Member) -> str:
    # The id first, so that it survives truncation: it is what suspend_member takes.
    return f"#{member.pk} {member.shown_name or '(no name)'}"


# Only what the tables show: a lesson's body is a whole article.
COMMENT_FIELDS = (
    "pk",
    "body",
    "created_at",
    "lesson__title",
    "member__display_name",
    "member__left_at",
)


class Command(BaseCommand):
    help = "Print pending reports, comments awaiting review and suspended members as tables."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=50, help="Rows per section (50).")
        parser.add_argument(
            "--days",
            type=int,
            default=30,
            help="Members suspended or banned within this many days (30), besides current ones.",
        )

    def handle(self, *args, limit: int, days: int, **options) -> None:
        if limit < 1:
            raise CommandError("--limit must be at least 1")
        if days < 0:
            raise CommandError("--days cannot be negative")
        zone = timezone.get_current_timezone_name()
        self.stdout.write(f"Moderation queue at {local_time(timezone.now())} ({zone})\n")
        self._section("Pending reports, most reported first", limit, *self._reported(limit))
        self._section("Comments pending review, oldest first", limit, *self._pending(limit))
        self._section(
            f"Members suspended or banned in the last {days} days, or now",
            limit,
            *self._suspended(limit, days),
        )

    def _section(self, title: str, limit: int, total: int, columns, rows) -> None:
        self.stdout.write(f"{title}: {total}")
        if not rows:
            self.stdout.write("(none)\n")
            return
        for line in table(columns, rows):
            self.stdout.write(line)
        if total > len(rows):
            self.stdout.write(f"(showing {len(rows)} of {total}; more with --limit)")
        self.stdout.write("")

    def _reported(self, limit: int) -> tuple[int, list[Column], list[tuple]]:
        open_reports = Q(reports__status=Report.Status.OPEN)
        reported = (
            Comment.objects.annotate(
                open_reports=Count("reports", filter=open_reports),
                first_reported=Min("reports__created_at", filter=open_reports),
            )
            .filter(open_reports__gt=0)
            .select_related("lesson", "member")
            .only(*COMMENT_FIELDS)
            .order_by("-open_reports", "first_reported", "pk")
        )
        comments = list(reported[:limit])
        reasons = defaultdict(list)
        by_reason = (
            Report.objects.filter(status=Report.Status.OPEN, comment__in=comments)
            .values("comment_id", "reason")
            .annotate(count=Count("pk"))
            .order_by("comment_id", "-count", "reason")
        )
        for row in by_reason:
            reasons[row["comment_id"]].append(f"{row['reason']}×{row['count']}")
        columns = [
            Column("ID", right=True),
            Column("Lesson", 30),
            Column("Author", 18),
            Column("Reports", right=True),
            Column("Reasons", 30),
            Column("First reported"),
            Column("Excerpt", 40),
        ]
        rows = [
            (
                c.pk,
                c.lesson.title,
                author(c.member),
                c.open_reports,
                ", ".join(reasons[c.pk]),
                local_time(c.first_reported),
                c.body,
            )
            for c in comments
        ]
        return reported.count(), columns, rows

    def _pending(self, limit: int) -> tuple[int, list[Column], list[tuple]]:
        pending = (
            Comment.objects.filter(status=Comment.Status.PENDING, deleted_at__isnull=True)
            .select_related("lesson", "member")
            .only(*COMMENT_FIELDS)
            .order_by("created_at", "pk")
        )
        columns = [
            Column("ID", right=True),
            Column("Lesson", 30),
            Column("Author", 18),
            Column("Created"),
            Column("Excerpt", 50),
        ]
        rows = [
            (c.pk, c.lesson.title, author(c.member), local_time(c.created_at), c.body)
            for c in pending[:limit]
        ]
        return pending.count(), columns, rows

    def _suspended(self, limit: int, days: int) -> tuple[int, list[Column], list[tuple]]:
        now = timezone.now()
        latest = ModerationAction.objects.filter(
            member=OuterRef("pk"), kind__in=[Kind.SUSPEND, Kind.BAN]
        ).order_by("-created_at", "-pk")
        recent = ModerationAction.objects.filter(
            kind__in=[Kind.SUSPEND, Kind.BAN], created_at__gte=now - timedelta(days=days)
        )
        members = (
            Member.objects.filter(
                Q(is_banned=True) | Q(suspended_until__gt=now) | Q(pk__in=recent.values("member"))
            )
            .annotate(
                acted_at=Subquery(latest.values("created_at")[:1]),
                acted_by=Subquery(latest.values("actor_name")[:1]),
                acted_reason=Subquery(latest.values("reason")[:1]),
            )
            .order_by(F("acted_at").desc(nulls_last=True), "pk")
        )
        columns = [
            Column("Member", 20),
            Column("State"),
            Column("Reason", 40),
            Column("By", 40),
            Column("When"),
        ]
        rows = [
            (
                author(m),
                member_state(m),
                m.suspension_reason or m.acted_reason or "",
                # No name recorded: a suspension by the forum's own code, not a person.
                m.acted_by or ("system" if m.acted_at else ""),
                local_time(m.acted_at) if m.acted_at else "",
            )
            for m in members[:limit]
        ]
        return members.count(), columns, rows
