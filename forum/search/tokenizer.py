"""The one tokenizer of search, for documents and queries alike, on both databases.

Chinese has no spaces, and a dictionary segmenter misses the words it does not know, so every
run of CJK characters becomes its overlapping two-character tokens (bigrams) and the run's last
character on its own: 缓存穿透 → 缓存 存穿 穿透 透. A query of two or more characters is then the
phrase of its bigrams, which matches exactly where the text holds it as a substring; a
one-character query matches every token that starts with it (each character of a run starts
a bigram or is the run's last one), so 锁 finds every 锁. Latin words and numbers stay whole
and lower-cased, with the `+` and `#` that end them (C++, C#, the B+ of B+树); everything else
separates tokens. Text is NFKC-normalized and case-folded first: ＲＥＤＩＳ is redis.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Han (with its extensions and compatibility ideographs), 々 and 〇, kana and Hangul: scripts
# written without spaces between words.
CJK = (
    "\u3005\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0003134f"
)
_TOKENS = re.compile(rf"(?P<cjk>[{CJK}]+)|(?P<word>(?:(?![{CJK}])[^\W_])+[+#]*)")
# The longest query searched; what follows is left out (and the page says so).
MAX_QUERY_LENGTH = 100


def fold(text: str) -> str:
    """Full-width and half-width forms, ligatures and case folded the same way everywhere."""
    return unicodedata.normalize("NFKC", text).casefold()


def _segments(folded: str) -> list[tuple[str, bool]]:
    """The runs of folded text that make tokens: (text, is_cjk)."""
    return [(m.group(), m.lastgroup == "cjk") for m in _TOKENS.finditer(folded)]


def _run_tokens(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)] + [run[-1]]


def document_tokens(text: str) -> list[str]:
    """The tokens of a document's text, in order: what the index stores."""
    tokens: list[str] = []
    for segment, is_cjk in _segments(fold(text)):
        tokens.extend(_run_tokens(segment) if is_cjk else [segment])
    return tokens


@dataclass(frozen=True)
class Token:
    text: str
    prefix: bool = False  # matches every indexed token that starts with `text`


@dataclass(frozen=True)
class Term:
    """One space-separated part of a query: a phrase of tokens that must appear in order."""

    text: str  # as typed, folded
    tokens: tuple[Token, ...]
    segments: tuple[tuple[str, bool], ...]  # for marking the match in a snippet


def _term(text: str) -> Term | None:
    segments = _segments(text)
    tokens: list[Token] = []
    for index, (segment, is_cjk) in enumerate(segments):
        followed = index < len(segments) - 1
        if not is_cjk:
            tokens.append(Token(segment))
        elif len(segment) == 1 and not followed:
            # The run may go on in the text: any token that starts with the character.
            tokens.append(Token(segment, prefix=True))
        elif followed:
            # Something else follows in the query, so the text's run must end here: its last
            # character's own token is next.
            tokens.extend(Token(t) for t in _run_tokens(segment))
        else:
            tokens.extend(Token(t) for t in _run_tokens(segment)[:-1])
    if not tokens:
        return None
    return Term(text=text, tokens=tuple(tokens), segments=tuple(segments))


def query_terms(query: str) -> list[Term]:
    """The terms of a query (at most MAX_QUERY_LENGTH characters are read): each must match,
    as a phrase. Whatever looks like syntax (quotes, `*`, `NEAR(`, `-`, `:`) is a separator."""
    terms: list[Term] = []
    seen: set[tuple[Token, ...]] = set()
    for part in fold(query[:MAX_QUERY_LENGTH]).split():
        term = _term(part)
        if term is not None and term.tokens not in seen:
            seen.add(term.tokens)
            terms.append(term)
    return terms
