"""Broken pages and failed writes: one clear line per page, and the database as it was."""

from __future__ import annotations

import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import DataError

from forum.importing import service
from forum.models import Comment
from lessons.models import Lesson
from tests.forum.import_helpers import SEED, row_counts, run_import

pytestmark = pytest.mark.django_db

SEED_TEXT = SEED.read_text(encoding="utf-8")


def seed_with(old: str, new: str) -> bytes:
    assert SEED_TEXT.count(old) == 1
    return SEED_TEXT.replace(old, new).encode()


def cut_inside_an_item() -> bytes:
    """The seed, ending halfway through the text of its 7th comment."""
    start = SEED_TEXT.index("<span>蒋波</span>")
    return SEED_TEXT[: start + 60].encode()


def control_characters() -> bytes:
    """Valid UTF-8 that is still not text: mostly C0 control characters."""
    rng = random.Random(20240607)
    return bytes(rng.choice([*range(1, 9), *range(14, 32)]) for _ in range(2048))


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)) * 8

# name: (page bytes, what the one-line error must say after the file name)
BROKEN_PAGES: dict[str, tuple[Callable[[], bytes], str]] = {
    "empty file": (lambda: b"", r"empty page"),
    "random bytes": (
        lambda: random.Random(7).randbytes(4096),
        r"line \d+: not UTF-8 text \(byte 0x[0-9a-f]{2}\)",
    ),
    "png image": (lambda: PNG, r"line 1: not UTF-8 text \(byte 0x89\)"),
    "control characters": (control_characters, r"line 1: binary data, not a text page"),
    "truncated comment": (
        cut_inside_an_item,
        r"item 7 \(line \d+\): comment is cut off \(<li> without </li>\)",
    ),
    "truncated comment list": (
        lambda: SEED_TEXT[: SEED_TEXT.index("<li>", SEED_TEXT.index("<span>蒋波</span>"))].encode(),
        r"line \d+: comment list cut off after 7 of 18 items",
    ),
    "non-numeric likes": (
        lambda: seed_with("<span>干就完了</span> 👍（6）", "<span>干就完了</span> 👍（六）"),
        r"item 2 \(line \d+\): likes '六' is not a whole number",
    ),
    "likes with a thousands separator": (
        lambda: seed_with("<span>干就完了</span> 👍（6）", "<span>干就完了</span> 👍（4,230）"),
        r"item 2 \(line \d+\): likes '4,230' is not a whole number",
    ),
    "NUL byte in the article": (
        lambda: seed_with("2022年11月底", "2022年\x0011月底"),
        r"line 3: NUL byte outside the comments",
    ),
    "NUL byte in the comment markup": (
        lambda: seed_with("<span>TableBear</span>", "<span>Table\x00Bear</span\x00>"),
        r"item 6 \(line \d+\): expected <span>NAME</span> 👍（LIKES） 💬（REPLIES）",
    ),
    "GB18030 encoding": (
        lambda: SEED_TEXT.encode("gb18030"),
        r"line 1: not UTF-8 text \(byte 0x[0-9a-f]{2}\)",
    ),
    "UTF-16 encoding": (
        lambda: SEED_TEXT.encode("utf-16"),
        r"line 1: not UTF-8 text \(byte 0xff\)",
    ),
}


@pytest.fixture
def seeded() -> dict[str, int]:
    """The seed imported, so that "unchanged" is about real rows; returns the row counts."""
    assert run_import(SEED).error is None
    return row_counts()


def broken_page(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "课程" / f"02-{kind}.md"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(BROKEN_PAGES[kind][0]())
    return path


@pytest.mark.parametrize("kind", BROKEN_PAGES)
def test_broken_page_is_refused_in_one_line_naming_file_and_place(
    kind: str, tmp_path: Path, seeded: dict[str, int]
) -> None:
    page = broken_page(tmp_path, kind)

    run = run_import(page)

    assert run.error is not None
    assert run.error.returncode != 0
    assert str(run.error) == f"import stopped at {page}"
    [line] = run.stderr.splitlines()
    assert re.fullmatch(rf"error: {re.escape(str(page))}: {BROKEN_PAGES[kind][1]}.*", line)
    assert row_counts() == seeded


@pytest.mark.parametrize("kind", ["truncated comment", "NUL byte in the article"])
def test_broken_page_after_a_good_one_keeps_the_good_one_with_keep_going(
    kind: str, tmp_path: Path
) -> None:
    good = tmp_path / "课程" / "01-好的一课.md"
    good.parent.mkdir()
    shutil.copy(SEED, good)
    broken = broken_page(tmp_path, kind)

    run = run_import(tmp_path / "课程", "--keep-going")

    assert str(run.error) == "1 of 2 pages failed"
    assert [line.split(": ")[1] for line in run.error_lines] == [str(broken)]
    assert "lessons: 1 created" in run.stdout
    assert "1 failed" in run.stdout
    assert list(Lesson.objects.values_list("title", flat=True)) == ["好的一课"]
    assert row_counts() == {
        "Course": 1,
        "Lesson": 1,
        "Member": 19,
        "Comment": 18,
    }  # 18 commenters, the teacher


def test_broken_page_without_keep_going_stops_before_the_pages_after_it(tmp_path: Path) -> None:
    broken_page(tmp_path, "empty file")
    shutil.copy(SEED, tmp_path / "课程" / "03-后面的一课.md")
    run = run_import(tmp_path / "课程")
    assert run.error is not None
    assert set(row_counts().values()) == {0}


def fail_after_comments(monkeypatch: pytest.MonkeyPatch, *, title: str) -> None:
    """Make the import of the lesson called `title` fail once its comments are written."""
    original = service._import_comments

    def import_then_fail(lesson, page, teacher, rendered, result) -> None:
        original(lesson, page, teacher, rendered, result)
        if lesson.title == title:
            raise DataError("value too long for type character varying(64)\nDETAIL: simulated")

    monkeypatch.setattr(service, "_import_comments", import_then_fail)


def test_page_whose_write_fails_midway_leaves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    fail_after_comments(monkeypatch, title="洞察本质：从工程学角度看ChatGPT为什么会崛起")
    run = run_import(SEED)
    assert run.error is not None
    assert run.error_lines == [
        f"error: {SEED}: value too long for type character varying(64) DETAIL: simulated"
    ]
    assert set(row_counts().values()) == {0}


def test_failed_write_of_a_newer_revision_leaves_the_lesson_as_it_was(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert run_import(SEED).error is None
    lesson = Lesson.objects.get()
    counts = row_counts()
    newer = tmp_path / SEED.parent.name / SEED.name
    newer.parent.mkdir()
    newer.write_bytes(seed_with("<span>干就完了</span> 👍（6）", "<span>干就完了</span> 👍（60）"))
    fail_after_comments(monkeypatch, title=lesson.title)

    run = run_import(newer)

    assert run.error is not None
    assert row_counts() == counts
    assert Lesson.objects.get().source_digest == lesson.source_digest
    assert Comment.objects.get(member__display_name="干就完了").like_count == 6


def test_failed_write_with_keep_going_goes_on_with_the_next_page(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "课程"
    folder.mkdir()
    shutil.copy(SEED, folder / "01-写入失败.md")
    shutil.copy(SEED, folder / "02-写入成功.md")
    fail_after_comments(monkeypatch, title="写入失败")

    run = run_import(folder, "--keep-going")

    assert str(run.error) == "1 of 2 pages failed"
    assert len(run.error_lines) == 1
    assert "01-写入失败.md: value too long" in run.error_lines[0]
    assert list(Lesson.objects.values_list("title", flat=True)) == ["写入成功"]
    assert row_counts() == {
        "Course": 1,
        "Lesson": 1,
        "Member": 19,
        "Comment": 18,
    }  # 18 commenters, the teacher
