from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from lessons.models import Lesson
from tests.browser.conftest import console_errors

pytestmark = pytest.mark.django_db(transaction=True)

SEED = next((Path(__file__).resolve().parents[2] / "forum" / "seed").rglob("*.md"))
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


@pytest.fixture
def seed_url(live_server) -> str:
    call_command("import_lesson", str(SEED), stdout=io.StringIO())
    return live_server.url + Lesson.objects.get().get_absolute_url()


def serve_remote_images(page, *, broken: str = "") -> None:
    """The sandbox has no internet: remote avatars get a pixel, or a 404 for `broken`."""

    def answer(route):
        if broken and broken in route.request.url:
            route.fulfill(status=404, body="")
        else:
            route.fulfill(status=200, body=PIXEL, content_type="image/png")

    page.route(lambda url: not url.startswith("http://localhost"), answer)


def test_seed_lesson_renders_18_comments_without_console_errors(seed_url, page, console_messages):
    serve_remote_images(page)
    page.goto(seed_url)
    assert page.locator("[data-comment-id]").count() == 18
    assert page.locator("h2#comments-title").inner_text() == "精选留言（18）"
    page.locator("#comments").scroll_into_view_if_needed()
    page.mouse.wheel(0, 20_000)
    page.wait_for_timeout(300)
    assert console_errors(console_messages) == []


def test_comment_without_avatar_shows_its_letter(seed_url, page):
    serve_remote_images(page)
    page.goto(seed_url)
    author = page.locator("[data-author]", has_text="Geek_e9e5f5")
    card = page.locator("[data-comment-id]", has=author)
    assert card.locator(".avatar__letter").inner_text() == "G"
    assert card.locator(".avatar__letter").is_visible()
    assert card.locator("img").count() == 0


def test_avatar_that_fails_to_load_falls_back_to_the_letter(seed_url, page):
    serve_remote_images(page, broken="7dbd183b")  # zMansi's avatar
    page.goto(seed_url)
    card = page.locator("[data-comment-id]", has=page.locator("[data-author]", has_text="zMansi"))
    card.scroll_into_view_if_needed()
    card.locator("img[data-avatar]").wait_for(state="hidden")
    assert card.locator(".avatar__letter").is_visible()
