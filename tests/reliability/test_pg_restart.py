"""PostgreSQL restarted under load: 503 during the outage, recovery without help, no lost write.

A fresh database is migrated and seeded, gunicorn serves the production settings on 127.0.0.1
with three workers, and members post, reply and like from threads for ~25 s while the
PostgreSQL cluster is stopped for a few seconds and started again. Every write the site
acknowledged (302, or 200 to htmx) carries a unique token and must be in the database
afterwards; requests during the outage must be answered 503; requests made once the server is
back must succeed without restarting gunicorn.

This stops the shared PostgreSQL server, so it runs only on request, on its own, after the rest
of the suite: LESSON_FORUM_PG_RESTART=1 TEST_DATABASE_URL=postgres://… pytest -s <this file>.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from tests.manage_subprocess import free_port, manage, server_environment

ROOT = Path(__file__).resolve().parents[2]
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
CLUSTER = os.environ.get("LESSON_FORUM_PG_CLUSTER", "15 main").split()
MEMBERS = 20
LOAD_SECONDS = 26
STOP_AT = 8  # seconds into the load
OUTAGE_SECONDS = 4
RECOVERY_GRACE = 2  # seconds after the server is back before every request must succeed

pytestmark = [
    pytest.mark.skipif(
        urlsplit(TEST_DATABASE_URL).scheme not in {"postgres", "postgresql"},
        reason="restarts PostgreSQL: needs TEST_DATABASE_URL=postgres://… (SQLite has no server)",
    ),
    pytest.mark.skipif(
        os.environ.get("LESSON_FORUM_PG_RESTART") != "1",
        reason="stops the shared PostgreSQL server, so it runs alone, after the suite: "
        "LESSON_FORUM_PG_RESTART=1 pytest tests/reliability/test_pg_restart.py",
    ),
    pytest.mark.skipif(
        shutil.which("pg_ctlcluster") is None, reason="needs pg_ctlcluster to restart the server"
    ),
    pytest.mark.skipif(
        urlsplit(TEST_DATABASE_URL).hostname not in {None, "127.0.0.1", "localhost", "::1"},
        reason="pg_ctlcluster restarts this machine's server, not the one TEST_DATABASE_URL names",
    ),
]

SEED_SCRIPT = """
import json, io
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from forum.models import Comment
from forum.services import member_for
from lessons.models import Lesson

call_command("import_lesson", {seed!r}, stdout=io.StringIO())
lesson = Lesson.objects.get()
members = []
for n in range({members}):
    user = get_user_model().objects.create_user(f"load{{n}}", f"load{{n}}@example.com")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    members.append({{"member": member_for(user).pk, "session": session.session_key}})
comments = list(Comment.objects.filter(lesson=lesson, parent=None).values_list("pk", flat=True))
print(json.dumps({{"lesson": lesson.pk, "comments": comments, "members": members}}))
"""


@dataclass(frozen=True)
class Site:
    port: int
    seeded: dict  # lesson id, top-level comment ids, members with their session keys
    database: str
    env: dict[str, str]  # what gunicorn runs with, for manage.py on the same database
    log: Path


@dataclass
class Outcome:
    kind: str  # comment, reply, like, probe
    started: float
    status: int | None  # None: no answer at all
    acknowledged: bool
    member: int = 0
    token: str = ""
    comment: int = 0


@dataclass
class Timeline:
    stop_started: float = 0.0
    start_returned: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)


def pg_url(database: str) -> str:
    parts = urlsplit(TEST_DATABASE_URL)
    return parts._replace(scheme="postgresql", path=f"/{database}", query="").geturl()


def pg_answers(timeout: float = 3) -> bool:
    import psycopg

    try:
        psycopg.connect(
            pg_url(urlsplit(TEST_DATABASE_URL).path.lstrip("/")), connect_timeout=timeout
        ).close()
    except psycopg.OperationalError:
        return False
    return True


def pg_ctl(action: str) -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", *CLUSTER, action],
        check=True,
        capture_output=True,
        timeout=60,
    )


def ensure_pg_running() -> None:
    """Whatever happened, leave the shared server up and answering."""
    status = subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", *CLUSTER, "status"], capture_output=True
    )
    if status.returncode != 0:
        pg_ctl("start")
    deadline = time.monotonic() + 60
    while not pg_answers():
        if time.monotonic() > deadline:
            raise RuntimeError("PostgreSQL did not come back within 60 s")
        time.sleep(0.5)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """A fresh database, migrated and seeded, served by gunicorn with the production settings."""
    import psycopg
    from django.db import connections

    # Our own test-database connection (if any) would break in the restart: drop it now, and
    # Django opens a new one when a later test needs it.
    connections.close_all()
    ensure_pg_running()
    database = f"lessonforum_reliability_{os.getpid()}"
    admin_url = pg_url(urlsplit(TEST_DATABASE_URL).path.lstrip("/") or "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{database}"')
    env = server_environment(
        DATABASE_URL=pg_url(database).replace("postgresql://", "postgres://", 1),
        DATABASE_CONN_MAX_AGE="60",
        FORUM_RATE_LIMIT_SCALE="0",
        STATIC_ROOT=str(tmp_path / "static"),
        LOG_LEVEL="WARNING",  # the 503 middleware logs each outage error
    )
    gunicorn = None
    log = (tmp_path / "gunicorn.log").open("wb")
    try:
        manage(env, "migrate", "--no-input", "-v0")
        manage(env, "collectstatic", "--no-input", "-v0")
        seed_path = (
            ROOT / "forum/seed/AI大模型实战高手课/01-洞察本质：从工程学角度看ChatGPT为什么会崛起.md"
        )
        output = manage(
            env, "shell", "-c", SEED_SCRIPT.format(seed=str(seed_path), members=MEMBERS)
        )
        seeded = json.loads(output.strip().splitlines()[-1])
        port = free_port()
        gunicorn = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "forum.wsgi",
                "-w",
                "3",
                "-b",
                f"127.0.0.1:{port}",
                "--timeout",
                "30",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until_serving(port)
        yield Site(port, seeded, database, env, tmp_path / "gunicorn.log")
    finally:
        if gunicorn is not None:
            gunicorn.send_signal(signal.SIGTERM)
            try:
                gunicorn.wait(timeout=15)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
                gunicorn.wait()
        log.close()
        ensure_pg_running()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def wait_until_serving(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            status, _headers, _body = request(port, "GET", "/")
        except OSError:
            time.sleep(0.2)
            continue
        if status == 200:
            return
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer 200 on / within 30 s")


def request(
    port: int, method: str, path: str, *, form: dict | None = None, headers: dict | None = None
) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        body = urlencode(form) if form is not None else None
        all_headers = {"Host": "127.0.0.1", **(headers or {})}
        if body is not None:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, text
    finally:
        connection.close()


def acknowledged(status: int, headers: dict[str, str], htmx: bool) -> bool:
    """Success as the browser sees it: the fragment swapped in, or Post/Redirect/Get."""
    if htmx:
        return status == 200 and "hx-redirect" not in headers and "hx-retarget" not in headers
    location = headers.get("location", "")
    return status == 302 and "/accounts/login" not in location


def member_load(
    port: int, seeded: dict, member: dict, timeline: Timeline, until: float, rng: random.Random
) -> None:
    # Django's double-submit check: any 32-character secret, the same in cookie and header.
    csrf = secrets.token_hex(16)
    cookies = f"sessionid={member['session']}; csrftoken={csrf}"
    while time.monotonic() < until:
        htmx = rng.random() < 0.5
        headers = {"Cookie": cookies, "X-CSRFToken": csrf}
        if htmx:
            headers["HX-Request"] = "true"
        kind = rng.choices(["comment", "reply", "like"], weights=[4, 3, 3])[0]
        token = uuid.uuid4().hex
        comment = rng.choice(seeded["comments"])
        if kind == "comment":
            path, form = f"/lessons/{seeded['lesson']}/comments/", {"body": f"load {token}"}
        elif kind == "reply":
            path, form = f"/comments/{comment}/reply/", {"body": f"load {token}"}
        else:
            path, form, token = f"/comments/{comment}/like/", {}, ""
        started = time.monotonic()
        try:
            status, response_headers, _body = request(
                port, "POST", path, form=form, headers=headers
            )
        except OSError:
            timeline.add(Outcome(kind, started, None, False, member["member"], token, comment))
            continue
        ok = acknowledged(status, response_headers, htmx)
        timeline.add(Outcome(kind, started, status, ok, member["member"], token, comment))
        # A browser would wait for Retry-After; a short pause keeps the outage observable.
        time.sleep(0.25 if status == 503 else rng.uniform(0, 0.05))


def probe_load(port: int, timeline: Timeline, until: float) -> None:
    """An anonymous reader: the home page needs the database too."""
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            status, _headers, _body = request(port, "GET", "/")
        except OSError:
            status = None
        timeline.add(Outcome("probe", started, status, status == 200))
        time.sleep(0.1)


def restart_postgres(timeline: Timeline, at: float) -> None:
    time.sleep(max(0, at - time.monotonic()))
    timeline.stop_started = time.monotonic()
    pg_ctl("stop")
    time.sleep(OUTAGE_SECONDS)
    pg_ctl("start")
    timeline.start_returned = time.monotonic()


def stored_writes(database: str) -> tuple[set[str], set[str], set[tuple[int, int]]]:
    import psycopg

    with psycopg.connect(pg_url(database)) as db:
        rows = db.execute(
            "SELECT body, parent_id FROM forum_comment WHERE body LIKE 'load %'"
        ).fetchall()
        likes = db.execute("SELECT member_id, comment_id FROM forum_commentlike").fetchall()
    comments = {body.removeprefix("load ") for body, parent in rows if parent is None}
    replies = {body.removeprefix("load ") for body, parent in rows if parent is not None}
    return comments, replies, set(likes)


def test_writes_survive_a_postgres_restart_under_load(site: Site) -> None:
    port, seeded = site.port, site.seeded
    timeline = Timeline()
    began = time.monotonic()
    until = began + LOAD_SECONDS
    rng = random.Random(20261130)
    threads = [
        threading.Thread(
            target=member_load,
            args=(port, seeded, member, timeline, until, random.Random(rng.random())),
        )
        for member in seeded["members"]
    ]
    threads.append(threading.Thread(target=probe_load, args=(port, timeline, until)))
    restarter = threading.Thread(target=restart_postgres, args=(timeline, began + STOP_AT))
    try:
        for thread in [*threads, restarter]:
            thread.start()
        for thread in [*threads, restarter]:
            thread.join(timeout=LOAD_SECONDS + 90)
    finally:
        ensure_pg_running()

    outcomes = timeline.outcomes
    assert timeline.start_returned, "the restart did not complete"
    writes = [o for o in outcomes if o.kind != "probe"]
    acked = [o for o in writes if o.acknowledged]
    comments, replies, likes = stored_writes(site.database)
    expected = {
        "comment": {o.token for o in acked if o.kind == "comment"},
        "reply": {o.token for o in acked if o.kind == "reply"},
        "like": {(o.member, o.comment) for o in acked if o.kind == "like"},
    }
    found = (
        len(expected["comment"] & comments)
        + len(expected["reply"] & replies)
        + len(expected["like"] & likes)
    )
    total = sum(len(v) for v in expected.values())
    during = [o for o in outcomes if timeline.stop_started <= o.started <= timeline.start_returned]
    after = [o for o in outcomes if o.started >= timeline.start_returned + RECOVERY_GRACE]
    statuses = Counter(o.status for o in outcomes)
    print(f"\nacknowledged writes: {total}, found: {found}")
    print(
        f"requests: {len(outcomes)} ({len(writes)} writes: {len(acked)} acknowledged), "
        f"statuses {dict(statuses)}; outage "
        f"{timeline.start_returned - timeline.stop_started:.1f} s: "
        f"{Counter(o.status for o in during)}; after +{RECOVERY_GRACE} s: "
        f"{Counter(o.status for o in after)}"
    )

    assert total > 0
    assert found == total
    assert any(o.status == 503 for o in during), "no 503 seen: lengthen OUTAGE_SECONDS"
    logged = site.log.read_text(errors="replace")
    # A deadlock is answered 503 too, but it is a lock-order bug in the writes, not the outage.
    deadlocks = logged.count("deadlock detected")
    assert not deadlocks, f"{deadlocks} writes hit a deadlock (the PostgreSQL log has both sides)"
    failed_after = Counter((o.kind, o.status) for o in after if not o.acknowledged)
    assert after and not failed_after, f"the site did not recover by itself: {failed_after}"
    assert 500 not in statuses, logged[-5000:]
    # Nothing half-written either: every counter still matches its rows.
    assert "No drift" in manage(site.env, "recount", "--check")
