"""Notifications in a real browser: a reply lights the bell of the comment's author, who opens it
and lands on the reply; the same without JavaScript; marking all read in place."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from forum import services
from forum.models import Comment, Notification
from tests.browser.conftest import (
    console_errors,
    log_in,
    mark_page,
    serve_remote_images,
    still_same_page,
)
from tests.factories import CommentFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def reader_page(browser, live_server, user, *, javascript: bool = True):
    context = browser.new_context(locale="zh-CN", java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(10_000)
    serve_remote_images(page)
    log_in(page, live_server, user)
    return page


def bell_count(page) -> str:
    """The bell's number, "" when it shows none."""
    count = page.locator("#notification-bell [data-notification-count]")
    return count.inner_text() if count.count() else ""


def open_from_the_list(page, live_server, reply: Comment) -> None:
    """Go to the list through the bell, open the one notification, land on the reply."""
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.locator("#notification-bell").click()
    item = page.locator('[data-notification][data-kind="reply"]')
    expect(item).to_have_count(1)
    with page.expect_navigation(wait_until="domcontentloaded"):
        item.locator("[data-notification-link]").click()
    assert page.url.endswith(f"#comment-{reply.pk}")
    assert page.url.startswith(f"{live_server.url}/comments/{reply.pk}/")
    expect(page.locator(f"#comment-{reply.pk}")).to_be_visible()
    assert bell_count(page) in ("", "0")


def test_a_reply_lights_the_bell_and_opening_it_lands_on_the_reply(
    browser, live_server, lesson, lesson_url, page, console_messages
):
    author = UserFactory(username="xiaohong")
    comment = CommentFactory(lesson=lesson, member=services.member_for(author), body="我的提问")
    serve_remote_images(page)
    log_in(page, live_server, UserFactory(username="xiaoming"))
    page.goto(lesson_url)
    mark_page(page)
    card = page.locator(f"#comment-{comment.pk}")
    card.locator("[data-action=reply]").first.click()
    card.locator(f"#reply-slot-{comment.pk} textarea[name=body]").fill("我来回答")
    with page.expect_request(lambda r: r.method == "POST" and "/reply/" in r.url) as posted:
        card.locator(f"#reply-slot-{comment.pk} button[type=submit]").click()
    assert posted.value.headers.get("hx-request") == "true"
    card.locator(f"#replies-{comment.pk} [data-comment-body]", has_text="我来回答").wait_for()
    assert still_same_page(page)
    reply = Comment.objects.get(parent=comment)

    theirs = reader_page(browser, live_server, author)
    theirs.goto(lesson_url)
    assert bell_count(theirs) == "1"
    label = theirs.locator("#notification-bell").get_attribute("aria-label")
    assert label == "通知，1 条未读"
    open_from_the_list(theirs, live_server, reply)
    assert Notification.objects.get(recipient__user=author).read_at is not None
    theirs.goto(lesson_url)
    assert bell_count(theirs) == ""
    assert console_errors(console_messages) == []
    theirs.context.close()


def test_the_same_without_javascript(browser, live_server, lesson, lesson_url, js_disabled_page):
    author = UserFactory(username="xiaohong")
    comment = CommentFactory(lesson=lesson, member=services.member_for(author), body="我的提问")
    page = js_disabled_page
    serve_remote_images(page)
    log_in(page, live_server, UserFactory(username="xiaoming"))
    page.goto(lesson_url)
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.locator(f"#comment-{comment.pk} [data-action=reply]").first.click()
    page.locator(f"#reply-slot-{comment.pk} textarea[name=body]").fill("不用脚本也能回复")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.locator(f"#reply-slot-{comment.pk} button[type=submit]").click()
    reply = Comment.objects.get(parent=comment, body="不用脚本也能回复")

    theirs = reader_page(browser, live_server, author, javascript=False)
    theirs.goto(lesson_url)
    assert bell_count(theirs) == "1"
    open_from_the_list(theirs, live_server, reply)
    theirs.context.close()


def test_mark_all_read_updates_the_list_and_the_bell_in_place(
    browser, live_server, lesson, page, console_messages
):
    member = UserFactory(username="xiaohong")
    comment = CommentFactory(lesson=lesson, member=services.member_for(member))
    for body in ("第一条回复", "第二条回复"):
        services.comment_post(
            author=services.member_for(UserFactory()), lesson=lesson, parent=comment, body=body
        )
    serve_remote_images(page)
    log_in(page, live_server, member)
    page.goto(live_server.url + "/notifications/")
    assert bell_count(page) == "2"
    expect(page.locator("[data-notification][data-unread]")).to_have_count(2)
    mark_page(page)
    with page.expect_request(lambda r: r.method == "POST" and "/read/" in r.url) as posted:
        page.locator("[data-action=read-all]").click()
    assert posted.value.headers.get("hx-request") == "true"
    expect(page.locator("[data-notification][data-unread]")).to_have_count(0)
    expect(page.locator("#notification-bell [data-notification-count]")).to_have_count(0)
    expect(page.locator("[data-notification]")).to_have_count(2)
    assert still_same_page(page)
    assert re.fullmatch(r".*/notifications/", page.url)
    assert console_errors(console_messages) == []
