from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


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
