"""Print what becomes of comments on blocks when lessons are revised, over pairs of revisions.

For each folder `NAME-rXXXX` of the corpus given (older revisions of the pages in `NAME`), each
page is paired with the page of the same file name in `NAME`: one comment is put on every block
of the older revision and moved to the newer one as an import would (forum.anchoring). The
shares of comments that stay on an unchanged block, move to an edited one ("modified") or lose
theirs ("orphaned") are printed per folder and in all; any comment lost, or put on a block that
is not its own lesson's, is counted and makes the exit status 1. Reads files only: no database.

    manage.py anchor_shares ../shared/corpus
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from forum.anchoring import MODIFIED, ORPHANED, UNCHANGED, block_moves
from forum.importing.source import SourceError, parse_page
from lessons.rendering import lesson_blocks, lesson_units, render_lesson_body

_REVISION_FOLDER = re.compile(r"(?P<base>.+)-r[0-9a-f]{6,40}")
OUTCOMES = (UNCHANGED, MODIFIED, ORPHANED)


def page_blocks(path: Path) -> dict[str, str]:
    """The blocks (anchor → text) of the article of the page at `path`."""
    page = parse_page(path.read_bytes(), name=path.name)
    return lesson_blocks(lesson_units(render_lesson_body(page.body_markdown)))


def revision_pairs(root: Path) -> dict[str, list[tuple[Path, Path | None]]]:
    """Folder name → (older page, newer page) for every page of a `-r…` folder of `root`; the
    newer page is its namesake in the folder it revises, None where that folder lacks it."""
    pairs: dict[str, list[tuple[Path, Path | None]]] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        match = _REVISION_FOLDER.fullmatch(folder.name)
        base = root / match["base"] if match else None
        if base is None or not base.is_dir():
            continue
        pairs[folder.name] = [
            (old, base / old.name if (base / old.name).is_file() else None)
            for old in sorted(folder.iterdir())
            if old.is_file()
        ]
    return pairs


def pair_outcomes(old: dict[str, str], new: dict[str, str]) -> tuple[Counter, int]:
    """The outcomes of one comment on each block of `old` moved to `new`, and how many of those
    comments were lost or put on a block that `new` does not have."""
    moves = block_moves(old, new, old)
    outcomes = Counter(move.outcome for move in moves.values())
    wrong = len(old) - len(moves)
    wrong += sum(1 for m in moves.values() if m.outcome != ORPHANED and m.anchor not in new)
    return outcomes, wrong


def shares(outcomes: Counter) -> str:
    total = sum(outcomes.values()) or 1
    return "  ".join(
        f"{name} {outcomes[name] / total:6.1%} ({outcomes[name]})" for name in OUTCOMES
    )


class Command(BaseCommand):
    help = "Shares of comments on blocks kept, moved and orphaned over the corpus's revisions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("corpus", help="A folder holding NAME/ and NAME-rXXXX/ folders.")

    def handle(self, *args, corpus: str, **options) -> None:
        root = Path(corpus)
        if not root.is_dir():
            raise CommandError(f"{corpus} is not a folder")
        pairs = revision_pairs(root)
        if not pairs:
            raise CommandError(f"{corpus} holds no NAME-rXXXX folder beside its NAME folder")
        total, wrong_total = Counter(), 0
        for folder, folder_pairs in pairs.items():
            outcomes, wrong, skipped, unpaired = Counter(), 0, 0, 0
            for old_path, new_path in folder_pairs:
                if new_path is None:
                    unpaired += 1
                    continue
                try:
                    old, new = page_blocks(old_path), page_blocks(new_path)
                except SourceError as error:
                    self.stderr.write(f"skipped {old_path.name}: {error}")
                    skipped += 1
                    continue
                found, lost = pair_outcomes(old, new)
                outcomes += found
                wrong += lost
            pages = len(folder_pairs) - skipped - unpaired
            self.stdout.write(
                f"{folder}: {pages} pairs ({unpaired} pages without their newer revision), "
                f"{sum(outcomes.values())} comments: {shares(outcomes)}"
                f"; lost or on another lesson's block: {wrong}"
            )
            total += outcomes
            wrong_total += wrong
        self.stdout.write(
            f"all: {sum(total.values())} comments: {shares(total)}"
            f"; lost or on another lesson's block: {wrong_total}"
        )
        if wrong_total:
            raise CommandError(f"{wrong_total} comments lost or on another lesson's block")
