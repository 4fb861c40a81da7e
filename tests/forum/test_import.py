"""import_lesson on the seed page: what it stores, re-imports, newer revisions, options.

Broken input is in test_import_errors.py, URLs in test_import_url.py, the whole corpus in
test_import_corpus.py and the safety of what imports render in test_import_safety.py.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import F

from forum.models import Comment, Member
from lessons.models import Course, Lesson
from tests.forum.corpus_reader import read_page
from tests.forum.import_helpers import (
    SEED,
    SEED_COURSE,
    corpus_page,
    row_counts,
    run_import,
    shanghai_wall_time,
    top_level_comments,
)

pytestmark = pytest.mark.django_db

NEWER = "ai-course/" + SEED.name
NEWER_ONLY_TEXT = "## 找对了金主爸爸"


def import_seed() -> Lesson:
    run = run_import(SEED)
    assert run.error is None, run.stderr
    return Lesson.objects.get()


def newer_revision(tmp_path: Path, *, edit: tuple[str, str] | None = None) -> Path:
    """The newer revision, saved under the seed's course folder, optionally with one edit."""
    text = corpus_page(NEWER).read_text(encoding="utf-8")
    if edit is not None:
        assert text.count(edit[0]) == 1
        text = text.replace(*edit)
    path = tmp_path / SEED_COURSE / SEED.name
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    return path


# --- the seed -------------------------------------------------------------------------------


def test_seed_becomes_one_lesson_of_its_course_taught_by_the_greeting_teacher() -> None:
    lesson = import_seed()
    assert (lesson.number, lesson.title) == (1, "洞察本质：从工程学角度看ChatGPT为什么会崛起")
    assert lesson.course.title == SEED_COURSE
    assert lesson.course.teacher == "独行"
    assert Course.objects.count() == 1


def test_seed_comments_match_the_page_in_source_order() -> None:
    lesson = import_seed()
    expected = read_page(SEED.read_bytes()).comments
    stored = top_level_comments(lesson)
    assert [c.source_position for c in stored] == list(range(1, 19))
    assert [c.member.display_name for c in stored] == [r.name for r in expected]
    assert [c.imported_like_count for c in stored] == [r.likes for r in expected]
    assert [c.like_count for c in stored] == [r.likes for r in expected]
    assert [c.imported_reply_count for c in stored] == [r.reply_count for r in expected]
    assert [shanghai_wall_time(c.created_at) for c in stored] == [r.created for r in expected]
    assert all(c.created_date_only for c in stored)
    assert [c.body for c in stored] == [r.body for r in expected]


def test_seed_comment_line_breaks_are_kept_and_shown() -> None:
    lesson = import_seed()
    comment = Comment.objects.get(lesson=lesson, member__display_name="小一")
    assert comment.body.count("\n") == 1
    assert "；<br>2. 可替代" in comment.body_html


def test_seed_comments_are_all_featured_and_counted_on_the_lesson() -> None:
    lesson = import_seed()
    assert Comment.objects.filter(lesson=lesson, is_featured=True).count() == 18
    assert lesson.comment_count == 18


def test_empty_avatar_stays_empty() -> None:
    import_seed()
    assert Member.objects.get(display_name="Geek_e9e5f5").avatar_url == ""


def test_http_avatar_is_stored_as_https() -> None:
    import_seed()
    assert "http://thirdwx.qlogo.cn/" in SEED.read_text(encoding="utf-8")
    avatars = [url for url in Member.objects.values_list("avatar_url", flat=True) if url]
    assert len(avatars) == 17
    assert all(url.startswith("https://") for url in avatars)
    assert Member.objects.filter(avatar_url__startswith="https://thirdwx.qlogo.cn/").count() == 2


def test_import_summary_counts_and_lists_the_lesson_path() -> None:
    run = run_import(SEED)
    lesson = Lesson.objects.get()
    assert "lessons: 1 created, 0 updated, 0 unchanged" in run.stdout
    assert "comments: 18 created, 0 updated, 0 unchanged" in run.stdout
    assert f"  /courses/{lesson.course.slug}/{lesson.slug}/" in run.stdout


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_importing_several_pages_on_a_terminal_shows_a_progress_bar(tmp_path: Path) -> None:
    folder = tmp_path / SEED_COURSE
    folder.mkdir()
    for number in (1, 2):
        shutil.copy(SEED, folder / f"{number:02d}-第{number}课.md")
    terminal = Terminal()
    call_command("import_lesson", str(folder), stdout=io.StringIO(), stderr=terminal)
    assert "\r[###############...............] 1/2 01-第1课.md" in terminal.getvalue()
    assert "\r[##############################] 2/2 02-第2课.md" in terminal.getvalue()


def test_importing_off_a_terminal_shows_no_progress_bar(tmp_path: Path) -> None:
    folder = tmp_path / SEED_COURSE
    folder.mkdir()
    for number in (1, 2):
        shutil.copy(SEED, folder / f"{number:02d}-第{number}课.md")
    run = run_import(folder)
    assert run.error is None
    assert run.stderr == ""


# --- importing again -------------------------------------------------------------------------


def test_reimporting_the_seed_changes_nothing() -> None:
    lesson = import_seed()
    before = list(Comment.objects.order_by("pk").values())
    counts = row_counts()
    run = run_import(SEED)
    assert run.error is None
    assert "lessons: 0 created, 0 updated, 1 unchanged" in run.stdout
    assert "comments: 0 created, 0 updated, 18 unchanged" in run.stdout
    assert row_counts() == counts
    assert list(Comment.objects.order_by("pk").values()) == before
    assert Lesson.objects.get().updated_at == lesson.updated_at


def test_newer_revision_updates_the_body_to_the_full_article() -> None:
    lesson = import_seed()
    assert NEWER_ONLY_TEXT not in lesson.body_markdown
    run = run_import(corpus_page(NEWER), "--course", SEED_COURSE)
    assert run.error is None, run.stderr
    assert "lessons: 0 created, 1 updated, 0 unchanged" in run.stdout
    updated = Lesson.objects.get()
    assert updated.pk == lesson.pk
    assert NEWER_ONLY_TEXT in updated.body_markdown
    assert "找对了金主爸爸</h2>" in updated.body_html
    assert len(updated.body_markdown) > 5 * len(lesson.body_markdown)


def test_newer_revision_keeps_exactly_one_copy_of_each_comment() -> None:
    lesson = import_seed()
    newer = read_page(corpus_page(NEWER).read_bytes()).comments
    seed = {(r.name, r.created, r.body) for r in read_page(SEED.read_bytes()).comments}
    assert len(newer) == 15
    assert all((r.name, r.created, r.body) in seed for r in newer)
    run = run_import(corpus_page(NEWER), "--course", SEED_COURSE)
    assert "comments: 0 created, 0 updated, 15 unchanged" in run.stdout
    stored = top_level_comments(lesson)
    assert len(stored) == 18
    assert len({(c.member.display_name, c.created_at, c.body) for c in stored}) == 18
    assert [c.source_position for c in stored] == list(range(1, 19))
    assert Lesson.objects.get().comment_count == 18


def test_keep_existing_leaves_a_lesson_updated_to_a_newer_revision_as_it_is(
    tmp_path: Path,
) -> None:
    """What `make run` does on every start: the seed must not undo a newer revision."""
    edited = tmp_path / SEED_COURSE / SEED.name
    edited.parent.mkdir()
    edited.write_text(
        SEED.read_text(encoding="utf-8").replace(
            "你好，我是独行。", "你好，我是独行。\n\n新增的一段。", 1
        ),
        encoding="utf-8",
    )
    assert run_import(edited).error is None
    updated = Lesson.objects.get()
    comments = list(Comment.objects.order_by("pk").values())
    run = run_import("--keep-existing", SEED)
    assert run.error is None, run.stderr
    assert "lessons: 0 created, 0 updated, 1 unchanged" in run.stdout
    lesson = Lesson.objects.get()
    assert "新增的一段" in lesson.body_markdown
    assert (lesson.source_digest, lesson.updated_at) == (updated.source_digest, updated.updated_at)
    assert list(Comment.objects.order_by("pk").values()) == comments


def test_keep_existing_still_imports_a_lesson_that_is_not_here() -> None:
    run = run_import("--keep-existing", SEED)
    assert "lessons: 1 created, 0 updated, 0 unchanged" in run.stdout
    assert Lesson.objects.get().comment_count == 18


def test_newer_revision_refreshes_imported_likes_and_reply_counts(tmp_path: Path) -> None:
    lesson = import_seed()
    edited = "<span>干就完了</span> 👍（9） 💬（3）"
    newer = newer_revision(tmp_path, edit=("<span>干就完了</span> 👍（6） 💬（1）", edited))
    run = run_import(newer)
    assert "comments: 0 created, 1 updated, 14 unchanged" in run.stdout
    comment = Comment.objects.get(lesson=lesson, member__display_name="干就完了")
    assert (comment.imported_like_count, comment.like_count) == (9, 9)
    assert comment.imported_reply_count == 3


def test_newer_revision_adds_the_comments_it_does_not_recognize(tmp_path: Path) -> None:
    lesson = import_seed()
    added = "<li><span>新读者</span> 👍（2） 💬（0）<p>补充一句</p>2025-03-01</li><br/>\n</ul>"
    newer = newer_revision(
        tmp_path, edit=("2024-06-06</li><br/>\n</ul>", "2024-06-06</li><br/>" + added)
    )
    text = newer.read_text(encoding="utf-8")
    newer.write_text(text.replace("精选留言（15）", "精选留言（16）"), encoding="utf-8")
    run = run_import(newer)
    assert run.error is None, run.stderr
    assert "comments: 1 created, 0 updated, 15 unchanged" in run.stdout
    comment = Comment.objects.get(lesson=lesson, body="补充一句")
    assert (comment.member.display_name, comment.like_count, comment.is_featured) == (
        "新读者",
        2,
        True,
    )
    assert Comment.objects.filter(lesson=lesson).count() == 19


def test_forum_comments_and_likes_survive_a_newer_revision(tmp_path: Path) -> None:
    lesson = import_seed()
    reader = Member.objects.create(display_name="本站读者")
    local = Comment.objects.create(lesson=lesson, member=reader, body="本站的留言", body_html="")
    imported = Comment.objects.get(lesson=lesson, member__display_name="干就完了")
    Comment.objects.filter(pk=imported.pk).update(like_count=F("like_count") + 1)
    Comment.objects.filter(pk=local.pk).update(like_count=F("like_count") + 2)
    newer = newer_revision(
        tmp_path, edit=("<span>干就完了</span> 👍（6）", "<span>干就完了</span> 👍（9）")
    )

    run = run_import(newer)

    assert run.error is None, run.stderr
    imported.refresh_from_db()
    assert (imported.imported_like_count, imported.like_count) == (9, 10)
    local.refresh_from_db()
    assert (local.body, local.like_count) == ("本站的留言", 2)
    assert Comment.objects.filter(lesson=lesson).count() == 19


# --- options ---------------------------------------------------------------------------------


def test_dry_run_writes_nothing_and_reports_what_it_would_do() -> None:
    run = run_import(SEED, "--dry-run")
    assert run.error is None, run.stderr
    assert run.stdout.startswith("Dry run, nothing written")
    assert "lessons: 1 created" in run.stdout
    assert "comments: 18 created" in run.stdout
    assert "/courses/" not in run.stdout
    assert set(row_counts().values()) == {0}


def test_dry_run_of_a_newer_revision_leaves_the_lesson_as_it_was() -> None:
    import_seed()
    body = Lesson.objects.get().body_markdown
    counts = row_counts()
    run = run_import(corpus_page(NEWER), "--course", SEED_COURSE, "--dry-run")
    assert "lessons: 0 created, 1 updated" in run.stdout
    assert Lesson.objects.get().body_markdown == body
    assert row_counts() == counts


def test_file_name_without_a_title_needs_the_title_option(tmp_path: Path) -> None:
    page = tmp_path / "course" / "000_bfb7c7fa6c8ee8de.txt"
    page.parent.mkdir()
    shutil.copy(SEED, page)
    run = run_import(page)
    assert run.error is not None
    assert run.error_lines == [
        f"error: {page}: the file name carries no lesson title; give one with --title"
    ]
    assert set(row_counts().values()) == {0}


def test_title_option_names_the_lesson(tmp_path: Path) -> None:
    page = tmp_path / "course" / "000_bfb7c7fa6c8ee8de.txt"
    page.parent.mkdir()
    shutil.copy(SEED, page)
    run = run_import(page, "--title", "洞察本质", "--number", "1", "--course", SEED_COURSE)
    assert run.error is None, run.stderr
    lesson = Lesson.objects.get()
    assert (lesson.course.title, lesson.number, lesson.title) == (SEED_COURSE, 1, "洞察本质")


def test_title_option_with_several_sources_is_refused() -> None:
    run = run_import(SEED, SEED, "--title", "洞察本质")
    assert run.error is not None
    assert "exactly one source" in str(run.error)
    assert set(row_counts().values()) == {0}


def test_title_option_with_a_directory_of_several_pages_is_refused(tmp_path: Path) -> None:
    for name in ("01-一.md", "02-二.md"):
        shutil.copy(SEED, tmp_path / name)
    run = run_import(tmp_path, "--title", "洞察本质")
    assert run.error is not None
    assert "exactly one source" in str(run.error)


def test_teacher_option_overrides_the_greeting() -> None:
    run_import(SEED, "--teacher", "另一位老师")
    assert Course.objects.get().teacher == "另一位老师"


def test_missing_source_is_refused_before_importing_anything(tmp_path: Path) -> None:
    run = run_import(SEED, tmp_path / "nothing-here.md")
    assert run.error is not None
    assert "nothing-here.md: no such file or directory" in str(run.error)
    assert set(row_counts().values()) == {0}
