"""export_lesson --output: every lesson once, every file inside the folder, nothing overwritten."""

from __future__ import annotations

import errno
import os
import unicodedata
from pathlib import Path

import pytest

from forum.importing.export_files import MAX_NAME_BYTES, export_paths
from forum.importing.filenames import lesson_name_from_filename
from forum.importing.source import parse_page
from lessons.models import Lesson
from tests.factories import CourseFactory, LessonFactory
from tests.forum.import_helpers import run_command

pytestmark = pytest.mark.django_db

CJK_90 = "云原生架构" * 18  # 90 characters, 270 bytes in UTF-8


def unnumbered(course, **fields) -> Lesson:
    return LessonFactory(course=course, number=None, position=0, **fields)


def export_all(output: Path, *args: str):
    return run_command("export_lesson", "--all", "--output", str(output), *args)


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def assert_each_lesson_once(output: Path) -> None:
    """One file per lesson, inside `output`, holding that lesson's article."""
    files = files_under(output)
    assert len(files) == Lesson.objects.count()
    root = output.resolve()
    assert all(f.resolve().is_relative_to(root) and f.parent.parent == output for f in files)
    bodies = sorted(parse_page(f.read_bytes()).body_markdown for f in files)
    assert bodies == sorted(Lesson.objects.values_list("body_markdown", flat=True))


def test_course_titled_dot_dot_is_exported_inside_the_output(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "README.md").write_text("the project's own README")
    course = CourseFactory(title="..", slug="course")
    unnumbered(course, title="README", body_markdown="dot dot")
    unnumbered(CourseFactory(title="."), title="..", body_markdown="dot")

    run = export_all(project / "exported")

    assert run.error is None, run.stderr
    assert (project / "README.md").read_text() == "the project's own README"
    assert sorted(p.name for p in project.iterdir()) == ["README.md", "exported"]
    assert_each_lesson_once(project / "exported")
    assert not any(part.startswith(".") for f in files_under(project) for part in f.parts[-2:])


def test_titles_that_clean_to_one_name_get_a_file_each(tmp_path: Path) -> None:
    course = CourseFactory(title="课程")
    unnumbered(course, title="x|y", slug="x-y", body_markdown="pipe")
    unnumbered(course, title="x_y", slug="x_y", body_markdown="score")

    run = export_all(tmp_path)

    assert run.error is None, run.stderr
    assert "2 lessons exported" in run.stdout and "2 written" in run.stdout
    assert_each_lesson_once(tmp_path)
    # The exact name goes to the lesson it reads back as; the other one is told apart by a hash.
    names = {f.name: parse_page(f.read_bytes()).body_markdown for f in files_under(tmp_path)}
    assert names["x_y.md"] == "score"
    assert next(name for name, body in names.items() if body == "pipe").startswith("x_y~")


def test_names_differing_only_in_case_get_a_file_each(tmp_path: Path) -> None:
    course = CourseFactory(title="课程")
    LessonFactory(course=course, number=1, title="Go", slug="01-go-a", body_markdown="upper")
    LessonFactory(course=course, number=1, title="go", slug="01-go-b", body_markdown="lower")

    assert export_all(tmp_path).error is None
    assert_each_lesson_once(tmp_path)


def test_ninety_character_cjk_titles_are_cut_to_255_bytes(tmp_path: Path) -> None:
    course = CourseFactory(title=CJK_90)
    LessonFactory(course=course, number=7, title=CJK_90, body_markdown="long")
    LessonFactory(course=course, number=8, title="短", body_markdown="short")

    run = export_all(tmp_path)

    assert run.error is None, run.stderr
    assert_each_lesson_once(tmp_path)
    for file in files_under(tmp_path):
        for part in file.relative_to(tmp_path).parts:
            assert len(part.encode()) <= MAX_NAME_BYTES
    (folder,) = tmp_path.iterdir()
    assert folder.name.startswith("云原生架构") and "~" in folder.name
    assert {f.name[:8] for f in folder.iterdir()} == {"07-云原生架构", "08-短.md"}


def test_names_hold_no_separator_control_or_format_character() -> None:
    course = CourseFactory(title="a/b\\c")
    hostile = ["../../etc/passwd", "x\x01y", "a\nb", "\u202egnp.exe", "tab\there", ".hidden", "-rf"]
    lessons = [unnumbered(course, title=t) for t in hostile]

    paths = export_paths(lessons)

    assert len({str(p).casefold() for p in paths}) == len(lessons)
    for path in paths:
        assert len(path.parts) == 2
        for part in path.parts:
            assert part not in {".", ".."} and not part.startswith((".", "-", " "))
            assert "/" not in part and "\\" not in part
            assert all(unicodedata.category(ch)[0] in "LMNPS" or ch == " " for ch in part), part


def test_exact_names_read_back_as_their_lesson() -> None:
    course = CourseFactory(title="AI大模型实战高手课")
    lessons = [
        LessonFactory(course=course, number=1, title="洞察本质：从工程学角度看ChatGPT为什么会崛起"),
        unnumbered(course, title="开篇词 | 30-60K，转型云原生架构师"),
        LessonFactory(course=course, number=19, title="<T> & *泛型*"),
    ]

    paths = export_paths(lessons)

    assert [p.parent.name for p in paths] == ["AI大模型实战高手课"] * 3
    assert "~" not in "".join(p.name for p in paths)
    for lesson, path in zip(lessons, paths, strict=True):
        name = lesson_name_from_filename(path.name)
        assert (name.number, name.title) == (lesson.number, lesson.title)


def test_names_do_not_depend_on_the_order_of_the_lessons() -> None:
    course = CourseFactory(title="课程")
    lessons = [unnumbered(course, title=title) for title in ["a|b", "a_b", "A_B"]]
    assert export_paths(lessons) == export_paths(lessons[::-1])[::-1]


def test_exporting_again_is_idempotent(tmp_path: Path) -> None:
    LessonFactory.create_batch(3)
    assert export_all(tmp_path).error is None

    run = export_all(tmp_path)

    assert run.error is None, run.stderr
    assert "3 lessons exported" in run.stdout and "0 written, 3 unchanged" in run.stdout


def test_a_different_file_is_kept_without_force_and_the_rest_exported(tmp_path: Path) -> None:
    course = CourseFactory()
    first, _ = LessonFactory.create_batch(2, course=course)
    assert export_all(tmp_path).error is None
    (changed,) = [f for f in files_under(tmp_path) if f.name.startswith(f"{first.number:02d}-")]
    changed.write_text("edited by hand")
    LessonFactory(course=course, body_markdown="a new lesson")

    run = export_all(tmp_path)

    assert str(run.error) == "1 of 3 lessons failed"
    assert run.stderr.count("error: ") == 1 and "--force" in run.stderr
    assert changed.read_text() == "edited by hand"
    assert "1 written, 1 unchanged, 1 failed" in run.stdout
    assert sum("a new lesson" in f.read_text() for f in files_under(tmp_path)) == 1

    forced = export_all(tmp_path, "--force")

    assert forced.error is None, forced.stderr
    assert changed.read_text() != "edited by hand"
    assert_each_lesson_once(tmp_path)


def test_a_folder_that_is_a_link_out_is_refused_and_the_rest_exported(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    output = tmp_path / "exported"
    output.mkdir()
    (output / "课程甲").symlink_to(outside, target_is_directory=True)
    LessonFactory(course=CourseFactory(title="课程甲"))
    LessonFactory.create_batch(2, course=CourseFactory(title="课程乙"))

    run = export_all(output)

    assert str(run.error) == "1 of 3 lessons failed"
    assert "课程甲" in run.stderr and "not followed" in run.stderr
    assert list(outside.iterdir()) == []
    assert len(list((output / "课程乙").iterdir())) == 2


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    LessonFactory.create_batch(2)
    assert export_all(tmp_path).error is None
    assert all(f.suffix == ".md" for f in tmp_path.rglob("*") if f.is_file())


def test_a_file_that_is_a_link_out_is_never_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text("not ours")
    output = tmp_path / "exported"
    lesson = LessonFactory()
    (path,) = export_paths([lesson])
    (output / path.parent).mkdir(parents=True)
    (output / path).symlink_to(outside)

    kept = export_all(output)
    forced = export_all(output, "--force")

    assert str(kept.error) == "1 of 1 lessons failed" and "--force" in kept.stderr
    assert forced.error is None, forced.stderr
    assert outside.read_text() == "not ours"
    assert not (output / path).is_symlink()
    assert parse_page((output / path).read_bytes()).body_markdown == lesson.body_markdown


def test_a_file_system_without_hard_links_still_gets_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    LessonFactory.create_batch(2)

    assert export_all(tmp_path).error is None
    assert_each_lesson_once(tmp_path)


def test_an_output_that_is_a_file_is_one_clear_error(tmp_path: Path) -> None:
    LessonFactory()
    (tmp_path / "taken").write_text("a file")
    run = export_all(tmp_path / "taken")
    assert "taken" in str(run.error) and run.stdout == ""
