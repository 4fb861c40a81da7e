"""The site plus two references for `make bench`: the framework's floor and its leanest like.

`gunicorn bench.floor_wsgi` serves every URL of the site exactly as `forum.wsgi` does (same
settings, same middleware) and adds `/bench-floor/`, a view that only returns "ok", so that the
same gunicorn measures both the lesson page and what Django costs before any view code runs; and
`/bench-like/<id>/like/` (and `unlike/`), the least a like can be under Django with a durable
commit: the member's session and account, then one SQL statement that adds the row and moves
the count (PostgreSQL only: SQLite has no INSERT in a WITH). No cache stamp, no checks, no
template: what bounds the site's likes on this machine, measured beside them. And
`/bench-bytes/<size>/`, `size` bytes and nothing else: what sending a page of that size costs.
The project itself gets no benchmark URL.
"""

from __future__ import annotations

import functools
import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.urls import include, path
from django.views.decorators.http import require_POST

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forum.settings")
# Settings are read lazily: this lands before the first request resolves a URL.
settings.ROOT_URLCONF = __name__
application = get_wsgi_application()


def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


LEAN = {
    "like": "WITH changed AS (INSERT INTO forum_commentlike (member_id, comment_id, created_at) "
    "VALUES (%s, %s, now()) ON CONFLICT DO NOTHING RETURNING 1)",
    "unlike": "WITH changed AS (DELETE FROM forum_commentlike "
    "WHERE member_id = %s AND comment_id = %s RETURNING 1)",
}
MOVE = (
    " UPDATE forum_comment SET like_count = like_count + %s * (SELECT count(*) FROM changed) "
    "WHERE id = %s RETURNING like_count"
)


@require_POST
def lean_like(request: HttpRequest, comment_id: int, action: str) -> HttpResponse:
    if not request.user.is_authenticated or action not in LEAN:
        return HttpResponseForbidden()
    member = request.user.member.pk
    with connection.cursor() as cursor:
        sign = 1 if action == "like" else -1
        cursor.execute(LEAN[action] + MOVE, [member, comment_id, sign, comment_id])
        (count,) = cursor.fetchone()
    return HttpResponse(str(count), content_type="text/plain")


@functools.lru_cache(maxsize=8)
def _bytes(size: int) -> bytes:
    return b"x" * min(size, 10_000_000)


def fixed_bytes(request: HttpRequest, size: int) -> HttpResponse:
    return HttpResponse(_bytes(size), content_type="text/html; charset=utf-8")


# After get_wsgi_application(): including the site's URLs imports its views and models.
urlpatterns = [
    path("bench-floor/", floor),
    path("bench-like/<int:comment_id>/<str:action>/", lean_like),
    path("bench-bytes/<int:size>/", fixed_bytes),
    path("", include("forum.urls")),
]
