"""The slowest comment a member can post: fenced code in each highlighted language, timed.

In-process, before any server starts. For each language of `HIGHLIGHTED_LANGUAGES`, a comment of
the maximum length (`FORUM_COMMENT_MAX_LENGTH`) made of fences just under the comment's
highlighting cap, each a run of one hostile text (tests/security/test_renderer_dos.py); the run
that costs that language most is timed again, best of three, through `render_comment_markdown`.
"""

from __future__ import annotations

import time

from forum.settings import FORUM_COMMENT_MAX_LENGTH
from lessons.rendering import (
    COMMENT_HIGHLIGHT_MAX_CHARS,
    HIGHLIGHTED_LANGUAGES,
    render_comment_markdown,
)

HOSTILE_CODE = ["\t", " \n", "\t\n", ".", "<", "[", "*", "`", '"\\', "a\t"]


def worst_comment(language: str, unit: str) -> str:
    code = (unit * COMMENT_HIGHLIGHT_MAX_CHARS)[: COMMENT_HIGHLIGHT_MAX_CHARS - 1]
    fence = f"~~~{language}\n{code}\n~~~\n"
    return (fence * (FORUM_COMMENT_MAX_LENGTH // len(fence)))[:FORUM_COMMENT_MAX_LENGTH]


def seconds(text: str, times: int = 1) -> float:
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        render_comment_markdown(text)
        best = min(best, time.perf_counter() - started)
    return best


def measure() -> list[tuple[str, str, float]]:
    """(language, its costliest hostile run, seconds: best of three), slowest first."""
    rows = []
    for language in HIGHLIGHTED_LANGUAGES:
        unit = max(HOSTILE_CODE, key=lambda unit: seconds(worst_comment(language, unit)))
        rows.append((language, unit, seconds(worst_comment(language, unit), times=3)))
    return sorted(rows, key=lambda row: -row[2])


def markdown(rows: list[tuple[str, str, float]]) -> list[str]:
    lines = [
        f"A comment of {FORUM_COMMENT_MAX_LENGTH:,} characters of fenced code, each fence just "
        f"under the {COMMENT_HIGHLIGHT_MAX_CHARS}-character highlighting cap and a run of the "
        "text that costs its language most, rendered in-process (`render_comment_markdown`, best "
        "of three). Fences in other languages, or longer, are not highlighted.",
        "",
        "| language | costliest run | seconds |",
        "|---|---|---:|",
    ]
    lines += [f"| {language} | `{unit!r}` | {cost:.3f} |" for language, unit, cost in rows]
    return lines
