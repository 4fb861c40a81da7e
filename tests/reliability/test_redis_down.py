"""While Redis is down the site works from the database, and uses Redis again when it is back.

Each test runs a Redis server of its own, which it stops (connections refused), freezes
(SIGSTOP: connections accepted, never answered, as an overloaded or partitioned server) and starts
again on the same port.
"""

from __future__ import annotations

import logging
import re
import signal
import socket
import subprocess
import time

import pytest
import redis
from django.contrib.sessions.models import Session
from django.core.cache import cache, caches
from django.test import Client
from django.urls import reverse

from forum import cache as forum_cache
from forum.models import Comment, CommentLike
from forum.settings import parse_rate_limits
from tests.factories import PASSWORD, CommentFactory, UserFactory

pytestmark = pytest.mark.django_db

PREFIX = "down"


class RedisServer:
    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port).ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.02)
        raise AssertionError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)  # a frozen server cannot stop
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stored_keys(self) -> list[str]:
        return [key.decode() for key in redis.Redis(port=self.port).keys(f"{PREFIX}:*")]


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def site(settings, redis_server, monkeypatch):
    """The production cache and sessions on this test's Redis, with the rate limits on.

    Changing CACHES makes Django drop the caches it made (django.test.signals), so `cache` is
    a forum.cache.RedisCache from here on. A short pause keeps the test quick."""
    settings.CACHES = {
        "default": {
            "BACKEND": "forum.cache.RedisCache",
            "LOCATION": redis_server.url,
            "KEY_PREFIX": PREFIX,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    settings.FORUM_PAGE_CACHE_SHARED = True  # pages are kept in Redis too, as with REDIS_URL
    del settings.ACCOUNT_RATE_LIMITS  # allauth's own limits, as in production
    settings.FORUM_RATE_LIMIT_SCALE = 1
    monkeypatch.setattr(forum_cache, "PAUSE", 0.2)
    monkeypatch.setattr(forum_cache, "_outages", {})  # nothing known from an earlier test
    assert isinstance(caches["default"], forum_cache.RedisCache)
    return redis_server


def back_up(server: RedisServer) -> None:
    """Start Redis again and let this process's pause after the outage end."""
    server.start()
    time.sleep(forum_cache.PAUSE)


def signed_in_as(client: Client, user) -> bool:
    html = client.get("/").content.decode()
    return f"data-member-name>{user.username}<" in html


def like_count(html: str, comment: Comment) -> int:
    card = html.split(f'id="comment-{comment.pk}"', 1)[1].split("</article>", 1)[0]
    return int(re.search(r"data-like-count>(\d+)<", card)[1])


def test_lesson_page_answers_for_anonymous_and_signed_in_readers(site, member_client, member):
    comment = CommentFactory()
    url = comment.lesson.get_absolute_url()
    assert member_client.get(url).status_code == 200  # its session is in Redis now
    site.stop()
    anonymous = Client().get(url)
    assert anonymous.status_code == 200
    assert comment.body in anonymous.content.decode()
    signed_in = member_client.get(url)
    assert signed_in.status_code == 200
    assert f"data-member-name>{member.username}<" in signed_in.content.decode()


def test_like_and_reply_are_saved_and_shown_when_redis_is_back(site, member_client):
    comment = CommentFactory()
    url = comment.lesson.get_absolute_url()
    Client().get(url)  # cached in Redis before it stops
    site.stop()
    assert member_client.post(reverse("forum:comment-like", args=[comment.pk])).status_code == 302
    reply = member_client.post(
        reverse("forum:comment-reply", args=[comment.pk]), {"body": "断线时的回复"}
    )
    assert reply.status_code == 302
    assert CommentLike.objects.filter(comment=comment).count() == 1
    assert Comment.objects.filter(parent=comment, body="断线时的回复").exists()

    back_up(site)
    html = Client().get(url).content.decode()
    assert "断线时的回复" in html
    assert like_count(html, comment) == 1
    assert any(key.startswith(f"{PREFIX}:1:page:") for key in site.stored_keys())  # cached again


def test_a_member_logs_in_while_redis_is_down_and_stays_signed_in(site):
    user = UserFactory()
    site.stop()
    client = Client()
    login = client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD})
    assert login.status_code == 302
    assert signed_in_as(client, user)
    back_up(site)
    assert signed_in_as(client, user)  # read from the database, then kept in Redis again
    assert (
        f"{PREFIX}:1:django.contrib.sessions.cached_db{client.session.session_key}"
        in site.stored_keys()
    )


def test_a_logout_while_redis_does_not_answer_is_not_undone_when_it_answers_again(site, settings):
    """The frozen Redis keeps the session; the cache deletes it once Redis answers, so a copy
    of the old cookie signs nobody in."""
    user = UserFactory()
    client = Client()
    client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD})
    assert signed_in_as(client, user)  # the session is in Redis
    key = client.session.session_key
    site.freeze()
    assert client.post(reverse("account_logout")).status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    site.thaw()
    time.sleep(forum_cache.PAUSE)
    stolen = Client()
    stolen.cookies[settings.SESSION_COOKIE_NAME] = key
    assert not signed_in_as(stolen, user)


def test_rate_limits_let_requests_through_while_redis_is_down(site, settings, member_client):
    """The decision written in the README: fail open, with a warning in the log."""
    settings.FORUM_RATE_LIMITS = {
        **settings.FORUM_RATE_LIMITS,
        "like": parse_rate_limits("1/h/member"),
    }
    comment = CommentFactory()

    def like() -> int:
        return member_client.post(reverse("forum:comment-like", args=[comment.pk])).status_code

    site.stop()
    assert [like(), like(), like()] == [302, 302, 302]
    back_up(site)
    assert [like(), like()] == [302, 429]  # counted again


def test_one_warning_when_redis_stops_answering_and_one_when_it_answers_again(site, caplog):
    caplog.set_level(logging.WARNING, logger="forum.cache")
    site.stop()
    for _ in range(3):
        assert cache.get("a") is None
        cache.set("a", 1)
        time.sleep(forum_cache.PAUSE)
    back_up(site)
    cache.set("a", 2)
    assert cache.get("a") == 2
    assert [record.levelname for record in caplog.records] == ["WARNING", "WARNING"]
    assert "does not answer" in caplog.records[0].getMessage()
    assert "answers again" in caplog.records[1].getMessage()


def test_a_frozen_redis_costs_a_request_one_timeout_per_pause(site, monkeypatch):
    """Without the pause every cache call of every request would wait for the timeout."""
    monkeypatch.setattr(forum_cache, "PAUSE", 30)
    url = CommentFactory().lesson.get_absolute_url()
    client = Client()
    client.get(url)
    site.freeze()
    started = time.monotonic()
    assert [client.get(url).status_code for _ in range(5)] == [200] * 5
    assert time.monotonic() - started < 1.0  # one timeout of 0.2 s, then no wait


def test_skipped_writes_are_deleted_when_redis_answers_again(site):
    cache.set("stamp", "old")
    site.freeze()
    cache.set("stamp", "new")  # times out: Redis keeps "old"
    cache.delete_many(["other"])
    site.thaw()
    time.sleep(forum_cache.PAUSE)
    assert cache.get("stamp") is None  # not "old"
    assert site.stored_keys() == []


def test_past_the_skipped_writes_it_keeps_the_cache_is_flushed(site, monkeypatch):
    monkeypatch.setattr(forum_cache, "UNWRITTEN_KEPT", 2)
    cache.set_many({"a": 1, "b": 2, "c": 3})
    site.freeze()
    cache.set_many({"a": 4, "b": 5, "c": 6})
    site.thaw()
    time.sleep(forum_cache.PAUSE)
    assert cache.get_many(["a", "b", "c"]) == {}


def test_a_reply_made_while_redis_is_down_shows_at_once(site, member_client):
    comment = CommentFactory()
    url = comment.lesson.get_absolute_url()
    site.stop()
    reader = Client()
    reader.get(url)
    member_client.get(url)
    member_client.post(reverse("forum:comment-reply", args=[comment.pk]), {"body": "马上可见"})
    assert "马上可见" in member_client.get(url).content.decode()
    assert "马上可见" in reader.get(url).content.decode()
