"""What an import stores and shows runs nothing: no script, event handler or javascript: URL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from forum.models import Comment, Member
from lessons.models import Lesson
from tests.forum.import_helpers import active_content, corpus_page, run_import

pytestmark = pytest.mark.django_db

ARTICLE = """你好，我是测试。

<script>alert("article")</script>
<img src="x.png" onerror="alert(1)">
<a href="javascript:alert(1)">点我</a>
<a href=" JaVa&#x09;script:alert(1)">再点</a>
<iframe src="https://player.example/embed/1"></iframe>
<p onclick="alert(1)" style="color:red">段落</p>
<svg><script>alert(2)</script></svg>
[链接](javascript:alert(3))
"""


def crafted_page(tmp_path: Path, *items: tuple[str, str]) -> Path:
    """A Markdown source page with `items` as (escaped name, escaped text) comments."""
    listing = "".join(
        f"<li><span>{name}</span> 👍（1） 💬（0）<p>{text}</p>2024-06-07</li><br/>"
        for name, text in items
    )
    page = tmp_path / "安全" / "01-不可信的内容.md"
    page.parent.mkdir()
    page.write_text(
        f"{ARTICLE}<div><strong>精选留言（{len(items)}）</strong></div><ul>\n{listing}\n</ul>",
        encoding="utf-8",
    )
    return page


def imported_lesson(page: Path) -> Lesson:
    run = run_import(page, "--course", "安全")
    assert run.error is None, run.stderr
    return Lesson.objects.get()


@pytest.mark.parametrize(
    "relative",
    [
        "ai-course/07-大模型API封装：自建大模型如何对外服务？.md",
        "with-replies/gb06__08｜视频：入门篇实操总结.md",
        "with-replies/gb43__结束语 _ 以终为始，闭环迭代，持续提高.md",
        "sample/fe011__37 - 如何使用 video.js 播放多媒体文件？.md",
        "sample/be024__39丨WebSQL：如何在H5中存储一个本地数据库？.md",
        "sample/fe021__11-事件处理：React合成事件是什么？为什么不用原生DOM事件？.md",
    ],
)
def test_corpus_page_with_raw_html_is_stored_without_active_content(relative: str) -> None:
    lesson = imported_lesson(corpus_page(relative))
    assert active_content(lesson.body_html) == []
    for body_html in Comment.objects.filter(lesson=lesson).values_list("body_html", flat=True):
        assert active_content(body_html) == []


def test_raw_html_in_the_article_is_stored_without_active_content(tmp_path: Path) -> None:
    lesson = imported_lesson(crafted_page(tmp_path))
    assert "<script>" in lesson.body_markdown
    assert active_content(lesson.body_html) == []
    assert "<script" not in lesson.body_html
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", lesson.body_html, re.I)
    assert not re.search(r"<[^>]*javascript", lesson.body_html, re.I)
    assert "段落" in lesson.body_html


def test_embedded_player_becomes_a_plain_link(tmp_path: Path) -> None:
    lesson = imported_lesson(crafted_page(tmp_path))
    assert "<iframe" not in lesson.body_html
    assert 'href="https://player.example/embed/1"' in lesson.body_html


def test_comment_that_decodes_to_markup_is_stored_as_text(tmp_path: Path) -> None:
    page = crafted_page(tmp_path, ("Ann", "&lt;script&gt;alert(1)&lt;/script&gt;"))
    lesson = imported_lesson(page)
    comment = Comment.objects.get(lesson=lesson)
    assert comment.body == "<script>alert(1)</script>"
    assert comment.body_html == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_name_with_entities_is_decoded_once_and_stored_as_text(tmp_path: Path) -> None:
    imported_lesson(crafted_page(tmp_path, ("scriptalert(1)&amp;#47;script", "hi")))
    assert Member.objects.get(courses_taught=None).display_name == "scriptalert(1)&#47;script"


def test_lesson_page_shows_markup_in_comments_and_names_escaped(
    tmp_path: Path, client: Client
) -> None:
    page = crafted_page(
        tmp_path,
        ("scriptalert(1)&amp;#47;script", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("&lt;img src=x onerror=alert(2)&gt;", "&lt;a href=&quot;javascript:alert(3)&quot;&gt;x"),
    )
    lesson = imported_lesson(page)

    html = client.get(lesson.get_absolute_url()).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "scriptalert(1)&amp;#47;script" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert not [found for found in active_content(html) if "alert" in found]


def test_comment_lines_that_look_like_markdown_stay_literal(tmp_path: Path) -> None:
    text = "# 不是标题\n1. 不是列表\n- 也不是\n**不加粗** [不是链接](https://example.com)"
    lesson = imported_lesson(crafted_page(tmp_path, ("Ann", text)))
    body_html = Comment.objects.get(lesson=lesson).body_html
    assert "# 不是标题<br>1. 不是列表<br>- 也不是<br>**不加粗** [不是链接](" in body_html
    for tag in ("<h1", "<ol", "<ul", "<li", "<strong"):
        assert tag not in body_html


def test_bare_url_in_a_comment_becomes_a_nofollow_link(tmp_path: Path) -> None:
    lesson = imported_lesson(crafted_page(tmp_path, ("Ann", "见 https://example.com/a?b=1。")))
    body_html = Comment.objects.get(lesson=lesson).body_html
    assert '<a href="https://example.com/a?b=1" rel="nofollow noopener ugc">' in body_html
