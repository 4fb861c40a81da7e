"""Load the seed lesson's comments into the peer project; print the page and a session.

`python -m peer.load EXPORT_JSON`, with the peer's environment. The comments keep their
authors' names, text, dates and threading; a signed-in reader gets a session.
"""

# Django is set up before the models are imported.
# ruff: noqa: E402
import json
import os
import sys
from importlib import import_module
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer.settings")
django.setup()

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)
from django.contrib.flatpages.models import FlatPage
from django.contrib.sites.models import Site
from django.utils.dateparse import parse_datetime
from django_comments_xtd.models import XtdComment


def main(export: dict) -> dict:
    site = Site.objects.get(pk=settings.SITE_ID)
    page = FlatPage.objects.create(url="/lesson/", title=export["title"], content=export["html"])
    page.sites.add(site)
    saved = {}
    for comment in export["comments"]:  # parents come before their replies
        parent = saved.get(comment["parent"])
        saved[comment["id"]] = XtdComment.objects.create(
            content_object=page,
            site=site,
            user_name=comment["name"][:50],
            comment=comment["body"],
            submit_date=parse_datetime(comment["created_at"]),
            is_public=True,
            parent_id=parent.pk if parent else 0,
        )
    user = get_user_model().objects.create_user("reader", "reader@bench.invalid")
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return {
        "url": "/lesson/",
        "comments": XtdComment.objects.count(),
        "session": store.session_key,
        "session_cookie": settings.SESSION_COOKIE_NAME,
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(Path(sys.argv[1]).read_text()))))
