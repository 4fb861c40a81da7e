"""The site plus one extra URL, `/bench-floor/`: the framework's floor for `make bench`.

`gunicorn bench.floor_wsgi` serves every URL of the site exactly as `forum.wsgi` does (same
settings, same middleware) and adds a view that only returns "ok", so that the same gunicorn
measures both the lesson page and what Django costs before any view code runs.
The project itself gets no benchmark URL.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forum.settings")
# Settings are read lazily: this lands before the first request resolves a URL.
settings.ROOT_URLCONF = __name__
application = get_wsgi_application()


def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


# After get_wsgi_application(): including the site's URLs imports its views and models.
urlpatterns = [path("bench-floor/", floor), path("", include("forum.urls"))]
