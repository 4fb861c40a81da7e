"""The processes and databases of `make bench`: started here, always stopped and dropped here.

Every process is started in its own session and stopped by its process group id; every
database is created fresh and dropped at the end; everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def command(args: list[str], *, env: dict | None = None, timeout: float = 600, cwd=ROOT) -> str:
    """Run a command to completion; its stdout, or an error with the end of its output."""
    done = subprocess.run(  # noqa: S603 (our own commands, no shell)
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-2000:]
        raise RuntimeError(f"{' '.join(map(str, args[:4]))}… exited {done.returncode}:\n{tail}")
    return done.stdout


def http_get(port: int, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    client.request("GET", path, headers=headers or {})
    response = client.getresponse()
    response.body = response.read()
    client.close()
    return response


class Processes:
    """Long-running servers; stop_all() ends each one's process group, by its id."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], *, env: dict, cwd=ROOT) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(  # noqa: S603
            args, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.running.append((name, process))
        return process

    def wait_http(self, name: str, port: int, path: str, timeout: float = 60) -> None:
        process = dict(self.running)[name]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                if http_get(port, path).status < 500:
                    return
            except OSError:
                time.sleep(0.2)
        log = (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{name} did not come up on 127.0.0.1:{port}:\n{log}")

    def stop_all(self) -> None:
        for _name, process in reversed(self.running):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _name, process in reversed(self.running):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        self.running.clear()


def gunicorn(processes: Processes, name: str, env: dict, *, app: str, python=PYTHON, cwd=ROOT):
    """gunicorn with the project's production settings (forum/gunicorn.conf.py); no control
    socket, so instances never collide."""
    port = free_port()
    bin_dir = Path(python).parent
    processes.start(
        name,
        [
            str(bin_dir / "gunicorn"),
            app,
            "-c",
            str(ROOT / "forum" / "gunicorn.conf.py"),
            "-b",
            f"127.0.0.1:{port}",
            "--no-control-socket",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=cwd,
    )
    return port


def nginx_path() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def nginx_version() -> str:
    done = subprocess.run(  # noqa: S603
        [nginx_path(), "-v"], capture_output=True, text=True, check=False
    )
    return done.stderr.strip().removeprefix("nginx version: ")


def nginx(processes: Processes, work: Path, page: bytes) -> int | None:
    """A throwaway nginx (own config, no daemon, no default site) serving `page`."""
    binary = nginx_path()
    if binary is None:
        return None
    port = free_port()
    root = work / "nginx"
    (root / "www").mkdir(parents=True)
    (root / "www" / "lesson.html").write_bytes(page)
    for path in (work, root, root / "www"):
        path.chmod(0o755)  # workers run as an unprivileged user when started by root
    (root / "www" / "lesson.html").chmod(0o644)
    temp = "".join(
        f"    {kind}_temp_path {root}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (root / "nginx.conf").write_text(
        f"""daemon off;
worker_processes auto;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
{temp}    types {{ text/html html; }}
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
    }}
}}
"""
    )
    processes.start(
        "nginx",
        [binary, "-p", str(root), "-c", str(root / "nginx.conf"), "-e", str(root / "error.log")],
        env=dict(os.environ),
    )
    processes.wait_http("nginx", port, "/lesson.html", timeout=15)
    return port


def postgres_available() -> bool:
    import psycopg

    try:
        psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def postgres(sql: str) -> list:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as connection:
        cursor = connection.execute(sql)
        return cursor.fetchall() if cursor.description else []


def database_create(name: str) -> str:
    postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    postgres(f'CREATE DATABASE "{name}"')
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def database_drop(name: str) -> None:
    postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def in_background(function: Callable[[], object]) -> Callable[[], object]:
    """Run `function` in a thread; the returned callable waits and returns (or raises)."""
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = function()
        except BaseException as error:  # re-raised in the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()

    def wait() -> object:
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    return wait


def apt_install(package: str) -> bool:
    """Install a Debian package when running as root with apt; True when it is there now."""
    apt_get, apt_cache = shutil.which("apt-get"), shutil.which("apt-cache")
    if os.geteuid() != 0 or apt_get is None or apt_cache is None:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

    def candidate() -> bool:
        policy = subprocess.run(  # noqa: S603
            [apt_cache, "policy", package], capture_output=True, text=True, check=False
        )
        return re.search(r"Candidate: (?!\(none\))", policy.stdout) is not None

    if not candidate():  # a fresh machine has no package lists yet
        subprocess.run(  # noqa: S603
            [apt_get, "update", "-q"], capture_output=True, env=env, timeout=300, check=False
        )
        if not candidate():
            return False
    done = subprocess.run(  # noqa: S603
        [apt_get, "install", "-y", "-q", package],
        capture_output=True,
        env=env,
        timeout=300,
        check=False,
    )
    return done.returncode == 0
