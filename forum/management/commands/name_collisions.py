"""List the names that collide, for moderators: names made before the rule (forum.identity)
refused look-alikes, or renamed by a moderator since, that look like each other or like a
reserved word.

A collision is a confusable skeleton shared by an account or a teacher (an account's user name
or display name, a teaching member's name, a course's teacher line) and anyone else: another
account or teacher, or an imported commenter, marked as imported. Several imported "Eric"s
alone are no collision: they block no one. Then every member whose name is a
reserved word. Moderators resolve them by renaming in the admin (the rule does not bind them);
this command shows what remains. Characters that do not show (a zero-width joiner, a bidi
control) are spelled out in the tables, `独<U+200D>行`. Five queries however many members.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Exists, OuterRef, Q

from forum.identity import reserved_skeletons, skeleton, visible
from forum.management.commands.moderation_report import Column, table
from forum.models import Member
from lessons.models import Course

MEMBER_FIELDS = ("pk", "slug", "display_name", "user__username", "name_skeleton")


@dataclass(frozen=True)
class Identity:
    id: int | None  # the member's; None for a course's teacher line
    slug: str
    display_name: str
    username: str
    kind: str


def _kind(row: dict) -> str:
    if row["user__username"] is not None:
        return "teacher account" if row["teaches"] else "account"
    return "imported teacher" if row["teaches"] else "imported"


def _identity(row: dict) -> Identity:
    return Identity(
        row["pk"], row["slug"] or "", row["display_name"], row["user__username"] or "", _kind(row)
    )


def revealed(text: str) -> str:
    """The text with what does not show spelled out, `独<U+200D>行`: a look-alike is often made
    of it, and a terminal would hide it (or obey it)."""
    return "".join(f"<U+{ord(char):04X}>" if not visible(char) else char for char in text)


def _row(identity: Identity) -> tuple:
    return (
        identity.id or "",
        revealed(identity.slug),
        revealed(identity.display_name),
        revealed(identity.username),
        identity.kind,
    )


class Command(BaseCommand):
    help = "List accounts and teachers whose names look alike, and names that are reserved words."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print JSON instead of tables."
        )

    def handle(self, *args, as_json: bool, **options) -> None:
        groups, reserved = collisions()
        if as_json:
            self._json(groups, reserved)
            return
        self.stdout.write(f"Names that look alike: {len(groups)} groups")
        if not groups:
            self.stdout.write("(none)")
        columns = [
            Column("ID", right=True),
            Column("Profile", 30),
            Column("Display name", 30),
            Column("User name", 30),
            Column("Kind"),
        ]
        for number, (key, identities) in enumerate(groups.items(), start=1):
            self.stdout.write(f"\nGroup {number}, skeleton {key!r}:")
            rows = [_row(i) for i in identities]
            for line in table(columns, rows):
                self.stdout.write(line)
        self.stdout.write(f"\nNames that are reserved words: {len(reserved)}")
        if not reserved:
            self.stdout.write("(none)")
            return
        rows = [_row(i) for i in reserved]
        for line in table(columns, rows):
            self.stdout.write(line)

    def _json(self, groups: dict[str, list[Identity]], reserved: list[Identity]) -> None:
        document = {
            "groups": [
                {"skeleton": key, "members": [asdict(i) for i in identities]}
                for key, identities in groups.items()
            ],
            "reserved": [asdict(i) for i in reserved],
        }
        self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2))


def collisions() -> tuple[dict[str, list[Identity]], list[Identity]]:
    """The groups of look-alike names (skeleton → identities, accounts and teachers first, then
    the imported commenters of that skeleton), and the members whose names are reserved."""
    teaches = Exists(Member.courses_taught.through.objects.filter(member=OuterRef("pk")))
    members = Member.objects.annotate(teaches=teaches).order_by("pk")
    blocking = members.filter(Q(user__isnull=False) | Q(teaches=True))
    taught: dict[int, set[int]] = defaultdict(set)
    for member_id, course_id in Member.courses_taught.through.objects.values_list(
        "member_id", "course_id"
    ):
        taught[member_id].add(course_id)

    by_skeleton: dict[str, dict[object, Identity]] = defaultdict(dict)
    # Whom each skeleton's entries are: a member counts once for its two names.
    for row in blocking.values(*MEMBER_FIELDS, "account_skeleton", "teaches"):
        for key in {row["name_skeleton"], row["account_skeleton"]} - {""}:
            by_skeleton[key][row["pk"]] = _identity(row)
    for course_id, slug, line in Course.objects.exclude(teacher="").values_list(
        "pk", "slug", "teacher"
    ):
        key = skeleton(line)
        teachers = {pk for pk in by_skeleton.get(key, {}) if course_id in taught[pk]}
        if key and not teachers:  # the line names one of the course's own teachers otherwise
            kind = f"teacher line of course {slug}"
            by_skeleton[key][("course", course_id)] = Identity(None, "", line, "", kind)
    # Imported commenters only beside the accounts and teachers they look like.
    looked_like = Q(name_skeleton__in=blocking.values("name_skeleton")) | Q(
        name_skeleton__in=blocking.values("account_skeleton")
    )
    imported = members.filter(looked_like, user__isnull=True, teaches=False)
    for row in imported.values(*MEMBER_FIELDS, "teaches"):
        by_skeleton[row["name_skeleton"]][row["pk"]] = _identity(row)
    groups = {key: list(found.values()) for key, found in by_skeleton.items() if len(found) > 1}

    words = list(reserved_skeletons())
    named = members.filter(Q(name_skeleton__in=words) | Q(account_skeleton__in=words))
    reserved = [_identity(row) for row in named.values(*MEMBER_FIELDS, "teaches")]
    return dict(sorted(groups.items())), reserved
