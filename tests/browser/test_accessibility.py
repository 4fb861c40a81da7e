"""axe-core (axe-playwright-python, offline) finds no violation of any impact, WCAG 2.2 AA and
best practices, on every page of the site in Chinese and English, and again after an inline
reply, a like and loading more comments; focus lands on what htmx brings in; a primary button
is the primary colour."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import override_settings
from playwright.sync_api import expect

from tests.browser.conftest import serve_remote_images
from tests.site_pages import Scene, build_scene, client_for

pytestmark = pytest.mark.django_db(transaction=True)

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
AXE = Axe()


@pytest.fixture
def scene(live_server) -> Scene:
    return build_scene()


def open_as(browser, live_server, scene: Scene, who: str, language: str = "zh-hans"):
    context = browser.new_context(locale="zh-CN" if language == "zh-hans" else "en-US")
    client = client_for(scene, who, language)
    cookies = [{"name": "django_language", "value": language, "url": live_server.url}]
    if "sessionid" in client.cookies:
        session = client.cookies["sessionid"].value
        cookies.append({"name": "sessionid", "value": session, "url": live_server.url})
    context.add_cookies(cookies)
    page = context.new_page()
    page.set_default_timeout(10_000)
    serve_remote_images(page)
    return page


def violations(page) -> list[str]:
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": TAGS}})
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:3])
        for v in results.response["violations"]
    ]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_no_axe_violations_on_any_page(browser, live_server, scene, language):
    found = {}
    for site_page in scene.pages:
        page = open_as(browser, live_server, scene, site_page.who, language)
        response = page.goto(live_server.url + site_page.path)
        expected = 404 if site_page.name == "not-found" else 200
        assert response.status == expected, (site_page.name, response.status)
        if problems := violations(page):
            found[site_page.name] = problems
        page.context.close()
    assert found == {}


@override_settings(FORUM_COMMENTS_PER_PAGE=5)
def test_no_axe_violations_after_a_reply_a_like_and_load_more(browser, live_server, scene):
    page = open_as(browser, live_server, scene, "member")
    assert page.goto(live_server.url + scene.lesson.get_absolute_url()).status == 200
    first = page.locator("#comment-list > li > .comment").first
    first.locator("[data-action=reply]").first.click()
    textarea = first.locator(".reply-slot textarea")
    expect(textarea).to_be_focused()  # the form htmx brought in has the focus
    textarea.fill("谢谢分享。")
    first.locator(".reply-slot button[type=submit]").click()
    added = first.locator(".comment-replies .comment", has_text="谢谢分享。")
    expect(added).to_be_focused()  # and then the reply it posted
    like = page.locator("[data-action=like]").first
    like.click()
    expect(page.locator("[data-action=like]").first).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-action=like]").first).to_be_focused()
    before = page.locator("#comment-list > li > .comment").count()
    page.locator("[data-action=load-more]").click()
    expect(page.locator("#comment-list > li > .comment")).not_to_have_count(before)
    new_first = page.locator("#comment-list > li > .comment").nth(before)
    expect(new_first).to_be_focused()
    assert violations(page) == []


def test_axe_finds_what_it_should(browser, live_server, scene):
    page = open_as(browser, live_server, scene, "anonymous")
    page.goto(live_server.url + "/")
    page.evaluate("document.querySelector('main').append(document.createElement('img'))")
    assert any(v.startswith("image-alt") for v in violations(page))


def test_a_primary_button_is_the_primary_colour(browser, live_server, scene):
    page = open_as(browser, live_server, scene, "member")
    page.goto(live_server.url + scene.lesson.get_absolute_url())
    button = page.locator("#comment-form .button--primary")
    background = button.evaluate("b => getComputedStyle(b).backgroundColor")
    accent = page.evaluate(
        """() => {
            const probe = document.createElement("span");
            probe.style.color = "var(--accent)";
            document.body.append(probe);
            const colour = getComputedStyle(probe).color;
            probe.remove();
            return colour;
        }"""
    )
    assert background == accent == "rgb(194, 65, 12)"
