"""Two app servers over one PostgreSQL and one Redis behave as one site.

Runs in `make test`'s PostgreSQL half (and so in CI); skipped on SQLite.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest
from django.conf import settings

from tests.manage_subprocess import free_port, manage, server_environment

ROOT = Path(__file__).resolve().parents[2]
SEED = next((ROOT / "forum" / "seed").rglob("*.md"))
PASSWORD = "scale-out-passphrase-2026"


def _postgres_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("the scale-out test needs PostgreSQL (make test's second half)")
    return url


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    server_url = _postgres_url()
    if not _redis_answers():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis at 127.0.0.1:6379 does not answer (required in CI)")
        pytest.skip("Redis at 127.0.0.1:6379 does not answer")
    name = f"lessonforum_scaleout_{os.getpid()}"
    admin = psycopg.connect(server_url.replace("postgres://", "postgresql://", 1), autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    base = server_url.rsplit("/", 1)[0]
    env = server_environment(
        DATABASE_URL=f"{base}/{name}",
        REDIS_URL="redis://127.0.0.1:6379/13",
        CACHE_KEY_PREFIX=name,
        FORUM_RATE_LIMIT_LIKE="4/m/member",
        STATIC_ROOT=str(tmp_path_factory.mktemp("static")),
    )
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "collectstatic", "--no-input", "-v0")
    manage(env, "import_lesson", str(SEED))
    users = (
        "from django.contrib.auth import get_user_model as U\n"
        "for name in ['scaler', 'limited', 'invalidator']:\n"
        f"    U().objects.create_user(name, name + '@example.com', '{PASSWORD}')"
    )
    manage(env, "shell", "-c", users)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [str(gunicorn), "forum.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
        )
        for port in ports
    ]
    try:
        for port in ports:
            _wait_for(f"http://127.0.0.1:{port}/")
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=20)
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within 30 s")


class Browser:
    """A cookie-keeping HTTP client; cookies of 127.0.0.1 go to both ports, as in a browser."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, url: str) -> tuple[int, str]:
        try:
            with self.opener.open(url, timeout=15) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def post(self, url: str, data: dict, *, htmx: bool = False) -> int:
        token = next((c.value for c in self.jar if c.name == "csrftoken"), "")
        headers = {"X-CSRFToken": token, "Referer": url}
        if htmx:
            headers["HX-Request"] = "true"
        request = urllib.request.Request(
            url, data=urlencode(data).encode(), headers=headers, method="POST"
        )
        try:
            with self.opener.open(request, timeout=15) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def log_in(self, base: str, username: str = "scaler") -> None:
        _, html = self.get(f"{base}/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
        self.post(
            f"{base}/accounts/login/",
            {"login": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )


def _lesson_path(base: str) -> str:
    _, html = Browser().get(f"{base}/")
    course = re.search(r'href="(/courses/[^"]+/)"', html)[1]
    _, html = Browser().get(base + course)
    return re.search(r'href="(/courses/[^"]+/[^"]+/)"', html)[1]


def _card(html: str, comment_id: str) -> str:
    return html.split(f'id="comment-{comment_id}"', 1)[1].split("</article>", 1)[0]


def _like_count(html: str, comment_id: str) -> int:
    return int(re.search(r"data-like-count>(\d+)<", _card(html, comment_id))[1])


def test_a_member_logged_in_through_a_is_logged_in_on_b(site):
    a, b = site
    member = Browser()
    member.log_in(a)
    _, html = member.get(f"{b}/")
    assert "data-member-name>scaler<" in html


def test_a_like_and_a_reply_through_a_show_on_bs_next_response(site):
    a, b = site
    path = _lesson_path(a)
    reader = Browser()
    _, before = reader.get(b + path)  # B renders and caches the anonymous threads
    comment_id = re.findall(r'data-comment-id="(\d+)"', before)[3]
    likes_before = _like_count(before, comment_id)

    member = Browser()
    member.log_in(a)
    assert member.post(f"{a}/comments/{comment_id}/like/", {}, htmx=True) == 200
    assert member.post(f"{a}/comments/{comment_id}/reply/", {"body": "从 A 发的回复"}) in (200, 302)

    _, after = reader.get(b + path)
    assert _like_count(after, comment_id) == likes_before + 1
    assert "从 A 发的回复" in _card(after, comment_id)
    _, signed_in = member.get(b + path)
    assert 'aria-pressed="true"' in _card(signed_in, comment_id)


def test_rate_limits_count_requests_to_both_servers(site):
    a, b = site
    if time.localtime().tm_sec > 45:  # keep the five requests inside one minute window
        time.sleep(61 - time.localtime().tm_sec)
    path = _lesson_path(a)
    member = Browser()
    member.log_in(b, "limited")
    _, html = member.get(a + path)
    comment_id = re.findall(r'data-comment-id="(\d+)"', html)[5]
    answers = [
        member.post(f"{server}/comments/{comment_id}/{action}/", {}, htmx=True)
        for server, action in [(a, "like"), (b, "unlike"), (a, "like"), (b, "unlike"), (a, "like")]
    ]
    assert answers[:4] == [200, 200, 200, 200]
    assert answers[4] == 429


def test_a_thread_invalidated_through_a_is_not_served_stale_by_b(site):
    a, b = site
    path = _lesson_path(a)
    reader = Browser()
    _, first = reader.get(b + path)
    comment_id = re.findall(r'data-comment-id="(\d+)"', first)[7]
    member = Browser()
    member.log_in(a, "invalidator")
    member.post(f"{a}/comments/{comment_id}/like/", {}, htmx=True)
    member.post(f"{a}/comments/{comment_id}/unlike/", {}, htmx=True)
    member.post(f"{a}/comments/{comment_id}/like/", {}, htmx=True)
    for server in (b, a, b):
        _, html = reader.get(server + path)
        assert _like_count(html, comment_id) == _like_count(first, comment_id) + 1
    assert settings.ROOT_URLCONF == "forum.urls"
