"""Revisions of a lesson's body: stored when an import or the admin changes it, and compared.

`revision_record` stores the body a lesson has now as its next revision; `revision_diff`
compares two revisions block by block (lessons.anchors), and the words of a block that changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from django.db import transaction
from django.db.models import F

from lessons.anchors import SIMILAR_ENOUGH, similarity
from lessons.models import Lesson, LessonRevision


@transaction.atomic
def revision_record(*, lesson: Lesson, source_ref: str = "") -> LessonRevision:
    """Store `lesson`'s body (as saved) as its next revision, which becomes its current one."""
    Lesson.objects.filter(pk=lesson.pk).update(revision_number=F("revision_number") + 1)
    lesson.revision_number = Lesson.objects.values_list("revision_number", flat=True).get(
        pk=lesson.pk
    )
    return LessonRevision.objects.create(
        lesson=lesson,
        number=lesson.revision_number,
        source_ref=source_ref[:1000],
        body_markdown=lesson.body_markdown,
        body_html=lesson.body_html,
        body_blocks=lesson.body_blocks,
    )


# Latin words and numbers stay whole; every other character (a Chinese one, a mark) and each
# run of whitespace is a piece of its own.
_PIECE = re.compile(r"[A-Za-z0-9_]+|\s+|.", re.DOTALL)


@dataclass(frozen=True)
class Piece:
    kind: str  # "same", "deleted" or "added"
    text: str


@dataclass
class DiffRow:
    kind: str  # "same", "deleted", "added" or "changed"; "folded": `rows`, unchanged
    old_id: str = ""
    new_id: str = ""
    pieces: list[Piece] = field(default_factory=list)
    rows: list[DiffRow] = field(default_factory=list)


# Unchanged blocks shown around a change; longer runs of them are folded (a <details>).
CONTEXT = 1


def folded(rows: list[DiffRow], context: int = CONTEXT) -> list[DiffRow]:
    """`rows` with each run of two or more unchanged blocks farther than `context` blocks from
    any change folded into one "folded" row holding them."""
    changes = [i for i, row in enumerate(rows) if row.kind != "same"]
    near = {j for i in changes for j in range(i - context, i + context + 1)}
    result: list[DiffRow] = []
    run: list[DiffRow] = []
    for i, row in enumerate([*rows, None]):
        if row is not None and row.kind == "same" and i not in near:
            run.append(row)
            continue
        result += [DiffRow("folded", rows=run)] if len(run) > 1 else run
        run = []
        if row is not None:
            result.append(row)
    return result


def text_diff(old: str, new: str) -> list[Piece]:
    """`old` → `new` as pieces kept, deleted and added, neighbours of one kind joined."""
    a, b = _PIECE.findall(old), _PIECE.findall(new)
    pieces: list[Piece] = []

    def add(kind: str, parts: list[str]) -> None:
        if not parts:
            return
        if pieces and pieces[-1].kind == kind:
            pieces[-1] = Piece(kind, pieces[-1].text + "".join(parts))
        else:
            pieces.append(Piece(kind, "".join(parts)))

    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            add("same", a[i1:i2])
        else:
            add("deleted", a[i1:i2])
            add("added", b[j1:j2])
    return pieces


def revision_diff(old: dict[str, str], new: dict[str, str]) -> list[DiffRow]:
    """Two revisions' blocks (anchor → text, in order) compared: blocks kept, deleted, added,
    and changed (a deleted block and an added one in the same place at least SIMILAR_ENOUGH
    alike), the changed ones with the pieces of their text."""
    old_ids, new_ids = list(old), list(new)
    rows: list[DiffRow] = []
    matcher = SequenceMatcher(None, old_ids, new_ids, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows += [DiffRow("same", a, a, [Piece("same", old[a])]) for a in old_ids[i1:i2]]
            continue
        gone, added = old_ids[i1:i2], new_ids[j1:j2]
        while gone or added:
            if gone and added and similarity(old[gone[0]], new[added[0]]) >= SIMILAR_ENOUGH:
                a, b = gone.pop(0), added.pop(0)
                rows.append(DiffRow("changed", a, b, text_diff(old[a], new[b])))
            elif gone:
                a = gone.pop(0)
                rows.append(DiffRow("deleted", a, "", [Piece("deleted", old[a])]))
            else:
                b = added.pop(0)
                rows.append(DiffRow("added", "", b, [Piece("added", new[b])]))
    return rows
