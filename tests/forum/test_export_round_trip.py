"""Import → export → import is a fixed point: lessons, comments, members and counts unchanged."""

from __future__ import annotations

import json
import os
import shutil
from itertools import chain
from pathlib import Path

import pytest
from django.core import serializers

from forum.models import Comment, Member
from lessons.models import Course, Lesson
from tests.forum.corpus_reader import corpus_dir, corpus_files
from tests.forum.import_helpers import NO_CORPUS, run_command, run_import

pytestmark = pytest.mark.django_db

# Import bookkeeping: where a page came from and when it was written here, not what it holds.
BOOKKEEPING = {
    "lessons.course": {"created_at", "updated_at"},
    "lessons.lesson": {"source_ref", "source_digest", "created_at", "updated_at", "activity_at"},
    "forum.member": {"created_at"},
    "forum.comment": set(),
}


def stored() -> dict[str, list]:
    """What `dumpdata` writes of the imported models, ids replaced by what identifies each row.

    Serialized as dumpdata does, with the members' courses fetched in one query rather than
    one per member (dumpdata's way, most of this test's time on the whole corpus).
    """
    dumped = serializers.serialize(
        "json",
        chain(
            Course.objects.all(),
            Lesson.objects.all(),
            Member.objects.prefetch_related("courses_taught"),
            Comment.objects.all(),
        ),
    )
    rows = json.loads(dumped)
    by_model: dict[str, dict[int, dict]] = {model: {} for model in BOOKKEEPING}
    for row in rows:
        fields = {k: v for k, v in row["fields"].items() if k not in BOOKKEEPING[row["model"]]}
        by_model[row["model"]][row["pk"]] = fields
    courses = {pk: f["slug"] for pk, f in by_model["lessons.course"].items()}
    lessons = {
        pk: (courses[f["course"]], f["slug"]) for pk, f in by_model["lessons.lesson"].items()
    }
    members = {pk: f["import_key"] for pk, f in by_model["forum.member"].items()}
    comments = {
        pk: (lessons[f["lesson"]], f["source_key"]) for pk, f in by_model["forum.comment"].items()
    }
    for fields in by_model["lessons.lesson"].values():
        fields["course"] = courses[fields["course"]]
    for fields in by_model["forum.member"].values():
        fields["courses_taught"] = sorted(courses[pk] for pk in fields["courses_taught"])
    for fields in by_model["forum.comment"].values():
        fields["lesson"] = lessons[fields["lesson"]]
        fields["member"] = members[fields["member"]]
        for link in ("parent", "root"):
            fields[link] = fields[link] and comments[fields[link]]
    return {
        model: sorted(json.dumps(f, sort_keys=True, ensure_ascii=False) for f in rows.values())
        for model, rows in by_model.items()
    }


def assert_same(before: dict[str, list], after: dict[str, list]) -> None:
    for model in before:
        only_before = sorted(set(before[model]) - set(after[model]))[:3]
        only_after = sorted(set(after[model]) - set(before[model]))[:3]
        assert (model, only_before, only_after) == (model, [], [])
        assert len(after[model]) == len(before[model]), model


def round_trip(pages: Path, exported: Path) -> None:
    """Import `pages`, export, import the export into an empty database: nothing changed."""
    first = run_import(pages, "--keep-going")
    # The corpus holds an empty page (its README lists it); every other page is compared.
    failed = first.error_lines
    assert all(line.endswith(": empty page") for line in failed), failed
    files = sum(path.is_file() for path in pages.rglob("*"))
    assert Lesson.objects.count() == files - len(failed)
    before = stored()
    run = run_command("export_lesson", "--all", "--output", str(exported))
    assert run.error is None, run.stderr
    Course.objects.all().delete()
    Member.objects.all().delete()
    second = run_import(exported)
    assert second.error is None, second.stderr
    assert_same(before, stored())
    # And the export of what came back is the same files, byte for byte.
    again = run_command("export_lesson", "--all", "--output", str(exported))
    assert again.error is None, again.stderr
    assert " 0 written" in again.stdout


def test_every_corpus_page_survives_a_round_trip(tmp_path: Path) -> None:
    root = corpus_dir()
    if root is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{NO_CORPUS} (required in CI)")
        pytest.skip(NO_CORPUS)
    # A course per page, so that no two pages meet in one lesson and each is checked alone.
    pages = tmp_path / "pages"
    for index, page in enumerate(corpus_files()):
        folder = pages / f"{page.parent.name}-{index:03d}"
        folder.mkdir(parents=True)
        shutil.copyfile(page, folder / page.name)
    round_trip(pages, tmp_path / "exported")


FAKE_BLOCK = """\
# 留言区怎么做

上一版的页面长这样：

<div><strong>精选留言（1）</strong></div><ul>
<li><span>张三</span> 👍（3） 💬（0）<div>这是文章的一部分</div>2024-01-02</li><br/></ul>

它是文章的一部分，不是留言。
<div><strong>精选留言（0）</strong></div>
"""


def test_article_holding_a_comment_block_stays_article_text(tmp_path: Path) -> None:
    page = tmp_path / "pages" / "课程" / "01-假的留言块.md"
    page.parent.mkdir(parents=True)
    page.write_text(FAKE_BLOCK, encoding="utf-8")

    round_trip(page.parent.parent, tmp_path / "exported")

    lesson = Lesson.objects.get()
    assert lesson.comment_count == 0 and not Comment.objects.exists()
    assert "这是文章的一部分" in lesson.body_markdown


GEEKTIME_PAGE = """\
<audio title="01 _ 有回复的一讲" src=""></audio>
<p>文章</p>
<ul><li><div class="_2sjJGcOH_0"><img src="" class="_3FLYR4bF_0"><div class="_36ChpWj4_0">\
<div class="_2zFoi7sd_0"><span>李四</span></div><div class="_2_QraFYR_0">问题</div>\
<div class="_10o3OAxT_0"><p class="_3KxQPN3V_0">作者回复: 回答</p></div>\
<div class="_3klNVc4Z_0"><div class="_3Hkula0k_0">2020-11-25 13:24:15</div></div>\
</div></div></li></ul>
"""


def test_replied_lesson_whose_article_looks_like_comments_keeps_article_and_replies(
    tmp_path: Path,
) -> None:
    page = tmp_path / "pages" / "课程" / "01-有回复的一讲.md"
    page.parent.mkdir(parents=True)
    page.write_text(GEEKTIME_PAGE, encoding="utf-8")
    run_import(page)
    lesson = Lesson.objects.get()
    lesson.body_markdown = FAKE_BLOCK + '<div class="_2sjJGcOH_0">样式</div>\n<style>p {}</style>'
    lesson.save()
    before = stored()
    body_html = lesson.body_html

    run = run_command("export_lesson", "--all", "--output", str(tmp_path / "exported"))
    assert run.error is None, run.stderr
    Course.objects.all().delete()
    Member.objects.all().delete()
    second = run_import(tmp_path / "exported")
    assert second.error is None, second.stderr

    after = stored()
    # The article's text is broken up where it looked like comments; it renders the same.
    assert Lesson.objects.get().body_html == body_html
    assert Lesson.objects.get().body_markdown.endswith("<style>p {}</style>")
    for model in ("forum.member", "forum.comment"):
        assert after[model] == before[model]
    assert Comment.objects.filter(is_author_reply=True, body="回答").count() == 1
