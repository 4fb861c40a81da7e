"""Comments on a block of the lesson in a real browser: the count opens them inline (htmx), a
comment posted there appears with its quote and the count goes up; keyboard and screen-reader
names of the margin controls, and axe over the open panel (issue 20)."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from forum import services
from forum.models import Comment
from tests.browser.conftest import (
    console_errors,
    log_in,
    mark_page,
    serve_remote_images,
    still_same_page,
)
from tests.browser.test_accessibility import TAGS
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_blocks_count_opens_its_comments_inline_and_a_comment_posted_there_counts(
    live_server, lesson, lesson_url, page, console_messages
):
    serve_remote_images(page)
    anchor = list(lesson.blocks)[1]
    services.comment_post(author=MemberFactory(), lesson=lesson, body="早先的问题", block=anchor)
    log_in(page, live_server, UserFactory(username="xiaoming"))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(lesson_url)
    mark_page(page)
    block = page.locator(f"#{anchor}")
    expect(block.locator(f'[data-block-id="{anchor}"]')).to_have_count(1)
    control = block.locator("[data-action=block-comments]")
    # Its name says what it is and how many: "本段评论： 1".
    expect(control).to_have_accessible_name("本段评论： 1")
    expect(control).to_have_attribute("aria-expanded", "false")
    # In the margin on a wide screen: right of the article's text.
    text_box = block.locator(f'[data-block-id="{anchor}"]').bounding_box()
    assert control.bounding_box()["x"] >= text_box["x"] + text_box["width"]

    control.focus()  # the keyboard reaches it, and Enter opens it
    with page.expect_request(lambda r: f"/blocks/{anchor}/" in r.url) as opened:
        page.keyboard.press("Enter")
    assert opened.value.headers.get("hx-request") == "true"
    panel = page.locator(f"#panel-{anchor}")
    expect(panel.locator(".comment", has_text="早先的问题")).to_have_count(1)
    expect(control).to_have_attribute("aria-expanded", "true")
    axe = Axe().run(page, options={"runOnly": {"type": "tag", "values": TAGS}})
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in axe.response["violations"]] == []

    panel.locator("textarea[name=body]").fill("这一段里的“工程”指什么？")
    with page.expect_request(lambda r: r.method == "POST" and "/comments/" in r.url) as posted:
        panel.locator(f"#comment-form-{anchor} button[type=submit]").click()
    assert posted.value.headers.get("hx-request") == "true"
    added = panel.locator(".comment", has_text="指什么")
    expect(added).to_have_count(1)
    expect(added).to_have_attribute("data-comment-block", anchor)
    expect(panel.locator("textarea[name=body]")).to_have_value("")  # ready for the next one
    quote = added.locator(".comment__quote blockquote")
    expect(quote).to_contain_text(lesson.blocks[anchor][:12])
    expect(quote.locator("a")).to_have_attribute("href", f"{lesson.get_absolute_url()}#{anchor}")
    expect(control.locator("[data-block-count]")).to_have_text("2")
    expect(control).to_have_accessible_name("本段评论： 2")
    assert still_same_page(page)
    assert Comment.objects.get(body="这一段里的“工程”指什么？").block_id == anchor

    control.click()  # a second click closes the panel
    expect(control).to_have_attribute("aria-expanded", "false")
    expect(panel.locator(".comment")).to_have_count(0)
    assert console_errors(console_messages) == []


def test_without_javascript_a_blocks_count_leads_to_its_comments(
    live_server, lesson, lesson_url, js_disabled_page
):
    page = js_disabled_page
    serve_remote_images(page)
    anchor = list(lesson.blocks)[2]
    services.comment_post(author=MemberFactory(), lesson=lesson, body="只在这一段", block=anchor)
    services.comment_post(author=MemberFactory(), lesson=lesson, body="整课的留言")
    page.goto(lesson_url)
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.locator(f"#{anchor} [data-action=block-comments]").click()
    assert f"block={anchor}" in page.url
    comments = page.locator("#comment-list [data-comment-body]")
    expect(comments).to_have_count(1)
    expect(comments).to_have_text("只在这一段")


def test_on_a_phone_the_count_comes_after_its_block(live_server, lesson, lesson_url, page):
    serve_remote_images(page)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(lesson_url)
    anchor = list(lesson.blocks)[1]
    text_box = page.locator(f'#{anchor} [data-block-id="{anchor}"]').bounding_box()
    control = page.locator(f"#{anchor} [data-action=block-comments]").bounding_box()
    assert control["y"] >= text_box["y"] + text_box["height"] - 1
    assert control["x"] + control["width"] <= 390
