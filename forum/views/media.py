"""Stored images (forum.images), served by the site itself when FORUM_SERVE_MEDIA is on.

Only content-hash names are served, each as the image type its extension says, never as HTML
or SVG, with nosniff and a policy that lets the file run nothing even if opened on its own. A
name's content never changes, so browsers and proxies may keep it for a year. `/favicon.ico`
leads to the site's icon.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.views.decorators.http import require_safe

from forum import images

ONE_YEAR = 365 * 24 * 3600


@require_safe
def media_file(request: HttpRequest, name: str) -> FileResponse:
    if not images.STORED_NAME.fullmatch(name):
        raise Http404("not a stored image's name")
    try:
        file = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404("no such image") from None
    content_type = images.CONTENT_TYPES[name.rsplit(".", 1)[1]]
    response = FileResponse(file, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@require_safe
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """`/favicon.ico`, which feed readers, bookmarks and tools ask for without reading a page.

    Not permanent: the icon's static name changes with its content.
    """
    return HttpResponseRedirect(static("favicon.svg"))
