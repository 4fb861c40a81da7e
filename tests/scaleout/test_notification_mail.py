"""Notification emails end to end, with real processes: the site under gunicorn, two task
workers (`manage.py db_worker`) and an SMTP server on 127.0.0.1 (aiosmtpd). A reply posted over
HTTP arrives as one email whose one-click unsubscribe works without a session; with the SMTP
server down while 50 replies are posted, all 50 arrive once it is back, none twice. Runs on a
SQLite file in the SQLite half of `make test` and on a PostgreSQL database of its own in the other.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

from tests.manage_subprocess import free_port, manage, server_environment
from tests.scaleout.site import PASSWORD, ROOT, SEED, Browser, app_servers, site_database

SETUP = f"""
import json
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from forum import services
from lessons.models import Lesson

lesson, made = Lesson.objects.first(), {{}}
for name in ["author", "author2", "replier", "other"]:
    user = get_user_model().objects.create_user(name, name + "@example.com", "{PASSWORD}")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    member = services.member_for(user)
    made[name] = member.pk
    if name.startswith("author"):
        made[name + "-comment"] = services.comment_post(
            author=member, lesson=lesson, body=name + " 的留言"
        ).pk
print(json.dumps(made))
"""
SETTINGS_OF = """
import json
from forum.models import Member
print(json.dumps({m.pk: m.notification_settings for m in Member.objects.all()}))
"""
EMAIL_STATES = """
import json
from django.db.models import Count
from forum.models import Notification
rows = Notification.objects.filter(recipient={member}).values("email").annotate(n=Count("pk"))
print(json.dumps({{row["email"]: row["n"] for row in rows}}))
"""


class Mailbox:
    """An SMTP server on 127.0.0.1 that keeps what it receives; it can be stopped and started
    again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[bytes] = []
        self.controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd calls it so
        self.received.append(envelope.content)
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[email.message.EmailMessage]:
        messages = [email.message_from_bytes(m, policy=email.policy.default) for m in self.received]
        return [m for m in messages if m["To"] == address]

    def wait_for(self, address: str, count: int, timeout: float) -> list:
        deadline = time.monotonic() + timeout
        while len(self.to(address)) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.to(address)


@contextmanager
def sqlite_site(folder: Path, **settings: str):
    env = server_environment(
        DATABASE_URL=f"sqlite:///{folder / 'site.sqlite3'}",
        STATIC_ROOT=str(folder / "static"),
        **settings,
    )
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "collectstatic", "--no-input", "-v0")
    manage(env, "import_lesson", str(SEED))
    yield env


@contextmanager
def task_workers(env: dict, count: int, log: Path):
    with log.open("w") as output:
        workers = [
            subprocess.Popen(
                [sys.executable, "manage.py", "db_worker", "--interval", "0.2", "--no-reload"],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            for _ in range(count)
        ]
        try:
            yield
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=20)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notification-mail")
    mailbox = Mailbox()
    mailbox.start()
    settings = {
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(mailbox.port),
        "EMAIL_USE_TLS": "0",
        "FORUM_EMAIL_RETRY_BASE": "1",
        "FORUM_EMAIL_RETRY_MAX": "4",
        "FORUM_RATE_LIMIT_SCALE": "0",
    }
    with ExitStack() as stack:
        if os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"):
            name = f"lessonforum_mail_{os.getpid()}"
            env = stack.enter_context(site_database(name, folder / "static", [], **settings))
        else:
            env = stack.enter_context(sqlite_site(folder, **settings))
        made = shell(env, SETUP)
        (base,) = stack.enter_context(app_servers(env, 1, workers=2))
        env = {**env, "FORUM_SITE_URL": base}
        stack.enter_context(task_workers(env, 2, folder / "workers.log"))
        yield {"base": base, "env": env, "made": made, "mailbox": mailbox}
    mailbox.stop()


def reply(browser: Browser, base: str, comment_id: int, body: str) -> None:
    assert browser.post(f"{base}/comments/{comment_id}/reply/", {"body": body}) == 200


def post_one_click(url: str) -> int:
    request = urllib.request.Request(
        url,
        data=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def shell(env: dict, script: str):
    """Run `script` in the site's `manage.py shell`: what it printed, read as JSON."""
    return json.loads(manage(env, "shell", "-v", "0", "-c", script) or "null")


def settings_of(env: dict) -> dict[str, dict]:
    return shell(env, SETTINGS_OF)


def test_a_reply_arrives_as_one_email_whose_one_click_unsubscribe_works(site):
    base, env, made, mailbox = site["base"], site["env"], site["made"], site["mailbox"]
    replier = Browser()
    replier.log_in(base, "replier")
    text = "讲得好 <b>bold</b> & 一个回复"
    reply(replier, base, made["author-comment"], text)

    (message,) = mailbox.wait_for("author@example.com", 1, timeout=20)
    time.sleep(2)
    assert len(mailbox.to("author@example.com")) == 1
    body = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert text in body
    assert "讲得好 &lt;b&gt;bold&lt;/b&gt; &amp; 一个回复" in html
    assert f"{base}/comments/" in body and "/#comment-" in body
    raw = next(m for m in mailbox.received if b"author@example.com" in m)
    url = message["List-Unsubscribe"].strip("<>")
    assert url.startswith(f"{base}/unsubscribe/")
    assert f"List-Unsubscribe: <{url}>\r\n".encode() in raw
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw

    token = urlsplit(url).path.split("/")[2]
    member_id, kind, signature = token.split(".")
    tampered = [
        f"{base}/unsubscribe/{made['other']}.{kind}.{signature}/",
        f"{base}/unsubscribe/{member_id}.mention.{signature}/",
        f"{base}/unsubscribe/{member_id}.{kind}.{signature[::-1]}/",
    ]
    assert {post_one_click(bad) for bad in tampered} <= {400, 404}
    assert post_one_click(url) == 200  # no session, no CSRF token: a mail client's request
    chosen = settings_of(env)
    assert chosen[str(made["author"])] == {"reply": "off"}
    assert all(chosen[str(made[name])] == {} for name in ("author2", "replier", "other"))


def test_fifty_emails_sent_while_smtp_is_down_all_arrive_once_it_is_back(site):
    base, env, made, mailbox = site["base"], site["env"], site["made"], site["mailbox"]
    replier = Browser()
    replier.log_in(base, "replier")
    mailbox.stop()
    stopped = time.monotonic()
    texts = [f"第{n}条回复 reply-{n:02d}" for n in range(50)]
    for text in texts:
        reply(replier, base, made["author2-comment"], text)
    time.sleep(max(0.0, 30 - (time.monotonic() - stopped)))
    assert mailbox.to("author2@example.com") == []
    mailbox.start()

    arrived = mailbox.wait_for("author2@example.com", 50, timeout=45)
    time.sleep(3)  # a copy sent twice would arrive by now
    arrived = mailbox.to("author2@example.com")
    ids = Counter(message["Message-ID"] for message in arrived)
    bodies = Counter(message.get_body(("plain",)).get_content() for message in arrived)
    assert len(arrived) == 50
    assert len(ids) == 50 and len(bodies) == 50
    for text in texts:
        assert sum(text in body for body in bodies) == 1
    states = shell(env, EMAIL_STATES.format(member=made["author2"]))
    assert states == {"sent": 50}
