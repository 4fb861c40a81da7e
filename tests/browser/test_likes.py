from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from forum import services
from forum.models import Comment, CommentLike, Member
from tests.browser.conftest import (
    console_errors,
    log_in,
    mark_page,
    serve_remote_images,
    still_same_page,
)
from tests.factories import CommentFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def like_control(page, comment: Comment):
    return page.locator(f"#comment-{comment.pk} [data-action=like]").first


def test_like_and_unlike_a_seed_comment_inline(
    live_server, lesson, lesson_url, page, console_messages
):
    serve_remote_images(page)
    log_in(page, live_server, UserFactory())
    comment = Comment.objects.get(lesson=lesson, source_position=2)  # 干就完了, 6 likes
    page.goto(lesson_url)
    mark_page(page)
    button = like_control(page, comment)
    assert button.get_attribute("aria-pressed") == "false"
    with page.expect_request(lambda r: r.url.endswith(f"/comments/{comment.pk}/like/")) as liked:
        button.click()
    assert liked.value.headers.get("hx-request") == "true"
    expect(like_control(page, comment)).to_have_attribute("aria-pressed", "true")
    expect(like_control(page, comment).locator("[data-like-count]")).to_have_text("7")
    assert still_same_page(page)

    page.reload()
    expect(like_control(page, comment)).to_have_attribute("aria-pressed", "true")
    expect(like_control(page, comment).locator("[data-like-count]")).to_have_text("7")

    with page.expect_request(lambda r: r.url.endswith(f"/comments/{comment.pk}/unlike/")):
        like_control(page, comment).click()
    expect(like_control(page, comment)).to_have_attribute("aria-pressed", "false")
    expect(like_control(page, comment).locator("[data-like-count]")).to_have_text("6")
    assert console_errors(console_messages) == []


def test_like_without_javascript(live_server, lesson, lesson_url, js_disabled_page):
    page = js_disabled_page
    serve_remote_images(page)
    log_in(page, live_server, UserFactory())
    comment = Comment.objects.get(lesson=lesson, source_position=2)
    page.goto(lesson_url)
    # The form's POST and its redirect are a navigation: wait for it, not for a load state
    # the page before the click has already reached.
    with page.expect_navigation(wait_until="domcontentloaded"):
        like_control(page, comment).click()
    assert page.url.endswith(f"#comment-{comment.pk}")
    assert like_control(page, comment).get_attribute("aria-pressed") == "true"
    assert like_control(page, comment).locator("[data-like-count]").inner_text() == "7"
    with page.expect_navigation(wait_until="domcontentloaded"):
        like_control(page, comment).click()
    assert like_control(page, comment).get_attribute("aria-pressed") == "false"
    assert like_control(page, comment).locator("[data-like-count]").inner_text() == "6"


def test_lesson_like_inline(live_server, lesson, lesson_url, page):
    serve_remote_images(page)
    log_in(page, live_server, UserFactory())
    page.goto(lesson_url)
    page.locator("[data-action=like-lesson]").click()
    expect(page.locator("[data-action=like-lesson]")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-action=like-lesson] [data-like-count]")).to_have_text("1")


def test_anonymous_like_goes_to_login_and_back(
    live_server, lesson, lesson_url, page, django_user_model
):
    serve_remote_images(page)
    user = UserFactory(username="reader_x")
    comment = Comment.objects.get(lesson=lesson, source_position=2)
    page.goto(lesson_url)
    like_control(page, comment).click()
    page.wait_for_url("**/accounts/login/**")
    page.fill("input[name=login]", "reader_x")
    page.fill("input[name=password]", "correct-horse-battery-staple-42")
    page.click("form.form--entrance button[type=submit]")
    page.wait_for_url(f"**/comments/{comment.pk}/#comment-{comment.pk}")
    assert like_control(page, comment).get_attribute("aria-pressed") == "false"
    assert user.pk


def liked_by_many(n: int) -> tuple[Comment, User]:
    """A comment by a signed-up author, liked by `n` members (the later, the newer)."""
    author = UserFactory()
    comment = CommentFactory(member=services.member_for(author))
    fans = Member.objects.bulk_create(Member(display_name=f"fan{i}") for i in range(n))
    CommentLike.objects.bulk_create(CommentLike(comment=comment, member=m) for m in fans)
    return comment, author


def test_likers_load_more_inline(live_server, page, console_messages):
    comment, author = liked_by_many(60)
    log_in(page, live_server, author)
    page.goto(f"{live_server.url}/comments/{comment.pk}/likes/")
    mark_page(page)
    likers = page.locator("ul.likers > li:not(.load-more)")
    expect(likers).to_have_count(50)
    with page.expect_request(lambda r: "page=2" in r.url) as more:
        page.locator("[data-action=load-more]").click()
    assert more.value.headers.get("hx-request") == "true"
    expect(likers).to_have_count(60)
    expect(likers.last).to_contain_text("fan0")
    assert page.locator("[data-action=load-more]").count() == 0
    assert still_same_page(page)
    assert not console_errors(console_messages)


def test_likers_next_page_without_javascript(live_server, js_disabled_page):
    comment, author = liked_by_many(60)
    log_in(js_disabled_page, live_server, author)
    js_disabled_page.goto(f"{live_server.url}/comments/{comment.pk}/likes/")
    js_disabled_page.locator("[data-action=load-more]").click()
    js_disabled_page.wait_for_url("**/likes/?page=2")
    expect(js_disabled_page.locator("ul.likers > li")).to_have_count(10)
