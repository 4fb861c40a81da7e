"""An import holds no lock while it parses and renders (PostgreSQL, real processes).

The import runs in a process of its own (tests/forum/held_import.py), held after parsing and
rendering its page and before its transaction; meanwhile this process posts to a lesson. The
assertion is that the post finished while the import was held, not a time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection, connections

from forum.models import Comment
from forum.services import comment_post
from lessons.models import Lesson
from tests.factories import MemberFactory
from tests.forum.import_helpers import run_import
from tests.manage_subprocess import NOT_INHERITED, ROOT

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("processes sharing a database need PostgreSQL (make test runs this half)")


def a_page(comments: int, text: str = "评论") -> str:
    items = "".join(
        f"<li><span>读者{n}</span> 👍（1） 💬（0）<p>{text} {n}</p>2024-06-07</li><br/>"
        for n in range(comments)
    )
    header = f"<div><strong>精选留言（{comments}）</strong></div>"
    return f"# 正文\n\n你好，我是老师。\n{header}<ul>\n{items}\n</ul>"


@contextmanager
def held_import(tmp_path: Path, *args: str) -> Iterator[subprocess.Popen]:
    """`import_lesson ARGS` in another process, on this test's database, held before it writes;
    released when the block ends."""
    held, release = tmp_path / "held", tmp_path / "release"
    url = urlsplit(os.environ["TEST_DATABASE_URL"])
    database = urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(DJANGO_SETTINGS_MODULE="tests.settings", TEST_DATABASE_URL=database)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.forum.held_import", str(held), str(release), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not held.exists():
            assert process.poll() is None, process.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the import never reached its write"
            time.sleep(0.05)
        yield process
    finally:
        release.touch()
        process.wait(timeout=180)


def post_while_held(process: subprocess.Popen, lesson: Lesson, body: str) -> None:
    """Post to `lesson` from another thread (its own connection) and require that it finishes
    while the import is still held."""
    author = MemberFactory()
    errors: list[BaseException] = []

    def post() -> None:
        try:
            comment_post(author=author, lesson=lesson, body=body)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=post)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the post waited for the held import"
    assert errors == []
    assert process.poll() is None, "the import was no longer held"
    assert Comment.objects.filter(lesson=lesson, body=body).exists()


def test_post_to_a_lesson_completes_while_another_lessons_big_revision_is_held(
    tmp_path: Path,
) -> None:
    course = tmp_path / "课程"
    course.mkdir()
    (course / "01-甲.md").write_text(a_page(1), encoding="utf-8")
    (course / "02-乙.md").write_text(a_page(1), encoding="utf-8")
    assert run_import(course).error is None
    (course / "02-乙.md").write_text(a_page(20_000), encoding="utf-8")
    lesson_a, lesson_b = Lesson.objects.get(title="甲"), Lesson.objects.get(title="乙")

    with held_import(tmp_path, str(course / "02-乙.md"), "--course", "课程") as process:
        post_while_held(process, lesson_a, "posted while 乙 was held")

    assert process.returncode == 0, process.stderr.read()[-3000:]
    assert Comment.objects.filter(lesson=lesson_b).count() == 20_000


def test_post_to_a_lesson_completes_while_a_crafted_revision_of_it_is_held(
    tmp_path: Path,
) -> None:
    course = tmp_path / "课程"
    course.mkdir()
    page = course / "01-甲.md"
    page.write_text(a_page(1), encoding="utf-8")
    assert run_import(course).error is None
    crafted = "http://a" + "." * 20_000 + " " + "&lt;" * 20_000
    page.write_text(a_page(3, text=crafted), encoding="utf-8")
    lesson = Lesson.objects.get(title="甲")

    with held_import(tmp_path, str(page), "--course", "课程") as process:
        post_while_held(process, lesson, "posted while 甲 was held")

    assert process.returncode == 0, process.stderr.read()[-3000:]
    assert Comment.objects.filter(lesson=lesson).count() == 1 + 3 + 1
