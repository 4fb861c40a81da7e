"""Two app servers over one PostgreSQL and one Redis behave as one site.

Runs in `make test`'s PostgreSQL half (and so in CI); skipped on SQLite.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from tests.manage_subprocess import free_port, manage, server_environment
from tests.scaleout.site import PASSWORD, Browser, card, lesson_path, like_count, wait_for

ROOT = Path(__file__).resolve().parents[2]
SEED = next((ROOT / "forum" / "seed").rglob("*.md"))


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
            wait_for(f"http://127.0.0.1:{port}/")
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=20)
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_a_member_logged_in_through_a_is_logged_in_on_b(site):
    a, b = site
    member = Browser()
    member.log_in(a)
    _, html = member.get(f"{b}/")
    assert "data-member-name>scaler<" in html


def test_a_like_and_a_reply_through_a_show_on_bs_next_response(site):
    a, b = site
    path = lesson_path(a)
    reader = Browser()
    _, before = reader.get(b + path)  # B renders and caches the anonymous threads
    comment_id = re.findall(r'data-comment-id="(\d+)"', before)[3]
    likes_before = like_count(before, comment_id)

    member = Browser()
    member.log_in(a)
    assert member.post(f"{a}/comments/{comment_id}/like/", {}, htmx=True) == 200
    assert member.post(f"{a}/comments/{comment_id}/reply/", {"body": "从 A 发的回复"}) in (200, 302)

    _, after = reader.get(b + path)
    assert like_count(after, comment_id) == likes_before + 1
    assert "从 A 发的回复" in card(after, comment_id)
    _, signed_in = member.get(b + path)
    assert 'aria-pressed="true"' in card(signed_in, comment_id)


def test_rate_limits_count_requests_to_both_servers(site):
    a, b = site
    if time.localtime().tm_sec > 45:  # keep the five requests inside one minute window
        time.sleep(61 - time.localtime().tm_sec)
    path = lesson_path(a)
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
    path = lesson_path(a)
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
        assert like_count(html, comment_id) == like_count(first, comment_id) + 1
    assert settings.ROOT_URLCONF == "forum.urls"
