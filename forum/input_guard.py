"""Input no page of the site can mean: NUL, or bytes that are not UTF-8.

PostgreSQL cannot store or compare text that holds NUL (psycopg refuses it before the query
is sent), so a NUL in a slug or a form field would reach the database as a 500, in our views,
allauth's and the admin's alike. Django decodes bytes that are not UTF-8 into U+FFFD without a
word, so the view would act on text other than what was sent. Browsers send neither: they
%-encode a UTF-8 page's links and forms as UTF-8, and nobody types a NUL. So both are refused
here, once, before any view runs, rather than in each view that reads input:

- a NUL in the path: 404, as for any path that names no page. (Bytes that are not UTF-8 in a
  path are already %-escaped again by Django, so such a path is just one that names no page.)
- NUL or bytes that are not UTF-8 in the query string or a form's fields: 400, with a page
  that says so.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext


class InputGuardMiddleware:
    """Sits before anything that reads the request's input (the page cache, CSRF, the views),
    and after what the 400 page needs to be rendered for its reader (language, account)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info:
            raise Http404("NUL in the path")
        query = request.META.get("QUERY_STRING", "")
        if query and not readable(_wire_bytes(query)):
            return _refused(request, gettext("The address holds characters no page can read."))
        if request.method == "POST" and not _form_readable(request):
            return _refused(request, gettext("The form holds characters no page can read."))
        return self.get_response(request)


def readable(encoded: bytes) -> bool:
    """Whether %-encoded form data (a query string, a urlencoded body) decodes to UTF-8 text
    without NUL. Its `&`, `=` and `+` are ASCII, so the whole can be checked at once."""
    data = unquote_to_bytes(encoded)
    if b"\x00" in data:
        return False
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


def _wire_bytes(text: str) -> bytes:
    """The bytes a client sent, from a WSGI environ string (PEP 3333 decodes them as Latin-1);
    ASGI has already decoded the query string as UTF-8."""
    try:
        return text.encode("iso-8859-1")
    except UnicodeEncodeError:
        return text.encode()


def _form_readable(request: HttpRequest) -> bool:
    if request.content_type == "application/x-www-form-urlencoded":
        return readable(request.body)  # read once: request.POST parses these same bytes
    if request.content_type == "multipart/form-data":
        # Django decodes these fields itself, bytes that are not UTF-8 as U+FFFD; files are
        # not text, and are left alone.
        fields = request.POST.lists()
        return not any("\x00" in key or "\x00" in "".join(values) for key, values in fields)
    return True


def _refused(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "400.html", {"message": message}, status=400)
