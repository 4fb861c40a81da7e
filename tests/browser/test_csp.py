"""The Content Security Policy in Chromium: the site's own pages never violate it.

The live server runs with the production security settings (DEBUG=0, as forum/settings.py
computes them; only SECURE_SSL_REDIRECT is off, as its variable allows, for plain http). Every
console message is kept, warnings included, and a `securitypolicyviolation` listener installed
before any page script records what the browser blocked, with the directive and the source.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from forum.models import Comment
from tests.browser.conftest import log_in, serve_remote_images
from tests.factories import PASSWORD, UserFactory
from tests.security.corpus import summarize
from tests.security.production import use_production_settings

pytestmark = pytest.mark.django_db(transaction=True)

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
    `at ${event.sourceFile}:${event.lineNumber} ${event.sample}`
  );
});
"""


@pytest.fixture
def production(settings) -> dict:
    # Before the first request to the live server: its thread reads the same settings.
    return use_production_settings(settings, SECURE_SSL_REDIRECT="0")


@pytest.fixture
def csp_page(page, production):
    page.add_init_script(RECORD_VIOLATIONS)
    serve_remote_images(page)
    return page


def violations(page, console_messages: list[str]) -> list[str]:
    """What this page load violated: the listener's records and the console's CSP messages."""
    recorded = page.evaluate("window.__cspViolations")
    logged = [m for m in console_messages if "content security policy" in m.lower()]
    return recorded + logged


def visit(page, console_messages: list[str], url: str) -> list[str]:
    console_messages.clear()
    response = page.goto(url)
    assert response.status == 200, url
    assert "script-src 'self';" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    return violations(page, console_messages)


def log_in_through_allauth(page, live_server, user) -> None:
    page.goto(live_server.url + reverse("admin:index"))
    page.wait_for_url("**/accounts/login/**")
    page.fill("input[name=login]", user.get_username())
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")


def test_lesson_page_signed_out_has_no_csp_violations(
    request, csp_page, console_messages, lesson_url
):
    assert visit(csp_page, console_messages, lesson_url) == []
    # The control: an inline handler planted now is blocked, and both hooks hear it.
    csp_page.evaluate("""document.body.insertAdjacentHTML(
        "beforeend", '<img src="/static/favicon.svg" onload="window.__ran = true">')""")
    csp_page.wait_for_function("window.__cspViolations.length > 0")
    csp_page.wait_for_timeout(100)
    assert csp_page.evaluate("window.__ran") is None
    found = violations(csp_page, console_messages)
    assert any(v.startswith("script-src-attr blocked inline") for v in found), found
    assert any("Content Security Policy" in m for m in console_messages), console_messages
    summarize(request.config, "CSP: lesson page signed out: 0 violations (planted control: seen)")


def test_lesson_page_signed_in_and_after_htmx_swaps_has_no_csp_violations(
    request, csp_page, console_messages, live_server, lesson, lesson_url
):
    log_in(csp_page, live_server, UserFactory(username="xiaoming"))
    assert visit(csp_page, console_messages, lesson_url) == []
    parent = Comment.objects.filter(lesson=lesson, parent=None).order_by("source_position")[0]
    card = csp_page.locator(f"#comment-{parent.pk}")
    with csp_page.expect_request(lambda r: r.url.endswith("/reply/")) as opened:
        card.locator("[data-action=reply]").first.click()
    assert opened.value.headers.get("hx-request") == "true"
    textarea = card.locator(f"#reply-slot-{parent.pk} textarea[name=body]")
    textarea.fill("**同意**")
    with csp_page.expect_request(lambda r: r.method == "POST") as posted:
        card.locator(f"#reply-slot-{parent.pk} button[type=submit]").click()
    assert posted.value.headers.get("hx-request") == "true"
    card.locator(f"#replies-{parent.pk} strong", has_text="同意").wait_for()
    with csp_page.expect_request(lambda r: "/like/" in r.url) as liked:
        csp_page.locator("[data-action=like-lesson]").click()
    assert liked.value.headers.get("hx-request") == "true"
    csp_page.locator("[data-action=like-lesson][aria-pressed=true]").wait_for()
    csp_page.wait_for_load_state("networkidle")
    assert violations(csp_page, console_messages) == []
    summarize(request.config, "CSP: lesson page signed in, reply form, reply, like: 0 violations")


@pytest.mark.parametrize("name", ["account_login", "account_signup", "account_reset_password"])
def test_allauth_pages_have_no_csp_violations(
    request, name, csp_page, console_messages, live_server
):
    assert visit(csp_page, console_messages, live_server.url + reverse(name)) == []
    summarize(request.config, f"CSP: {reverse(name)}: 0 violations")


def test_admin_has_no_csp_violations(request, csp_page, console_messages, live_server, lesson):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    log_in_through_allauth(csp_page, live_server, root)
    assert csp_page.url == live_server.url + reverse("admin:index")
    assert violations(csp_page, console_messages) == []
    comment = Comment.objects.filter(lesson=lesson).first()
    pages = {
        "index": reverse("admin:index"),
        "comment changelist": reverse("admin:forum_comment_changelist"),
        "comment change form": reverse("admin:forum_comment_change", args=[comment.pk]),
    }
    found = {
        name: visit(csp_page, console_messages, live_server.url + url)
        for name, url in pages.items()
    }
    assert found == {name: [] for name in pages}
    summarize(request.config, f"CSP: admin ({', '.join(pages)}): 0 violations")
