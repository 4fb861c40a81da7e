"""The security settings production really gets: forum/settings.py executed with DEBUG=0.

Executed with runpy, so the module the test run imported stays as it is; tests apply the
values with pytest-django's `settings` fixture. Copying the values here instead would test
the copy.
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from unittest import mock

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "forum" / "settings.py"
HOST = "forum.example"
SECURITY_SETTINGS = (
    "DEBUG",
    "ALLOWED_HOSTS",
    "MIDDLEWARE",
    "SECURE_CSP",
    "SECURE_CSP_REPORT_ONLY",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "X_FRAME_OPTIONS",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_SAMESITE",
)


def production_settings(**environ: str) -> dict:
    """forum/settings.py's security settings under DEBUG=0 (plus `environ`)."""
    env = {
        "DEBUG": "0",
        "SECRET_KEY": "production-like-" + "x" * 50,
        "ALLOWED_HOSTS": f"{HOST},localhost",
        **environ,
    }
    with mock.patch.dict(os.environ, env):
        values = runpy.run_path(str(SETTINGS_FILE))
    return {name: values[name] for name in SECURITY_SETTINGS if name in values}


def use_production_settings(settings, **environ: str) -> dict:
    """Apply them to pytest-django's `settings` fixture; returns what was applied."""
    values = production_settings(**environ)
    for name, value in values.items():
        setattr(settings, name, value)
    return values
