from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from forum import moderation, services
from forum.models import Comment, Member
from forum.selectors import thread_for
from tests.factories import (
    CommentFactory,
    LessonFactory,
    MemberFactory,
    UserFactory,
    moderator,
    teacher_of,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def member_of(user) -> Member:
    return services.member_for(user)


@pytest.fixture
def lesson():
    return LessonFactory()


def test_member_posts_a_top_level_comment(member_client, member, lesson):
    response = member_client.post(
        reverse("forum:comment-create", args=[lesson.pk]), {"body": "讲得好"}
    )
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/comments/{comment.pk}/#comment-{comment.pk}"
    assert comment.member.user == member
    lesson.refresh_from_db()
    assert lesson.comment_count == 1


def test_comment_posted_without_javascript_lands_where_it_shows(member_client, lesson):
    for position in range(1, 31):  # an imported lesson's 30 featured comments fill page 1
        CommentFactory(lesson=lesson, is_featured=True, source_position=position)
    member_client.post(reverse("forum:comment-create", args=[lesson.pk]), {"body": "新的看法"})
    comment = Comment.objects.get(body="新的看法")
    response = member_client.get(f"/comments/{comment.pk}/")
    assert f'id="comment-{comment.pk}"' in response.content.decode()
    first_page = member_client.get(lesson.get_absolute_url()).content.decode()
    assert f'id="comment-{comment.pk}"' not in first_page


def test_htmx_post_returns_only_the_new_comment(member_client, lesson):
    response = member_client.post(
        reverse("forum:comment-create", args=[lesson.pk]), {"body": "讲得好"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert f'id="comment-{Comment.objects.get().pk}"' in html


def test_blank_comment_is_a_form_error_next_to_the_field(member_client, lesson):
    response = member_client.post(
        reverse("forum:comment-create", args=[lesson.pk]), {"body": " \n\t "}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'aria-describedby="comment-errors"' in html
    assert "请先写点什么" in html
    assert not Comment.objects.exists()


def test_blank_comment_over_htmx_rerenders_the_form_in_place(member_client, lesson):
    response = member_client.post(
        reverse("forum:comment-create", args=[lesson.pk]), {"body": ""}, **HTMX
    )
    assert response["HX-Retarget"] == "#comment-form"
    assert response["HX-Reswap"] == "outerHTML"
    assert "请先写点什么" in response.content.decode()


def test_comment_longer_than_5000_characters_is_refused(lesson, member):
    with pytest.raises(ValidationError):
        services.comment_post(author=member_of(member), lesson=lesson, body="长" * 5001)
    services.comment_post(author=member_of(member), lesson=lesson, body="长" * 5000)


def test_comment_markdown_subset_has_no_raw_html_or_images(lesson, member):
    comment = services.comment_post(
        author=member_of(member),
        lesson=lesson,
        body="**粗** `code`\n\n<b>raw</b> ![img](https://example.com/a.png)",
    )
    assert "<strong>粗</strong>" in comment.body_html
    assert "<code>code</code>" in comment.body_html
    assert "<b>" not in comment.body_html and "&lt;b&gt;" in comment.body_html
    assert "<img" not in comment.body_html


def test_anonymous_post_goes_to_login(client, lesson):
    response = client.post(reverse("forum:comment-create", args=[lesson.pk]), {"body": "hi"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not Comment.objects.exists()


def test_anonymous_htmx_post_redirects_the_whole_page_to_login(client, lesson):
    response = client.post(
        reverse("forum:comment-create", args=[lesson.pk]),
        {"body": "hi"},
        HTTP_HX_CURRENT_URL=f"http://testserver{lesson.get_absolute_url()}",
        **HTMX,
    )
    assert response["HX-Redirect"].startswith(reverse("account_login") + "?next=")


def test_anonymous_reader_gets_log_in_to_reply_back_to_the_comment(client):
    comment = CommentFactory()
    html = client.get(comment.lesson.get_absolute_url()).content.decode()
    assert "登录后回复" in html
    assert f"next=/comments/{comment.pk}/%23comment-{comment.pk}" in html


def test_reply_updates_parent_and_lesson_counters(member, lesson):
    parent = CommentFactory(lesson=lesson)
    reply = services.comment_post(author=member_of(member), lesson=lesson, parent=parent, body="+1")
    parent.refresh_from_db()
    lesson.refresh_from_db()
    assert (reply.root_id, reply.depth) == (parent.pk, 1)
    assert parent.reply_count == 1
    assert lesson.comment_count == 2


def test_teachers_reply_is_an_author_reply(lesson):
    teacher = teacher_of(lesson.course)
    parent = CommentFactory(lesson=lesson)
    reply = services.comment_post(author=teacher, lesson=lesson, parent=parent, body="好问题")
    assert reply.is_author_reply


def test_teacher_of_another_course_is_not_an_author_here(lesson):
    teacher = teacher_of(LessonFactory().course)
    parent = CommentFactory(lesson=lesson)
    reply = services.comment_post(author=teacher, lesson=lesson, parent=parent, body="路过")
    assert not reply.is_author_reply


def test_replies_run_oldest_first_with_author_replies_first(lesson):
    parent = CommentFactory(lesson=lesson)
    first = CommentFactory(lesson=lesson, parent=parent)
    second = CommentFactory(lesson=lesson, parent=parent)
    author = CommentFactory(lesson=lesson, parent=parent, is_author_reply=True)
    [thread] = thread_for(lesson).comments
    # The first author reply is the card's 作者回复 block, not one of its listed replies.
    assert thread.author_reply.pk == author.pk
    assert [c.pk for c in thread.children] == [first.pk, second.pk]
    later = CommentFactory(lesson=lesson, parent=parent, is_author_reply=True)
    [thread] = thread_for(lesson).comments
    assert [c.pk for c in thread.children] == [later.pk, first.pk, second.pk]


def test_replies_deeper_than_the_display_depth_show_one_level_up_with_reply_to(client, lesson):
    chain = [CommentFactory(lesson=lesson)]
    for depth in range(1, 6):
        chain.append(CommentFactory(lesson=lesson, parent=chain[-1], depth=depth))
    [thread] = thread_for(lesson).comments
    level3 = thread.children[0].children[0]
    assert level3.pk == chain[2].pk
    assert [c.pk for c in level3.children] == [chain[3].pk, chain[4].pk, chain[5].pk]
    assert [c.reply_to for c in level3.children] == [None, chain[3], chain[4]]
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert f"回复 <bdi>@{chain[3].member.display_name}</bdi>" in html


def card_of(html: str, comment: Comment) -> str:
    """A comment's own card on a page: its content up to its footer, without its replies."""
    start = html.index(f'id="comment-content-{comment.pk}"')
    return html[start : html.index("</footer>", start)]


def withdrawn_author_reply(lesson, parent: Comment) -> Comment:
    """A teacher's reply to `parent`, deleted while it has a reply: it stays as a placeholder."""
    teacher = teacher_of(lesson.course)
    reply = services.comment_post(author=teacher, lesson=lesson, parent=parent, body="撤回的回答")
    services.comment_post(author=MemberFactory(), lesson=lesson, parent=reply, body="追问")
    services.comment_delete(member=teacher, comment=reply)
    return reply


def test_deleted_author_reply_is_not_shown_as_the_author_reply_block(client, lesson):
    parent = CommentFactory(lesson=lesson)
    withdrawn_author_reply(lesson, parent)
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert "author-reply-block" not in card_of(html, parent)
    assert "撤回的回答" not in html


def test_next_author_reply_takes_the_place_of_a_deleted_one(client, lesson):
    parent = CommentFactory(lesson=lesson)
    withdrawn_author_reply(lesson, parent)
    teacher = teacher_of(lesson.course)
    services.comment_post(author=teacher, lesson=lesson, parent=parent, body="重新回答")
    card = card_of(client.get(lesson.get_absolute_url()).content.decode(), parent)
    assert "author-reply-block" in card and "重新回答" in card


def test_author_reply_in_review_is_not_the_author_reply_block(lesson):
    teacher = teacher_of(lesson.course)
    parent = CommentFactory(lesson=lesson)
    CommentFactory(
        lesson=lesson,
        parent=parent,
        depth=1,
        member=teacher,
        is_author_reply=True,
        status=Comment.Status.PENDING,
    )
    [thread] = thread_for(lesson, viewer=teacher).comments
    assert len(thread.children) == 1
    assert thread.author_reply is None


def test_comment_fragment_skips_a_deleted_author_reply(client, lesson):
    parent = CommentFactory(lesson=lesson)
    withdrawn_author_reply(lesson, parent)
    teacher = teacher_of(lesson.course)
    services.comment_post(author=teacher, lesson=lesson, parent=parent, body="重新回答")
    client.force_login(teacher.user)
    response = client.post(reverse("forum:comment-feature", args=[parent.pk]), **HTMX)
    html = response.content.decode()
    assert "撤回的回答" not in html
    assert "重新回答" in card_of(html, parent)


def test_teachers_reply_at_the_deepest_depth_shows_in_the_commenters_card(client, lesson, settings):
    settings.FORUM_THREAD_DEPTH = 4
    commenter = CommentFactory(lesson=lesson)
    for _ in range(3):
        commenter = services.comment_post(
            author=MemberFactory(), lesson=lesson, parent=commenter, body="追问"
        )
    teacher = teacher_of(lesson.course)
    services.comment_post(author=teacher, lesson=lesson, parent=commenter, body="老师的回答")
    card = card_of(client.get(lesson.get_absolute_url()).content.decode(), commenter)
    assert "author-reply-block" in card and "老师的回答" in card


def test_teachers_first_htmx_answer_fills_the_commenters_card_at_once(client, lesson):
    parent = CommentFactory(lesson=lesson)
    teacher = teacher_of(lesson.course)
    client.force_login(teacher.user)
    url = reverse("forum:comment-reply", args=[parent.pk])
    html = client.post(url, {"body": "第一个回答"}, **HTMX).content.decode()
    oob = f'data-hx-swap-oob="afterend:#comment-content-{parent.pk} .comment__body"'
    assert oob in html
    block = html[html.index(oob) :]
    assert "author-reply-block" in block and "第一个回答" in block


def test_teachers_second_answer_leaves_the_block_to_the_first(client, lesson):
    parent = CommentFactory(lesson=lesson)
    teacher = teacher_of(lesson.course)
    services.comment_post(author=teacher, lesson=lesson, parent=parent, body="第一个回答")
    client.force_login(teacher.user)
    url = reverse("forum:comment-reply", args=[parent.pk])
    html = client.post(url, {"body": "补充一句"}, **HTMX).content.decode()
    assert 'data-hx-swap-oob="afterend:' not in html


def test_members_htmx_reply_adds_no_author_reply_block(member_client, lesson):
    parent = CommentFactory(lesson=lesson)
    url = reverse("forum:comment-reply", args=[parent.pk])
    html = member_client.post(url, {"body": "同问"}, **HTMX).content.decode()
    assert "author-reply-block" not in html


def test_permalink_page_shows_the_comment_in_its_thread(client):
    parent = CommentFactory()
    reply = CommentFactory(lesson=parent.lesson, parent=parent)
    html = client.get(reverse("forum:comment", args=[reply.pk])).content.decode()
    assert f'id="comment-{parent.pk}"' in html
    assert "comment--focus" in html
    assert html.index(f'id="comment-{parent.pk}"') < html.index(f'id="comment-{reply.pk}"')


def reply_chain(length: int) -> list[Comment]:
    """A thread that is one chain of `length` comments, each replying to the one before."""
    root = CommentFactory(reply_count=1)
    chain = [root]
    for depth in range(1, length):
        chain.append(
            Comment.objects.create(
                lesson=root.lesson,
                member=root.member,
                parent=chain[-1],
                root=root,
                depth=depth,
                body=f"第{depth}层",
                body_html=f"<p>第{depth}层</p>",
                reply_count=1 if depth < length - 1 else 0,
            )
        )
    return chain


def shown_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-comment-id="(\d+)"', html)]


def test_permalink_in_a_1000_deep_chain_shows_a_window_in_a_fixed_number_of_queries(
    client, django_assert_num_queries
):
    """Issue 21: the page held the whole chain, 1.1–2.8 s and 2 MB a request."""
    short, deep = reply_chain(12), reply_chain(1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("forum:comment", args=[short[6].pk]))
    focus = deep[500]
    with django_assert_num_queries(len(queries)):
        html = client.get(reverse("forum:comment", args=[focus.pk])).content.decode()
    assert shown_ids(html) == [c.pk for c in deep[495:505]]  # 5 above, 4 levels below
    assert "comment--focus" in html
    assert f'href="/comments/{deep[494].pk}/#comment-{deep[494].pk}" data-continue="up"' in html
    assert f'href="/comments/{deep[504].pk}/#comment-{deep[504].pk}" data-continue="down"' in html
    assert html.count("data-continue") == 2


def test_permalink_at_the_top_or_the_end_of_a_chain_has_no_link_past_it(client):
    chain = reply_chain(20)
    top = client.get(reverse("forum:comment", args=[chain[0].pk])).content.decode()
    assert shown_ids(top) == [c.pk for c in chain[:5]]
    assert 'data-continue="up"' not in top and 'data-continue="down"' in top
    end = client.get(reverse("forum:comment", args=[chain[-1].pk])).content.decode()
    assert shown_ids(end) == [c.pk for c in chain[-6:]]
    assert 'data-continue="up"' in end and 'data-continue="down"' not in end


def test_permalink_shows_a_bounded_number_of_replies_oldest_first(client, monkeypatch):
    monkeypatch.setattr("forum.selectors.WINDOW_REPLIES", 3)
    parent = CommentFactory()
    replies = [CommentFactory(lesson=parent.lesson, parent=parent) for _ in range(4)]
    html = client.get(reverse("forum:comment", args=[parent.pk])).content.decode()
    assert shown_ids(html) == [parent.pk, *(r.pk for r in replies[:3])]


def test_permalink_window_stops_at_an_ancestor_the_reader_cannot_see(client):
    chain = reply_chain(10)
    Comment.objects.filter(pk=chain[6].pk).update(status=Comment.Status.HIDDEN)
    Comment.objects.filter(pk=chain[5].pk).update(reply_count=0)  # as hiding counts it
    html = client.get(reverse("forum:comment", args=[chain[8].pk])).content.decode()
    assert shown_ids(html) == [chain[7].pk, chain[8].pk, chain[9].pk]
    assert "data-continue" not in html
    html = client.get(reverse("forum:comment", args=[chain[2].pk])).content.decode()
    assert 'data-continue="down"' not in html  # the replies below it go on under a hidden one


def test_permalink_of_a_reply_keeps_its_parents_author_reply_block(client, lesson):
    parent = CommentFactory(lesson=lesson)
    teacher = teacher_of(lesson.course)
    services.comment_post(author=teacher, lesson=lesson, parent=parent, body="老师的回答")
    other = services.comment_post(author=MemberFactory(), lesson=lesson, parent=parent, body="我")
    html = client.get(reverse("forum:comment", args=[other.pk])).content.decode()
    assert "author-reply-block" in card_of(html, parent) and "老师的回答" in html


def test_hidden_comment_has_no_permalink(client):
    comment = CommentFactory(status=Comment.Status.HIDDEN)
    assert client.get(reverse("forum:comment", args=[comment.pk])).status_code == 404


def test_edit_keeps_the_previous_version(member, lesson):
    comment = services.comment_post(author=member_of(member), lesson=lesson, body="v1")
    services.comment_edit(member=member_of(member), comment=comment, body="v2")
    comment.refresh_from_db()
    assert comment.body == "v2" and comment.edited_at is not None
    assert list(comment.revisions.values_list("body", flat=True)) == ["v1"]


def test_nobody_edits_another_members_comment(client):
    comment = CommentFactory(body="原文")
    intruder = UserFactory()
    client.force_login(intruder)
    response = client.post(reverse("forum:comment-edit", args=[comment.pk]), {"body": "篡改"})
    assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.body == "原文"


def test_nobody_deletes_another_members_comment(client):
    comment = CommentFactory()
    client.force_login(UserFactory())
    assert client.post(reverse("forum:comment-delete", args=[comment.pk])).status_code == 403
    comment.refresh_from_db()
    assert comment.deleted_at is None


def test_edit_and_delete_controls_only_on_your_own_comments(member_client, member, lesson):
    mine = CommentFactory(lesson=lesson, member=member_of(member))
    theirs = CommentFactory(lesson=lesson)
    html = member_client.get(lesson.get_absolute_url()).content.decode()
    assert reverse("forum:comment-edit", args=[mine.pk]) in html
    assert reverse("forum:comment-edit", args=[theirs.pk]) not in html
    assert reverse("forum:comment-delete", args=[theirs.pk]) not in html


def test_delete_with_replies_leaves_a_placeholder(client, member_client, member, lesson):
    mine = services.comment_post(author=member_of(member), lesson=lesson, body="我的")
    reply = services.comment_post(author=MemberFactory(), lesson=lesson, parent=mine, body="回")
    member_client.post(reverse("forum:comment-delete", args=[mine.pk]))
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert "此留言已删除" in html
    assert f'id="comment-{reply.pk}"' in html
    lesson.refresh_from_db()
    assert lesson.comment_count == 1


def test_htmx_delete_without_replies_removes_the_list_item_that_holds_it(member_client, member):
    mine = CommentFactory(member=member_of(member))
    response = member_client.post(reverse("forum:comment-delete", args=[mine.pk]), **HTMX)
    assert response["HX-Retarget"] == "closest li"
    assert response["HX-Reswap"] == "delete"


def test_deleted_placeholder_holds_an_author_element_that_names_no_one(client, lesson):
    author = MemberFactory(display_name="后悔的人", avatar_url="https://example.com/regret.png")
    mine = services.comment_post(author=author, lesson=lesson, body="说错了")
    services.comment_post(author=MemberFactory(), lesson=lesson, parent=mine, body="回")
    services.comment_delete(member=author, comment=mine)
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert "data-author>匿名</bdi>" in card_of(html, mine)
    assert f'id="comment-{mine.pk}" data-comment-id="{mine.pk}"' in html
    assert "后悔的人" not in html and "regret.png" not in html


def test_reply_to_a_deleted_comment_at_the_deepest_depth_names_no_one(client, lesson, settings):
    settings.FORUM_THREAD_DEPTH = 2
    top = CommentFactory(lesson=lesson)
    author = MemberFactory(display_name="后悔的人")
    mine = services.comment_post(author=author, lesson=lesson, parent=top, body="说错了")
    services.comment_post(author=MemberFactory(), lesson=lesson, parent=mine, body="回")
    services.comment_delete(member=author, comment=mine)
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert "回复 <bdi>@匿名</bdi>" in html
    assert "后悔的人" not in html
    assert "后悔的人" not in client.get(mine.url).content.decode()


def test_delete_without_replies_removes_the_comment_from_the_page(
    client, member_client, member, lesson
):
    mine = services.comment_post(author=member_of(member), lesson=lesson, body="我的")
    member_client.post(reverse("forum:comment-delete", args=[mine.pk]))
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert f'id="comment-{mine.pk}"' not in html
    assert Comment.objects.filter(pk=mine.pk).exists()


@pytest.mark.parametrize("action", ["feature", "unfeature", "pin", "unpin"])
def test_member_cannot_feature_or_pin(member_client, lesson, action):
    comment = CommentFactory(lesson=lesson, is_featured=True, is_pinned=True)
    response = member_client.post(reverse(f"forum:comment-{action}", args=[comment.pk]))
    assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.is_featured and comment.is_pinned


def test_curation_controls_are_not_offered_to_members(member_client, lesson):
    CommentFactory(lesson=lesson)
    html = member_client.get(lesson.get_absolute_url()).content.decode()
    assert 'data-action="feature"' not in html and 'data-action="pin"' not in html


def test_teacher_pins_and_features_on_their_own_lesson(client, lesson):
    teacher = teacher_of(lesson.course).user
    comment = CommentFactory(lesson=lesson)
    client.force_login(teacher)
    client.post(reverse("forum:comment-pin", args=[comment.pk]))
    client.post(reverse("forum:comment-feature", args=[comment.pk]))
    comment.refresh_from_db()
    assert comment.is_pinned and comment.is_featured


def test_curating_forms_carry_the_sort_and_page_the_reader_is_on(client, lesson):
    CommentFactory.create_batch(21, lesson=lesson)
    client.force_login(teacher_of(lesson.course).user)
    html = client.get(lesson.get_absolute_url() + "?sort=old&page=2").content.decode()
    here = f'name="next" value="{lesson.get_absolute_url()}?sort=old&amp;page=2"'
    assert html.count(here) == 2  # the one comment of page 2: its feature and pin forms


def test_curating_forms_on_a_permalink_page_come_back_to_it(client, lesson):
    parent = CommentFactory(lesson=lesson)
    reply = CommentFactory(lesson=lesson, parent=parent, depth=1)
    client.force_login(teacher_of(lesson.course).user)
    html = client.get(reply.url).content.decode()
    assert html.count(f'name="next" value="{reply.url}"') == 3  # feature ×2, pin the top one


def test_curating_without_javascript_returns_to_the_readers_sort_and_page(client, lesson):
    comment = CommentFactory(lesson=lesson)
    client.force_login(teacher_of(lesson.course).user)
    back = f"{lesson.get_absolute_url()}?sort=old&page=2"
    response = client.post(reverse("forum:comment-pin", args=[comment.pk]), {"next": back})
    assert response["Location"] == f"{back}#comment-{comment.pk}"


def test_curating_returns_to_the_lesson_when_next_is_another_site(client, lesson):
    comment = CommentFactory(lesson=lesson)
    client.force_login(teacher_of(lesson.course).user)
    response = client.post(
        reverse("forum:comment-feature", args=[comment.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == f"{lesson.get_absolute_url()}#comment-{comment.pk}"


def test_teacher_cannot_pin_on_another_teachers_lesson(client, lesson):
    teacher = teacher_of(LessonFactory().course).user
    comment = CommentFactory(lesson=lesson)
    client.force_login(teacher)
    assert client.post(reverse("forum:comment-pin", args=[comment.pk])).status_code == 403


def test_moderator_features_anywhere(client, lesson):
    moderator = UserFactory()
    moderator.user_permissions.add(Permission.objects.get(codename="moderate_comment"))
    comment = CommentFactory(lesson=lesson)
    client.force_login(moderator)
    client.post(reverse("forum:comment-feature", args=[comment.pk]))
    comment.refresh_from_db()
    assert comment.is_featured


def suspended(member: Member) -> Member:
    moderation.member_suspend(
        moderator=None, member=member, until=timezone.now() + timedelta(days=7), reason="刷屏"
    )
    return member


@pytest.mark.parametrize("action", ["feature", "pin"])
def test_suspended_teacher_cannot_feature_or_pin_and_is_told_why(client, lesson, action):
    teacher = suspended(teacher_of(lesson.course))
    comment = CommentFactory(lesson=lesson)
    client.force_login(teacher.user)
    response = client.post(reverse(f"forum:comment-{action}", args=[comment.pk]))
    assert response.status_code == 403
    assert "暂停" in response.content.decode() and "刷屏" in response.content.decode()
    comment.refresh_from_db()
    assert not comment.is_featured and not comment.is_pinned


def test_suspended_moderator_cannot_feature(lesson):
    user = moderator()
    suspended(member_of(user))
    comment = CommentFactory(lesson=lesson)
    with pytest.raises(PermissionDenied, match="刷屏"):
        services.comment_feature(user=user, comment=comment, featured=True)
    assert not services.can_curate(user, lesson)


def test_curation_controls_are_not_offered_to_a_suspended_teacher(client, lesson):
    teacher = suspended(teacher_of(lesson.course))
    CommentFactory(lesson=lesson)
    client.force_login(teacher.user)
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert 'data-action="feature"' not in html and 'data-action="pin"' not in html


def test_replies_cannot_be_pinned(lesson):
    moderator = UserFactory(is_superuser=True)
    reply = CommentFactory(lesson=lesson, parent=CommentFactory(lesson=lesson))
    with pytest.raises(ValidationError):
        services.comment_pin(user=moderator, comment=reply, pinned=True)


def test_curation_refuses_a_get(client, lesson):
    client.force_login(UserFactory(is_superuser=True))
    comment = CommentFactory(lesson=lesson)
    assert client.get(reverse("forum:comment-pin", args=[comment.pk])).status_code == 405


def test_featured_sort_puts_pinned_then_featured_in_source_order_then_the_rest(lesson):
    rest = CommentFactory(lesson=lesson)
    second = CommentFactory(lesson=lesson, is_featured=True, source_position=2)
    first = CommentFactory(lesson=lesson, is_featured=True, source_position=1)
    pinned = CommentFactory(lesson=lesson, is_pinned=True)
    order = [c.pk for c in thread_for(lesson).comments]
    assert order == [pinned.pk, first.pk, second.pk, rest.pk]


def test_hot_sort_orders_by_likes(lesson):
    low = CommentFactory(lesson=lesson, like_count=1)
    high = CommentFactory(lesson=lesson, like_count=9)
    assert [c.pk for c in thread_for(lesson, sort="hot").comments] == [high.pk, low.pk]


def test_sort_is_read_from_the_url(client, lesson):
    old = CommentFactory(lesson=lesson)
    new = CommentFactory(lesson=lesson)
    html = client.get(lesson.get_absolute_url() + "?sort=old").content.decode()
    assert html.index(f'id="comment-{old.pk}"') < html.index(f'id="comment-{new.pk}"')
    assert 'data-sort="old">最早' in html.replace('aria-current="true" ', "")


def test_load_more_over_htmx_returns_only_the_next_threads(client, lesson):
    CommentFactory.create_batch(21, lesson=lesson)
    response = client.get(
        lesson.get_absolute_url() + "?page=2", HTTP_HX_TARGET="comment-list-more", **HTMX
    )
    html = response.content.decode()
    assert "<html" not in html and "lesson__body" not in html
    assert html.count('class="comment"') == 1


def deep_lesson(top_level: int, replies_per_thread: int):
    """Threads of a chain of replies each; written in bulk, a level at a time, and counted by
    recount (what the page reads is the rows, not how they came)."""
    lesson = LessonFactory()
    members = MemberFactory.create_batch(4)
    roots = Comment.objects.bulk_create(
        CommentFactory.build_batch(top_level, lesson=lesson, member=members[0])
    )
    parents = roots
    for depth in range(1, replies_per_thread + 1):
        parents = Comment.objects.bulk_create(
            CommentFactory.build(
                lesson=lesson,
                parent=parent,
                root=root,
                depth=min(depth, 6),
                member=members[(index + depth) % 4],
            )
            for index, (root, parent) in enumerate(zip(roots, parents, strict=True))
        )
    call_command("recount", stdout=io.StringIO())
    return lesson


@pytest.mark.parametrize("signed_in", [False, True])
def test_lesson_page_queries_do_not_grow_with_comments(
    client, django_assert_num_queries, signed_in
):
    small = deep_lesson(top_level=9, replies_per_thread=1)
    large = deep_lesson(top_level=333, replies_per_thread=6)
    assert Comment.objects.filter(lesson=large).count() >= 2000
    if signed_in:
        user = UserFactory()
        member_of(user)
        client.force_login(user)
    expected = 11 if signed_in else 8  # see tests/forum/test_likes.py
    with django_assert_num_queries(expected):
        assert client.get(small.get_absolute_url()).status_code == 200
    with django_assert_num_queries(expected):
        assert client.get(large.get_absolute_url()).status_code == 200


def test_reply_post_costs_a_bounded_number_of_queries(
    member_client, member, django_assert_max_num_queries
):
    member_of(member)
    parent = CommentFactory()
    with django_assert_max_num_queries(14):
        member_client.post(reverse("forum:comment-reply", args=[parent.pk]), {"body": "好"}, **HTMX)
    assert Comment.objects.filter(parent=parent).count() == 1


def test_reply_form_is_a_fragment_over_htmx_and_a_page_without(member_client):
    parent = CommentFactory()
    url = reverse("forum:comment-reply", args=[parent.pk])
    fragment = member_client.get(url, **HTMX).content.decode()
    page = member_client.get(url).content.decode()
    assert "<html" not in fragment and 'name="body"' in fragment
    assert "<html" in page and 'name="body"' in page


def test_reply_to_a_deleted_comment_is_refused(member, lesson):
    author = MemberFactory()
    parent = services.comment_post(author=author, lesson=lesson, body="将被删除")
    services.comment_delete(member=author, comment=parent)
    with pytest.raises(ValidationError):
        services.comment_post(author=member_of(member), lesson=lesson, parent=parent, body="hi")


def test_editing_a_deleted_comment_is_refused(lesson):
    comment = services.comment_post(author=MemberFactory(), lesson=lesson, body="将被删除")
    services.comment_delete(member=comment.member, comment=comment)
    with pytest.raises(PermissionDenied):
        services.comment_edit(member=comment.member, comment=comment, body="复活")


def test_member_who_teaches_the_course_without_the_teacher_role_is_not_an_author(lesson):
    member = member_of(UserFactory())
    member.courses_taught.add(lesson.course)
    parent = CommentFactory(lesson=lesson)
    reply = services.comment_post(author=member, lesson=lesson, parent=parent, body="冒充")
    assert not reply.is_author_reply


@pytest.mark.parametrize(
    "action",
    [
        "reply",
        "edit",
        "delete",
        "likes",
        "like",
        "unlike",
        "report",
        "feature",
        "unfeature",
        "pin",
        "unpin",
    ],
)
def test_comment_action_urls_live_below_the_permalink(action):
    """Templates build `{{ comment.url }}<action>/` instead of reversing each URL."""
    comment = CommentFactory()
    name = "comment-likers" if action == "likes" else f"comment-{action}"
    assert reverse(f"forum:{name}", args=[comment.pk]) == f"{comment.url}{action}/"


def test_looking_for_a_comment_in_review_creates_no_member(client):
    pending = CommentFactory(status=Comment.Status.PENDING)
    client.force_login(UserFactory())
    members = Member.objects.count()
    assert client.get(pending.url).status_code == 404
    assert Member.objects.count() == members
