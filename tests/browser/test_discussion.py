"""The discussion in a real browser: inline with htmx, and the same flows without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from forum.models import Comment
from lessons.models import Lesson
from tests.browser.conftest import (
    console_errors,
    log_in,
    mark_page,
    serve_remote_images,
    still_same_page,
)
from tests.factories import CommentFactory, MemberFactory, UserFactory, teacher_of
from tests.forum.test_discussion import reply_chain

pytestmark = pytest.mark.django_db(transaction=True)


def first_comment(lesson: Lesson) -> Comment:
    return Comment.objects.get(lesson=lesson, source_position=1)


def test_reply_appears_nested_without_a_page_load(
    live_server, lesson, lesson_url, page, console_messages
):
    serve_remote_images(page)
    log_in(page, live_server, UserFactory(username="xiaoming"))
    parent = first_comment(lesson)
    page.goto(lesson_url)
    mark_page(page)
    card = page.locator(f"#comment-{parent.pk}")
    card.locator("[data-action=reply]").first.click()
    textarea = card.locator(f"#reply-slot-{parent.pk} textarea[name=body]")
    textarea.fill("同意，**工程**能力很关键。")
    with page.expect_request(lambda r: r.method == "POST" and "/reply/" in r.url) as posted:
        card.locator(f"#reply-slot-{parent.pk} button[type=submit]").click()
    assert posted.value.headers.get("hx-request") == "true"
    reply = card.locator(f"#replies-{parent.pk} [data-comment-body]", has_text="能力很关键")
    reply.wait_for()
    assert reply.locator("strong").inner_text() == "工程"
    assert still_same_page(page)
    assert card.locator(f"#reply-slot-{parent.pk} textarea").count() == 0
    # The count is the replies here (the source's own number is a note beside it).
    assert card.locator("[data-reply-count]").first.inner_text() == "1"

    page.reload()
    assert (
        page.locator(f"#replies-{parent.pk} [data-comment-body]", has_text="能力很关键").count()
        == 1
    )
    assert console_errors(console_messages) == []


def test_reply_without_javascript(live_server, lesson, lesson_url, js_disabled_page):
    page = js_disabled_page
    serve_remote_images(page)
    log_in(page, live_server, UserFactory(username="xiaoming"))
    parent = first_comment(lesson)
    page.goto(lesson_url)
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.locator(f"#comment-{parent.pk} [data-action=reply]").first.click()
    page.locator(f"#reply-slot-{parent.pk} textarea[name=body]").fill("不用脚本也能回复")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.locator(f"#reply-slot-{parent.pk} button[type=submit]").click()
    assert (
        page.locator(
            f"#replies-{parent.pk} [data-comment-body]", has_text="不用脚本也能回复"
        ).count()
        == 1
    )
    assert Comment.objects.filter(parent=parent, body="不用脚本也能回复").exists()


def test_blank_reply_shows_the_error_in_place(live_server, lesson, lesson_url, page):
    serve_remote_images(page)
    log_in(page, live_server, UserFactory())
    parent = first_comment(lesson)
    page.goto(lesson_url)
    mark_page(page)
    page.locator(f"#comment-{parent.pk} [data-action=reply]").first.click()
    slot = page.locator(f"#reply-slot-{parent.pk}")
    slot.locator("textarea").fill("   ")
    slot.locator("textarea").evaluate("el => el.removeAttribute('required')")
    slot.locator("button[type=submit]").click()
    slot.locator(".errorlist").wait_for()
    assert "写点什么" in slot.locator(".errorlist").inner_text()
    assert still_same_page(page)


def test_thread_collapses_and_expands(live_server, lesson, lesson_url, page):
    serve_remote_images(page)
    parent = first_comment(lesson)
    CommentFactory(lesson=lesson, parent=parent, depth=1, body="一条回复")
    page.goto(lesson_url)
    mark_page(page)
    summary = page.locator(f"#comment-{parent.pk} .thread-replies > summary")
    reply = page.locator(f"#replies-{parent.pk} > li").first
    expect(reply).to_be_visible()
    summary.click()
    expect(reply).to_be_hidden()
    assert "展开" in summary.inner_text()
    summary.click()
    expect(reply).to_be_visible()
    assert "收起回复" in summary.inner_text()
    assert still_same_page(page)


def test_teacher_reply_shows_as_author_reply_in_the_commenters_card(
    live_server, lesson, lesson_url, page
):
    serve_remote_images(page)
    log_in(page, live_server, teacher_of(lesson.course, username="duxing").user)
    parent = first_comment(lesson)
    page.goto(lesson_url)
    mark_page(page)
    card = page.locator(f"#comment-{parent.pk}")
    card.locator("[data-action=reply]").first.click()
    card.locator("textarea[name=body]").fill("目前还替代不了，但会改变工作方式。")
    card.locator(f"#reply-slot-{parent.pk} button[type=submit]").click()
    reply = card.locator("[data-author-reply]")
    reply.wait_for()
    assert "作者回复" in reply.inner_text()
    inline = page.locator(f"#comment-content-{parent.pk} .author-reply-block")
    expect(inline).to_contain_text("改变工作方式")
    assert still_same_page(page)
    page.reload()
    block = page.locator(f"#comment-{parent.pk} .author-reply-block").first
    assert "作者回复" in block.inner_text()
    assert "改变工作方式" in block.inner_text()


def test_teacher_features_and_pins_inline(live_server, lesson, lesson_url, page):
    serve_remote_images(page)
    log_in(page, live_server, teacher_of(lesson.course, username="duxing").user)
    target = Comment.objects.get(lesson=lesson, source_position=5)
    page.goto(lesson_url)
    mark_page(page)
    card = page.locator(f"#comment-content-{target.pk}")
    card.locator("[data-action=pin]").click()
    page.locator(f"#comment-content-{target.pk} [data-badge=pinned]").wait_for()
    assert (
        page.locator(f"#comment-content-{target.pk} [data-action=pin]").get_attribute(
            "aria-pressed"
        )
        == "true"
    )
    page.locator(f"#comment-content-{target.pk} [data-action=feature]").click()
    # An imported comment shows no 精选 badge (the source's list is its 精选 list): the button
    # says it is no longer featured.
    expect(page.locator(f"#comment-content-{target.pk} [data-action=feature]")).to_have_attribute(
        "aria-pressed", "false"
    )
    assert still_same_page(page)
    target.refresh_from_db()
    assert target.is_pinned and not target.is_featured
    page.reload()
    assert page.locator("[data-comment-list] > li").first.locator(
        "[data-comment-id]"
    ).first.get_attribute("data-comment-id") == str(target.pk)


def test_edit_inline_shows_edited(live_server, lesson, lesson_url, page):
    serve_remote_images(page)
    user = UserFactory()
    mine = CommentFactory(lesson=lesson, member=MemberFactory(user=user), body="初稿")
    log_in(page, live_server, user)
    page.goto(lesson_url + "?sort=new")
    mark_page(page)
    page.locator(f"#comment-{mine.pk} [data-action=edit]").click()
    textarea = page.locator(f"#comment-content-{mine.pk} textarea[name=body]")
    textarea.fill("改过的稿子")
    page.locator(f"#comment-content-{mine.pk} button[type=submit]").click()
    page.locator(
        f"#comment-content-{mine.pk} [data-comment-body]", has_text="改过的稿子"
    ).wait_for()
    assert "已编辑" in page.locator(f"#comment-content-{mine.pk}").inner_text()
    assert still_same_page(page)
    assert mine.revisions.get().body == "初稿"


def test_soft_delete_keeps_replies_readable(live_server, lesson, lesson_url, page):
    serve_remote_images(page)
    user = UserFactory()
    mine = CommentFactory(lesson=lesson, member=MemberFactory(user=user), body="要删的留言")
    lonely = CommentFactory(lesson=lesson, member=mine.member, body="没人回的留言")
    reply = CommentFactory(lesson=lesson, parent=mine, body="别人的回复")
    Comment.objects.filter(pk=mine.pk).update(reply_count=1)
    log_in(page, live_server, user)
    page.goto(lesson_url + "?sort=new")
    mark_page(page)
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator(f"#comment-{mine.pk} [data-action=delete]").first.click()
    page.locator(f"#comment-{mine.pk} .comment__deleted").wait_for()
    assert "此留言已删除" in page.locator(f"#comment-content-{mine.pk}").inner_text()
    assert page.locator(f"#comment-{reply.pk}").is_visible()
    items = page.locator("[data-comment-list] > li")
    before = items.count()
    page.locator(f"#comment-{lonely.pk} [data-action=delete]").first.click()
    page.locator(f"#comment-{lonely.pk}").wait_for(state="detached")
    expect(items).to_have_count(before - 1)  # its list item went with it
    assert page.locator("[data-comment-list] li:empty").count() == 0
    assert still_same_page(page)


def test_sorting_and_load_more_swap_only_the_list(live_server, lesson, lesson_url, page):
    serve_remote_images(page)
    CommentFactory.create_batch(25, lesson=lesson)
    page.goto(lesson_url)
    mark_page(page)
    with page.expect_request(lambda r: "sort=new" in r.url) as sorted_request:
        page.locator("[data-sort=new]").click()
    assert sorted_request.value.headers.get("hx-request") == "true"
    page.wait_for_url("**sort=new")
    assert page.locator("[data-sort=new]").get_attribute("aria-current") == "true"
    newest = Comment.objects.filter(lesson=lesson).order_by("-created_at", "-pk").first()
    page.locator(f"[data-comment-list] > li:first-child #comment-{newest.pk}").wait_for()
    assert (
        page.locator("[data-comment-list] > li [data-comment-id]:not([data-parent-id])").count()
        == 20
    )
    page.locator("[data-action=load-more]").click()
    threads = page.locator("[data-comment-list] > li > [data-comment-id]")
    expect(threads).to_have_count(40)
    page.locator("[data-action=load-more]").click()
    expect(threads).to_have_count(43)
    assert page.locator("[data-action=load-more]").count() == 0
    assert still_same_page(page)


def test_reply_inline_to_the_top_of_a_deep_permalink_window(live_server, page, console_messages):
    """A permalink deep in a chain starts at a reply (issue 21): its reply form needs a list."""
    chain = reply_chain(30)
    log_in(page, live_server, UserFactory())
    page.goto(f"{live_server.url}{chain[20].url}")
    mark_page(page)
    top = chain[15]
    expect(page.locator("[data-comment-id]").first).to_have_attribute(
        "data-comment-id", str(top.pk)
    )
    card = page.locator(f"#comment-{top.pk}")
    card.locator("[data-action=reply]").first.click()
    card.locator(f"#reply-slot-{top.pk} textarea[name=body]").fill("接着第十五层")
    with page.expect_request(lambda r: r.method == "POST" and "/reply/" in r.url) as posted:
        card.locator(f"#reply-slot-{top.pk} button[type=submit]").click()
    assert posted.value.headers.get("hx-request") == "true"
    page.locator("[data-comment-body]", has_text="接着第十五层").wait_for()
    assert still_same_page(page)
    assert console_errors(console_messages) == []
