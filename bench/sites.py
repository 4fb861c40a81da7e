"""Lesson Forum as `make bench` runs it: its environment, a seeded database, a timed import."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from servers import PYTHON, ROOT, command

PAGE_SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm"}  # what import_lesson reads


def environment(
    *, work: Path, secret: str, database_url: str, cache_prefix: str, redis_url: str | None
) -> dict[str, str]:
    """Production settings (DEBUG off, Redis as the cache) over plain HTTP on 127.0.0.1."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "forum.settings",
        "DEBUG": "0",
        "SECRET_KEY": secret,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "STATIC_ROOT": str(work / "static"),
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "FORUM_RATE_LIMIT_SCALE": "0",
        "ACCOUNT_RATE_LIMITS_ENABLED": "0",
        "CACHE_KEY_PREFIX": cache_prefix,
        "LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def manage(env: dict, *args: str, timeout: float = 600) -> str:
    return command([PYTHON, "manage.py", *args], env=env, timeout=timeout)


def seeded(env: dict) -> dict:
    """Migrate, import the seed lesson and generate the rest: bench/seed.py's JSON."""
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "import_lesson", "forum/seed/")
    seed = json.loads(command([PYTHON, "bench/seed.py"], env=env))
    # The generated rows set the counters bench/seed.py knows of; recount sets any the site
    # has added since, so that `recount --check` afterwards judges only the load's writes.
    manage(env, "recount")
    return seed


def search_timed(env: dict) -> dict:
    """bench/search.py on a seeded site: 100,000 more comments, search and lesson page timed."""
    return json.loads(command([PYTHON, "bench/search.py"], env=env, timeout=1800))


def recount_check(env: dict) -> tuple[bool, str]:
    """`recount --check`: whether every counter matches its rows, and what it said."""
    try:
        return True, manage(env, "recount", "--check").strip()
    except RuntimeError as error:
        # Its last own line: the verdict, or the exception it died of.
        lines = [x for x in str(error).splitlines() if x.strip() and x[0] != " "]
        return False, lines[-1]


def import_timed(env: dict, source: Path) -> dict:
    """`import_lesson SOURCE --keep-going` on a migrated database: how long, per page."""
    manage(env, "migrate", "--no-input", "-v0")
    pages = sum(p.is_file() and p.suffix.lower() in PAGE_SUFFIXES for p in source.rglob("*"))
    started = time.monotonic()
    manage(env, "import_lesson", "--help")
    startup = time.monotonic() - started
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", "import_lesson", str(source), "--keep-going"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    seconds = time.monotonic() - started
    return {
        "source": str(source),
        "pages": pages,
        "seconds": seconds,
        "startup": startup,
        "per_page": (seconds - startup) / pages if pages else 0.0,
        "summary": next((x for x in done.stdout.splitlines() if x.startswith("lessons:")), ""),
        "failed": [x for x in done.stderr.splitlines() if x.startswith("error:")],
    }
