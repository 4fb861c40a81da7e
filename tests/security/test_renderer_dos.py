"""Pathological Markdown cannot make rendering a denial of service.

Every renderer's cost must grow about linearly: each case is timed (best of three, in CPU time,
so that the suite's other workers and other processes on the machine do not count) at n and 4n
characters in the same test and the ratio must stay under 10 (quadratic would be ~16). Ratios,
not absolute times, because test machines are noisy; the one absolute bound is a generous 2 s
for a comment of the maximum length, which takes under 0.3 s here.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from forum.models import Comment
from forum.services import clean_body, comment_post
from lessons.rendering import (
    COMMENT_HIGHLIGHT_MAX_CHARS,
    HIGHLIGHTED_LANGUAGES,
    MAX_HTML_DEPTH,
    MAX_MARKUP,
    cap_html_nesting,
    highlight_lexer,
    render_comment_markdown,
    render_lesson_body,
    render_plain_text,
    sanitize_html,
)
from tests.factories import LessonFactory, MemberFactory
from tests.security.timing import cpu_cost

RENDERERS = [render_comment_markdown, render_lesson_body, render_plain_text]
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
    assert render_lesson_body(deep).count("<div>") == MAX_HTML_DEPTH


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
# Runs that make Pygments' regular expressions backtrack (easytrieve on tabs is cubic).
HOSTILE_CODE = ["\t", " \n", "\t\n", ".", "<", "[", "*", "`", '"\\', "a\t"]
FENCED = {
    render_comment_markdown: COMMENT_HIGHLIGHT_MAX_CHARS,
    # Lesson fences as long as the comment cap keep the test short; the cap is what bounds a block.
    render_lesson_body: COMMENT_HIGHLIGHT_MAX_CHARS,
}


def growth(render: Callable[[str], str], small: str, large: str) -> float:
    """cost(large) / cost(small), measured once more if over the bound: the machine is shared."""
    ratio = cost(render, large) / cost(render, small)
    if ratio >= MAX_RATIO_8N:
        ratio = min(ratio, cost(render, large) / cost(render, small))
    return ratio


def hostile_fences(language: str, block: int) -> str:
    """One fence of `block` characters per hostile run, each highlighted (under the cap)."""
    return "".join(f"~~~{language}\n{repeat(unit)(block)}\n~~~\n" for unit in HOSTILE_CODE)


@pytest.mark.parametrize("render", FENCED, ids=lambda render: render.__name__)
@pytest.mark.parametrize("language", HIGHLIGHTED_LANGUAGES)
def test_highlighted_code_costs_linearly_in_the_document(language: str, render: Callable) -> None:
    """Each allowlisted lexer, blocks as long as the cap allows: 8x the blocks, ~8x the cost."""
    small = hostile_fences(language, FENCED[render] - 1)  # the content ends with its newline
    assert '<div class="highlight">' in render(small)
    ratio = growth(render, small, small * 8)
    assert ratio < MAX_RATIO_8N, f"{language}: 8x the code cost {ratio:.1f}x"


def test_code_longer_than_the_cap_is_plain_escaped() -> None:
    code = "x = '<b>'\n" * (COMMENT_HIGHLIGHT_MAX_CHARS // 10 + 1)
    html = render_comment_markdown(f"```python\n{code}```")
    assert html == f"<pre><code>{code.replace('<', '&lt;').replace('>', '&gt;')}</code></pre>\n"
    assert render_lesson_body(f"```python\n{code}```").startswith('<div class="highlight">')


@pytest.mark.parametrize("language", ["easytrieve", "systemd", "autohotkey", "no-such", "py2"])
def test_a_language_off_the_allowlist_is_plain_escaped(language: str) -> None:
    html = render_comment_markdown(f"```{language}\n<a>\t\n```")
    assert html == "<pre><code>&lt;a&gt;\t\n</code></pre>\n"


def test_aliases_of_allowlisted_languages_are_highlighted() -> None:
    for alias in ("py", "C++", "sh", "js", "golang", "dockerfile", "yml"):
        assert highlight_lexer(alias) is not None, alias
    assert highlight_lexer("easytrieve") is None


def test_markdown_code_does_not_highlight_the_fences_inside_it() -> None:
    """Markdown's lexer would otherwise run the lexer a nested fence names (easytrieve, say)."""
    assert highlight_lexer("md").handlecodeblocks is False


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
