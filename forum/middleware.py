from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.translation import get_language, gettext

logger = logging.getLogger(__name__)


class HtmxPermissionDeniedMiddleware:
    """An htmx request that is refused shows why in the page's notice area, not nowhere.

    htmx does not swap error responses by default; base.html's htmx-config swaps 403 and 429,
    and these headers send the message to `#flash`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not (isinstance(exception, PermissionDenied) and getattr(request, "htmx", False)):
            return None
        html = render_to_string(
            "includes/notice.html", {"message": str(exception)}, request=request
        )
        response = HttpResponse(html, status=403)
        response["HX-Retarget"] = "#flash"
        response["HX-Reswap"] = "innerHTML"
        return response


class DatabaseUnavailableMiddleware:
    """While the database is down (restart, failover), answer 503 with Retry-After, not a 500.

    The page is built without the database: base.html would load the session and the user, which
    is what just failed. The broken connection is closed, so the next request opens a new one
    instead of reusing it (CONN_MAX_AGE keeps connections between requests; CONN_HEALTH_CHECKS
    also tests a kept connection before its first use in a request).
    """

    RETRY_AFTER = 5

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("database unavailable, answering 503: %s", exception)
        for connection in connections.all(initialized_only=True):
            if not connection.in_atomic_block:
                connection.close()
        message = gettext("The service is temporarily unavailable. Please try again shortly.")
        if getattr(request, "htmx", False):
            response = HttpResponse(
                render_to_string("includes/notice.html", {"message": message}), status=503
            )
            response["HX-Retarget"] = "#flash"
            response["HX-Reswap"] = "innerHTML"
        else:
            title = gettext("Service unavailable")
            page = format_html(
                '<!doctype html><html lang="{}"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                "<title>{}</title></head><body><main><h1>{}</h1><p>{}</p></main></body></html>",
                get_language(),
                title,
                title,
                message,
            )
            response = HttpResponse(page, status=503)
        response["Retry-After"] = str(self.RETRY_AFTER)
        response["Cache-Control"] = "no-store"
        return response
