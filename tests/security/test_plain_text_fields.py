"""Plain-text fields carrying markup: names, titles, teachers, usernames, imported names.

They reach the pages only through Django's auto-escaping. Each page must show every value it
holds escaped (so the value really is on the page) and never the raw markup.
"""

from __future__ import annotations

import io
from html import escape
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from forum import likes, services
from forum.models import Comment
from lessons.models import Course, Lesson
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

COURSE = "<img src=x onerror=alert('course')>"
TEACHER = "<script>alert('teacher')</script>"
DESCRIPTION = '"><svg onload=alert("description")>'
LESSON = "<svg/onload=alert('l')>"  # short enough for the admin's 24-character column
IMPORTED_NAME = "scriptalert(1)&#47;script"
IMPORTED_MARKUP_NAME = "<img src=x onerror=alert('name')>"
USERNAME = "<b onmouseover=alert('user')>u</b>"
LIKER = "<a href=javascript:alert('liker')>l</a>"
BODY = "<details open ontoggle=alert('body')>"
EVERYTHING = [
    COURSE,
    TEACHER,
    DESCRIPTION,
    LESSON,
    IMPORTED_NAME,
    IMPORTED_MARKUP_NAME,
    USERNAME,
    LIKER,
    BODY,
]


def source_page() -> str:
    # Names on a source page are HTML-escaped once, and the importer unescapes them once.
    items = "".join(
        f"<li><span>{escape(name)}</span> 👍（1） 💬（0）<div>留言{n}</div>2024-05-01\n</li>\n"
        for n, name in enumerate((IMPORTED_NAME, IMPORTED_MARKUP_NAME))
    )
    return f"你好。\n\n<div><strong>精选留言（2）</strong></div><ul>\n{items}</ul>\n"


@pytest.fixture
def lesson(tmp_path) -> Lesson:
    path = tmp_path / "01-page.md"
    path.write_text(source_page(), encoding="utf-8")
    call_command(
        "import_lesson",
        str(path),
        *("--course", COURSE, "--title", LESSON, "--teacher", TEACHER),
        stdout=io.StringIO(),
    )
    Course.objects.update(description=DESCRIPTION)
    return Lesson.objects.select_related("course").get()


@pytest.fixture
def comment(lesson) -> Comment:
    """A comment by a site account whose username is markup, liked by a member named so."""
    author = services.member_for(UserFactory(username=USERNAME))
    comment = services.comment_post(author=author, lesson=lesson, body=BODY)
    liker = services.member_for(UserFactory(username="liker"))
    liker.display_name = LIKER
    liker.save()
    likes.like_add(member=liker, comment=comment)
    return comment


class _ActiveMarkup(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("iframe", "math", "object", "embed", "base"):  # the admin has its own <svg>
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or (value or "").lower().startswith("javascript:"):
                self.found.append(f"{name}={value!r} on <{tag}>")


def assert_escaped(html: str, shown: list[str]) -> None:
    for value in shown:
        assert escape(value) in html, f"{value!r} is not on the page (escaped)"
    for value in EVERYTHING:
        assert value not in html, f"{value!r} appears unescaped"
    parser = _ActiveMarkup()
    parser.feed(html)
    assert parser.found == []


def get(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.fixture
def viewer_client(comment) -> Client:
    client = Client()
    client.force_login(comment.member.user)
    return client


def test_home_page_escapes_course_fields(client, lesson):
    assert_escaped(get(client, reverse("lessons:home")), [COURSE, TEACHER, DESCRIPTION])


def test_course_page_escapes_course_and_lesson_titles(client, lesson):
    html = get(client, lesson.course.get_absolute_url())
    assert_escaped(html, [COURSE, TEACHER, DESCRIPTION, LESSON])


def test_lesson_page_escapes_titles_names_and_the_username(viewer_client, lesson, comment):
    html = get(viewer_client, lesson.get_absolute_url())
    assert_escaped(html, [COURSE, TEACHER, LESSON, IMPORTED_NAME, IMPORTED_MARKUP_NAME, USERNAME])


def test_permalink_page_escapes_the_names_in_the_thread(viewer_client, comment):
    imported = Comment.objects.get(member__display_name=IMPORTED_MARKUP_NAME)
    assert_escaped(
        get(viewer_client, reverse("forum:comment", args=[imported.pk])), [IMPORTED_MARKUP_NAME]
    )
    html = get(viewer_client, reverse("forum:comment", args=[comment.pk]))
    assert_escaped(html, [USERNAME, LESSON])


def test_likers_page_escapes_the_liker_and_the_comment_text(viewer_client, comment):
    html = get(viewer_client, reverse("forum:comment-likers", args=[comment.pk]))
    assert_escaped(html, [LIKER, BODY])


def test_admin_comment_list_escapes_bodies_titles_and_names(admin_client, comment):
    html = get(admin_client, reverse("admin:forum_comment_changelist"))
    assert_escaped(html, [BODY, LESSON, COURSE, USERNAME, IMPORTED_NAME, IMPORTED_MARKUP_NAME])
