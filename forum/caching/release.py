"""The release a process renders with, part of every cached page's key."""

from __future__ import annotations

import hashlib

from django.conf import settings


def _release() -> str:
    """A digest of the code, templates and translations this process renders with, so that
    what one release cached is never served by another (app servers updated in turn)."""
    digest = hashlib.sha256()
    for folder in ("forum", "lessons", "templates"):
        for path in sorted((settings.BASE_DIR / folder).rglob("*")):
            if path.suffix in {".py", ".html", ".mo"}:
                digest.update(str(path.relative_to(settings.BASE_DIR)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


RELEASE = _release()
