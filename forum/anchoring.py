"""Comments on a block of a lesson, and what becomes of them when the lesson is revised.

A comment on a block keeps the block's anchor (lessons.anchors). When an import or an admin edit
changes the lesson, each anchor that comments are on is looked up in the new revision: the same
anchor is the same text (the comments stay); else the most similar block of the new revision, if
at least `SIMILAR_ENOUGH` alike, is that block edited (they move to it, marked "modified"); else
the block is gone (they stay with their quote, marked "orphaned"). Candidates for an edited block
are the new revision's blocks that the old one did not have: a block that was already there is
not another one's edit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count

from forum.models import AnchorState, Comment
from lessons.anchors import most_similar, normalized_text
from lessons.models import Lesson

UNCHANGED, MODIFIED, ORPHANED = "unchanged", "modified", "orphaned"


@dataclass(frozen=True)
class Move:
    """Where the comments on one anchor go: `anchor` in the new revision ("" when gone)."""

    outcome: str  # UNCHANGED, MODIFIED or ORPHANED
    anchor: str


def block_moves(
    old: dict[str, str], new: dict[str, str], anchors: Iterable[str]
) -> dict[str, Move]:
    """For each of `anchors` (of comments), its Move from the revision whose blocks are `old`
    to the one whose blocks are `new` (anchor → text, in document order). An anchor
    in neither (its block was gone before) stays gone."""
    fresh = {anchor: text for anchor, text in new.items() if anchor not in old}
    moves = {}
    for anchor in dict.fromkeys(anchors):
        if anchor in new:
            moves[anchor] = Move(UNCHANGED, anchor)
        elif anchor in old and (match := most_similar(old[anchor], fresh)):
            # The same text under another anchor (a renderer that names blocks differently) is
            # the same block; other text is the block edited.
            same = normalized_text(fresh[match[0]]) == normalized_text(old[anchor])
            moves[anchor] = Move(UNCHANGED if same else MODIFIED, match[0])
        else:
            moves[anchor] = Move(ORPHANED, "")
    return moves


def comments_reattach(*, lesson: Lesson, old_blocks: dict[str, str]) -> Counter:
    """Move the comments on the blocks of `lesson`'s previous body (`old_blocks`) to its new
    one (inside the import's transaction; the import moves the page stamp and reindexes them).
    Returns how many comments were unchanged, modified and orphaned. One UPDATE per anchor
    whose block changed."""
    on_blocks = (
        Comment.objects.for_lesson(lesson)
        .exclude(block_id="")
        .values("block_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {row["block_id"]: row["n"] for row in on_blocks}
    outcomes: Counter = Counter()
    for anchor, move in block_moves(old_blocks, lesson.blocks, sorted(counts)).items():
        outcomes[move.outcome] += counts[anchor]
        comments = Comment.objects.filter(lesson=lesson, block_id=anchor)
        if move.outcome == UNCHANGED and move.anchor != anchor:
            comments.update(block_id=move.anchor)
        elif move.outcome == UNCHANGED and anchor not in old_blocks:  # a deleted block is back
            comments.filter(anchor_state=AnchorState.ORPHANED).update(
                anchor_state=AnchorState.MODIFIED
            )
        elif move.outcome == MODIFIED:
            comments.update(block_id=move.anchor, anchor_state=AnchorState.MODIFIED)
        elif move.outcome == ORPHANED:
            comments.exclude(anchor_state=AnchorState.ORPHANED).update(
                anchor_state=AnchorState.ORPHANED
            )
    return outcomes


def block_counts(lesson: Lesson) -> dict[str, int]:
    """The number of comments shown on each block of the lesson's page (published, not deleted,
    top-level, on a block of this revision), in one query."""
    rows = (
        Comment.objects.for_lesson(lesson)
        .counted()
        .top_level()
        .exclude(block_id="")
        .exclude(anchor_state=AnchorState.ORPHANED)
        .values_list("block_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return dict(rows)


def units_with_counts(units: list[dict], counts: dict[str, int]) -> list[dict]:
    """The lesson's `body_blocks` with each block's comment count (`count`), for its page."""

    def counted(block: dict) -> dict:
        return {**block, "count": counts.get(block["id"], 0)} if block.get("id") else block

    return [
        {**unit, "items": [counted(item) for item in unit["items"]]}
        if "items" in unit
        else counted(unit)
        for unit in units
    ]
