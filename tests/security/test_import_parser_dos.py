"""Crafted pages cannot make the importer's parser a denial of service.

Each case is parsed at n and 8n bytes in the same test (best of three, serially) and the
time ratio must stay under 16 (linear is ~8, quadratic ~64). Before the parser read items with
small tokenizers, an item followed by 2,000 spaces and a `<` took 8.4 s, 40 KB of `<img ` 3.3 s
(before/after here: 1,000 spaces 1.8 s / 0.3 ms; 6,000 unclosed GeekTime text markers 6.3 s /
0.9 ms; 40 KB of `<img ` 5.0 s / 1 ms; 40,000 warnings 36 s / 0.8 s).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest

from forum.importing.filenames import lesson_name_from_filename
from forum.importing.source import SourceError, parse_page
from tests.security.timing import cpu_cost

MAX_RATIO = 16
SMALL_BYTES = 24_000
HEADER = "<div><strong>精选留言（1）</strong></div><ul>\n"
ITEM = "<span>a</span> 👍（1） 💬（0）<div>b</div>2024-06-07"
NAME = '<div class="_2zFoi7sd_0"><span>a</span></div>'
TEXT = '<div class="_2_QraFYR_0">x</div>'
DATE = '<div class="_3Hkula0k_0">2020-11-25</div>'


def markdown(item: str) -> bytes:
    return f"# a\n{HEADER}<li>{item}</li></ul>".encode()


def geektime(item: str) -> bytes:
    return f'<p>a</p>\n<ul><li><div class="_2sjJGcOH_0">{item}</li></ul>'.encode()


def markdown_items(n: int, avatar: str) -> bytes:
    items = f'<li><img src="{avatar}"><span>a</span> 👍（1） 💬（0）<p>b</p>2024-06-07</li>\n' * n
    return f"# a\n<div><strong>精选留言（{n}）</strong></div><ul>\n{items}</ul>".encode()


# name: a page of about n repeated units
CASES: dict[str, Callable[[int], bytes]] = {
    "item, spaces, <": lambda n: markdown(ITEM + " " * n + "<"),
    "item without a date, spaces, <": lambda n: markdown(ITEM[:-10] + " " * n + "<"),
    "item, spaces, date, spaces, <": lambda n: markdown(ITEM + " " * n + "1 " * n + "<"),
    "leading whitespace in an item": lambda n: markdown(" " * n + "x"),
    "spaces between the fields": lambda n: markdown(
        "<span>a</span>" + " " * n + "👍（1）" + " " * n + "x"
    ),
    "repeated </span> in a name": lambda n: markdown("<span>" + "</span> " * n),
    "repeated closing tags in a text": lambda n: markdown(ITEM[:-10] + "</div>x" * n + "<"),
    "unclosed text markers": lambda n: geektime(NAME + '<div class="_2_QraFYR_0">x' * n),
    "unclosed name markers": lambda n: geektime('<div class="_2zFoi7sd_0"> <span>' * n),
    "unclosed reply markers": lambda n: geektime(
        NAME + TEXT + DATE + '<p class="_3KxQPN3V_0">x' * n
    ),
    "<img without >": lambda n: geektime(NAME + TEXT + DATE + "<img " * n),
    "<img > without src": lambda n: geektime(NAME + TEXT + DATE + "<img >" * n),
    "< in a text": lambda n: geektime(NAME + '<div class="_2_QraFYR_0">' + "<" * n),
    "< in a text, closed": lambda n: geektime(
        NAME + '<div class="_2_QraFYR_0">' + "<" * n + "</div>" + DATE
    ),
    "a warning per comment": lambda n: markdown_items(n, avatar="ftp://x"),
    "unclosed style": lambda n: f"<p>a</p>{'<style>   ' * n}".encode(),
}


def cost(work: Callable[[object], object], argument: object) -> float:
    """Parses take a few milliseconds: samples of 50 ms, so one is not doubled by a hiccup."""
    return cpu_cost(work, argument, sample=0.05)


def parse(data: bytes) -> None:
    with contextlib.suppress(SourceError):
        parse_page(data)


@pytest.mark.parametrize("case", CASES)
def test_parsing_cost_grows_about_linearly(case: str) -> None:
    make = CASES[case]
    # About 24 KB and 192 KB, whatever the unit: small enough for the processor's caches.
    n = SMALL_BYTES * 100 // (len(make(100)) - len(make(0)))
    small, large = make(n), make(8 * n)
    ratio = cost(parse, large) / cost(parse, small)
    assert ratio < MAX_RATIO, f"{case}: {len(large)} bytes cost {ratio:.1f}x {len(small)}"


def test_40000_warnings_are_positioned_in_linear_time() -> None:
    """Each warning used to count the lines from the start of the page: 40,000 took > 20 s."""
    page = parse_page(markdown_items(40_000, avatar="ftp://x"))
    assert len(page.warnings) == 40_000
    assert page.warnings[-1].startswith("item 40000 (line 40002): avatar")
    ratio = cost(parse, markdown_items(40_000, avatar="ftp://x")) / cost(
        parse, markdown_items(5_000, avatar="ftp://x")
    )
    assert ratio < MAX_RATIO


@pytest.mark.parametrize(
    "make",
    [
        lambda n: "1" * n + "-入门.md",
        lambda n: "第" + "1" * n + "讲 " + "x" * n,
        lambda n: "1" * n + "_" + "a" * n + "入门",
        lambda n: "a" * 16 + " " * n + "x",
    ],
    ids=["digits", "numbered", "machine id", "label and spaces"],
)
def test_file_name_cost_grows_about_linearly(make: Callable[[int], str]) -> None:
    ratio = cost(lesson_name_from_filename, make(8_000)) / cost(
        lesson_name_from_filename, make(1_000)
    )
    assert ratio < MAX_RATIO
