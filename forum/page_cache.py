"""Whole lesson pages for anonymous readers: validated by ETag, kept in the shared cache.

A page differs between anonymous readers only in its CSRF token and CSP nonce; the cached copy
holds placeholders for both, filled in per response. The key holds everything else the page
shows (see forum.activity), so a cached page is never stale, on any app server.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import get_language

from forum import activity
from lessons.models import Lesson

TOKEN = "__lesson_forum_csrf_token__"  # noqa: S105 - a placeholder, not a secret
NONCE = "__lesson_forum_csp_nonce__"
TIMEOUT = 24 * 3600
_RENDERED_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass(frozen=True)
class PageVersion:
    key: str  # the cached page's key: the same for every anonymous reader
    etag: str  # the reader's validator: also bound to their CSRF cookie
    last_modified: datetime


def page_version(request: HttpRequest, lesson: Lesson) -> PageVersion:
    changed = [lesson.updated_at, lesson.course.updated_at, lesson.activity_at]
    state = "|".join(
        map(
            str,
            [
                lesson.pk,
                *changed,
                get_language(),
                request.GET.urlencode(),
                request.htmx.target if request.htmx else "",
                activity.generation(),
            ],
        )
    )
    digest = hashlib.sha256(state.encode()).hexdigest()[:32]
    get_token(request)  # the page's forms need a CSRF secret: make it now if there is none
    bound = hashlib.sha256(f"{digest}|{request.META['CSRF_COOKIE']}".encode()).hexdigest()
    return PageVersion(
        key=f"page:{digest}",
        etag=f'W/"{bound[:32]}"',
        last_modified=max(moment for moment in changed if moment),
    )


def cached(request: HttpRequest, version: PageVersion) -> HttpResponse | None:
    html = cache.get(version.key)
    if html is None:
        return None
    html = html.replace(TOKEN, get_token(request)).replace(NONCE, str(get_nonce(request)))
    return headers(HttpResponse(html), version)


def store(response: HttpResponse, request: HttpRequest, version: PageVersion) -> None:
    html = response.content.decode()
    token = _RENDERED_TOKEN.search(html)
    if token:
        html = html.replace(token[1], TOKEN)
    nonce = get_nonce(request)
    if nonce:
        html = html.replace(str(nonce), NONCE)
    cache.set(version.key, html, TIMEOUT)
    headers(response, version)


def headers(response: HttpResponse, version: PageVersion) -> HttpResponse:
    """Browsers may keep the page but must ask again (and get a 304); shared caches may not."""
    response.headers["ETag"] = version.etag
    response.headers["Last-Modified"] = http_date(version.last_modified.timestamp())
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Cookie", "Accept-Language"])
    return response
