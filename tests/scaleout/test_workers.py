"""gunicorn with 4 worker processes on PostgreSQL, with no Redis (each worker caches pages in its
own memory) and with Redis: after a member's like storm, every page any worker serves shows the
database's counts. Runs in `make test`'s PostgreSQL half; skipped on SQLite."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from tests.manage_subprocess import free_port, manage, server_environment
from tests.scaleout.site import PASSWORD, Browser, card, lesson_path, like_count, wait_for
from tests.scaleout.test_two_instances import _postgres_url, _redis_answers

ROOT = Path(__file__).resolve().parents[2]
SEED = next((ROOT / "forum" / "seed").rglob("*.md"))
WORKERS = 4


@pytest.fixture(scope="module", params=["no Redis", "Redis"])
def site(request, tmp_path_factory):
    server_url = _postgres_url()
    with_redis = request.param == "Redis"
    if with_redis and not _redis_answers():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis at 127.0.0.1:6379 does not answer (required in CI)")
        pytest.skip("Redis at 127.0.0.1:6379 does not answer")
    name = f"lessonforum_workers_{os.getpid()}_{int(with_redis)}"
    admin = psycopg.connect(server_url.replace("postgres://", "postgresql://", 1), autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    database_url = f"{server_url.rsplit('/', 1)[0]}/{name}"
    redis = {"REDIS_URL": "redis://127.0.0.1:6379/13", "CACHE_KEY_PREFIX": name}
    env = server_environment(
        DATABASE_URL=database_url,
        FORUM_RATE_LIMIT_SCALE="0",
        STATIC_ROOT=str(tmp_path_factory.mktemp("static")),
        **(redis if with_redis else {}),
    )
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "collectstatic", "--no-input", "-v0")
    manage(env, "import_lesson", str(SEED))
    manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model as U\n"
        f"U().objects.create_user('storm', 'storm@example.com', '{PASSWORD}')",
    )
    port = free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    bind = ["-b", f"127.0.0.1:{port}"]
    server = subprocess.Popen(
        [str(gunicorn), "forum.wsgi", "-c", "forum/gunicorn.conf.py", "-w", str(WORKERS), *bind],
        cwd=ROOT,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/")
        yield base, database_url
    finally:
        server.terminate()
        server.wait(timeout=20)
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _database_likes(database_url: str) -> dict[str, int]:
    url = database_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url) as connection:
        rows = connection.execute("SELECT id, like_count FROM forum_comment").fetchall()
    return {str(pk): count for pk, count in rows}


def test_every_worker_shows_the_databases_counts_after_a_like_storm(site):
    base, database_url = site
    path = lesson_path(base)
    reader, member = Browser(), Browser()
    member.log_in(base, "storm")
    # Many requests at once, so that every worker renders and caches its copies.
    views = [who for _ in range(WORKERS * 6) for who in (reader, member)]
    with ThreadPoolExecutor(max_workers=WORKERS * 2) as pool:
        before = list(pool.map(lambda who: who.get(base + path), views))
        comments = re.findall(r'data-comment-id="(\d+)"', before[0][1])[:6]
        like = f"{base}/comments/{{}}/like/"
        storm = [like.format(pk) for pk in comments for _ in range(10)]
        answers = list(pool.map(lambda url: member.post(url, {}, htmx=True), storm))
        assert set(answers) == {200}
        counts = _database_likes(database_url)
        after = list(pool.map(lambda who: (who, *who.get(base + path)), views))
    for who, status, html in after:
        assert status == 200
        shown = {pk: like_count(html, pk) for pk in comments}
        assert shown == {pk: counts[pk] for pk in comments}
        if who is member:
            assert all('aria-pressed="true"' in card(html, pk) for pk in comments)
