from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import redis
from django.test import Client
from hypothesis import settings as hypothesis_settings

from tests.factories import UserFactory

# Property tests: `make test` and a plain pytest run the "ci" profile (Hypothesis's own: the same
# 100 examples every run, no deadline, a blob to reproduce a failure); `make test-full`
# (HYPOTHESIS_PROFILE=full) runs ten times as many, new ones each run, remembered in .hypothesis/
# when they fail. Tests leave the number to the profile.
hypothesis_settings.register_profile("ci", hypothesis_settings.get_profile("ci"), max_examples=100)
hypothesis_settings.register_profile(
    "full",
    hypothesis_settings.get_profile("default"),
    max_examples=1000,
    deadline=None,
    print_blob=True,
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# `make test` runs the suite on SQLite, then on PostgreSQL. These modules test code that reads no
# database (Markdown rendering, highlighting, the import parser): their tests that do not ask for
# one run in the SQLite half alone, where they cost the same, instead of twice (~1.5 min).
DATABASE_FREE_MODULES = {
    "tests/lessons/test_rendering.py",
    "tests/security/test_import_parser_dos.py",
    "tests/security/test_no_unsafe_output.py",
    "tests/security/test_renderer_dos.py",
}

# These check what a browser and a validator make of the pages' markup (axe, the Nu checker, XSS
# vectors in Chromium under the CSP): the same HTML on either database, whose data the other
# modules check in both halves. They run in the SQLite half alone (~2.5 min of work).
MARKUP_MODULES = {
    "tests/browser/test_accessibility.py",
    "tests/browser/test_xss_browser.py",
    "tests/forum/test_valid_html.py",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"):
        return
    database_free = [
        item
        for item in items
        if item.nodeid.split("::")[0] in MARKUP_MODULES
        or (
            item.nodeid.split("::")[0] in DATABASE_FREE_MODULES
            and item.get_closest_marker("django_db") is None
        )
    ]
    if database_free:
        config.hook.pytest_deselected(items=database_free)
        dropped = set(database_free)
        items[:] = [item for item in items if item not in dropped]


@pytest.fixture
def member(db):
    return UserFactory()


@pytest.fixture
def member_client(member) -> Client:
    client = Client()
    client.force_login(member)
    return client


@pytest.fixture
def superuser_client(db) -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: rolled-back tests can reuse row ids."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Each test stores uploaded and downloaded images in a folder of its own, never in the
    project's media/."""
    root = tmp_path_factory.mktemp("media")
    settings.MEDIA_ROOT = root
    return root


REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own on the Redis that app servers share; its keys are deleted
    afterwards. Skipped where Redis does not answer, failed in CI, which needs it."""
    server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        server.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {REDIS_URL} does not answer (required in CI)")
        pytest.skip(f"Redis at {REDIS_URL} does not answer")
    prefix = f"test-{uuid.uuid4().hex}"
    yield prefix
    keys = server.keys(f"{prefix}:*")
    if keys:
        server.delete(*keys)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """pytest-xdist: what a worker's tests summarized (tests/security/corpus.py) is printed with
    the controller's summary, as in a run without workers."""
    from tests.security.corpus import summarize

    for line in node.workeroutput.get("xss-summary", []):
        summarize(node.config, line)
