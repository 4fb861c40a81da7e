"""A newcomer gives themselves a face and a name, and readers find them from their comment."""

from __future__ import annotations

import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from forum.models import Member
from tests.browser.conftest import console_errors, serve_remote_images

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-and-unusual-passphrase-9"


def a_real_png(path) -> str:
    """A photo-like PNG, wider than high, that the upload crops to its centre."""
    image = Image.new("RGB", (480, 320))
    image.putdata([(x % 256, y % 256, (x + y) % 256) for y in range(320) for x in range(480)])
    image.save(path, format="PNG")
    return str(path)


def test_sign_up_upload_an_avatar_name_yourself_and_be_found_from_your_comment(
    live_server, lesson, lesson_url, page, browser, tmp_path, console_messages
):
    serve_remote_images(page)
    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("input[name=username]", "shuxue_fan")
    page.fill("input[name=email]", "fan@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("form.form--entrance button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/settings/")
    page.set_input_files("input[name=avatar]", a_real_png(tmp_path / "me.png"))
    with page.expect_navigation():
        page.click("[data-settings-avatar] button.button--primary")
    assert page.locator("[data-settings-avatar] img[data-avatar]").count() == 1
    page.fill("input[name=display_name]", "数学迷小范")
    page.fill("textarea[name=bio]", "白天写后端，晚上读大模型。")
    with page.expect_navigation():
        page.click("form.settings__form button[type=submit]")
    member = Member.objects.get(user__username="shuxue_fan")
    assert (member.display_name, member.bio) == ("数学迷小范", "白天写后端，晚上读大模型。")
    avatar_url = member.avatar_src
    assert re.fullmatch(r"/media/avatars/[0-9a-f]{64}\.webp", avatar_url)

    page.goto(lesson_url)
    page.fill("#comment-body", "第二节讲的涌现能力，能再举个例子吗？")
    page.click("#comment-form button[type=submit]")
    card = page.locator("article.comment", has_text="第二节讲的涌现能力").first
    card.wait_for()
    expect(page.locator("#comment-body")).to_have_value(
        ""
    )  # the composer is empty again, once settled
    assert card.locator("[data-author]").first.inner_text() == "数学迷小范"
    assert card.locator("img[data-avatar]").first.get_attribute("src") == avatar_url
    # The picture arrives: served here, as an image, 256 px square.
    size = card.locator("img[data-avatar]").first.evaluate(
        "img => img.complete ? [img.naturalWidth, img.naturalHeight] : null"
    )
    assert size in ([256, 256], None)
    assert page.locator("[data-account-menu] img[data-avatar]").get_attribute("src") == avatar_url

    visitor = browser.new_context(locale="zh-CN").new_page()
    try:
        visitor.goto(lesson_url)
        author = visitor.locator("article.comment", has_text="第二节讲的涌现能力").first
        with visitor.expect_navigation():
            author.locator("a[data-author-link]").first.click()
        assert visitor.url == f"{live_server.url}/members/shuxue_fan/"
        assert visitor.locator("h1").inner_text().startswith("数学迷小范")
        assert "白天写后端，晚上读大模型。" in visitor.inner_text("main")
        assert (
            visitor.locator(".member-page__header img[data-avatar]").get_attribute("src")
            == avatar_url
        )
        listed = visitor.locator("[data-comment-id]", has_text="第二节讲的涌现能力")
        assert listed.count() == 1
        natural = visitor.locator(".member-page__header img[data-avatar]").evaluate(
            "img => img.decode().then(() => [img.naturalWidth, img.naturalHeight])"
        )
        assert natural == [256, 256]
    finally:
        visitor.context.close()
    assert console_errors(console_messages) == []
