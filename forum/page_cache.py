"""Whole lesson pages, kept in the shared cache and checked, on every request, against the
lesson's stamp (see forum.activity), so a cached page is never stale on any app server. Each
process also keeps the pages it served last, checked the same way: a hit costs one round trip to
the cache and no query.

A page differs between anonymous readers only in its CSP nonce (it holds no form, so no CSRF
token); the cached copy holds a placeholder for it, and for a CSRF token where a page has one
(members' pages), filled in per response. Plain members (no curating role, not staff,
not suspended, no comment of theirs awaiting review) share one copy too, rendered for a member
who wrote and liked nothing: each response puts in their name, and re-renders the like buttons
and actions of the few comments that they wrote or liked, found in one query.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.template.loader import get_template
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.crypto import salted_hmac
from django.utils.html import escape
from django.utils.http import http_date
from django.utils.translation import get_language

from forum import activity
from forum.models import Comment, Member
from forum.selectors import ViewerState
from lessons.models import Lesson


def _placeholder(name: str) -> str:
    """A placeholder no one can guess (it is derived from SECRET_KEY), so no comment can hold
    one and have, say, the reader's CSRF token put in its place."""
    return (
        f"__{name}_{salted_hmac('forum.page_cache', name, algorithm='sha256').hexdigest()[:20]}__"
    )


TOKEN = _placeholder("csrf_token")
NONCE = _placeholder("csp_nonce")
MEMBER_NAME = _placeholder("member_name")
_TOKEN, _NONCE, _MEMBER_NAME = (p.encode() for p in (TOKEN, NONCE, MEMBER_NAME))
TIMEOUT = 24 * 3600
LOCAL_PAGES = 32
_RENDERED_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass(frozen=True)
class CommentControls:
    """What a comment's like button and actions are rendered from."""

    pk: int
    url: str
    member_id: int | None
    like_count: int
    imported_like_count: int
    status: str
    is_deleted: bool
    liked: bool = False


@dataclass(frozen=True)
class CachedPage:
    key: str
    lesson_id: int
    stamp: str  # the lesson's stamp when it was rendered
    html: str
    last_modified: int  # when it was rendered, a Unix time
    lesson_like_count: int = 0
    comments: tuple[CommentControls, ...] = ()  # in a page for members
    path: str = ""  # the request's path

    @property
    def comment_ids(self) -> list[int]:
        return [comment.pk for comment in self.comments]

    @functools.cached_property
    def encoded(self) -> bytes:
        """The page in UTF-8, made once per process: 0.1 ms for a page of 200 KB."""
        return self.html.encode()

    @functools.cached_property
    def holds_token(self) -> bool:
        return TOKEN in self.html

    @functools.cached_property
    def around_nonces(self) -> list[bytes]:
        """The page split at its nonce placeholders: joined with a response's nonce, it is that
        response's page, in one copy."""
        return self.encoded.split(_NONCE)


class _AnyMember:
    """The viewer of a page cached for plain members: wrote nothing, may do what they may."""

    pk = 0
    is_suspended = False
    is_banned = False


class _AnyUser:
    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False

    def get_username(self) -> str:
        return MEMBER_NAME


ANY_MEMBER = _AnyMember()
MEMBER_CONTEXT = {"viewer": ANY_MEMBER, "user": _AnyUser(), "can_curate": False}


class _LocalPages:
    """The last pages this process served, most recent last."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pages: OrderedDict[str, CachedPage] = OrderedDict()
        self.paths: Counter[str] = Counter()  # of the pages kept
        self.lock = threading.Lock()

    def get(self, key: str) -> CachedPage | None:
        with self.lock:
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
            return page

    def put(self, key: str, page: CachedPage) -> None:
        with self.lock:
            if (old := self.pages.pop(key, None)) is not None:
                self.paths[old.path] -= 1
            self.pages[key] = page
            self.paths[page.path] += 1
            while len(self.pages) > self.size:
                _key, evicted = self.pages.popitem(last=False)
                self.paths[evicted.path] -= 1
            self.paths = +self.paths  # without the paths no page has any more

    def holds(self, path: str) -> bool:
        """Whether a page of `path` is kept: a dictionary lookup, for any request."""
        return path in self.paths


local_pages = _LocalPages(LOCAL_PAGES)


def viewer_kind(request: HttpRequest, viewer: Member | None) -> str | None:
    """Whose pages may come from the cache: "anonymous", "member" (see above), or None.
    What only a query can tell (roles, comments in review) is checked by `plain()`."""
    if list(messages.get_messages(request)):
        return None
    if viewer is None:
        return "anonymous"
    user = request.user
    if user.is_staff or user.is_superuser or viewer.is_suspended:
        return None
    return "member"


def plain(state: ViewerState) -> bool:
    return not state.has_curating_role and not state.has_pending


def page_key(request: HttpRequest, kind: str) -> str:
    """Everything but the lesson's state that the page depends on: that is in its stamp."""
    state = "|".join(
        [
            kind,
            request.path,
            get_language(),
            request.GET.urlencode(),
            request.htmx.target or "" if request.htmx else "",
        ]
    )
    return "page:" + hashlib.sha256(state.encode()).hexdigest()[:32]


def cached_page(key: str, *, local: bool = False) -> CachedPage | None:
    """The page stored under `key`, if it is still what its lesson looks like; with `local`,
    only if this process has it."""
    page = local_pages.get(key)
    if page is None:
        page = None if local else cache.get(key)
        if page is None:
            return None
        local_pages.put(key, page)
    if activity.lesson_stamp(page.lesson_id) != page.stamp:
        return None
    return page


def respond(request: HttpRequest, page: CachedPage) -> HttpResponse:
    """The page for this reader, or 304 if their copy is this page."""
    etag = _etag(request, page)
    response = get_conditional_response(request, etag=etag, last_modified=page.last_modified)
    if response is None:
        html = str(get_nonce(request)).encode().join(page.around_nonces)
        response = HttpResponse(_fill(html, request) if page.holds_token else html)
    return _headers(response, etag, page)


def respond_to_member(
    request: HttpRequest, page: CachedPage, viewer: Member, state: ViewerState
) -> HttpResponse:
    """The members' page, made this member's. Not validated by ETag: it is theirs alone."""
    html, language = page.html, get_language()
    edits = []  # (start, end, text), in order: the page is copied once, not once per edit
    viewer_id = viewer.pk
    for comment in page.comments:
        own = comment.member_id == viewer_id
        if comment.is_deleted or not (own or comment.pk in state.liked):
            continue
        theirs = replace(comment, liked=comment.pk in state.liked)
        at = html.find(f'id="comment-content-{comment.pk}"')
        for name in ("like-button", "member-actions"):
            anyone = _comment_part(name, comment, own=False, language=language)
            at = html.find(anyone, at)
            if at < 0:  # not shown as the members' copy shows it: nothing to make theirs
                break
            part = _comment_part(name, theirs, own=own, language=language)
            edits.append((at, at + len(anyone), part))
            at += len(anyone)
    if state.lesson_liked:
        anyone = _lesson_like(page.lesson_id, page.lesson_like_count, False, language)
        at = html.find(anyone)
        if at >= 0:
            theirs = _lesson_like(page.lesson_id, page.lesson_like_count, True, language)
            edits.append((at, at + len(anyone), theirs))
    pieces, copied = [], 0
    for start, end, text in sorted(edits):
        pieces += [html[copied:start], text]
        copied = end
    pieces.append(html[copied:])
    name = escape(request.user.get_username())
    response = HttpResponse(_fill("".join(pieces).encode(), request, member_name=name))
    patch_cache_control(response, private=True, no_cache=True)
    return response


def _fill(html: bytes, request: HttpRequest, *, member_name: str = "") -> bytes:
    """The placeholders filled in (bytes.replace: a regex for all three takes three times as
    long). The reader's CSRF token (a secret made now if they have none) only where the page has
    a form."""
    if _TOKEN in html:
        html = html.replace(_TOKEN, get_token(request).encode())
    html = html.replace(_NONCE, str(get_nonce(request)).encode())
    return html.replace(_MEMBER_NAME, member_name.encode()) if member_name else html


class _Author:
    """The viewer of their own comment, as far as its controls tell."""

    is_suspended = False
    is_banned = False

    def __init__(self, pk: int | None) -> None:
        self.pk = pk


# What the parts are rendered from is all in the arguments (with the CSRF token a placeholder),
# so each process keeps the parts it rendered (`language` in the key: they are rendered in the
# active one), and members' pages then cost no template work.
@functools.lru_cache(maxsize=4096)
def _comment_part(name: str, comment: CommentControls, *, own: bool, language: str) -> str:
    viewer = _Author(comment.member_id) if own else ANY_MEMBER
    return _render(f"forum/includes/comment.html#{name}", viewer=viewer, comment=comment)


@functools.lru_cache(maxsize=1024)
def _lesson_like(lesson_id: int, like_count: int, liked: bool, language: str) -> str:
    lesson = {"pk": lesson_id, "like_count": like_count, "liked": liked}
    return _render("forum/lesson.html#lesson-like-button", viewer=ANY_MEMBER, lesson=lesson)


def _render(template: str, **context) -> str:
    return get_template(template).render({"csrf_token": TOKEN, **context})


def controls(comment: Comment) -> CommentControls:
    return CommentControls(
        pk=comment.pk,
        url=comment.url,
        member_id=comment.member_id,
        like_count=comment.like_count,
        imported_like_count=comment.imported_like_count,
        status=comment.status,
        is_deleted=comment.is_deleted,
    )


# A <pre> or <textarea> (group 1, kept as written), or whitespace with a line break between tags.
_COMPACTABLE = re.compile(r"(<(pre|textarea)\b.*?</\2\s*>)|(?<=>)\s*\n\s*(?=<)", re.S | re.I)


def compact(html: str) -> str:
    """Whitespace between two tags that holds a line break, as one line break: the page reads
    the same (to HTML a run of whitespace is one space) in fewer bytes, a tenth of a long thread's
    indented markup. Not inside <pre> or <textarea>, where whitespace is content."""
    return _COMPACTABLE.sub(lambda found: found[1] or "\n", html)


def store(
    key: str,
    request: HttpRequest,
    response: HttpResponse,
    lesson: Lesson,
    stamp: str,
    comments: Sequence[Comment] = (),
) -> CachedPage:
    """Keep a rendered page, `stamp` being the lesson's stamp read before anything was, and
    `comments` those whose controls a member's copy may need to re-render."""
    html = response.content.decode()
    token = _RENDERED_TOKEN.search(html)
    if token:
        html = html.replace(token[1], TOKEN)
    nonce = get_nonce(request)
    if nonce:
        html = html.replace(str(nonce), NONCE)
    last_modified = int(time.time())  # its stamp was read before: it is the lesson as of now
    page = CachedPage(
        key,
        lesson.pk,
        stamp,
        html,
        last_modified,
        lesson.like_count,
        tuple(map(controls, comments)),
        request.path,
    )
    cache.set(key, page, TIMEOUT)
    local_pages.put(key, page)
    return page


def headers(request: HttpRequest, response: HttpResponse, page: CachedPage) -> HttpResponse:
    """The headers of an anonymous page."""
    return _headers(response, _etag(request, page), page)


def _etag(request: HttpRequest, page: CachedPage) -> str:
    """Bound to the reader's CSRF cookie too when the page has a form: their copy holds a token
    for it."""
    state = f"{page.key}|{page.stamp}"
    if page.holds_token:
        get_token(request)  # makes the secret if the reader has none
        state += f"|{request.META['CSRF_COOKIE']}"
    return f'W/"{hashlib.sha256(state.encode()).hexdigest()[:32]}"'


def _headers(response: HttpResponse, etag: str, page: CachedPage) -> HttpResponse:
    """Browsers may keep the page but must ask again (and get a 304); shared caches may not."""
    response.headers["ETag"] = etag
    response.headers["Last-Modified"] = http_date(page.last_modified)
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Cookie", "Accept-Language"])
    return response
