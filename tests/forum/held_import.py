"""`import_lesson ARGS` with its write held: run as a process of its own by
tests/forum/test_import_concurrency.py. Once the page is parsed and rendered, and before its
transaction begins, it creates the file HELD and waits until the file RELEASE exists.

    python -m tests.forum.held_import HELD RELEASE ARGS…
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import django


def main(held: Path, release: Path, args: list[str]) -> None:
    django.setup()
    from django.core.management import call_command

    from forum.management.commands.import_lesson import Command

    write = Command._write

    def held_write(self: Command, **page: object) -> object:
        held.touch()
        deadline = time.monotonic() + 120
        while not release.exists():
            if time.monotonic() > deadline:
                raise SystemExit("held_import: never released")
            time.sleep(0.02)
        return write(self, **page)

    Command._write = held_write
    call_command("import_lesson", *args)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:])
