"""The passage shown for a hit, with what matched in <mark>: cut from the document's plain
text, each piece escaped here (never a pattern run over rendered HTML)."""

from __future__ import annotations

import re

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from forum.search.tokenizer import CJK, Term, fold

# A character that is part of a Latin word or number (CJK characters are alphanumeric too).
_WORD = rf"(?![{CJK}])[^\W_]"
_SEPARATORS = r"[\W_]*?"


def _pattern(term: Term) -> str:
    pieces = []
    for segment, is_cjk in term.segments:
        if is_cjk:
            pieces.append(re.escape(segment))
        else:  # a whole word: no word character before it, nor one (or a + or #) after it
            boundary = rf"(?:(?<=[{CJK}])|(?<![^\W_]))"
            pieces.append(rf"{boundary}{re.escape(segment)}(?![+#]|{_WORD})")
    return _SEPARATORS.join(pieces)


def matches(text: str, terms: list[Term]) -> list[tuple[int, int]]:
    """Where the terms occur in `text`: (start, end) in the text as written, in order."""
    if not terms or not text:
        return []
    folded, owner = [], []
    for index, char in enumerate(text):
        piece = fold(char)
        folded.append(piece)
        owner.extend([index] * len(piece))
    pattern = re.compile("|".join(f"(?:{_pattern(term)})" for term in terms))
    spans = []
    for found in pattern.finditer("".join(folded)):
        if found.end() > found.start():
            spans.append((owner[found.start()], owner[found.end() - 1] + 1))
    return spans


def _marked(text: str, spans: list[tuple[int, int]], start: int, end: int) -> SafeString:
    """text[start:end] with each span in <mark>, every piece escaped by format_html_join."""
    pieces, at = [], start
    for left, right in spans:
        left, right = max(left, at), min(right, end)
        if left >= right:
            continue
        pieces.append((text[at:left], text[left:right]))
        at = right
    marked = format_html_join("", "{}<mark>{}</mark>", pieces)
    return format_html("{}{}", marked, text[at:end])


def snippet(text: str, terms: list[Term], *, length: int = 160, before: int = 50) -> SafeString:
    """About `length` characters of `text` around its first match (its start without one),
    with every match in the window marked and "…" where text was left out."""
    spans = matches(text, terms)
    first = spans[0][0] if spans else 0
    start = max(0, first - before)
    end = min(len(text), start + length)
    start = max(0, min(start, end - length))
    body = _marked(text, spans, start, end)
    return format_html("{}{}{}", "…" if start > 0 else "", body, "…" if end < len(text) else "")


def highlighted(text: str, terms: list[Term]) -> SafeString:
    """All of a short `text` (a title, a heading) with its matches marked."""
    return _marked(text, matches(text, terms), 0, len(text))
