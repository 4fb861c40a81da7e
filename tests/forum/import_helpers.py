"""Shared by the import and export tests: run the command, count rows, read stored comments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from forum.importing.source import SHANGHAI
from forum.models import Comment, Member
from lessons.models import Course, Lesson
from tests.forum.corpus_reader import corpus_dir

SEED = (
    Path(__file__).resolve().parents[2]
    / "forum/seed/AI大模型实战高手课/01-洞察本质：从工程学角度看ChatGPT为什么会崛起.md"
)
SEED_COURSE = "AI大模型实战高手课"
NO_CORPUS = "the shared corpus (../shared/corpus or $LESSON_FORUM_CORPUS) is not available"


@dataclass(frozen=True)
class Run:
    stdout: str
    stderr: str
    error: CommandError | None

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error: ")]


def run_command(name: str, *args: str) -> Run:
    """Run a management command, keeping its output and its CommandError (exit status 1)."""
    stdout, stderr = StringIO(), StringIO()
    try:
        call_command(name, *args, stdout=stdout, stderr=stderr)
    except CommandError as error:
        return Run(stdout.getvalue(), stderr.getvalue(), error)
    return Run(stdout.getvalue(), stderr.getvalue(), None)


def run_import(*args: str | Path) -> Run:
    return run_command("import_lesson", *map(str, args))


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (Course, Lesson, Member, Comment)}


def top_level_comments(lesson: Lesson) -> list[Comment]:
    return list(
        Comment.objects.filter(lesson=lesson, parent=None)
        .select_related("member")
        .order_by("source_position")
    )


def shanghai_wall_time(moment: datetime) -> datetime:
    """The naive Asia/Shanghai time the corpus reader gives for a stored datetime."""
    return moment.astimezone(SHANGHAI).replace(tzinfo=None)


def corpus_page(relative: str) -> Path:
    """A page of the shared corpus; skips the test when the corpus is not there."""
    root = corpus_dir()
    if root is None:
        pytest.skip(NO_CORPUS)
    return root / relative


class _ActiveContent(HTMLParser):
    """Collects what a browser would run: script-like elements, on* handlers, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "iframe", "object", "embed", "style", "form", "base", "meta"}:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            squeezed = "".join((value or "").split()).lower()
            if name.startswith("on") or squeezed.startswith(("javascript:", "vbscript:", "data:")):
                self.found.append(f"<{tag} {name}={value!r}>")

    handle_startendtag = handle_starttag


def active_content(html: str) -> list[str]:
    parser = _ActiveContent()
    parser.feed(html)
    parser.close()
    return parser.found
