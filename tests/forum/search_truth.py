"""What search must find, decided from the text alone: the truth the search tests compare with."""

from __future__ import annotations

import re

from forum.search.tokenizer import CJK, fold

_CJK_RUN = re.compile(f"[{CJK}]+")
_CJK_CHAR = re.compile(f"[{CJK}]")


def _word_char(char: str) -> bool:
    return char.isalnum() and not _CJK_CHAR.match(char)


def contains_folded(text: str, term: str) -> bool:
    """Whether folded `text` holds folded `term`: a run of Chinese characters anywhere; a Latin
    word or number as a whole word (no letter or digit before it, nor one, a + or a # after)."""
    if _CJK_RUN.fullmatch(term):
        return term in text
    for found in re.finditer(re.escape(term), text):
        before = text[found.start() - 1] if found.start() else ""
        after = text[found.end()] if found.end() < len(text) else ""
        if not _word_char(before) and not _word_char(after) and after not in ("+", "#"):
            return True
    return False


def contains_all(text: str, query: str) -> bool:
    """Every space-separated term of `query` in `text`, both folded first."""
    text = fold(text)
    return all(contains_folded(text, term) for term in fold(query).split())
