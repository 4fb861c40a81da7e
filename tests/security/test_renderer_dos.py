"""Pathological Markdown cannot make rendering a denial of service.

Every renderer's cost must grow about linearly: each case is timed (best of three, in CPU time,
so that the suite's other workers and other processes on the machine do not count) at n and 4n
characters in the same test and the ratio must stay under 10 (quadratic would be ~16). Ratios,
not absolute times, because test machines are noisy; the one absolute bound is a generous 2 s
for a comment of the maximum length, which takes under 0.3 s here.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from forum.models import Comment
from forum.services import clean_body, comment_post
from lessons.rendering import (
    MAX_HTML_DEPTH,
    cap_html_nesting,
    render_comment_markdown,
    render_lesson_body,
    render_plain_text,
)
from tests.factories import LessonFactory, MemberFactory

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
    """CPU seconds per call, best of three; fast calls are repeated to rise above timer noise."""
    started = time.thread_time()
    render(text)
    calls = max(1, int(0.005 / max(time.thread_time() - started, 1e-6)))
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            started = time.thread_time()
            for _ in range(calls):
                render(text)
            best = min(best, (time.thread_time() - started) / calls)
    finally:
        gc.enable()
    return best


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
