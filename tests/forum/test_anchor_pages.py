"""The lesson page's blocks with their comments, a block's comments, and the revision pages."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from forum import services
from forum.models import Comment
from lessons.models import Lesson
from lessons.revisions import revision_record
from tests.factories import (
    CommentFactory,
    LessonFactory,
    MemberFactory,
    UserFactory,
    lesson_admin_form,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
BODY = "# 标题\n\n第一段。\n\n- 甲\n- 乙\n\n> 引用的话\n\n第一段。\n"


@pytest.fixture
def lesson() -> Lesson:
    return LessonFactory(body_markdown=BODY)


def blocks_of(html: str) -> list[str]:
    return re.findall(r'data-block-id="([^"]+)"', html)


def test_every_block_carries_its_anchor_and_a_count_that_leads_to_its_comments(client, lesson):
    html = client.get(lesson.get_absolute_url()).content.decode()
    anchors = list(lesson.blocks)
    assert len(anchors) == 6  # heading, paragraph, two items, quote, the paragraph again
    assert blocks_of(html) == anchors
    assert len(set(anchors)) == 6
    for anchor in anchors:
        assert f'href="{lesson.get_absolute_url()}?block={anchor}#comments"' in html
        assert f'data-hx-get="/lessons/{lesson.pk}/blocks/{anchor}/"' in html
        assert f'id="block-count-{anchor}" data-block-count data-empty>0<' in html


def test_block_counts_count_the_comments_on_each_block(client, lesson):
    first, second = list(lesson.blocks)[:2]
    for body in ("一", "二"):
        services.comment_post(author=MemberFactory(), lesson=lesson, body=body, block=first)
    services.comment_post(author=MemberFactory(), lesson=lesson, body="三", block=second)
    CommentFactory(lesson=lesson)  # on the whole lesson
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert f'id="block-count-{first}" data-block-count>2<' in html
    assert f'id="block-count-{second}" data-block-count>1<' in html


def test_the_discussion_filtered_to_a_block_lists_its_comments_only(client, lesson):
    first = next(iter(lesson.blocks))
    author = MemberFactory()
    on_block = services.comment_post(author=author, lesson=lesson, body="这段", block=first)
    elsewhere = CommentFactory(lesson=lesson)
    html = client.get(f"{lesson.get_absolute_url()}?block={first}").content.decode()
    assert f'id="comment-{on_block.pk}"' in html
    assert f'id="comment-{elsewhere.pk}"' not in html
    assert "这一段的评论" in html
    assert f"?block={first}&amp;sort=new#comments" in html  # the sort keeps the filter


def test_a_block_comment_shows_its_quote_escaped_with_a_link_back(client):
    lesson = LessonFactory(body_markdown="`<script>alert(1)</script>` 这一句\n")
    anchor = next(iter(lesson.blocks))
    comment = services.comment_post(author=MemberFactory(), lesson=lesson, body="问", block=anchor)
    html = client.get(lesson.get_absolute_url()).content.decode()
    card = html[html.index(f'id="comment-{comment.pk}"') :]
    assert f'data-comment-block="{anchor}"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 这一句" in card
    link = f"{lesson.get_absolute_url()}#{anchor}"
    assert f'<a href="{link}" data-action="to-passage">' in card


def test_a_blocks_comments_have_a_page_of_their_own(client, lesson):
    anchor = list(lesson.blocks)[1]
    comment = services.comment_post(author=MemberFactory(), lesson=lesson, body="旧", block=anchor)
    html = client.get(reverse("forum:block-comments", args=[lesson.pk, anchor])).content.decode()
    assert "<h1>这一段的评论</h1>" in html and f'id="comment-{comment.pk}"' in html
    assert client.get(f"/lessons/{lesson.pk}/blocks/nonsense/").status_code == 404


def test_a_block_opens_its_comments_and_a_form_inline(member_client, lesson):
    anchor = list(lesson.blocks)[1]
    comment = services.comment_post(author=MemberFactory(), lesson=lesson, body="旧", block=anchor)
    url = reverse("forum:block-comments", args=[lesson.pk, anchor])
    html = member_client.get(url, **HTMX).content.decode()
    assert f'id="comment-{comment.pk}"' in html
    assert f'name="block" value="{anchor}"' in html
    assert "<html" not in html


def test_posting_on_a_block_with_htmx_returns_the_comment_and_its_new_count(member_client, lesson):
    anchor = list(lesson.blocks)[1]
    response = member_client.post(
        reverse("forum:comment-create", args=[lesson.pk]),
        {"body": "这一段不清楚", "block": anchor},
        **HTMX,
    )
    html = response.content.decode()
    comment = Comment.objects.get(body="这一段不清楚")
    assert comment.block_id == anchor and comment.block_quote == "第一段。"
    assert f'data-comment-block="{anchor}"' in html
    assert f'id="block-count-{anchor}" data-block-count data-hx-swap-oob="true">1<' in html


@pytest.mark.parametrize("block", ["b0000000000", "<script>", "x" * 5000])
def test_a_forged_block_is_refused(member_client, lesson, block):
    response = member_client.post(
        reverse("forum:comment-create", args=[lesson.pk]), {"body": "好", "block": block}
    )
    assert response.status_code == 400
    assert "<script>" not in response.content.decode().split("</header>", 1)[1]
    assert not Comment.objects.exists()


def test_a_block_comment_moves_the_cached_pages_count(client, lesson):
    anchor = next(iter(lesson.blocks))
    assert (
        f'id="block-count-{anchor}" data-block-count data-empty>0<'
        in client.get(lesson.get_absolute_url()).content.decode()
    )
    services.comment_post(author=MemberFactory(), lesson=lesson, body="好", block=anchor)
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert f'id="block-count-{anchor}" data-block-count>1<' in html


def many_comments(lesson: Lesson, count: int) -> None:
    anchors = list(lesson.blocks)
    member = MemberFactory()
    Comment.objects.bulk_create(
        Comment(
            lesson=lesson,
            member=member,
            body=f"评论{i}",
            body_html=f"<p>评论{i}</p>",
            block_id=anchors[i % len(anchors)] if i % 3 else "",
            block_quote="第一段。",
        )
        for i in range(count)
    )


@pytest.mark.parametrize("signed_in", [False, True])
def test_lesson_page_with_block_counts_costs_the_same_at_18_and_10000_comments(
    client, django_assert_num_queries, signed_in
):
    small, large = LessonFactory(body_markdown=BODY), LessonFactory(body_markdown=BODY)
    many_comments(small, 18)
    many_comments(large, 10_000)
    if signed_in:
        user = UserFactory()
        services.member_for(user)  # made on first use: not by the page measured
        client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(small.get_absolute_url()).content.decode()
    assert "data-block-count" in html
    expected = 11 if signed_in else 8  # the page's (tests/forum/test_discussion.py) and the counts
    assert len(queries) == expected
    with django_assert_num_queries(expected):
        html = client.get(large.get_absolute_url()).content.decode()
    counts = [int(n) for n in re.findall(r"data-block-count(?: data-empty)?>(\d+)<", html)]
    assert sum(counts) == sum(1 for i in range(10_000) if i % 3)


# Revisions -------------------------------------------------------------------------------------


def revise(lesson: Lesson, markdown: str) -> None:
    lesson.body_markdown = markdown
    lesson.save()
    revision_record(lesson=lesson)


def test_revision_history_lists_revisions_and_marks_the_diff_not_by_colour_alone(client, lesson):
    revise(lesson, BODY)
    edited = BODY.replace("第一段。\n\n- 甲", "第一段，改过了。\n\n- 甲")
    revise(lesson, edited.replace("> 引用的话\n\n", ""))
    revise(lesson, lesson.body_markdown + "\n新的一段 <b>粗</b>\n")
    html = client.get(reverse("lessons:revisions", args=[lesson.pk])).content.decode()
    assert html.count('data-revision-number="') == 3
    assert '<li class="diff__row diff__row--added" data-diff="added">' in html
    assert "<ins>新的一段 粗</ins>" in html
    url = reverse("lessons:revisions", args=[lesson.pk])
    html = client.get(url + "?from=1&to=2").content.decode()
    assert "<del>引用的话</del>" in html
    assert "<ins>，改过了</ins>" in html
    assert '<span class="visually-hidden">删除：</span>' in html
    assert client.get(reverse("lessons:revisions", args=[lesson.pk]) + "?from=9").status_code == 404


def test_a_revision_shows_its_own_text(client, lesson):
    revise(lesson, BODY)
    revise(lesson, "全新的正文。\n")
    html = client.get(reverse("lessons:revision", args=[lesson.pk, 1])).content.decode()
    assert "引用的话" in html and "全新的正文" not in html
    assert client.get(reverse("lessons:revision", args=[lesson.pk, 7])).status_code == 404


def test_a_comment_on_an_older_revision_says_so_with_a_link_to_it(client, lesson):
    revise(lesson, BODY)
    comment = services.comment_post(author=MemberFactory(), lesson=lesson, body="旧评论")
    revise(lesson, BODY + "\n补充一段。\n")
    html = client.get(lesson.get_absolute_url()).content.decode()
    link = reverse("lessons:revision", args=[lesson.pk, 1])
    card = html[html.index(f'id="comment-{comment.pk}"') :]
    assert f'<a class="comment__revision" href="{link}" data-comment-revision="1"' in card
    assert "写于第 1 版" in card


def test_a_search_hit_on_a_block_comment_names_its_passage(client, lesson):
    anchor = list(lesson.blocks)[1]
    services.comment_post(author=MemberFactory(), lesson=lesson, body="锚点搜索测试", block=anchor)
    html = client.get(reverse("forum:search"), {"q": "锚点搜索"}).content.decode()
    assert f'href="{lesson.get_absolute_url()}#{anchor}" data-comment-block="{anchor}"' in html
    assert ">第一段。</a>" in html


# Edits in the admin ----------------------------------------------------------------------------


def browser_sent(body: str) -> str:
    return body.replace("\n", "\r\n")  # a textarea's lines, as a browser posts them


def test_a_body_edited_in_the_admin_is_the_next_revision_and_its_comments_follow(
    lesson, superuser_client
):
    revision_record(lesson=lesson)
    anchor = {text: block for block, text in lesson.blocks.items()}
    on = {
        text: services.comment_post(
            author=MemberFactory(), lesson=lesson, body="问", block=anchor[text]
        )
        for text in ("标题", "甲", "引用的话")
    }
    edited = BODY.replace("> 引用的话", "> 引用的那句话").replace("- 甲\n", "")
    url = reverse("admin:lessons_lesson_change", args=[lesson.pk])
    unedited = lesson_admin_form(lesson, body_markdown=browser_sent(BODY))
    assert superuser_client.post(url, unedited).status_code == 302
    assert lesson.revisions.count() == 1
    changed = lesson_admin_form(lesson, body_markdown=browser_sent(edited))
    assert superuser_client.post(url, changed).status_code == 302
    lesson.refresh_from_db()
    assert lesson.revision_number == 2
    assert [r.body_markdown for r in lesson.revisions.all()] == [BODY, edited.strip()]
    for comment in on.values():
        comment.refresh_from_db()
    assert (on["标题"].block_id, on["标题"].anchor_state) == (anchor["标题"], "")
    assert on["甲"].anchor_state == "orphaned" and on["甲"].block_quote == "甲"
    assert on["引用的话"].anchor_state == "modified"
    assert lesson.blocks[on["引用的话"].block_id] == "引用的那句话"


def test_a_new_lesson_added_in_the_admin_is_its_first_revision(superuser_client):
    course = LessonFactory().course
    data = {"course": course.pk, "title": "新课", "slug": "xin", "number": 3, "position": 3}
    response = superuser_client.post(
        reverse("admin:lessons_lesson_add"), data | {"body_markdown": BODY}
    )
    assert response.status_code == 302
    lesson = Lesson.objects.get(course=course, slug="xin")
    assert (lesson.revision_number, lesson.revisions.get().body_markdown) == (1, BODY.strip())


def test_re_rendering_keeps_comments_on_their_text_when_anchors_are_named_anew(
    lesson, superuser_client
):
    """As after a change to how anchors are made: the same text under a new anchor."""
    units = [
        {**unit, "id": "old-" + unit["id"]} if unit.get("id") else unit
        for unit in lesson.body_blocks
    ]
    Lesson.objects.filter(pk=lesson.pk).update(body_blocks=units)
    lesson.refresh_from_db()
    heading = next(iter(lesson.blocks))
    comment = services.comment_post(author=MemberFactory(), lesson=lesson, body="问", block=heading)
    data = {"action": "rerender", "_selected_action": [lesson.pk]}
    assert (
        superuser_client.post(reverse("admin:lessons_lesson_changelist"), data).status_code == 302
    )
    comment.refresh_from_db()
    assert (comment.block_id, comment.anchor_state) == (heading.removeprefix("old-"), "")
