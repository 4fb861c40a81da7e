"""Abuse limits: how often a member, and a client IP, may post, reply, like and report.

The counters are fixed windows in the shared cache (Redis in production), so every worker and
app server counts the same hits: `cache.add` opens a window's counter and `cache.incr` counts
atomically. Windows are aligned to the clock (a minute window ends on the minute), which makes
Retry-After exact, at the cost of letting up to twice a limit through across a window boundary,
which is fine for abuse limits. The limits are settings (FORUM_RATE_LIMITS, read from the
environment) times FORUM_RATE_LIMIT_SCALE; a scale of 0 turns them off.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext
from django_htmx.http import reswap, retarget

logger = logging.getLogger(__name__)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
    return address is not None and any(
        address in network for network in settings.FORUM_TRUSTED_PROXIES
    )


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, unless that is a trusted proxy.

    Behind trusted proxies it is the right-most X-Forwarded-For address that is not one of them:
    each proxy appends the address it saw, so everything left of that is what the client wrote.
    An address that does not parse stops the walk at the last proxy, which then stands in for
    the client. "" when there is no usable address at all.
    """
    address = _address(request.META.get("REMOTE_ADDR", ""))
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    while _trusted(address) and hops:
        forwarded = _address(hops.pop())
        if forwarded is None:
            break
        address = forwarded
    return str(address) if address is not None else ""


def _ip_bucket(ip: str) -> str:
    """IPv6 clients are counted per /64, the block one customer or machine usually holds."""
    address = _address(ip)
    if address is None:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _count(key: str, timeout: int) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # the counter expired between add and incr: this is a new window
        cache.add(key, 1, timeout=timeout)
        return 1


def limit_hit(action: str, *, user_id: int | None, ip: str) -> int | None:
    """Count one request of `action` by this member (None: anonymous) from this IP.

    Every window of the action counts the request, refused or not, so hammering keeps a client
    refused. Returns the seconds until the request would be allowed, or None when it is.
    """
    scale = settings.FORUM_RATE_LIMIT_SCALE
    if not scale:
        return None
    limits = settings.FORUM_RATE_LIMITS[action]
    now = time.time()
    wait = 0.0
    try:
        for amount, period, scope in limits:
            who = user_id if scope == "member" else _ip_bucket(ip)
            if who is None:
                continue
            key = f"ratelimit:{action}:{scope}:{who}:{period}:{int(now // period)}"
            if _count(key, period) > max(1, round(amount * scale)):
                wait = max(wait, period - now % period)
    except Exception:
        # A cache outage must not stop people from taking part: let the request through.
        logger.exception("rate limit for %s not counted", action)
        return None
    return math.ceil(wait) if wait else None


def too_many_requests(request: HttpRequest, wait: int) -> HttpResponse:
    """429 with when to try again: in the page's notice area for htmx, else a page."""
    minutes = max(1, math.ceil(wait / 60))
    message = ngettext(
        "You are doing this too often. Please try again in %(count)d minute.",
        "You are doing this too often. Please try again in %(count)d minutes.",
        minutes,
    ) % {"count": minutes}
    if request.htmx:
        response = render(request, "includes/notice.html", {"message": message}, status=429)
        response = reswap(retarget(response, "#flash"), "innerHTML")
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(wait)
    return response


def rate_limited(action: str) -> Callable[[Callable], Callable]:
    """Count the view's POSTs against `action`'s limits; over a limit, answer 429.

    Put it under the login decorator, so that anonymous visitors are sent to log in rather than
    counted, and form pages (GET) are never counted.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in SAFE_METHODS:
                user_id = request.user.pk if request.user.is_authenticated else None
                wait = limit_hit(action, user_id=user_id, ip=client_ip(request))
                if wait is not None:
                    return too_many_requests(request, wait)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
