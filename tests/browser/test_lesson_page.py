from __future__ import annotations

import pytest

from tests.browser.conftest import console_errors, serve_remote_images

pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_lesson_renders_18_comments_without_console_errors(lesson_url, page, console_messages):
    serve_remote_images(page)
    page.goto(lesson_url)
    assert page.locator("[data-comment-id]").count() == 18
    assert page.locator("h2#comments-title").inner_text() == "留言（18）"
    page.locator("#comments").scroll_into_view_if_needed()
    page.mouse.wheel(0, 20_000)
    page.wait_for_timeout(300)
    assert console_errors(console_messages) == []


def test_comment_without_avatar_shows_its_letter(lesson_url, page):
    serve_remote_images(page)
    page.goto(lesson_url)
    author = page.locator("[data-author]", has_text="Geek_e9e5f5")
    card = page.locator("[data-comment-id]", has=author)
    assert card.locator(".avatar__letter").inner_text() == "G"
    assert card.locator(".avatar__letter").is_visible()
    assert card.locator("img").count() == 0


def test_avatar_that_fails_to_load_falls_back_to_the_letter(lesson_url, page):
    serve_remote_images(page, broken="7dbd183b")  # zMansi's avatar
    page.goto(lesson_url)
    card = page.locator("[data-comment-id]", has=page.locator("[data-author]", has_text="zMansi"))
    card.scroll_into_view_if_needed()
    card.locator("img[data-avatar]").wait_for(state="hidden")
    assert card.locator(".avatar__letter").is_visible()


def test_letter_avatar_shows_until_the_picture_arrives(lesson_url, page):
    page.route(lambda url: not url.startswith("http://localhost"), lambda route: None)  # never
    page.goto(lesson_url)
    card = page.locator("[data-comment-id]", has=page.locator("[data-author]", has_text="zMansi"))
    image = card.locator("img[data-avatar]")
    assert image.evaluate("i => !i.complete && getComputedStyle(i).backgroundColor")
    assert image.evaluate("i => getComputedStyle(i).backgroundColor") == "rgba(0, 0, 0, 0)"
    assert card.locator(".avatar__letter").is_visible()
