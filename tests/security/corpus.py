"""The XSS corpora of ../shared/security and the audit every stored `*_html` value must pass.

Shared by the browser-free gate (tests/security) and the browser harness (tests/browser).
The allowlist here is written out on purpose instead of imported from lessons.rendering:
widening the sanitizer must fail this audit until someone widens it here too, knowingly.
"""

from __future__ import annotations

import json
import os
import random
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lessons.anchors import BLOCK_ATTRIBUTE, BLOCK_ID
from lessons.rendering import BLOCK_TAGS, sanitize_html

SECURITY = Path(
    os.environ.get(
        "LESSON_FORUM_SECURITY",
        Path(__file__).resolve().parents[2].parent / "shared" / "security",
    )
)
SAMPLE_SEED = 20261129
SAMPLE_SIZE = 1000

TAGS = frozenset(
    {"h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "strong", "b", "em", "i"}
    | {"del", "s", "sub", "sup", "code", "pre", "kbd", "blockquote", "ul", "ol", "li"}
    | {"table", "thead", "tbody", "tr", "th", "td", "a", "img", "span", "div"}
    | {"details", "summary"}
)
ATTRIBUTES = {
    "a": {"href", "title", "rel"},
    "img": {"src", "alt", "title", "width", "height", "loading", "referrerpolicy"},
    "ol": {"start"},
    **{tag: {"class"} for tag in ("span", "div", "td", "th")},
}
URL_SCHEMES = {"a": {"http", "https", "mailto"}, "img": {"http", "https"}}
REL = "nofollow noopener ugc"
# What a browser ignores when it reads a URL's scheme: C0 controls and spaces around it, tabs
# and newlines inside it; we drop every control and space character, which is stricter.
_URL_IGNORED = re.compile(r"[\x00-\x20\x7f-\x9f\s]+")
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
_CLASS = re.compile(r"[a-z0-9 _-]*")


@dataclass(frozen=True)
class Vector:
    source: str  # file name
    number: int  # 1-based position in its file
    text: str

    def __str__(self) -> str:
        return f"{self.source} #{self.number}: {self.text[:120]!r}"


def _read(name: str) -> str:
    path = SECURITY / name
    if not path.is_file():
        pytest.skip(f"{path} is not available (../shared/security or $LESSON_FORUM_SECURITY)")
    return path.read_text(encoding="utf-8")


def _entries(name: str, separator: str) -> list[Vector]:
    text = _read(name).removesuffix("\n")
    return [Vector(name, n, t) for n, t in enumerate(text.split(separator), 1) if t]


def load_vectors() -> list[Vector]:
    """Every vector, in the files' order, split as SOURCES.md says (never on other line breaks)."""
    special = json.loads(_read("xss-payloads-special.json"))
    return [
        *_entries("xss-payloads.txt", "\n"),
        *_entries("xss-payloads-multiline.txt", "\n----\n"),
        *(Vector("xss-payloads-special.json", n, t) for n, t in enumerate(special, 1) if t),
        *_entries("markdown-xss.txt", "\n----\n"),
    ]


def browser_sample(vectors: list[Vector], *, full: bool = False) -> list[Vector]:
    """All Markdown and multi-line vectors, then a seeded sample of the rest up to 1,000."""
    if full:
        return list(vectors)
    always = [v for v in vectors if v.source in ("markdown-xss.txt", "xss-payloads-multiline.txt")]
    rest = [v for v in vectors if v not in always]
    picked = random.Random(SAMPLE_SEED).sample(rest, SAMPLE_SIZE - len(always))
    return always + picked


def _scheme(url: str) -> str | None:
    found = _SCHEME.match(_URL_IGNORED.sub("", url).lower())
    return found[1] if found else None


class _Audit(HTMLParser):
    """Everything in stored HTML that the allowlist should have removed."""

    def __init__(self) -> None:
        # convert_charrefs: attribute values arrive entity-decoded, as the browser reads them.
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            value = value or ""
            if name == BLOCK_ATTRIBUTE:
                # A block's anchor: only on a block, only of the anchors' form (the renderer
                # sets it from the block's text; `audit` checks that sanitizing again keeps it).
                if tag not in BLOCK_TAGS | {"li"} or not BLOCK_ID.fullmatch(value):
                    self.problems.append(f"{name}={value!r} on <{tag}>")
            elif name.startswith("on") or name.startswith(("hx-", "data-hx-", "data-")):
                self.problems.append(f"{name}= on <{tag}>")
            elif name not in ATTRIBUTES.get(tag, ()):
                self.problems.append(f"attribute {name} on <{tag}>")
            elif name in ("href", "src"):
                scheme = _scheme(value)
                if scheme is not None and scheme not in URL_SCHEMES[tag]:
                    self.problems.append(f"{name}={value!r} on <{tag}>")
            elif name == "class" and not _CLASS.fullmatch(value):
                self.problems.append(f"class={value!r} on <{tag}>")
            elif name == "rel" and value != REL:
                self.problems.append(f"rel={value!r}")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"comment <!--{data[:40]}")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"declaration <!{decl[:40]}")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"declaration <![{data[:40]}")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"processing instruction <?{data[:40]}")


def audit(stored_html: str) -> list[str]:
    """Why `stored_html` must not reach a page; [] when it may."""
    parser = _Audit()
    try:
        parser.feed(stored_html)
        parser.close()
    except AssertionError as error:  # html.parser on a malformed <![…: never our serializer's
        parser.problems.append(f"unparseable: {error}")
    problems = parser.problems
    if sanitize_html(stored_html) != stored_html:
        problems.append("sanitizing again changes it")
    return problems


class Summary:
    """Collects count lines and prints them at the end of the run, whatever -s says."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def pytest_terminal_summary(self, terminalreporter) -> None:
        terminalreporter.section("XSS and CSP counts")
        for line in self.lines:
            terminalreporter.write_line(line)


def summarize(config: pytest.Config, line: str) -> None:
    if hasattr(config, "workeroutput"):  # a pytest-xdist worker: tests/conftest.py prints it
        config.workeroutput.setdefault("xss-summary", []).append(line)
        return
    summary = config.pluginmanager.get_plugin("xss-summary")
    if summary is None:
        summary = Summary()
        config.pluginmanager.register(summary, "xss-summary")
    summary.lines.append(line)
