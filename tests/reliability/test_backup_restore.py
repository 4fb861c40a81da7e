"""The backup paths of docs/backup.md, restored into fresh databases and compared.

Everything runs in `manage.py` subprocesses against databases of its own (SQLite files, or fresh
PostgreSQL databases when TEST_DATABASE_URL is PostgreSQL), so the suite's test database is not
touched: a dump must see committed data, and a restore must start from `migrate` on an empty
database, exactly as an operator would do it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.manage_subprocess import manage, server_environment

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "forum/seed/AI大模型实战高手课/01-洞察本质：从工程学角度看ChatGPT为什么会崛起.md"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = urlsplit(TEST_DATABASE_URL).scheme in {"postgres", "postgresql"}
# As docs/backup.md gives it: content types and permissions are rebuilt by migrate (so foreign
# keys to them are written as natural keys), sessions and the admin's log are not worth keeping.
DUMPDATA = [
    "dumpdata",
    "--natural-foreign",
    "--natural-primary",
    "--exclude=contenttypes",
    "--exclude=auth.permission",
    "--exclude=sessions",
    "--exclude=admin.logentry",
    "--indent=1",
]

SEED_SCRIPT = f"""
import io
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from forum import likes, moderation, services
from forum.models import Comment
from lessons.models import Lesson

call_command("import_lesson", {str(SEED)!r}, stdout=io.StringIO())
lesson = Lesson.objects.get()
imported = list(Comment.objects.filter(lesson=lesson, parent=None).order_by("source_position"))
User = get_user_model()
users = [User.objects.create_user(f"reader{{n}}", f"reader{{n}}@example.com") for n in range(4)]
ann, bo, cy, di = [services.member_for(user) for user in users]
post = services.comment_post
first = post(author=ann, lesson=lesson, body="**第一条**留言，`code` 与 [链接](https://example.com)")
reply = post(author=bo, lesson=lesson, parent=first, body="回复：同意 <script>x</script>")
services.comment_post(author=cy, lesson=lesson, parent=imported[0], body="回复导入的留言")
services.comment_edit(member=ann, comment=first, body="**第一条**留言（已编辑）")
doomed = services.comment_post(author=di, lesson=lesson, body="会被删除")
services.comment_delete(member=di, comment=doomed)
spam = services.comment_post(author=cy, lesson=lesson, body="广告 https://spam.example")
for member, comment in [(bo, first), (cy, first), (ann, imported[0]), (di, imported[1])]:
    likes.like_add(member=member, comment=comment)
likes.lesson_like_add(member=bo, lesson=lesson)
moderation.report_create(reporter=ann, comment=spam, reason="spam", text="广告")
moderation.report_create(reporter=di, comment=reply, reason="off-topic")
moderator = User.objects.create_user("moderator", "moderator@example.com", is_staff=True)
moderator.groups.add(Group.objects.get(name="Moderators"))
moderation.comment_moderate(moderator=moderator, comment=spam, action="spam", reason="广告")
moderation.comment_moderate(moderator=moderator, comment=imported[2], action="pin")
"""

# Rows per model and the content that matters, as JSON (users by name: with natural keys a
# restored user may get another id, and every reference to it follows its name).
SNAPSHOT_SCRIPT = """
import json
import re
from django.apps import apps
from forum.likes import counters_recount
from forum.models import Comment, CommentLike, ModerationAction, Report
from lessons.models import Lesson

skipped = {"contenttypes", "sessions", "admin"}
counts = {
    model._meta.label: model.objects.count()
    for model in apps.get_models()
    if not model._meta.proxy and model._meta.app_label not in skipped
    and model._meta.label != "auth.Permission"
}
print(json.dumps({
    "counts": counts,
    "comments": list(Comment.objects.order_by("pk").values_list(
        "pk", "lesson_id", "member_id", "parent_id", "body", "body_html", "like_count",
        "imported_like_count", "reply_count", "status", "is_pinned", "is_featured")),
    "deleted": list(Comment.objects.exclude(deleted_at=None).values_list("pk", flat=True)),
    "lessons": list(Lesson.objects.order_by("pk").values_list(
        "pk", "slug", "title", "comment_count", "like_count", "body_html")),
    "likes": sorted(CommentLike.objects.values_list("member_id", "comment_id")),
    "reports": sorted(Report.objects.values_list(
        "comment_id", "reporter_id", "reason", "status", "resolved_by__username")),
    "actions": sorted(ModerationAction.objects.values_list(
        "kind", "actor__username", "comment_id", "reason", "status_before", "status_after")),
    "users": sorted(
        (u.username, u.email, u.is_staff, sorted(u.groups.values_list("name", flat=True)))
        for u in apps.get_model("auth", "User").objects.all()
    ),
    "drift": [str(d) for d in counters_recount(fix=False)],
}, default=str))
"""

# What an export keeps: the lessons and their published top-level comments in 精选 order, with
# the like counts of their source, and the teachers' replies. Likes given here, members' replies,
# reports and the audit trail belong to the site, not to the lesson: dumpdata keeps those.
EXPORT_VIEW_SCRIPT = """
import json
import re
from forum.models import Comment
from lessons.models import Lesson

lessons = []
for lesson in Lesson.objects.select_related("course").order_by("course__title", "position"):
    comments = (
        Comment.objects.for_lesson(lesson).published().top_level().in_featured_order()
        .select_related("member")
    )
    lessons.append({
        "course": lesson.course.title, "number": lesson.number, "title": lesson.title,
        "body": lesson.body_markdown,
        "comments": [
            [c.member.display_name, c.body, c.imported_like_count,
             c.created_at.replace(microsecond=0).isoformat(), c.deleted_at is not None,
             list(c.replies.filter(is_author_reply=True).values_list("body", flat=True))]
            for c in comments
        ],
    })
print(json.dumps(lessons, ensure_ascii=False))
"""


class Databases:
    """Fresh, empty databases for the subprocesses: SQLite files, or PostgreSQL databases."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.created: list[str] = []

    def new(self, name: str) -> str:
        if not ON_POSTGRES:
            return f"sqlite:///{self.folder / f'{name}.sqlite3'}"
        import psycopg

        database = f"lessonforum_backup_{name}_{os.getpid()}"
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{database}"')
        self.created.append(database)
        return urlsplit(TEST_DATABASE_URL)._replace(path=f"/{database}", query="").geturl()

    @property
    def admin_url(self) -> str:
        return urlsplit(TEST_DATABASE_URL)._replace(scheme="postgresql", query="").geturl()

    def drop_all(self) -> None:
        if not self.created:
            return
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            for database in self.created:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    made = Databases(tmp_path_factory.mktemp("databases"))
    yield made
    made.drop_all()


@dataclass(frozen=True)
class Manage:
    """`manage.py …` on one database, with the production settings module; returns stdout."""

    database_url: str

    def __call__(self, *args: str) -> str:
        return manage(server_environment(DATABASE_URL=self.database_url, DEBUG="1"), *args)

    @property
    def libpq_url(self) -> str:
        return urlsplit(self.database_url)._replace(scheme="postgresql").geturl()


MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")


def moments_parsed(dump: Path) -> list:
    """A dumpdata file with its times as datetimes: Django writes a time whose microseconds are
    under 1,000 as "…:49.000Z", which loads back as "…:49Z" — the same moment."""

    def parsed(value):
        if isinstance(value, str) and MOMENT.fullmatch(value):
            return datetime.fromisoformat(value)
        return value

    return [
        {**row, "fields": {name: parsed(value) for name, value in row["fields"].items()}}
        for row in json.loads(dump.read_text())
    ]


def snapshot(manage: Manage, script: str = SNAPSHOT_SCRIPT) -> dict | list:
    return json.loads(manage("shell", "-c", script).strip().splitlines()[-1])


@pytest.fixture(scope="module")
def seeded(databases: Databases) -> Manage:
    """A database holding the seed lesson and a little of everything members and moderators do.

    Shared by the tests of this module; only the export test adds to it (a second lesson).
    """
    manage = Manage(databases.new("source"))
    manage("migrate", "--no-input", "-v0")
    manage("shell", "-c", SEED_SCRIPT)
    return manage


def test_dumpdata_restored_into_a_fresh_database_is_the_same(
    seeded: Manage, databases: Databases, tmp_path: Path
) -> None:
    backup = tmp_path / "backup.json"
    seeded(*DUMPDATA, f"--output={backup}")
    original = snapshot(seeded)
    assert original["counts"]["forum.Comment"] > 18
    assert original["counts"]["forum.CommentLike"] == 4
    assert original["counts"]["forum.Report"] == 2
    assert original["counts"]["forum.ModerationAction"] == 2
    assert original["counts"]["forum.CommentRevision"] == 1
    assert original["drift"] == []

    restored = Manage(databases.new("restored"))
    restored("migrate", "--no-input", "-v0")
    output = restored("loaddata", str(backup))
    assert "Installed" in output

    assert snapshot(restored) == original
    again = tmp_path / "again.json"
    restored(*DUMPDATA, f"--output={again}")
    assert moments_parsed(again) == moments_parsed(backup)
    # The restored database takes new writes: its id sequences were moved past the loaded rows.
    restored(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; from forum import services;"
        "from lessons.models import Lesson;"
        "member = services.member_for(get_user_model().objects.get(username='reader0'));"
        "lesson = Lesson.objects.get();"
        "services.comment_post(author=member, lesson=lesson, body='恢复之后的新留言')",
    )


@pytest.mark.skipif(not ON_POSTGRES, reason="pg_dump and pg_restore need PostgreSQL")
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="needs pg_dump and pg_restore")
def test_pg_dump_restored_into_a_fresh_database_is_the_same(
    seeded: Manage, databases: Databases, tmp_path: Path
) -> None:
    restored = Manage(databases.new("pgrestored"))
    dump = tmp_path / "forum.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", seeded.libpq_url],
        check=True,
    )
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored.libpq_url}", dump],
        check=True,
    )
    assert snapshot(restored) == snapshot(seeded)
    assert "No migrations to apply" in restored("migrate", "--no-input")


def test_export_all_imported_into_a_fresh_database_reproduces_lessons_and_comments(
    seeded: Manage, databases: Databases, tmp_path: Path
) -> None:
    # A second lesson, in a second course, whose comment carries a teacher's reply.
    folder = tmp_path / "第二门课"
    folder.mkdir()
    page = (
        '<audio title="02 _ 第二讲" src=""></audio>\n<p>你好，我是李老师。</p>\n<ul><li>'
        '<div class="_2sjJGcOH_0"><img src="" class="_3FLYR4bF_0"><div class="_36ChpWj4_0">'
        '<div class="_2zFoi7sd_0"><span>读者甲</span></div>'
        '<div class="_2_QraFYR_0">问题<br>第二行</div>'
        '<div class="_10o3OAxT_0"><p class="_3KxQPN3V_0">作者回复: 答案</p></div>'
        '<div class="_3klNVc4Z_0"><div class="_3Hkula0k_0">2021-03-04 05:06:07</div></div>'
        "</div></div></li></ul>\n"
    )
    (folder / "02-第二讲.md").write_text(page, encoding="utf-8")
    seeded("import_lesson", str(folder))

    export = tmp_path / "export"
    seeded("export_lesson", "--all", f"--output={export}")
    assert len(list(export.rglob("*.md"))) == 2

    fresh = Manage(databases.new("imported"))
    fresh("migrate", "--no-input", "-v0")
    fresh("import_lesson", str(export))

    original, imported = snapshot(seeded, EXPORT_VIEW_SCRIPT), snapshot(fresh, EXPORT_VIEW_SCRIPT)
    assert [lesson["title"] for lesson in imported] == [
        "洞察本质：从工程学角度看ChatGPT为什么会崛起",
        "第二讲",
    ]
    # Deleted comments are not exported (see the next test): compare what was not deleted.
    for lesson in original:
        deleted = [c for c in lesson["comments"] if c[4]]
        lesson["comments"] = [c for c in lesson["comments"] if not c[4]]
        for view in imported:
            view["comments"] = [
                c for c in view["comments"] if c[:2] not in [d[:2] for d in deleted]
            ]
    assert imported == original
    assert sum(len(lesson["comments"]) for lesson in imported) > 18
    assert imported[1]["comments"][0][5] == ["答案"]


def test_export_leaves_out_deleted_comments(seeded: Manage, tmp_path: Path) -> None:
    export = tmp_path / "export"
    seeded("export_lesson", "--all", f"--output={export}")
    for page in export.rglob("*.md"):
        assert "会被删除" not in page.read_text(encoding="utf-8")
