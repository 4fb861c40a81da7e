"""Search from the header: results as you type, without a reload, the query in the URL and
the back button returning to it; the same search as a plain form without JavaScript."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import console_errors, mark_page, serve_remote_images, still_same_page

pytestmark = pytest.mark.django_db(transaction=True)

QUERY = "大模型"


def query_of(url: str) -> list[str]:
    return parse_qs(urlparse(url).query).get("q", [])


def test_typing_in_the_header_box_shows_results_without_a_reload(
    live_server, lesson, lesson_url, page, console_messages
):
    serve_remote_images(page)
    page.goto(lesson_url)
    mark_page(page)
    box = page.locator("form[role=search] input[name=q]").first
    with page.expect_request(lambda r: "/search/?" in r.url and QUERY in query_of(r.url)) as sent:
        box.press_sequentially(QUERY)
    assert sent.value.headers.get("hx-request") == "true"

    hits = page.locator("[data-search-hit]")
    expect(hits.first).to_be_visible()
    expect(hits.first.locator("mark").first).to_have_text(QUERY)
    assert still_same_page(page)
    assert urlparse(page.url).path == "/search/" and query_of(page.url) == [QUERY]
    expect(box).to_be_focused()

    hits.first.locator("a").last.click()
    page.wait_for_url(lambda url: "/search/" not in url)
    page.go_back()
    page.wait_for_url(lambda url: "/search/" in url)
    assert query_of(page.url) == [QUERY]
    expect(page.locator("[data-search-hit]").first).to_be_visible()
    assert console_errors(console_messages) == []


def test_the_filters_update_the_results_in_place(live_server, lesson, page, console_messages):
    serve_remote_images(page)
    page.goto(f"{live_server.url}/search/?q={QUERY}")
    mark_page(page)
    expect(page.locator('[data-search-hit][data-kind="comment"]').first).to_be_visible()
    with page.expect_request(lambda r: "kind=lessons" in r.url) as sent:
        page.locator("[data-search-form] select[name=kind]").select_option("lessons")
    assert sent.value.headers.get("hx-request") == "true"
    expect(page.locator('[data-search-hit][data-kind="comment"]')).to_have_count(0)
    expect(page.locator('[data-search-hit][data-kind="lesson"]').first).to_be_visible()
    assert "kind=lessons" in page.url
    assert still_same_page(page)
    assert console_errors(console_messages) == []


def test_searching_without_javascript(live_server, lesson, lesson_url, js_disabled_page):
    page = js_disabled_page
    serve_remote_images(page)
    page.goto(lesson_url)
    box = page.locator("form[role=search] input[name=q]").first
    box.fill(QUERY)
    with page.expect_navigation():
        box.press("Enter")
    assert urlparse(page.url).path == "/search/"
    assert query_of(page.url) == [QUERY]
    expect(page.locator("[data-search-hit]").first).to_be_visible()
    expect(page.locator("[data-search-hit] mark").first).to_have_text(QUERY)

    page.go_back()
    page.wait_for_url(lesson_url)


def test_searching_within_the_lesson(live_server, lesson, lesson_url, js_disabled_page):
    page = js_disabled_page
    page.goto(lesson_url)
    form = page.locator("form.lesson-search")
    form.locator("input[name=q]").fill(QUERY)
    with page.expect_navigation():
        form.locator("button").click()
    assert parse_qs(urlparse(page.url).query)["lesson"] == [str(lesson.pk)]
    expect(page.locator("[data-search-scope]")).to_be_visible()
    expect(page.locator("[data-search-hit]").first).to_be_visible()
