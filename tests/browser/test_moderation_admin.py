"""The moderation panel in a real browser: a moderator logs in, finds a reported comment
through the filter, hides it with a reason, and the lesson page no longer shows it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from forum import moderation
from forum.models import Comment, ModerationAction, Report
from tests.browser.conftest import ARTIFACTS, serve_remote_images
from tests.factories import PASSWORD, MemberFactory, moderator

pytestmark = pytest.mark.django_db(transaction=True)


def log_in_to_the_admin(page, live_server, user) -> None:
    """Through whichever login form the admin sends us to: allauth's or Django's own."""
    page.goto(live_server.url + reverse("admin:index"))
    password = page.locator("input[name=password]")
    if page.locator("input[name=login]").count():
        page.locator("input[name=login]").fill(user.get_username())
    else:
        page.locator("#id_username").fill(user.get_username())
    password.fill(PASSWORD)
    with page.expect_navigation():
        password.press("Enter")


def list_fits(page) -> bool:
    """The change list's table fits its column: no column clipped or scrolled out of sight."""
    return page.evaluate(
        "() => { const box = document.querySelector('#changelist .results');"
        " return box.scrollWidth <= box.clientWidth; }"
    )


def test_moderator_hides_a_reported_comment_from_the_admin(live_server, lesson, lesson_url, page):
    serve_remote_images(page)
    top = Comment.objects.filter(lesson=lesson, parent=None).order_by("source_position")
    target, other = top[0], top[1]
    for reporter in MemberFactory.create_batch(2):
        moderation.report_create(reporter=reporter, comment=target, reason=Report.Reason.SPAM)
    moderation.report_create(
        reporter=MemberFactory(), comment=other, reason=Report.Reason.OFF_TOPIC, text="跑题了"
    )
    user = moderator(username="banzhu")
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in_to_the_admin(page, live_server, user)

    # The 待处理举报 queue, most reported first.
    page.goto(live_server.url + reverse("admin:forum_reportedcomment_changelist"))
    assert list_fits(page)
    rows = page.locator("#result_list input[name=_selected_action]")
    assert [rows.nth(i).get_attribute("value") for i in range(rows.count())] == [
        str(target.pk),
        str(other.pk),
    ]
    page.set_viewport_size({"width": 1440, "height": 900})
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "moderation-queue.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.exists()

    # The comment list, filtered to reported comments by its own filter link.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + reverse("admin:forum_comment_changelist"))
    assert list_fits(page)
    assert (
        page.locator("#result_list input[name=_selected_action]").count() == Comment.objects.count()
    )
    with page.expect_navigation():
        page.locator("#changelist-filter a[href*='open_reports=yes']").click()
    assert "open_reports=yes" in page.url
    assert page.locator("#result_list input[name=_selected_action]").count() == 2

    page.locator(f"#result_list input[name=_selected_action][value='{target.pk}']").check()
    page.locator("select[name=action]").select_option("hide")
    with page.expect_navigation():
        page.locator("button[name=index]").click()
    page.locator("#action-reason-form textarea[name=reason]").fill("广告，已核实")
    with page.expect_navigation():
        page.locator("#action-reason-form input[type=submit]").click()
    assert "open_reports=yes" in page.url
    assert page.locator(".messagelist .success").count() == 1

    target.refresh_from_db()
    assert target.status == Comment.Status.HIDDEN
    log = ModerationAction.objects.get(comment=target)
    assert (log.kind, log.actor, log.reason) == ("hide", user, "广告，已核实")

    page.goto(lesson_url)
    assert page.locator(f"#comment-{other.pk}").count() == 1
    assert page.locator(f"#comment-{target.pk}").count() == 0
