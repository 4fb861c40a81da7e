"""Test overrides only; everything else comes from forum.settings.

`TEST_DATABASE_URL` picks the database the suite runs on (SQLite by default).
"""

import os

os.environ.setdefault("DEBUG", "1")

from forum.settings import *  # noqa: F403
from forum.settings import database_from_url

DATABASES = {
    "default": database_from_url(os.environ.get("TEST_DATABASE_URL", "sqlite:///:memory:"))
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"].pop("init_command", None)
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
else:
    # One test database per run, so that runs on the same server never drop each other's.
    DATABASES["default"]["TEST"] = {"NAME": f"test_lessonforum_{os.getpid()}"}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
ACCOUNT_RATE_LIMITS = False
FORUM_RATE_LIMIT_SCALE = 0  # tests that check the limits turn them on themselves
