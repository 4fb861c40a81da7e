"""Shared copies of a page: the decorator that owns every caching decision of a view.

The one contract: the bytes a reader gets equal the bytes the plain view renders for that
reader (the values of the CSRF token and of a form's one-time key aside). The view knows
nothing of caching.
`shared_copies` decides who shares a copy — readers who are not signed in ("anonymous"), and
plain members ("member": not staff, not suspended, no role to feature or pin, no comment of
theirs awaiting review on the lesson) — renders the shared copy through the plain view for a
representative reader (forum.caching.personal.stand_in for members) while the template engine
records its personal slots (forum.caching.slots), and answers each reader with the copy joined
with their own slot contents. Anyone else gets the plain view.

A copy's key is made of validated parameters alone: the audience, the language, the path and
what `params` parsed from the request (anything it does not know is ignored, and the page links
to its own canonical URL, so it renders the same); a copy is stored with the lesson's stamp read
before the view read anything, and served only while that stamp is current (one query:
forum.caching.stamps). Copies are kept by each process in a least-recently-used store bounded in
bytes, and, where Redis is configured, in the shared cache too.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial, wraps

from cachetools import LRUCache
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.response import SimpleTemplateResponse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import get_language

from forum.caching import personal, release
from forum.caching.slots import (
    REGIONS,
    Pieces,
    Recorder,
    Slot,
    Unrecordable,
    leaf_values,
    render_region,
)
from forum.caching.stamps import Stamp, stamp_of

logger = logging.getLogger(__name__)
TIMEOUT = 24 * 3600  # in the shared cache; a copy whose stamp moved is never served anyway


@dataclass
class Page:
    key: str
    lesson_id: int
    stamp: Stamp
    pieces: Pieces
    rendered_at: int  # a Unix time

    @property
    def size(self) -> int:
        return self.pieces.size


class _LocalPages:
    """The copies this process served last, at most `FORUM_PAGE_CACHE_BYTES` of text."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pages = LRUCache(maxsize=settings.FORUM_PAGE_CACHE_BYTES, getsizeof=_size)

    def get(self, key: str) -> Page | None:
        with self.lock:
            return self.pages.get(key)

    def put(self, key: str, page: Page) -> None:
        with self.lock:
            if page.size <= self.pages.maxsize:
                self.pages[key] = page

    def clear(self) -> None:
        with self.lock:
            self.pages.clear()

    def __len__(self) -> int:
        return len(self.pages)


def _size(page: Page) -> int:
    return page.size


local_pages = _LocalPages()


def _stored(key: str) -> Page | None:
    page = local_pages.get(key)
    if page is None and settings.FORUM_PAGE_CACHE_SHARED:
        page = cache.get(key)
        if page is not None:
            local_pages.put(key, page)
    return page


def _store(key: str, page: Page) -> None:
    local_pages.put(key, page)
    if settings.FORUM_PAGE_CACHE_SHARED:
        cache.set(key, page, TIMEOUT)


def audience(request: HttpRequest) -> str | None:
    """Who shares copies with this reader: "anonymous", "member" (whether they do on a given
    lesson, `personal.standing` tells), or None: a page of their own."""
    if list(messages.get_messages(request)):  # shown once, to them
        return None
    user = request.user
    if not user.is_authenticated:
        return "anonymous"
    # Loaded with the account (forum.accounts); an account's first page, which makes its
    # member, is its own.
    member = getattr(user, "member", None)
    if user.is_staff or user.is_superuser or member is None or member.is_suspended:
        return None
    return "member"


def _key(request: HttpRequest, audience: str, params: tuple) -> str:
    state = repr((release.RELEASE, audience, get_language(), request.path, params))
    return "page:" + hashlib.sha256(state.encode()).hexdigest()[:40]


def shared_copies(
    *, params: Callable[[HttpRequest], tuple], lesson: Callable[..., int | None]
) -> Callable:
    """Serve the decorated view's pages from shared copies (see the module's docstring).
    `params(request)` gives the parameters the page depends on, validated (Http404 if invalid:
    the view answers), `lesson(*view_args, **view_kwargs)` the id of the lesson the page shows
    (None where there is none: the view answers)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            kind = audience(request)
            try:
                key = _key(request, kind, params(request)) if kind else None
            except Http404:
                key = None
            if key is None:
                return view(request, *args, **kwargs)
            plain = partial(view, request, *args, **kwargs)
            page = _stored(key)
            if page is not None:
                now = _now(request, kind, page.lesson_id)
                if now is not None and now.stamp == page.stamp:
                    return _answer(request, page, now, plain)
            lesson_id = lesson(*args, **kwargs)
            # Read before the view reads anything: a write that commits while it renders has
            # moved the stamp on, so the copy stored under this one is never served.
            now = _now(request, kind, lesson_id) if lesson_id is not None else None
            if now is None or not now.shares_copies:
                return plain()
            page = _render(plain, request, kind, key, lesson_id, now.stamp)
            if page is None:
                return plain()
            _store(key, page)
            return _answer(request, page, now, plain)

        return wrapper

    return decorate


def _now(request: HttpRequest, kind: str, lesson_id: int) -> personal.Standing | None:
    """The lesson's stamp now, and for a member their standing on it (None: no such lesson)."""
    if kind == "member":
        return personal.standing(request.user, request.user.member, lesson_id)
    stamp = stamp_of(lesson_id)
    return None if stamp is None else personal.Standing(stamp, False, True, frozenset())


def _render(plain, request, kind, key, lesson_id, stamp) -> Page | None:
    """The shared copy: the plain view rendered for the audience's representative reader,
    while its slots are recorded. None if it is not a page that can be shared."""
    recorder = Recorder(regions=kind == "member")
    reader_user = request.user
    request.slot_recorder = recorder
    if kind == "member":
        request.user = personal.stand_in()
    try:
        response = plain()
        if not isinstance(response, SimpleTemplateResponse) or response.status_code != 200:
            return None
        html = response.rendered_content
    finally:
        request.user = reader_user
        del request.slot_recorder
    try:
        pieces = Pieces.cut(html, recorder)
        if kind == "member":
            _render_variants(request, pieces, recorder)
    except Unrecordable as error:
        logger.warning("page %s not cached: %s", request.path, error)
        return None
    return Page(key, lesson_id, stamp, pieces, int(time.time()))


def _render_variants(request: HttpRequest, pieces: Pieces, recorder: Recorder) -> None:
    """Each region's variants, rendered for the shared copy's reader, cut at their leaves."""
    user = personal.stand_in()
    base = _region_context(request, user, user.member, recorder.leaves["csrf"])
    leaves_only = Recorder(regions=False)
    for slot in pieces.regions():
        variants = REGIONS[slot.kind].variants
        for name, context in (variants(slot.data) if variants else {}).items():
            html = render_region(slot.kind, {**base, **context})
            slot.variants[name] = variant = Pieces.cut(html, leaves_only)
            pieces.leaves |= variant.leaves  # each response gives a value to every leaf


def _region_context(request: HttpRequest, user, member, csrf_token: str) -> dict:
    """What a region is rendered with, besides what its Region gives: the page's reader."""
    return {
        "viewer": member,
        "user": user,
        "csrf_token": csrf_token,
        "can_curate": False,
        "request": request,
    }


def _answer(request: HttpRequest, page: Page, now: personal.Standing | None, plain) -> HttpResponse:
    if not request.user.is_authenticated:
        etag = _etag(request, page)
        response = get_conditional_response(request, etag=etag, last_modified=page.rendered_at)
        if response is None:
            response = HttpResponse(page.pieces.join(leaf_values(request, page.pieces)))
        response.headers["ETag"] = etag
        response.headers["Last-Modified"] = http_date(page.rendered_at)
        # The same bytes for every reader it is shared with: a shared cache in front may keep
        # it, but must ask again each time (a 304 where the copy is still current).
        patch_cache_control(response, public=True, no_cache=True)
    elif not now.shares_copies:
        return plain()
    else:
        member = request.user.member  # a member's audience is one who has a member
        reader = personal.Reader(request.user, member, now.liked, now.lesson_liked)
        leaves = leaf_values(request, page.pieces)
        csrf_token = leaves.get("csrf") or get_token(request)
        base = _region_context(request, request.user, member, csrf_token)
        html = page.pieces.join(leaves, partial(_theirs, reader, base))
        response = HttpResponse(html)
        patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Cookie", "Accept-Language", "HX-Request"])
    return response


def _theirs(reader: personal.Reader, base: dict, slot: Slot) -> str | Pieces | None:
    theirs = REGIONS[slot.kind].render_for(slot.data, reader)
    if theirs is None:
        return None
    if type(theirs) is str:
        return slot.variants[theirs]
    return render_region(slot.kind, {**base, **theirs})


def _etag(request: HttpRequest, page: Page) -> str:
    """The copy's identity; bound to the reader's CSRF secret too if it held a form."""
    state = repr((page.key, page.stamp, page.rendered_at))
    if page.pieces.holds("csrf"):
        get_token(request)
        state += request.META["CSRF_COOKIE"]
    return f'W/"{hashlib.sha256(state.encode()).hexdigest()[:32]}"'
