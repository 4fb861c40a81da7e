"""The teacher's workspace in Chromium: answering from the queue with htmx, and the charts
under the production Content Security Policy, checked by axe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from forum.models import Comment, Report
from tests.browser.conftest import log_in, mark_page, serve_remote_images, still_same_page
from tests.browser.test_csp import RECORD_VIOLATIONS, violations, visit
from tests.factories import CommentFactory, MemberFactory, moderator, teacher_of
from tests.security.production import use_production_settings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def csp_page(page, settings):
    """The page under the production settings (their CSP), recording what the CSP blocks."""
    use_production_settings(settings, SECURE_SSL_REDIRECT="0")
    page.add_init_script(RECORD_VIOLATIONS)
    serve_remote_images(page)
    return page


def test_answering_from_the_queue_with_htmx(page, console_messages, live_server, lesson):
    teacher = teacher_of(lesson.course)
    serve_remote_images(page)
    log_in(page, live_server, teacher.user)
    page.goto(live_server.url + "/teach/")
    assert page.locator("[data-nav=teach]").inner_text() == "教学"
    first = page.locator("[data-queue-item]").first
    comment_id = int(first.get_attribute("data-comment-id"))
    waiting = page.locator("[data-queue-item]").count()
    total = int("".join(filter(str.isdigit, page.locator("[data-queue-total]").inner_text())))
    mark_page(page)
    with page.expect_request(lambda r: r.url.endswith("/answer/?next=/teach/")) as opened:
        first.locator("[data-action=answer]").click()
    assert opened.value.headers.get("hx-request") == "true"
    first.locator("textarea[name=body]").fill("谢谢提问，**见第三节**。")
    with page.expect_request(lambda r: r.method == "POST") as posted:
        first.locator("[data-answer-form] button[type=submit]").click()
    assert posted.value.headers.get("hx-request") == "true"
    page.locator(f"[data-queue-answered][data-comment-id='{comment_id}']").wait_for()
    assert still_same_page(page)
    assert page.locator("[data-queue-item]").count() == waiting - 1
    page.locator("[data-queue-total]", has_text=str(total - 1)).wait_for()  # out of band
    answer = Comment.objects.get(parent_id=comment_id)
    assert answer.is_author_reply and answer.member == teacher

    page.goto(live_server.url + "/teach/")  # it has left the queue
    assert page.locator(f"[data-queue-item][data-comment-id='{comment_id}']").count() == 0
    page.goto(live_server.url + Comment.objects.get(pk=comment_id).get_absolute_url())
    block = page.locator(f"#comment-content-{comment_id} .author-reply-block")
    block.wait_for()
    assert "作者回复" in block.inner_text()
    assert block.locator("strong", has_text="见第三节").count() == 1
    assert [m for m in console_messages if m.startswith(("error", "pageerror"))] == []


def test_the_charts_page_has_no_csp_violation_and_no_axe_violation(
    csp_page, console_messages, live_server, lesson
):
    teacher = teacher_of(lesson.course)
    now = timezone.now()
    for days in range(0, 60, 5):
        comment = CommentFactory(lesson=lesson, created_at=now - timedelta(days=days))
        if days % 10 == 0:
            CommentFactory(
                lesson=lesson,
                member=teacher,
                parent=comment,
                is_author_reply=True,
                created_at=comment.created_at + timedelta(hours=days + 1),
            )
    Report.objects.create(comment=comment, reporter=MemberFactory(), reason="spam")
    CommentFactory(lesson=lesson, status=Comment.Status.PENDING)
    log_in(csp_page, live_server, moderator())
    url = f"{live_server.url}/teach/glance/?course={lesson.course.slug}"
    assert visit(csp_page, console_messages, url) == []
    charts = csp_page.locator("svg[role=img]")
    assert charts.count() == 7
    for index in range(charts.count()):
        assert charts.nth(index).locator("title").first.text_content()
    csp_page.emulate_media(color_scheme="dark")
    csp_page.wait_for_timeout(50)
    assert violations(csp_page, console_messages) == []
    results = Axe().run(csp_page)
    assert results.violations_count == 0, results.generate_report()
    csp_page.emulate_media(color_scheme="light")
    queue = f"{live_server.url}/teach/"
    assert visit(csp_page, console_messages, queue) == []
    results = Axe().run(csp_page)
    assert results.violations_count == 0, results.generate_report()
