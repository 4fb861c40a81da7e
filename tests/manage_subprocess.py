"""The site in other processes: manage.py as an operator runs it, and the environment of an app
server of a site of its own (tests/reliability, tests/scaleout)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The test run's own Django settings must not leak into the subprocess.
NOT_INHERITED = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def _run(env: dict[str, str], args: tuple[str, ...], timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_manage(*args: str, timeout: int = 60, **env: str) -> subprocess.CompletedProcess:
    """`manage.py ARGS` with this environment (but the test run's settings) and `env`."""
    clean = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    return _run({**clean, **env}, args, timeout)


def server_environment(**settings: str) -> dict[str, str]:
    """This environment without the test run's settings, test database and Redis, then the
    production settings over plain HTTP on 127.0.0.1, then `settings` (DATABASE_URL at least)."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if key not in NOT_INHERITED | {"TEST_DATABASE_URL", "REDIS_URL"}
    }
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "forum.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        **settings,
    }


def manage(env: dict[str, str], *args: str, timeout: int = 300) -> str:
    """`manage.py ARGS` with exactly `env`: its output, or a failed assertion with its errors."""
    result = _run(env, args, timeout)
    assert result.returncode == 0, f"manage.py {' '.join(args[:2])}:\n{result.stderr[-3000:]}"
    return result.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
