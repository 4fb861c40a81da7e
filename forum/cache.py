"""Django's Redis cache, without its cost per operation, answering as an empty cache while Redis
is down.

Speed: Django's client builds a new `redis.Redis` for every cache operation, and each one fills a
table of some 500 response callbacks: about 0.2 ms, more than the round trip to Redis itself.
Here each connection pool gets one `redis.Redis`, which is safe to share between threads. Keys
are not checked for what memcached refuses (a loop over every character of every key): Redis
takes any key.

Outages: everything in the cache can be rebuilt or read from the database (sessions are
`cached_db`), so while Redis does not answer (a connection refused, a timeout: see the OPTIONS
in settings.CACHES) an operation gets what an empty cache would answer instead of an exception:
a read misses, a write is skipped, `incr` raises ValueError as for a missing key. `add` answers
True: its callers use it to claim something (allauth's rate-limit lock, which would otherwise
wait a second and then refuse the login; the first hit of a window in forum.ratelimit), and a
claim fails open as the rate limits do (README). After a failure the process leaves Redis alone
for PAUSE seconds, so that a request does not wait for a timeout at each of its cache calls; the
next operation after that tries again, so Redis is used as soon as it answers. One warning is
logged when Redis stops answering and one when it answers again.

A skipped write can leave an older value in a Redis that was unreachable rather than restarted
empty (a network partition, a timeout): the session of a member who has since logged out, a
lesson's stamp that did not move. So the process remembers the keys of the writes it skipped and
deletes them before anything else when Redis answers again; past UNWRITTEN_KEPT keys it flushes
the whole cache instead.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache.backends import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

PAUSE = 1.0  # seconds without trying Redis after it failed to answer
UNWRITTEN_KEPT = 10_000
OUTAGE = (RedisConnectionError, RedisTimeoutError)  # a BusyLoadingError is a ConnectionError


def _missing(key: str, delta: int) -> int:
    raise ValueError(f"Key '{key}' not found.")


class _Outage:
    """What one process knows of a Redis server's outage. Django gives each thread a cache of
    its own, so this is shared by server, not kept in the cache."""

    def __init__(self) -> None:
        self.retry_at = 0.0  # time.monotonic() from which Redis is tried again
        self.since: float | None = None
        self.unwritten: set[str] = set()
        self.flush = False  # more writes were skipped than UNWRITTEN_KEPT
        self.lock = threading.Lock()

    def failed(self, error: Exception) -> None:
        now = time.monotonic()
        self.retry_at = now + PAUSE
        if self.since is None:
            self.since = now
            logger.warning(
                "Redis cache does not answer (%s): reads miss and writes are skipped until it does",
                error,
            )

    def answered(self) -> None:
        if self.since is not None:
            logger.warning("Redis cache answers again after %.1f s", time.monotonic() - self.since)
            self.since = None

    def skipped(self, keys: Iterable[str]) -> None:
        with self.lock:
            if not self.flush:
                self.unwritten.update(keys)
                if len(self.unwritten) > UNWRITTEN_KEPT:
                    self.unwritten.clear()
                    self.flush = True


_outages: dict[tuple[str, ...], _Outage] = {}


def _unless_down(answer: Callable[..., Any], *, writes: bool = False) -> Callable:
    """The operation on Redis, or `answer(*its arguments)` while Redis does not answer. With
    `writes`, its first argument is the key, or the keys, it writes."""

    def decorator(operation: Callable) -> Callable:
        @functools.wraps(operation)
        def guarded(self: RedisCacheClient, *args: Any) -> Any:
            outage = self._outage
            if time.monotonic() >= outage.retry_at:
                try:
                    self._delete_unwritten()
                    result = operation(self, *args)
                except OUTAGE as error:
                    outage.failed(error)
                else:
                    outage.answered()
                    return result
            if writes:
                outage.skipped([args[0]] if isinstance(args[0], str) else args[0])
            return answer(*args)

        return guarded

    return decorator


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, servers: list[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(servers, *args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._outage = _outages.setdefault(tuple(servers), _Outage())

    def get_client(self, key: str | None = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = super().get_client(key, write=write)
        return client

    def _delete_unwritten(self) -> None:
        outage = self._outage
        if not (outage.unwritten or outage.flush):
            return
        # Under the lock, so that no other thread reads an old value before they are gone.
        with outage.lock:
            if outage.flush:
                self.get_client(None, write=True).flushdb(asynchronous=True)
                logger.warning("Redis cache flushed: too many writes were skipped to undo")
            elif outage.unwritten:
                super().delete_many(list(outage.unwritten))
                logger.info(
                    "Redis cache: %d keys whose writes were skipped deleted", len(outage.unwritten)
                )
            outage.unwritten.clear()
            outage.flush = False

    add = _unless_down(lambda key, value, timeout: True)(redis.RedisCacheClient.add)
    get = _unless_down(lambda key, default: default)(redis.RedisCacheClient.get)
    set = _unless_down(lambda key, value, timeout: None, writes=True)(redis.RedisCacheClient.set)
    touch = _unless_down(lambda key, timeout: False)(redis.RedisCacheClient.touch)
    delete = _unless_down(lambda key: False, writes=True)(redis.RedisCacheClient.delete)
    get_many = _unless_down(lambda keys: {})(redis.RedisCacheClient.get_many)
    has_key = _unless_down(lambda key: False)(redis.RedisCacheClient.has_key)
    incr = _unless_down(_missing)(redis.RedisCacheClient.incr)
    set_many = _unless_down(lambda data, timeout: None, writes=True)(
        redis.RedisCacheClient.set_many
    )
    delete_many = _unless_down(lambda keys: None, writes=True)(redis.RedisCacheClient.delete_many)
    clear = _unless_down(lambda: False)(redis.RedisCacheClient.clear)


class RedisCache(redis.RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def validate_key(self, key: str) -> None:
        pass
