"""Two app servers over one PostgreSQL and one Redis behave as one site.

Runs in `make test`'s PostgreSQL half (and so in CI); skipped on SQLite.
"""

from __future__ import annotations

import os
import re
import time

import pytest
from django.conf import settings

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


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require_redis()
    name = f"lessonforum_scaleout_{os.getpid()}"
    with (
        site_database(
            name,
            tmp_path_factory.mktemp("static"),
            ["scaler", "limited", "invalidator"],
            REDIS_URL=REDIS_URL,
            CACHE_KEY_PREFIX=name,
            FORUM_RATE_LIMIT_LIKE="4/m/member",
        ) as env,
        app_servers(env, 2, workers=2) as bases,
    ):
        yield bases


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
