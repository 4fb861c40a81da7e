"""The Redis cache backend: Django's, with one client per connection pool."""

from __future__ import annotations

import pytest

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
