from __future__ import annotations

import pytest
from playwright.sync_api import expect

from forum.models import Comment
from tests.browser.conftest import (
    console_errors,
    log_in,
    mark_page,
    serve_remote_images,
    still_same_page,
)
from tests.factories import UserFactory

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
