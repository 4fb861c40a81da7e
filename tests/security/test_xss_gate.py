"""The stored-XSS gate: every vector of ../shared/security through the real write paths.

tests/lessons/test_rendering.py checks the renderers vector by vector; this gate goes through
what stores the HTML a page shows: comment_post() for comments, Lesson.save() for lesson
articles, and the import_lesson command for imported comments (a crafted source page whose
comment texts are the vectors, parsed and stored by the importer, which renders them with
render_plain_text). It audits what is in the database afterwards.
"""

from __future__ import annotations

import io
import time
from html import escape

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from forum import services
from forum.models import Comment
from lessons.models import Lesson
from lessons.rendering import drop_invisible_controls, render_lesson_body
from tests.factories import CourseFactory, LessonFactory, UserFactory
from tests.security.corpus import Vector, audit, load_vectors, summarize

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def vectors() -> list[Vector]:
    return load_vectors()


def survivors(stored: dict[int, str], by_key: dict[int, Vector]) -> list[str]:
    found = []
    for key, html in stored.items():
        problems = audit(html)
        if problems:
            found.append(f"{by_key[key]} → {problems}: {html[:200]!r}")
    return found


def report(request, pipeline: str, vectors: int, refused: int, found: list, started: float):
    summarize(
        request.config,
        f"{pipeline}: {vectors} vectors, {refused} refused by validation, "
        f"{len(found)} survivors ({time.monotonic() - started:.1f} s)",
    )


def test_no_vector_survives_the_comment_pipeline(request, vectors):
    started = time.monotonic()
    author = services.member_for(UserFactory())
    course = CourseFactory()
    posted: dict[int, Vector] = {}
    refused = 0
    for n, vector in enumerate(vectors):
        # A lesson per hundred comments: every post updates its lesson's row, and thousands
        # of versions of one row in one transaction make PostgreSQL slower with each post.
        if n % 100 == 0:
            lesson = LessonFactory(course=course)
        try:
            comment = services.comment_post(author=author, lesson=lesson, body=vector.text)
        except ValidationError:
            refused += 1
            continue
        posted[comment.pk] = vector
    stored = dict(Comment.objects.filter(lesson__course=course).values_list("pk", "body_html"))
    found = survivors(stored, posted)
    report(request, "comments (comment_post)", len(vectors), refused, found, started)
    assert len(stored) == len(posted) == len(vectors) - refused
    assert found == []


def test_no_vector_survives_the_lesson_body_pipeline(request, vectors):
    started = time.monotonic()
    course = CourseFactory()
    saved: dict[int, Vector] = {}
    for n, vector in enumerate(vectors):
        lesson = Lesson(course=course, title=f"v{n}", slug=f"v{n}", body_markdown=vector.text)
        lesson.save()
        saved[lesson.pk] = vector
    stored = dict(Lesson.objects.filter(course=course).values_list("pk", "body_html"))
    found = survivors(stored, saved)
    report(request, "lesson bodies (Lesson.save)", len(vectors), 0, found, started)
    assert len(stored) == len(vectors)
    assert found == []


def source_page(texts: list[str]) -> str:
    """A Markdown-format source page whose featured comments hold `texts` exactly: escaped
    here, unescaped once by the parser, as the site the pages come from writes them."""
    items = "".join(
        f"<li><span>读者{n}</span> 👍（0） 💬（0）<div>{escape(text)}</div>2024-05-01 12:00</li>\n"
        for n, text in enumerate(texts)
    )
    return (
        "你好，我是独行。\n\n正文。\n\n"
        f"<div><strong>精选留言（{len(texts)}）</strong></div><ul>\n{items}</ul>\n"
    )


def test_no_vector_survives_the_import_pipeline(request, vectors, tmp_path):
    started = time.monotonic()
    path = tmp_path / "01-xss.md"
    path.write_text(source_page([v.text for v in vectors]), encoding="utf-8")
    call_command(
        "import_lesson", str(path), "--course", "xss", "--title", "xss", stdout=io.StringIO()
    )
    rows = Comment.objects.filter(lesson__course__title="xss").values_list(
        "source_position", "body", "body_html"
    )
    by_position = {n: vector for n, vector in enumerate(vectors, 1)}
    # The importer keeps the text as given, but for its line-end normalization (CR → LF) and
    # the control characters no page displays, which it drops.
    normalized = {
        drop_invisible_controls(v.text.replace("\r\n", "\n").replace("\r", "\n")) for v in vectors
    }
    assert {body for _, body, _ in rows} == normalized
    found = survivors({position: html for position, _, html in rows}, by_position)
    report(request, "imported comments (import_lesson)", len(vectors), 0, found, started)
    assert len(rows) == len(vectors)
    assert found == []


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<p onclick="alert(1)">x</p>',
        '<a href="jav&#x09;ascript:alert(1)" rel="nofollow noopener ugc">x</a>',
        '<a href="&#106;avascript&colon;alert(1)" rel="nofollow noopener ugc">x</a>',
        '<a href=" VBScript:msgbox(1)" rel="nofollow noopener ugc">x</a>',
        '<a href="data:text/html,<script>alert(1)</script>" rel="nofollow noopener ugc">x</a>',
        '<img src="data:text/html;base64,PHNjcmlwdD4=">',
        '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
        '<span style="background:url(javascript:alert(1))">x</span>',
        "<style>*{}</style>",
        "<svg><a>x</a></svg>",
        "<math><mi>x</mi></math>",
        "<object data=x></object>",
        "<embed src=x>",
        "<base href=//evil.example/>",
        "<form action=/x><button>x</button></form>",
        '<div hx-get="/accounts/logout/" hx-trigger="load"></div>',
        '<div data-hx-post="/x"></div>',
        "<p>x<!--<img src=x onerror=alert(1)>--></p>",
    ],
)
def test_the_audit_flags_each_forbidden_construct(html):
    assert audit(html)


def test_the_audit_passes_what_the_renderers_make():
    html = render_lesson_body(
        "# T\n\n**b** [l](https://example.com) ![i](https://example.com/i.png)\n\n"
        "```python\nx = 1\n```\n\n| a |\n|:-:|\n| 1 |\n\n$x$"
    )
    assert audit(html) == []
