"""Pathological Markdown cannot make rendering a denial of service.

Every renderer's cost must grow about linearly: each case is timed (best of three, in CPU time,
so that the suite's other workers and other processes on the machine do not count) at n and 4n
characters in the same test and the ratio must stay under 10 (quadratic would be ~16). Ratios,
not absolute times, because test machines are noisy; the one absolute bound is a generous 2 s
for a comment of the maximum length, which takes under 0.3 s here.
"""

from __future__ import annotations

import gc
import itertools
import re
import time
from collections.abc import Callable, Iterator
from functools import partial

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer

from forum.models import Comment
from forum.services import clean_body, comment_post
from lessons.rendering import (
    COMMENT_HIGHLIGHT_MAX_CHARS,
    HIGHLIGHT_MAX_BLANK,
    HIGHLIGHT_MAX_LINE,
    HIGHLIGHTED_LANGUAGES,
    LESSON_HIGHLIGHT_MAX_CHARS,
    MAX_HTML_DEPTH,
    MAX_MARKUP,
    cap_html_nesting,
    fence_lexer,
    highlight_lexer,
    render_comment_markdown,
    render_lesson_body,
    render_plain_text,
    sanitize_html,
)
from tests.factories import LessonFactory, MemberFactory
from tests.security.timing import cpu_cost

RENDERERS = [render_comment_markdown, render_lesson_body, render_plain_text]
_ANCHOR = re.compile(r' data-block-id="[^"]*"')


def without_anchors(html: str) -> str:
    """HTML without the lesson renderer's block anchors (tests/lessons/test_anchors.py)."""
    return _ANCHOR.sub("", html)


MAX_RATIO = 10


def repeat(unit: str) -> Callable[[int], str]:
    """`unit` repeated to exactly n characters."""
    return lambda n: (unit * (n // len(unit) + 1))[:n]


def sawtooth_lists(n: int) -> str:
    """Lists nested 40 deep again and again: deep nesting, input linear in n."""
    lines = ("  " * (depth % 40) + "- a\n" for depth in range(n))
    text = ""
    for line in lines:
        if len(text) >= n:
            break
        text += line
    return text[:n]


# name: (text of n characters, the n whose 4n is the case's headline size)
CASES: dict[str, tuple[Callable[[int], str], int]] = {
    "[ x 8000": (repeat("["), 2000),
    "10000 nested > quotes": (lambda n: ">" * (n - 2) + " a", 2500),
    "*a x 5000": (repeat("*a"), 2500),
    "< x 5000": (repeat("<"), 1250),
    "nested list markers": (repeat("- "), 1250),
    "deeply indented lists": (sawtooth_lists, 1250),
    "5000 backticks": (repeat("`"), 1250),
    "backtick runs": (repeat("`a``"), 1250),
    "nested strong and em": (repeat("*a **a "), 1250),
    "link openers": (repeat("[a"), 1250),
    "unclosed links": (repeat("[a](b"), 1250),
    "nested brackets": (lambda n: "[" * (n // 2) + "a" + "]" * (n - n // 2 - 1), 1250),
    "entities": (repeat("&#"), 1250),
    "reference definitions": (repeat("[a]: u\n[a] "), 1250),
    "table rows": (lambda n: "|a|b|\n|-|-|\n" + repeat("|x|y|\n")(n - 12), 1250),
    "math": (repeat("$a"), 1250),
    "mixed punctuation": (repeat("*[`<_"), 1250),
}


def cost(render: Callable[[str], str], text: str) -> float:
    return cpu_cost(render, text, sample=0.005)


@pytest.mark.parametrize("render", RENDERERS, ids=lambda render: render.__name__)
@pytest.mark.parametrize("case", CASES)
def test_rendering_cost_grows_about_linearly(case: str, render: Callable[[str], str]) -> None:
    make, n = CASES[case]
    small, large = make(n), make(4 * n)
    assert (len(small), len(large)) == (n, 4 * n)
    ratio = cost(render, large) / cost(render, small)
    assert ratio < MAX_RATIO, f"{case}: {4 * n} characters cost {ratio:.1f}x {n}"


@pytest.mark.parametrize("unit", ["<div>", "<b>", "<a>", "<x-y>", "<ul><li>", "<i><span>"])
def test_lesson_body_of_nested_raw_html_grows_about_linearly(unit: str) -> None:
    """html5lib scans the open elements for each start tag: uncapped, 8x the <div>s cost ~20x."""
    make = repeat(unit)
    ratio = cost(render_lesson_body, make(8_000)) / cost(render_lesson_body, make(1_000))
    assert ratio < 2 * 8


def test_raw_html_nesting_is_kept_to_the_cap_and_cut_below_it() -> None:
    deep = "<div>" * (MAX_HTML_DEPTH + 5) + "text" + "</div>" * (MAX_HTML_DEPTH + 5)
    capped = cap_html_nesting(deep)
    assert capped == "<div>" * MAX_HTML_DEPTH + "text" + "</div>" * MAX_HTML_DEPTH
    assert without_anchors(render_lesson_body(deep)).count("<div>") == MAX_HTML_DEPTH


def test_raw_html_as_deep_as_the_cap_is_left_alone() -> None:
    siblings = "<p>a</p><br><img src=x>" * 200
    nested = "<blockquote>" * MAX_HTML_DEPTH + siblings + "</blockquote>" * MAX_HTML_DEPTH
    assert cap_html_nesting(nested) == nested


@pytest.mark.parametrize("case", CASES)
def test_pathological_comment_is_rendered_quickly_or_refused(case: str) -> None:
    make, n = CASES[case]
    limit = settings.FORUM_COMMENT_MAX_LENGTH
    for text in (make(4 * n), make(limit)):
        if len(text) > limit:
            with pytest.raises(ValidationError):
                clean_body(text)
            continue
        started = time.perf_counter()
        render_comment_markdown(clean_body(text))
        assert time.perf_counter() - started < 2.0


@pytest.mark.django_db
def test_comment_over_the_limit_is_refused_before_rendering() -> None:
    author, lesson = MemberFactory(), LessonFactory()
    with pytest.raises(ValidationError):
        comment_post(author=author, lesson=lesson, body="[" * 8000)
    assert not Comment.objects.exists()


@pytest.mark.django_db
def test_pathological_comment_of_the_maximum_length_is_posted_in_under_two_seconds() -> None:
    author, lesson = MemberFactory(), LessonFactory()
    body = repeat("*[`<_")(settings.FORUM_COMMENT_MAX_LENGTH)
    started = time.perf_counter()
    comment = comment_post(author=author, lesson=lesson, body=body)
    assert time.perf_counter() - started < 2.0
    assert comment.body == body
    assert comment.body_html


# Issue 21: fenced code, and documents far longer than a comment. Each case is timed at n and 8n
# (best of three, serially); linear is ~8, quadratic ~64.
MAX_RATIO_8N = 16
# Runs that make Pygments' regular expressions backtrack (easytrieve on tabs is cubic), rescan a
# line or cross lines, and openers of strings and comments left unclosed.
HOSTILE_CODE = [
    "\t", " \n", "\t\n", ".", "a.", "<", "[", "*", "`", '"', '"\\', "'", "a ", "a\t", "/*", "<!--",
    "{", "-",
]  # fmt: skip
PIPELINES = {
    render_lesson_body: LESSON_HIGHLIGHT_MAX_CHARS,
    render_comment_markdown: COMMENT_HIGHLIGHT_MAX_CHARS,
}


def growth(render: Callable[[str], str], small: str, large: str) -> float:
    """cost(large) / cost(small), measured once more if over the bound: the machine is shared."""
    ratio = cost(render, large) / cost(render, small)
    if ratio >= MAX_RATIO_8N:
        ratio = min(ratio, cost(render, large) / cost(render, small))
    return ratio


def highlightable(text: str) -> str:
    """`text` with a newline wherever a line would pass the highlighting bound and an "x" wherever
    a run of whitespace would (one short, for the fence's closing newline): as hostile as a
    highlighted block can be."""
    out: list[str] = []
    line = blank = 0

    def put(char: str) -> None:
        nonlocal line, blank
        if char.isspace() and blank == HIGHLIGHT_MAX_BLANK - 1:
            out.append("x")
            line, blank = line + 1, 0
        out.append(char)
        line = 0 if char == "\n" else line + 1
        blank = blank + 1 if char.isspace() else 0

    for char in text:
        if char != "\n" and line >= HIGHLIGHT_MAX_LINE - 1:  # room for an "x"
            put("\n")
        put(char)
    return "".join(out)


@pytest.fixture
def frozen_heap() -> Iterator[None]:
    """Leave the objects already alive out of the full collection each measurement starts with
    (~50 ms each, and these tests make hundreds)."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


def hostile_code(unit: str, n: int, width: int = HIGHLIGHT_MAX_LINE - 1) -> str:
    """A fence's content of n characters: lines of `unit` up to `width` long, as hostile as a
    highlighted block can be (the content ends with the fence's newline)."""
    return highlightable(repeat(repeat(unit)(width) + "\n")(n - 1))[: n - 1] + "\n"


def highlighting(code: str, lexer: Lexer) -> str:
    return highlight(code, lexer, HtmlFormatter(nowrap=True))


@pytest.mark.parametrize("language", HIGHLIGHTED_LANGUAGES)
@pytest.mark.usefixtures("frozen_heap")
def test_each_highlighted_lexer_costs_linearly_inside_one_block(language: str) -> None:
    """One block of n and of 8n characters, 8n as long as a lesson's block is highlighted, in the
    longest lines allowed and in short ones: the lexer the renderer would run, timed on its own
    (the pipelines are timed below)."""
    n = LESSON_HIGHLIGHT_MAX_CHARS // 8
    slow = []
    for unit, width in itertools.product(HOSTILE_CODE, (HIGHLIGHT_MAX_LINE - 1, 20)):
        small, large = hostile_code(unit, n, width), hostile_code(unit, 8 * n, width)
        lexer = fence_lexer(language, large, max_chars=LESSON_HIGHLIGHT_MAX_CHARS)
        assert lexer is not None, unit
        ratio = growth(partial(highlighting, lexer=lexer), small, large)
        if ratio >= MAX_RATIO_8N:
            slow.append(f"{unit!r} in lines of {width}: {ratio:.1f}x")
    assert not slow, f"{language}: 8x the code cost {', '.join(slow)}"


@pytest.mark.parametrize("render", PIPELINES, ids=lambda render: render.__name__)
@pytest.mark.parametrize("language", HIGHLIGHTED_LANGUAGES)
@pytest.mark.parametrize("unit", ["a ", " \n"])
@pytest.mark.usefixtures("frozen_heap")
def test_highlighted_block_costs_linearly_through_the_pipelines(
    unit: str, language: str, render: Callable
) -> None:
    """A fence as long as the pipeline highlights, of dense tokens or blank lines, and 1/8 of it."""
    n = PIPELINES[render] // 8
    small, large = (f"~~~{language}\n{hostile_code(unit, size)}~~~\n" for size in (n, 8 * n))
    assert without_anchors(render(large)).startswith('<div class="highlight">')
    ratio = growth(render, small, large)
    assert ratio < MAX_RATIO_8N, f"{language}: 8x the code cost {ratio:.1f}x"


def test_a_block_with_a_long_line_or_a_long_blank_run_is_plain_escaped() -> None:
    for code in ("x" * (HIGHLIGHT_MAX_LINE + 1) + "\n", "x\n" + " \n" * HIGHLIGHT_MAX_BLANK):
        html = without_anchors(render_lesson_body(f"```python\n{code}```"))
        assert html == f"<pre><code>{code}</code></pre>\n"
    within = "x" * HIGHLIGHT_MAX_LINE + "\n" + " " * (HIGHLIGHT_MAX_BLANK - 1) + "x\n"
    html = without_anchors(render_lesson_body(f"```python\n{within}```"))
    assert html.startswith('<div class="highlight">')


def test_code_longer_than_the_cap_is_plain_escaped() -> None:
    code = "x = '<b>'\n" * (COMMENT_HIGHLIGHT_MAX_CHARS // 10 + 1)
    html = render_comment_markdown(f"```python\n{code}```")
    assert html == f"<pre><code>{code.replace('<', '&lt;').replace('>', '&gt;')}</code></pre>\n"
    html = without_anchors(render_lesson_body(f"```python\n{code}```"))
    assert html.startswith('<div class="highlight">')


LEFT_OFF = ["easytrieve", "systemd", "autohotkey", "java", "csharp", "html", "xml", "markdown"]


@pytest.mark.parametrize("language", [*LEFT_OFF, "no-such", "py2"])
def test_a_language_off_the_allowlist_is_plain_escaped(language: str) -> None:
    html = render_comment_markdown(f"```{language}\n<a>\t\n```")
    assert html == "<pre><code>&lt;a&gt;\t\n</code></pre>\n"


def test_aliases_of_allowlisted_languages_are_highlighted() -> None:
    for alias in ("py", "C++", "sh", "js", "golang", "dockerfile", "yml"):
        assert highlight_lexer(alias) is not None, alias
    assert highlight_lexer("easytrieve") is None


@pytest.mark.django_db
def test_comment_of_4980_tabs_named_easytrieve_is_stored_as_plain_escaped_code() -> None:
    body = "```easytrieve\n" + "\t" * 4_980 + "\n```"
    assert len(body) <= settings.FORUM_COMMENT_MAX_LENGTH
    started = time.perf_counter()
    comment = comment_post(author=MemberFactory(), lesson=LessonFactory(), body=body)
    assert time.perf_counter() - started < 2.0
    assert comment.body_html == "<pre><code>" + "\t" * 4_980 + "\n</code></pre>\n"


# name: (render, text of n characters, n); 8n is the size the issue found slow.
LONG_CASES = {
    "URL then dots": (render_plain_text, lambda n: "http://a" + "." * (n - 8), 16_000),
    "URL then dots in a lesson": (render_lesson_body, lambda n: "http://a" + "." * (n - 8), 16_000),
    "escaped <": (render_lesson_body, repeat("<"), 6_000),
    "escaped < imported": (render_plain_text, repeat("<"), 6_000),
    "table rows": (
        render_lesson_body,
        lambda n: "|a|b|\n|-|-|\n" + repeat("|x|y|\n")(n - 12),
        6_000,
    ),
    "line breaks imported": (render_plain_text, repeat("a\n"), 6_000),
}


@pytest.mark.parametrize("case", LONG_CASES)
def test_long_document_cost_grows_about_linearly(case: str) -> None:
    render, make, n = LONG_CASES[case]
    ratio = growth(render, make(n), make(8 * n))
    assert ratio < MAX_RATIO_8N, f"{case}: {8 * n} characters cost {ratio:.1f}x {n}"


def test_a_document_over_the_markup_budget_is_its_escaped_source() -> None:
    text = "<b>&</b>\n" * (MAX_MARKUP // 2)
    source = "<pre>" + "&lt;b&gt;&amp;&lt;/b&gt;\n" * (MAX_MARKUP // 2) + "</pre>\n"
    for render in RENDERERS:
        assert render(text) == source, render.__name__
    assert sanitize_html(source) == source


def test_a_wide_table_keeps_every_row() -> None:
    html = render_lesson_body("|a|b|\n|-|-|\n" + "|x|y|\n" * 3_000)
    assert html.count("<tr>") == 3_001
    assert html.count("<td>x</td>") == 3_000
