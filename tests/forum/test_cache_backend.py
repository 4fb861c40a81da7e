"""The Redis cache backend: Django's, with one client per connection pool, answering as an
empty cache while Redis is down."""

from __future__ import annotations

import socket
import time

import pytest

from forum import cache as forum_cache
from forum.cache import RedisCache
from tests.conftest import REDIS_URL


@pytest.fixture
def backend(redis_prefix):
    return RedisCache(REDIS_URL, {"KEY_PREFIX": redis_prefix})


def test_it_stores_reads_counts_and_deletes(backend):
    backend.set("page", {"html": "<p>你好</p>"})
    backend.set("count", 1)
    assert backend.get_many(["page", "count", "none"]) == {
        "page": {"html": "<p>你好</p>"},
        "count": 1,
    }
    assert backend.incr("count") == 2
    assert backend.add("count", 9) is False
    backend.delete("page")
    assert backend.get("page") is None


def test_every_operation_shares_one_client(backend):
    client = backend._cache.get_client()
    backend.set("a", 1)
    assert backend._cache.get_client(write=True) is client


# While Redis is down (forum/cache.py): the answers of an empty cache, not exceptions.


@pytest.fixture
def down(monkeypatch):
    """A cache whose Redis refuses connections: nothing listens on its port."""
    monkeypatch.setattr(forum_cache, "_outages", {})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return RedisCache(f"redis://127.0.0.1:{port}/0", {"KEY_PREFIX": "down"})


def test_while_redis_is_down_reads_miss_and_writes_are_skipped(down):
    assert down.get("page") is None
    assert down.get("page", "default") == "default"
    assert down.get_many(["page", "count"]) == {}
    assert not down.has_key("page")
    down.set("page", "<p>你好</p>")
    assert down.set_many({"page": "<p>你好</p>"}) == []
    assert down.delete("page") is False
    down.delete_many(["page"])
    assert down.touch("page") is False
    assert down.get_or_set("page", "rendered") == "rendered"
    assert down.clear() is False


def test_incr_while_redis_is_down_answers_as_for_a_missing_key(down):
    with pytest.raises(ValueError):
        down.incr("count")


def test_add_while_redis_is_down_claims_the_key(down):
    """allauth's rate-limit lock waits for `add` for a second, then refuses the login."""
    assert down.add("lock", True) is True


def test_after_a_failure_redis_is_left_alone_for_a_pause(down, monkeypatch):
    monkeypatch.setattr(forum_cache, "PAUSE", 0.1)
    tries = []
    get_client = down._cache.get_client
    monkeypatch.setattr(
        down._cache, "get_client", lambda *a, **k: tries.append(1) or get_client(*a, **k)
    )
    for _ in range(5):
        down.get("page")
    assert len(tries) == 1
    time.sleep(0.1)
    down.get("page")
    assert len(tries) == 2


def test_the_caches_of_all_threads_share_the_pause(down):
    """Django makes a cache per thread; the outage is the server's."""
    other = RedisCache(down._servers[0], {"KEY_PREFIX": "down"})
    down.get("page")
    assert other._cache._outage is down._cache._outage
    assert other._cache._outage.retry_at > time.monotonic()


def test_skipped_writes_are_remembered_by_their_keys_in_redis(down):
    down.set("page", 1)
    down.set_many({"thread": 2})
    down.delete("session")
    down.add("lock", True)
    assert down._cache._outage.unwritten == {"down:1:page", "down:1:thread", "down:1:session"}


def test_past_the_keys_it_keeps_it_remembers_to_flush(down, monkeypatch):
    monkeypatch.setattr(forum_cache, "UNWRITTEN_KEPT", 2)
    down.set_many({"a": 1, "b": 2, "c": 3})
    assert down._cache._outage.flush
    assert not down._cache._outage.unwritten
