"""The Redis cache backend: Django's, with one client per connection pool."""

from __future__ import annotations

import os
import uuid

import pytest
import redis

from forum.cache import RedisCache

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def backend():
    server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        server.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {REDIS_URL} does not answer (required in CI)")
        pytest.skip(f"Redis at {REDIS_URL} does not answer")
    prefix = f"backend-test-{uuid.uuid4().hex}"
    yield RedisCache(REDIS_URL, {"KEY_PREFIX": prefix})
    keys = server.keys(f"{prefix}:*")
    if keys:
        server.delete(*keys)


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
