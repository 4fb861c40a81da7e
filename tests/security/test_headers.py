"""Response headers of the lesson page under the production settings (DEBUG=0).

Django's test client in-process, with the settings forum/settings.py computes for production
(tests/security/production.py): the headers come from middleware and settings, so a real
server adds nothing a test client would miss, and the requests go over "https" (secure=True)
as they would behind TLS.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.factories import CommentFactory
from tests.security.production import HOST, use_production_settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def production(settings) -> dict:
    return use_production_settings(settings)


@pytest.fixture
def lesson_url() -> str:
    return CommentFactory().lesson.get_absolute_url()


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in filter(None, (d.strip() for d in header.split(";"))):
        name, *values = directive.split()
        parsed[name] = values
    return parsed


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append(dict(attrs))


def scripts(html: str) -> list[dict[str, str | None]]:
    parser = _Scripts()
    parser.feed(html)
    return parser.scripts


def get(client, url: str):
    response = client.get(url, secure=True, headers={"host": HOST})
    assert response.status_code == 200
    return response


def test_production_settings_are_really_production(production):
    assert production["DEBUG"] is False
    assert production["SECURE_SSL_REDIRECT"] is True
    assert "SECURE_CSP_REPORT_ONLY" not in production or not production["SECURE_CSP_REPORT_ONLY"]


def test_lesson_page_enforces_the_content_security_policy(client, production, lesson_url):
    response = get(client, lesson_url)
    assert "Content-Security-Policy-Report-Only" not in response.headers
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "https:", "data:"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    for values in policy.values():
        assert "'unsafe-inline'" not in values
        assert "'unsafe-eval'" not in values


def test_the_pages_scripts_are_the_sites_own_files_and_need_no_nonce(
    client, production, lesson_url
):
    """No inline script: with script-src 'self' a nonce would decide nothing, and without one
    every reader who is not signed in gets the same bytes (forum/settings.py)."""
    pages = []
    for _ in range(2):
        response = get(client, lesson_url)
        page_scripts = scripts(response.content.decode())
        assert len(page_scripts) >= 2  # htmx and site.js
        assert all(script.get("src", "").startswith("/static/") for script in page_scripts)
        assert not any("nonce" in script for script in page_scripts)
        pages.append(response.content)
    assert pages[0] == pages[1]


def test_lesson_page_carries_the_other_security_headers(client, production, lesson_url):
    headers = get(client, lesson_url).headers
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_plain_http_is_redirected_to_https(client, production, lesson_url):
    response = client.get(lesson_url, headers={"host": HOST})
    assert response.status_code == 301
    assert response["Location"] == f"https://{HOST}{lesson_url}"
