"""Block anchors of a lesson: ids made from a block's own text, so that the same text keeps the
same anchor across renders, re-imports and revisions; and how alike two blocks' texts are.

Content only: `forum` attaches comments to these anchors (forum.anchoring).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from difflib import SequenceMatcher

BLOCK_ATTRIBUTE = "data-block-id"
# "b", ten hex digits of the text's SHA-256, and "-N" for the N-th block of the same text.
BLOCK_ID = re.compile(r"b[0-9a-f]{10}(?:-[1-9][0-9]{0,5})?")

# A block whose text is at least this alike to a comment's block (difflib's ratio: twice the
# characters the two have in common in order over their total length) is that block, edited.
# An edited sentence in a paragraph keeps 0.8–0.95 of it; two unrelated paragraphs of the same
# lesson share their common characters (的, 是, 模型 …) and reach 0.2–0.45.
SIMILAR_ENOUGH = 0.6


def normalized_text(text: str) -> str:
    """What identifies a block's text: compatibility forms folded (NFKC), runs of whitespace one
    space, no space at either end."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def block_ids(texts: Iterable[str]) -> list[str]:
    """The anchor of each block, given the texts of a document's blocks in order (normalized
    here): a digest of the text; the second and later blocks of the same text get their
    occurrence ("-2", "-3" …), so every anchor of a document is different."""
    seen: Counter[str] = Counter()
    ids = []
    for text in texts:
        digest = "b" + hashlib.sha256(normalized_text(text).encode()).hexdigest()[:10]
        seen[digest] += 1
        ids.append(digest if seen[digest] == 1 else f"{digest}-{seen[digest]}")
    return ids


def similarity(a: str, b: str) -> float:
    """How alike two blocks' texts are, from 0 to 1 (difflib's ratio of the normalized texts,
    every character counted: no character is junk)."""
    return SequenceMatcher(None, normalized_text(a), normalized_text(b), autojunk=False).ratio()


# A preview of an article cuts its last paragraph short and ends it with an ellipsis: the whole
# paragraph of the full article is that block (its ratio to the whole is often under the
# threshold: the preview kept half of it).
_CUT = re.compile(r"(?:\.{3}|…+)$")
MIN_CUT_PREFIX = 10


def cut_from(text: str, whole: str) -> bool:
    """Whether `text` is `whole` cut short with an ellipsis (both normalized)."""
    stem = _CUT.sub("", text)
    return stem != text and len(stem) >= MIN_CUT_PREFIX and whole.startswith(stem)


def most_similar(text: str, candidates: dict[str, str]) -> tuple[str, float] | None:
    """The anchor in `candidates` (anchor → text, in document order) whose text is most like
    `text`, if at least SIMILAR_ENOUGH; the first of equals. The first whose text `text` was
    cut from (`cut_from`) comes before any. Cheap upper bounds skip the candidates that cannot
    reach the best so far."""
    best: tuple[str, float] | None = None
    wanted = normalized_text(text)
    for anchor, candidate in candidates.items():
        if cut_from(wanted, normalized_text(candidate)):
            return (anchor, 1.0)
    for anchor, candidate in candidates.items():
        matcher = SequenceMatcher(None, wanted, normalized_text(candidate), autojunk=False)
        floor = best[1] if best else SIMILAR_ENOUGH
        if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
            continue
        ratio = matcher.ratio()
        if ratio >= floor and (best is None or ratio > best[1]):
            best = (anchor, ratio)
    return best
