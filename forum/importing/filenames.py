"""Lesson number and title from an archived page's file name.

Archives replace the title's "|" with "-", "丨", "｜" or " _ " (a file name cannot hold "|"):
``01-洞察本质….md``, ``39丨….md``, ``17 _ ….md``, ``第34讲 - ….md``, ``开篇词-….md``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_DIRECTORY = re.compile(r"[/\\]")
_SLUG_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,30}__")
_EXTENSION = re.compile(r"\.(?:md|markdown|txt|html?)$", re.I)
# `[0-9]*[_-]?[0-9a-f]{12,}` said the same, but its two digit runs split a long number every way.
_MACHINE_ID = re.compile(r"(?:[0-9]*+[_-])?[0-9a-f]{12,}", re.I)
_NUMBERED = re.compile(
    r"(?:第\s*)?(?P<number>[0-9]++)(?:\s*讲)?"
    r"(?:\s*[-|｜丨]\s*|\s+_\s*|\s*_\s+|\s+)(?P<title>\S.*)",
    re.S,
)
_LABELLED = re.compile(
    r"(?P<label>[^-_|｜丨：，\s][^-_|｜丨：，]{0,15}?)"
    r"(?:\s*[|｜丨]\s*|\s+_\s*|\s*_\s+|\s+-\s*|\s*-\s+|(?<=[^\x00-\x7f])-)(?P<title>\S.*)",
    re.S,
)
_DIGITS = re.compile(r"([0-9]+)")
# Lesson.number is a 32-bit integer column on PostgreSQL.
MAX_NUMBER = 2_147_483_647


@dataclass(frozen=True)
class LessonName:
    number: int | None
    title: str
    warning: str = ""


def lesson_name_from_filename(filename: str) -> LessonName | None:
    """Number and title of a lesson; None when the name carries no title (e.g. a hash)."""
    stem = _EXTENSION.sub("", _SLUG_PREFIX.sub("", _DIRECTORY.split(filename)[-1]))
    stem = unicodedata.normalize("NFC", stem).strip()
    if _MACHINE_ID.fullmatch(stem):
        return None
    number = None
    warning = ""
    if numbered := _NUMBERED.fullmatch(stem):
        digits, title = numbered["number"], numbered["title"]
        # int() refuses over 4,300 digits, and the column holds ten.
        if len(digits.lstrip("0")) > 10 or int(digits) > MAX_NUMBER:
            shown = digits[:20] + ("…" if len(digits) > 20 else "")
            warning = f"lesson number {shown} in the file name is too large: imported unnumbered"
        else:
            number = int(digits)
    elif labelled := _LABELLED.fullmatch(stem):
        title = f"{labelled['label'].strip()} | {labelled['title']}"
    else:
        title = stem
    title = title.replace(" _ ", " | ").strip()
    if not any(ch.isalpha() for ch in title):
        return None
    return LessonName(number=number, title=title, warning=warning)


def natural_key(name: str) -> tuple:
    """Sort key comparing digit runs as numbers, so "2-…" sorts before "10-…"."""
    parts = _DIGITS.split(name)
    return tuple(
        (0, int(part), part) if index % 2 else (1, part.casefold(), part)
        for index, part in enumerate(parts)
        if part
    )
