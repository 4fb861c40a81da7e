"""A lesson whose source holds only the free preview of a longer article says so (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest

from forum.importing.export import lesson_to_source
from forum.importing.source import parse_page
from lessons.models import Lesson
from tests.forum.import_helpers import SEED, SEED_COURSE, run_import

pytestmark = pytest.mark.django_db

WHOLE = """\
你好，我是独行。

这是整篇文章，从头到尾都在这里。
<div><strong>精选留言（1）</strong></div><ul>
<li><span>张三</span> 👍（3） 💬（0）<p>写得好</p>2024-01-02</li><br/></ul>
"""

GEEKTIME = (
    "<p>全文的开头。</p><!-- [[[read_end]]] --><p>全文的其余部分。</p>"
    '<ul><li><div class="_2sjJGcOH_0"><img src="" class="_3FLYR4bF_0">'
    '<div class="_36ChpWj4_0"><div class="_2zFoi7sd_0"><span>李四</span></div>'
    '<div class="_2_QraFYR_0">好</div>'
    '<div class="_3klNVc4Z_0"><div class="_3Hkula0k_0">2020-11-25 13:24:15</div></div>'
    "</div></div></li></ul>"
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / SEED_COURSE / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_archives_preview_layout_marks_a_preview_and_the_whole_article_does_not():
    assert parse_page(SEED.read_bytes()).is_preview
    assert not parse_page(WHOLE.encode()).is_preview
    # Raw GeekTime HTML holds the whole article; read_end marks where the free part ends.
    assert not parse_page(GEEKTIME.encode()).is_preview
    # Without comments nothing tells: a page is taken as whole.
    assert not parse_page("只有文章。".encode()).is_preview


def test_a_preview_says_so_in_its_header_and_where_it_ends(client):
    assert run_import(SEED).error is None
    lesson = Lesson.objects.get()
    html = client.get(lesson.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "来源页面只收录了这篇文章的开头部分" in html and "data-preview-end" in html
    # Read from a file with no known original, it names no link it does not have.
    assert "到原站阅读全文" not in html
    course = client.get(lesson.course.get_absolute_url()).content.decode()
    assert "data-preview-badge" in course


def test_the_original_address_given_on_import_is_linked_from_the_preview(client, tmp_path):
    original = "https://example.org/column/article/123"
    assert run_import(SEED, "--source-url", original).error is None
    lesson = Lesson.objects.get()
    assert lesson.source_url == original
    html = client.get(lesson.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f'href="{original}"' in html and "到原站阅读全文" in html


@pytest.mark.parametrize(
    "args, message",
    [
        (["--source-url", "javascript:alert(1)"], "http:// or https://"),
        (["--source-url", "ftp://example.org/a"], "http:// or https://"),
    ],
)
def test_the_original_address_must_be_a_web_address(args, message):
    run = run_import(SEED, *args)
    assert run.error is not None and message in str(run.error)
    assert not Lesson.objects.exists()


def test_the_original_address_is_one_lessons(tmp_path):
    other = write(tmp_path, "02-另一讲.md", WHOLE)
    run = run_import(SEED, other, "--source-url", "https://example.org/a")
    assert run.error is not None and "exactly one source" in str(run.error)


def test_importing_the_whole_article_ends_the_preview(client, tmp_path):
    assert run_import(SEED).error is None
    whole = write(tmp_path, SEED.name, WHOLE)
    assert run_import(whole).error is None
    lesson = Lesson.objects.get()
    assert not lesson.is_preview
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert "data-preview-note" not in html and "data-preview-end" not in html


@pytest.mark.parametrize("source", [SEED, None], ids=["preview", "whole"])
def test_an_exported_lesson_imports_as_the_same_kind(tmp_path, source):
    page = source or write(tmp_path / "in", SEED.name, WHOLE)
    assert run_import(page).error is None
    exported = write(tmp_path / "out", SEED.name, lesson_to_source(Lesson.objects.get()))
    Lesson.objects.all().delete()
    assert run_import(exported).error is None
    assert Lesson.objects.get().is_preview is (source is not None)
