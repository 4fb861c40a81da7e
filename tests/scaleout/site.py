"""Talking to app servers started by a test, as a browser would."""

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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest

from tests.manage_subprocess import free_port, manage, server_environment

PASSWORD = "scale-out-passphrase-2026"
ROOT = Path(__file__).resolve().parents[2]
SEED = next((ROOT / "forum" / "seed").rglob("*.md"))
REDIS_URL = "redis://127.0.0.1:6379/13"


def postgres_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("the scale-out tests need PostgreSQL (make test's second half)")
    return url


def require_redis() -> None:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return
    except OSError:
        pass
    if os.environ.get("CI") == "true":
        pytest.fail("Redis at 127.0.0.1:6379 does not answer (required in CI)")
    pytest.skip("Redis at 127.0.0.1:6379 does not answer")


@contextmanager
def site_database(
    name: str, static_root: Path, users: list[str], **settings: str
) -> Iterator[dict]:
    """A PostgreSQL database of its own, migrated, with the seed lesson and `users` (password
    PASSWORD): the environment of an app server on it, with `settings`. Dropped afterwards."""
    server_url = postgres_url()
    admin = psycopg.connect(server_url.replace("postgres://", "postgresql://", 1), autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    env = server_environment(
        DATABASE_URL=f"{server_url.rsplit('/', 1)[0]}/{name}",
        STATIC_ROOT=str(static_root),
        **settings,
    )
    try:
        manage(env, "migrate", "--no-input", "-v0")
        manage(env, "collectstatic", "--no-input", "-v0")
        manage(env, "import_lesson", str(SEED))
        manage(
            env,
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model as U\n"
            f"for name in {users!r}:\n"
            f"    U().objects.create_user(name, name + '@example.com', '{PASSWORD}')",
        )
        yield env
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@contextmanager
def app_servers(env: dict, count: int, *, workers: int) -> Iterator[list[str]]:
    """`count` gunicorn instances of the site with the project's settings and `workers` worker
    processes each: their base URLs."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    ports = [free_port() for _ in range(count)]
    config = ["-c", str(ROOT / "forum" / "gunicorn.conf.py"), "-w", str(workers)]
    servers = [
        subprocess.Popen(
            [str(gunicorn), "forum.wsgi", *config, "-b", f"127.0.0.1:{port}"], cwd=ROOT, env=env
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


def wait_for(url: str) -> None:
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


def lesson_path(base: str) -> str:
    _, html = Browser().get(f"{base}/")
    course = re.search(r'href="(/courses/[^"]+/)"', html)[1]
    _, html = Browser().get(base + course)
    return re.search(r'href="(/courses/[^"]+/[^"]+/)"', html)[1]


def card(html: str, comment_id: str) -> str:
    return html.split(f'id="comment-{comment_id}"', 1)[1].split("</article>", 1)[0]


def like_count(html: str, comment_id: str) -> int:
    return int(re.search(r"data-like-count>(\d+)<", card(html, comment_id))[1])
