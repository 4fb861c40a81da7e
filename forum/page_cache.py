"""Whole lesson pages for anonymous readers, kept in the shared cache and checked, on every
request, against the lesson's stamp (see forum.activity), so a cached page is never stale on any
app server. Each process also keeps the pages it served last, checked the same way: a hit costs
one round trip to the cache and no query.

A page differs between anonymous readers only in its CSRF token and CSP nonce; the cached copy
holds placeholders for both, filled in per response.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import get_language

from forum import activity
from lessons.models import Lesson

TOKEN = "__lesson_forum_csrf_token__"  # noqa: S105 - a placeholder, not a secret
NONCE = "__lesson_forum_csp_nonce__"
TIMEOUT = 24 * 3600
LOCAL_PAGES = 32
_RENDERED_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass(frozen=True)
class CachedPage:
    key: str
    lesson_id: int
    stamp: str  # the lesson's stamp when it was rendered
    html: str
    last_modified: int  # a Unix time


class _LocalPages:
    """The last pages this process served, most recent last."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pages: OrderedDict[str, CachedPage] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> CachedPage | None:
        with self.lock:
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
            return page

    def put(self, key: str, page: CachedPage) -> None:
        with self.lock:
            self.pages[key] = page
            self.pages.move_to_end(key)
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.pages.clear()


local_pages = _LocalPages(LOCAL_PAGES)


def page_key(request: HttpRequest) -> str:
    """Everything but the lesson's state that the page depends on: that is in its stamp."""
    state = "|".join(
        [
            request.path,
            get_language(),
            request.GET.urlencode(),
            request.htmx.target or "" if request.htmx else "",
        ]
    )
    return "page:" + hashlib.sha256(state.encode()).hexdigest()[:32]


def cached_page(key: str) -> CachedPage | None:
    """The page stored under `key`, if it is still what its lesson looks like."""
    page = local_pages.get(key)
    if page is None:
        page = cache.get(key)
        if page is None:
            return None
        local_pages.put(key, page)
    if activity.lesson_stamp(page.lesson_id) != page.stamp:
        return None
    return page


def respond(request: HttpRequest, page: CachedPage) -> HttpResponse:
    """The page for this reader, or 304 if their copy is this page."""
    token = get_token(request)  # the page's forms need a CSRF secret: made now if there is none
    etag = _etag(request, page)
    response = get_conditional_response(request, etag=etag, last_modified=page.last_modified)
    if response is None:
        html = page.html.replace(TOKEN, token)
        response = HttpResponse(html.replace(NONCE, str(get_nonce(request))))
    return _headers(response, etag, page)


def store(
    key: str, request: HttpRequest, response: HttpResponse, lesson: Lesson, stamp: str
) -> HttpResponse:
    """Keep a rendered page, `stamp` being the lesson's stamp read before anything was."""
    get_token(request)  # as in respond(), even if the page (a fragment) has no form
    html = response.content.decode()
    token = _RENDERED_TOKEN.search(html)
    if token:
        html = html.replace(token[1], TOKEN)
    nonce = get_nonce(request)
    if nonce:
        html = html.replace(str(nonce), NONCE)
    changed = [lesson.updated_at, lesson.course.updated_at, lesson.activity_at]
    last_modified = int(max(moment for moment in changed if moment).timestamp())
    page = CachedPage(key, lesson.pk, stamp, html, last_modified)
    cache.set(key, page, TIMEOUT)
    local_pages.put(key, page)
    return _headers(response, _etag(request, page), page)


def _etag(request: HttpRequest, page: CachedPage) -> str:
    """Bound to the reader's CSRF cookie too: their copy holds a token for it."""
    state = f"{page.key}|{page.stamp}|{request.META['CSRF_COOKIE']}"
    return f'W/"{hashlib.sha256(state.encode()).hexdigest()[:32]}"'


def _headers(response: HttpResponse, etag: str, page: CachedPage) -> HttpResponse:
    """Browsers may keep the page but must ask again (and get a 304); shared caches may not."""
    response.headers["ETag"] = etag
    response.headers["Last-Modified"] = http_date(page.last_modified)
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Cookie", "Accept-Language"])
    return response
