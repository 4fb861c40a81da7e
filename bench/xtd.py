"""The peer of `make bench`: django-comments-xtd in a throwaway virtualenv and project.

Nothing of it is kept: the virtualenv lives in the run's temporary directory, the project is
bench/peer/ (ours, a few lines following xtd's documentation), its database is dropped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import servers
from servers import PYTHON, command

PACKAGES = ["django-comments-xtd", "Django>=5.2,<6", "gunicorn", "psycopg[binary]"]
PROJECT = Path(__file__).with_name("peer")
DATABASE = "lessonforum_bench_xtd"


def install(work: Path, *, secret: str, postgres: bool) -> tuple[str, dict, str]:
    """Its virtualenv and its migrated database: the python, the environment and the versions."""
    venv = work / "xtd-venv"
    python = str(venv / "bin" / "python")
    command([PYTHON, "-m", "venv", str(venv)], timeout=120)
    command([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PACKAGES])
    versions = command(
        [
            python,
            "-c",
            "import django, importlib.metadata as m; "
            "print('django-comments-xtd', m.version('django-comments-xtd'), 'on Django', "
            "django.get_version())",
        ]
    ).strip()
    database = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(work / "xtd.sqlite3")}
    if postgres:
        servers.database_create(DATABASE)
        database = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": DATABASE,
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": "5432",
            "CONN_MAX_AGE": 60,  # as the forum's
            "CONN_HEALTH_CHECKS": True,
        }
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "peer.settings",
        "PYTHONPATH": str(PROJECT.parent),
        "PYTHONDONTWRITEBYTECODE": "1",
        "SECRET_KEY": secret,
        "PEER_DATABASE": json.dumps(database),
    }
    command([python, "-m", "django", "migrate", "--no-input", "-v0"], env=env, cwd=work)
    return python, env, versions


def start(
    processes: servers.Processes, work: Path, python: str, env: dict, lesson: dict
) -> tuple[int, dict]:
    """Load the seed lesson (bench/seed.py's export) and serve it; its port and load report."""
    export = work / "xtd-lesson.json"
    export.write_text(json.dumps(lesson))
    loaded = json.loads(command([python, "-m", "peer.load", str(export)], env=env, cwd=work))
    port = servers.gunicorn(
        processes, "xtd", env, app="peer.wsgi:application", python=python, cwd=work
    )
    processes.wait_http("xtd", port, loaded["url"])
    return port, loaded
