from __future__ import annotations

import io
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from forum.models import Comment
from lessons.models import Lesson
from tests.factories import PASSWORD, CommentFactory, LessonFactory, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

SEED = next((Path(__file__).resolve().parents[2] / "forum" / "seed").rglob("*.md"))


@pytest.fixture
def seed_lesson() -> Lesson:
    call_command("import_lesson", str(SEED), stdout=io.StringIO())
    return Lesson.objects.get()


def comment_ids(html: str) -> list[str]:
    return re.findall(r'<article class="comment[^"]*" id="comment-(\d+)"', html)


def test_seed_lesson_shows_its_18_comments_in_source_order(client, seed_lesson):
    html = client.get(seed_lesson.get_absolute_url()).content.decode()
    expected = Comment.objects.filter(lesson=seed_lesson).order_by("source_position")
    assert comment_ids(html) == [str(c.pk) for c in expected]
    assert "留言（18）" in html


def test_comment_shows_name_likes_reply_count_date_and_line_breaks(client, seed_lesson):
    html = client.get(seed_lesson.get_absolute_url()).content.decode()
    card = html[html.index("干就完了") :]
    card = card[: card.index("</article>")]
    assert "有编程基础" in card
    assert "<br>" in re.split(r"data-comment-body[^>]*>", card)[1]
    assert re.search(r"data-like-count>6<", card)
    # No reply is here: the count says so, and the source's own number is a note.
    assert re.search(r"data-reply-count[^>]*>0<", card)
    assert "原站 1 条回复" in card
    assert '<time datetime="2024-06-07T00:00:00+0800"' in card


def test_comment_without_avatar_shows_a_letter_avatar(client, seed_lesson):
    html = client.get(seed_lesson.get_absolute_url()).content.decode()
    start = html.rindex('<article class="comment', 0, html.index(">Geek_e9e5f5<"))
    card = html[start : html.index("</article>", start)]
    assert '<span class="avatar__letter">G</span>' in card
    assert "<img" not in card


def test_avatars_load_lazily_without_a_referrer(client, seed_lesson):
    html = client.get(seed_lesson.get_absolute_url()).content.decode()
    avatars = re.findall(r"<img class=\"avatar__image\"[^>]*>", html)
    assert len(avatars) == 17
    for tag in avatars:
        assert 'loading="lazy"' in tag and 'referrerpolicy="no-referrer"' in tag
        assert 'src="https://' in tag


def test_names_are_isolated_so_bidi_overrides_cannot_garble_the_page(client):
    comment = CommentFactory(member=MemberFactory(display_name="\u202eevil name"))
    html = client.get(comment.lesson.get_absolute_url()).content.decode()
    assert '<bdi class="comment__author" data-author>\u202eevil name</bdi>' in html


def test_a_name_with_nothing_visible_shows_as_anonymous(client):
    comment = CommentFactory(member=MemberFactory(display_name="\u202d"))
    html = client.get(comment.lesson.get_absolute_url()).content.decode()
    assert "data-author>匿名</bdi>" in html


def test_imported_text_that_looks_like_html_is_shown_as_text(client):
    comment = CommentFactory(body="<script>alert(1)</script>\n1. 不是列表\n# 不是标题")
    html = client.get(comment.lesson.get_absolute_url()).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert "<ol>" not in re.split(r"data-comment-body[^>]*>", html)[1].split("</div>")[0]


def test_replies_nest_under_their_parent(client):
    parent = CommentFactory()
    reply = CommentFactory(lesson=parent.lesson, parent=parent)
    html = client.get(parent.lesson.get_absolute_url()).content.decode()
    parent_start = html.index(f'id="comment-{parent.pk}"')
    reply_start = html.index(f'id="comment-{reply.pk}"')
    assert parent_start < reply_start
    assert f'data-parent-id="{parent.pk}"' in html


def test_author_reply_is_marked(client):
    parent = CommentFactory()
    CommentFactory(lesson=parent.lesson, parent=parent, is_author_reply=True)
    html = client.get(parent.lesson.get_absolute_url()).content.decode()
    assert "data-author-reply" in html
    assert "作者回复" in html


def test_previous_and_next_lessons_are_linked(client):
    first = LessonFactory(number=1, position=1)
    second = LessonFactory(course=first.course, number=2, position=2)
    third = LessonFactory(course=first.course, number=3, position=3)
    html = client.get(second.get_absolute_url()).content.decode()
    assert f'rel="prev" href="{first.get_absolute_url()}"' in html
    assert f'rel="next" href="{third.get_absolute_url()}"' in html


def test_top_level_comments_come_twenty_to_a_page(client):
    lesson = LessonFactory()
    CommentFactory.create_batch(25, lesson=lesson)
    first = client.get(lesson.get_absolute_url()).content.decode()
    second = client.get(lesson.get_absolute_url() + "?page=2").content.decode()
    assert len(comment_ids(first)) == 20
    assert len(comment_ids(second)) == 5
    assert "page=2" in first


def test_a_bad_page_number_is_404(client):
    lesson = LessonFactory()
    assert client.get(lesson.get_absolute_url() + "?page=abc").status_code == 404
    assert client.get(lesson.get_absolute_url() + "?page=0").status_code == 404


def lesson_with_comments(count: int) -> Lesson:
    lesson = LessonFactory()
    members = MemberFactory.create_batch(5)
    parents = CommentFactory.create_batch(count // 2, lesson=lesson, member=members[0])
    for index, parent in enumerate(parents):
        CommentFactory(lesson=lesson, parent=parent, member=members[index % 5])
    return lesson


def test_lesson_page_costs_the_same_queries_with_18_and_1000_comments(
    client, django_assert_num_queries
):
    small = lesson_with_comments(18)
    large = lesson_with_comments(1000)
    with django_assert_num_queries(8) as small_queries:  # 7, and the blocks' counts
        client.get(small.get_absolute_url())
    with django_assert_num_queries(8) as large_queries:
        client.get(large.get_absolute_url())
    assert len(small_queries.captured_queries) == len(large_queries.captured_queries)


class _Nesting(HTMLParser):
    """Which comment element each comment element sits in, as a browser reads the page."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str | None] = []  # per open <article>: its comment id, if a comment's
        self.parent_of: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "article":
            pk = dict(attrs).get("data-comment-id")
            if pk:
                self.parent_of[pk] = next((p for p in reversed(self.open) if p), None)
            self.open.append(pk)

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self.open.pop()


def displayed_parents(html: str) -> dict[str, str | None]:
    parser = _Nesting()
    parser.feed(html)
    return parser.parent_of


def test_thread_replies_are_collapsible_and_start_expanded(client):
    parent = CommentFactory()
    reply = CommentFactory(lesson=parent.lesson, parent=parent, depth=1)
    html = client.get(parent.lesson.get_absolute_url()).content.decode()
    start = html.index('<details class="thread-replies" open>')
    end = html.index("</details>", start)
    assert html.index(f'id="comment-content-{parent.pk}"') < start
    assert start < html.index(f'id="comment-{reply.pk}"') < end
    summary = html[start : html.index("</summary>", start)]
    assert "收起回复" in summary and "展开 1 条回复" in summary


def test_nesting_and_reply_to_follow_the_thread_depth_setting(client, settings):
    settings.FORUM_THREAD_DEPTH = 2
    chain = [CommentFactory()]
    for depth in range(1, 4):
        chain.append(CommentFactory(lesson=chain[0].lesson, parent=chain[-1], depth=depth))
    html = client.get(chain[0].lesson.get_absolute_url()).content.decode()
    top, first, second, third = (str(c.pk) for c in chain)
    assert displayed_parents(html) == {top: None, first: top, second: top, third: top}
    assert f"回复 <bdi>@{chain[1].member.display_name}</bdi>" in html
    assert f"回复 <bdi>@{chain[2].member.display_name}</bdi>" in html
    assert f"回复 <bdi>@{chain[0].member.display_name}</bdi>" not in html


def test_log_in_to_reply_leads_through_login_back_to_the_comment(client):
    comment = CommentFactory()
    user = UserFactory()
    html = client.get(comment.lesson.get_absolute_url()).content.decode()
    card = html[html.index(f'id="comment-content-{comment.pk}"') :]
    link = unescape(re.search(r'href="([^"]+)">登录后回复<', card)[1])
    login_page = client.get(link).content.decode()
    next_url = unescape(re.search(r'name="next" value="([^"]+)"', login_page)[1])
    response = client.post(
        reverse("account_login"), {"login": user.username, "password": PASSWORD, "next": next_url}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{comment.url}#comment-{comment.pk}"
    page = client.get(comment.url).content.decode()
    assert f'class="comment comment--focus" id="comment-{comment.pk}"' in page
    assert reverse("forum:comment-reply", args=[comment.pk]) in page  # they may reply now
