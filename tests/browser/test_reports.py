from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from forum import moderation, services
from forum.models import Comment
from tests.browser.conftest import log_in, mark_page, serve_remote_images, still_same_page
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_report_a_comment_inline(live_server, lesson, lesson_url, page):
    serve_remote_images(page)
    log_in(page, live_server, UserFactory())
    comment = Comment.objects.get(lesson=lesson, source_position=3)
    page.goto(lesson_url)
    mark_page(page)
    page.locator(f"#comment-{comment.pk} [data-action=report]").first.click()
    form = page.locator(f"#reply-slot-{comment.pk} form")
    form.locator("input[value=spam]").check()
    form.locator("textarea[name=text]").fill("推广链接")
    with page.expect_request(lambda r: r.method == "POST") as sent:
        form.locator("button[type=submit]").click()
    assert sent.value.headers.get("hx-request") == "true"
    expect(page.locator(f"#reply-slot-{comment.pk} .notice")).to_contain_text("感谢举报")
    assert still_same_page(page)
    assert comment.reports.get().text == "推广链接"


def test_suspended_member_sees_why_a_like_is_refused(live_server, lesson, lesson_url, page):
    serve_remote_images(page)
    user = UserFactory()
    moderation.member_suspend(
        moderator=None,
        member=services.member_for(user),
        until=timezone.now() + timedelta(days=3),
        reason="连续刷屏",
    )
    log_in(page, live_server, user)
    page.goto(lesson_url)
    expect(page.locator("[data-suspended]")).to_contain_text("连续刷屏")
    comment = Comment.objects.get(lesson=lesson, source_position=2)
    page.locator(f"#comment-{comment.pk} [data-action=like]").first.click()
    expect(page.locator("#flash [role=alert]")).to_contain_text("连续刷屏")
    expect(page.locator(f"#comment-{comment.pk} [data-like-count]").first).to_have_text("6")
