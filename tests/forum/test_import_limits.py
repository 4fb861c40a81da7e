"""Import within bounds: files only from inside the folder given, columns' limits checked the
same on every database, lessons that slugify alike kept apart, no need for the cache."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.test import override_settings

from forum.importing import service, source
from forum.importing.filenames import lesson_name_from_filename
from forum.models import Comment, Member
from lessons.models import Course, Lesson
from tests.forum.import_helpers import row_counts, run_import

pytestmark = pytest.mark.django_db


def page(*comments: tuple[str, str], avatar: str = "") -> str:
    """A Markdown page with (name, text) comments, each with `avatar`."""
    image = f'<img src="{avatar}" width="30px">' if avatar else ""
    items = "".join(
        f"<li>{image}<span>{name}</span> 👍（1） 💬（0）<p>{text}</p>2024-06-07</li><br/>"
        for name, text in comments
    )
    header = f"<div><strong>精选留言（{len(comments)}）</strong></div>"
    return f"# 正文\n\n你好，我是老师。\n{header}<ul>\n{items}\n</ul>"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_symlink_to_a_file_outside_the_folder_is_refused_and_nothing_of_it_stored(
    tmp_path: Path,
) -> None:
    secret = write(tmp_path / "private" / "notes.md", page(("Eve", "secret text")))
    course = tmp_path / "课程"
    write(course / "01-正常.md", page(("Ann", "hello")))
    (course / "02-看这里.md").symlink_to(secret)

    run = run_import(course, "--keep-going")

    assert run.error is not None
    assert any("02-看这里.md" in line and "symbolic link" in line for line in run.error_lines)
    assert list(Lesson.objects.values_list("title", flat=True)) == ["正常"]
    assert not Comment.objects.filter(body__contains="secret").exists()
    assert not Member.objects.filter(display_name="Eve").exists()


def test_follow_symlinks_reads_a_link_inside_the_folder_but_never_one_out_of_it(
    tmp_path: Path,
) -> None:
    secret = write(tmp_path / "private" / "notes.md", page(("Eve", "secret text")))
    course = tmp_path / "课程"
    original = write(course / "store" / "a.md", page(("Ann", "hello")))
    (course / "01-链接.md").symlink_to(original)
    (course / "02-外面.md").symlink_to(secret)

    run = run_import(course, "--keep-going", "--follow-symlinks", "--course", "课程")

    assert [line for line in run.error_lines if "02-外面.md" in line]
    assert Lesson.objects.filter(title="链接").exists()
    assert not Comment.objects.filter(body__contains="secret").exists()


def test_symlinked_folder_is_not_entered(tmp_path: Path) -> None:
    write(tmp_path / "elsewhere" / "01-别处.md", page(("Eve", "secret text")))
    course = tmp_path / "课程"
    write(course / "01-正常.md", page(("Ann", "hello")))
    (course / "more").symlink_to(tmp_path / "elsewhere")

    run = run_import(course, "--keep-going")

    assert any("more" in line and "symbolic link" in line for line in run.error_lines)
    assert not Comment.objects.filter(body__contains="secret").exists()


def test_symlink_given_as_the_source_is_refused_without_follow_symlinks(tmp_path: Path) -> None:
    target = write(tmp_path / "a" / "01-正文.md", page(("Ann", "hello")))
    link = tmp_path / "01-链接.md"
    link.symlink_to(target)

    assert "symbolic link" in str(run_import(link).error)
    assert run_import(link, "--follow-symlinks", "--course", "课程").error is None
    assert Lesson.objects.count() == 1


def test_folder_given_as_a_symlink_is_read_but_links_inside_it_are_not(tmp_path: Path) -> None:
    write(tmp_path / "private" / "notes.md", page(("Eve", "secret text")))
    course = tmp_path / "课程"
    write(course / "01-正常.md", page(("Ann", "hello")))
    (course / "02-看这里.md").symlink_to(tmp_path / "private" / "notes.md")
    (tmp_path / "链接").symlink_to(course)

    run = run_import(tmp_path / "链接", "--keep-going", "--course", "课程")

    assert [line for line in run.error_lines if "02-看这里.md" in line]
    assert list(Lesson.objects.values_list("title", flat=True)) == ["正常"]


def test_page_over_the_size_limit_is_one_error_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(source, "MAX_PAGE_BYTES", 2_000)
    monkeypatch.setattr("forum.management.commands.import_lesson.MAX_PAGE_BYTES", 2_000)
    course = tmp_path / "课程"
    write(course / "01-大.md", page(*[("Ann", "x" * 100)] * 30))
    write(course / "02-小.md", page(("Ann", "hello")))

    run = run_import(course, "--keep-going")

    assert [line for line in run.error_lines if "01-大.md" in line and "2,000 bytes" in line]
    assert list(Lesson.objects.values_list("title", flat=True)) == ["小"]


def test_page_over_the_time_limit_is_one_error_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    render = service.render_plain_text

    def slow_render(text: str) -> str:
        if "慢" in text:
            time.sleep(0.3)
        return render(text)

    monkeypatch.setattr(service, "render_plain_text", slow_render)
    course = tmp_path / "课程"
    write(course / "01-慢.md", page(*[("Ann", f"慢 {n}") for n in range(5)]))
    write(course / "02-快.md", page(("Ann", "hello")))

    run = run_import(course, "--keep-going", "--page-seconds", "0.5")

    assert [line for line in run.error_lines if "01-慢.md" in line and "longer than 0.5 s" in line]
    assert list(Lesson.objects.values_list("title", flat=True)) == ["快"]


def test_600_character_avatar_url_is_one_warning_and_the_rest_is_imported(
    tmp_path: Path,
) -> None:
    avatar = "https://static001.geekbang.org/" + "a" * 570
    course = tmp_path / "课程"
    write(course / "01-头像.md", page(("Ann", "hello"), ("Bob", "hi"), avatar=avatar))
    write(course / "02-下一课.md", page(("Cid", "hey")))

    run = run_import(course, "--keep-going")

    assert run.error is None, run.stderr
    warnings = [line for line in run.stdout.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2  # one per comment that carries it
    assert all("longer than 500 characters" in w for w in warnings)
    assert Comment.objects.count() == 3
    assert set(Member.objects.values_list("avatar_url", flat=True)) == {""}


def test_file_name_starting_with_5000_digits_is_one_warning_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    course = tmp_path / "课程"
    # A file name holds at most 255 bytes (a URL's can be longer: see the test below).
    write(course / ("9" * 200 + "-入门.md"), page(("Ann", "hello")))
    write(course / "02-下一课.md", page(("Cid", "hey")))

    run = run_import(course, "--keep-going")

    assert run.error is None, run.stderr
    assert "lesson number 99999999999999999999… in the file name is too large" in run.stdout
    assert Lesson.objects.get(title="入门").number is None
    assert Lesson.objects.filter(title="下一课", number=2).exists()


def test_5000_digit_number_in_a_url_file_name_is_read_as_unnumbered_with_a_warning() -> None:
    name = lesson_name_from_filename("https://example.com/课程/" + "1" * 5000 + "-入门.md")
    assert name is not None
    assert (name.number, name.title) == (None, "入门")
    assert name.warning.startswith("lesson number 11111111111111111111… in the file name")


def test_long_names_and_titles_are_cut_with_a_warning(tmp_path: Path) -> None:
    lesson = write(tmp_path / "课程" / "01-标题.md", page(("名" * 200, "hello")))

    run = run_import(lesson, "--course", "课" * 250, "--teacher", "师" * 120)

    assert run.error is None, run.stderr
    assert "cut to 150 characters" in run.stdout
    assert "course title" in run.stdout and "cut to 200 characters" in run.stdout
    assert "teacher's name" in run.stdout and "cut to 100 characters" in run.stdout
    assert Member.objects.get(display_name__startswith="名").display_name == "名" * 150
    assert Course.objects.get().title == "课" * 200


def test_titles_that_slugify_alike_import_as_two_lessons_with_their_own_comments(
    tmp_path: Path,
) -> None:
    course = tmp_path / "编程"
    write(course / "01-C++入门.md", page(("Ann", "about C++")))
    write(course / "01-C#入门.md", page(("Bob", "about C#")))

    run = run_import(course)
    again = run_import(course)

    assert run.error is None, run.stderr
    assert "lessons: 2 created, 0 updated" in run.stdout
    assert "lessons: 0 created, 0 updated, 2 unchanged" in again.stdout
    plus, sharp = Lesson.objects.get(title="C++入门"), Lesson.objects.get(title="C#入门")
    assert plus.slug != sharp.slug
    assert {plus.slug, sharp.slug} == {"01-c-plus-plus-入门", "01-c-sharp-入门"}
    assert list(plus.comments.values_list("body", flat=True)) == ["about C++"]
    assert list(sharp.comments.values_list("body", flat=True)) == ["about C#"]


def test_lesson_imported_under_the_old_slug_is_still_found_by_its_title(tmp_path: Path) -> None:
    course = tmp_path / "编程"
    write(course / "01-C++入门.md", page(("Ann", "about C++")))
    run_import(course)
    Lesson.objects.update(slug="01-c入门")  # as the importer named it before
    write(course / "01-C#入门.md", page(("Bob", "about C#")))

    run = run_import(course)

    assert "lessons: 1 created, 0 updated, 1 unchanged" in run.stdout
    assert Lesson.objects.get(title="C++入门").slug == "01-c入门"
    assert Lesson.objects.get(title="C#入门").comments.get().body == "about C#"


def test_courses_that_slugify_alike_stay_apart(tmp_path: Path) -> None:
    write(tmp_path / "C++" / "01-入门.md", page(("Ann", "about C++")))
    write(tmp_path / "C#" / "01-入门.md", page(("Bob", "about C#")))

    run = run_import(tmp_path / "C++", tmp_path / "C#")

    assert run.error is None, run.stderr
    assert Course.objects.count() == 2
    assert Lesson.objects.get(course__title="C#").comments.get().body == "about C#"


@override_settings(
    CACHES={
        "default": {
            # Django's own client, which raises when Redis does not answer: port 9 is closed.
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
)
def test_import_with_redis_stopped_completes(tmp_path: Path) -> None:
    course = tmp_path / "课程"
    write(course / "01-正文.md", page(("Ann", "hello")))

    run = run_import(course)

    assert run.error is None, run.stderr
    assert row_counts()["Comment"] == 1
