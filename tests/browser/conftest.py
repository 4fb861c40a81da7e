"""Playwright on the system Chromium (never a downloaded browser)."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections

from lessons.models import Lesson

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SEED = next((Path(__file__).resolve().parents[2] / "forum" / "seed").rglob("*.md"))
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if Path(str(item.path)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def _allow_orm_beside_playwright():
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests
    # make around it are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: CI installs Chromium for the browser tests")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
        # From the first browser test on, Playwright's greenlets leave the tests in a context
        # of their own, and so on database connections of their own (Django keeps them per
        # context). The test database is dropped from the session's first context: close this
        # context's connections first, or one a later test kept open (any test's but a
        # transactional one's) makes the drop fail and leaves the database behind.
        connections.close_all()


@pytest.fixture
def console_messages() -> list[str]:
    return []


@pytest.fixture
def page(browser, console_messages):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("console", lambda msg: console_messages.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda error: console_messages.append(f"pageerror: {error}"))
    yield page
    context.close()


@pytest.fixture
def js_disabled_page(browser):
    context = browser.new_context(locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def console_errors(messages: list[str]) -> list[str]:
    return [m for m in messages if m.startswith(("error", "pageerror"))]


def log_in(page, live_server, user) -> None:
    """Sign `user` in by handing the browser a session cookie made by Django's test client."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


@pytest.fixture
def lesson(live_server) -> Lesson:
    """The bundled seed lesson, imported as `make run` does."""
    call_command("import_lesson", str(SEED), stdout=io.StringIO())
    return Lesson.objects.get()


@pytest.fixture
def lesson_url(live_server, lesson) -> str:
    return live_server.url + lesson.get_absolute_url()


def serve_remote_images(page, *, broken: str = "") -> None:
    """The sandbox has no internet: remote avatars get a pixel, or a 404 for `broken`."""

    def answer(route) -> None:
        if broken and broken in route.request.url:
            route.fulfill(status=404, body="")
        else:
            route.fulfill(status=200, body=PIXEL, content_type="image/png")

    page.route(lambda url: not url.startswith("http://localhost"), answer)


def mark_page(page) -> None:
    """Remember this page load, to prove later that an action did not reload the page."""
    page.evaluate("window.__notReloaded = true")


def still_same_page(page) -> bool:
    return page.evaluate("window.__notReloaded === true")
