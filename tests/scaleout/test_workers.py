"""gunicorn with 4 worker processes on PostgreSQL, with no Redis (each worker caches pages in its
own memory) and with Redis: after a member's like storm, every page any worker serves shows the
database's counts. Runs in `make test`'s PostgreSQL half; skipped on SQLite."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from tests.scaleout.site import (
    REDIS_URL,
    Browser,
    app_servers,
    card,
    lesson_path,
    like_count,
    require_redis,
    site_database,
)

WORKERS = 4


@pytest.fixture(scope="module", params=["no Redis", "Redis"])
def site(request, tmp_path_factory):
    with_redis = request.param == "Redis"
    if with_redis:
        require_redis()
    name = f"lessonforum_workers_{os.getpid()}_{int(with_redis)}"
    redis = {"REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": name} if with_redis else {}
    static = tmp_path_factory.mktemp("static")
    with (
        site_database(name, static, ["storm"], FORUM_RATE_LIMIT_SCALE="0", **redis) as env,
        app_servers(env, 1, workers=WORKERS) as (base,),
    ):
        yield base, env["DATABASE_URL"]


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
