"""The slowest comment a member can post: fenced code in each highlighted language, timed.

In-process, before any server starts. For each language of `HIGHLIGHTED_LANGUAGES`, a comment of
the maximum length (`FORUM_COMMENT_MAX_LENGTH`) made of fences just under the comment's
highlighting cap, each a run of one hostile text (tests/security/test_renderer_dos.py) in the
longest lines and blank runs that are still highlighted; the run that costs that language most is
timed again, best of three, through `render_comment_markdown`.
"""

from __future__ import annotations

import time

from forum.settings import FORUM_COMMENT_MAX_LENGTH
from lessons.rendering import (
    COMMENT_HIGHLIGHT_MAX_CHARS,
    HIGHLIGHT_MAX_BLANK,
    HIGHLIGHT_MAX_LINE,
    HIGHLIGHTED_LANGUAGES,
    fence_lexer,
    render_comment_markdown,
)

HOSTILE_CODE = ["\t", " \n", "\t\n", ".", "a.", "<", "[", "*", "`", '"\\', "a ", "a\t", "<!--"]


def worst_comment(language: str, unit: str) -> str:
    line = (unit * HIGHLIGHT_MAX_LINE)[: HIGHLIGHT_MAX_LINE - 1]
    if line.isspace():  # cut, or the run of blanks would leave the fence plain
        line = line[: HIGHLIGHT_MAX_BLANK // 2] + "x"
    code = ((line + "\n") * COMMENT_HIGHLIGHT_MAX_CHARS)[: COMMENT_HIGHLIGHT_MAX_CHARS - 1] + "\n"
    assert fence_lexer(language, code, max_chars=COMMENT_HIGHLIGHT_MAX_CHARS), (language, unit)
    fence = f"~~~{language}\n{code}~~~\n"
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
        "of three). Fences in other languages, longer, or with a line over "
        f"{HIGHLIGHT_MAX_LINE} characters or a run of over {HIGHLIGHT_MAX_BLANK} blanks are not "
        "highlighted.",
        "",
        "| language | costliest run | seconds |",
        "|---|---|---:|",
    ]
    lines += [f"| {language} | `{unit!r}` | {cost:.3f} |" for language, unit, cost in rows]
    return lines
