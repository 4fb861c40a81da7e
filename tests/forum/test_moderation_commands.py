from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from forum.management.commands.moderation_report import text_width
from forum.models import Comment, Member, ModerationAction
from forum.moderation import member_suspend, report_create
from lessons.models import Lesson
from tests.factories import CommentFactory, MemberFactory, UserFactory, moderator

pytestmark = pytest.mark.django_db

SEED = next((Path(__file__).resolve().parents[2] / "forum" / "seed").rglob("*.md"))


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def section(output: str, title: str) -> list[str]:
    """The lines of the section whose title starts with `title`, up to the blank line."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = lines.index("", start)
    return lines[start:end]


@pytest.fixture
def seeded() -> dict:
    """The bundled seed lesson with a small queue: reports, a pending comment, a suspension."""
    call_command("import_lesson", str(SEED), stdout=io.StringIO())
    lesson = Lesson.objects.get()
    most, fewer = Comment.objects.filter(lesson=lesson).order_by("pk")[:2]
    for reporter in MemberFactory.create_batch(2):
        report_create(reporter=reporter, comment=most, reason="spam")
    report_create(reporter=MemberFactory(), comment=fewer, reason="abuse")
    pending = CommentFactory(
        lesson=lesson, status=Comment.Status.PENDING, body="新人留言：这一讲什么时候更新？"
    )
    suspended = MemberFactory(display_name="刷屏的人")
    member_suspend(
        moderator=moderator(username="mod"),
        member=suspended,
        until=timezone.now() + timedelta(days=7),
        reason="连续发广告",
    )
    return {"most": most, "fewer": fewer, "pending": pending, "suspended": suspended}


def test_report_lists_reported_comments_most_reported_first(seeded):
    rows = section(run("moderation_report"), "Pending reports")[3:]
    assert len(rows) == 2
    assert rows[0].split()[0] == str(seeded["most"].pk)
    assert "spam×2" in rows[0]
    assert rows[1].split()[0] == str(seeded["fewer"].pk)
    assert "abuse×1" in rows[1]


def test_report_lists_comments_pending_review(seeded):
    rows = section(run("moderation_report"), "Comments pending review")[3:]
    assert len(rows) == 1
    assert rows[0].split()[0] == str(seeded["pending"].pk)
    assert "新人留言：这一讲什么时候更新？" in rows[0]


def test_report_lists_suspended_members_with_reason_and_moderator(seeded):
    rows = section(run("moderation_report"), "Members suspended or banned")[3:]
    assert len(rows) == 1
    assert f"#{seeded['suspended'].pk} 刷屏的人" in rows[0]
    assert "suspended until" in rows[0]
    assert "连续发广告" in rows[0]
    assert "mod" in rows[0].split()


def test_report_columns_line_up_with_chinese_text(seeded):
    """Every row's excerpt starts at the same terminal column as the header's Excerpt."""
    lines = section(run("moderation_report"), "Pending reports")[1:]
    starts = {text_width(line[: len(line) - len(line.split("  ")[-1])]) for line in lines}
    assert len(starts) == 1


def test_report_cuts_long_text_with_an_ellipsis(seeded):
    rows = section(run("moderation_report"), "Pending reports")[3:]
    excerpt = rows[0].split("  ")[-1]
    assert excerpt.endswith("…")
    assert text_width(excerpt) <= 40


def test_report_on_an_empty_database_says_none_in_each_section():
    output = run("moderation_report")
    assert output.count("(none)") == 3


def test_report_keeps_a_member_suspended_long_ago_who_is_still_banned():
    member = MemberFactory(display_name="老封禁")
    member_suspend(moderator=None, member=member, until=None, reason="旧账")
    ModerationAction.objects.update(created_at=timezone.now() - timedelta(days=400))
    rows = section(run("moderation_report"), "Members suspended or banned")[3:]
    assert "banned" in rows[0]
    assert "system" in rows[0]


def test_report_shows_how_many_rows_the_limit_left_out(seeded):
    output = run("moderation_report", "--limit", "1")
    assert "(showing 1 of 2; more with --limit)" in section(output, "Pending reports")


def queue(size: int) -> None:
    for comment in CommentFactory.create_batch(size):
        report_create(reporter=MemberFactory(), comment=comment, reason="spam")
    CommentFactory.create_batch(size, status=Comment.Status.PENDING)
    for member in MemberFactory.create_batch(size):
        member_suspend(moderator=None, member=member, until=None, reason="广告")


def test_report_costs_the_same_queries_for_3_and_30_rows():
    queue(3)
    with CaptureQueriesContext(connection) as few:
        run("moderation_report")
    queue(27)
    with CaptureQueriesContext(connection) as many:
        output = run("moderation_report")
    assert "Pending reports, most reported first: 30" in output
    assert len(few) == len(many) == 7


def test_suspend_by_display_name_until_a_shanghai_time():
    member = MemberFactory(display_name="张三")
    output = run("suspend_member", "张三", "--days", "3", "--reason", "刷屏")
    member.refresh_from_db()
    assert member.is_suspended and not member.is_banned
    shanghai = timezone.localtime(member.suspended_until).strftime("%Y-%m-%d %H:%M")
    assert f"Suspended 张三 (#{member.pk}) until {shanghai} Asia/Shanghai" in output


def test_suspend_by_account_name():
    member = MemberFactory(display_name="李四", user=UserFactory(username="lisi"))
    run("suspend_member", "lisi", "--days", "1", "--reason", "刷屏")
    member.refresh_from_db()
    assert member.is_suspended


def test_suspend_by_id_when_names_are_shared():
    MemberFactory(display_name="王五")
    member = MemberFactory(display_name="王五")
    run("suspend_member", f"#{member.pk}", "--days", "1", "--reason", "刷屏")
    assert list(Member.objects.filter(suspended_until__isnull=False)) == [member]


def test_suspend_refuses_a_shared_name_and_lists_the_candidates():
    first = MemberFactory(display_name="王五", user=UserFactory(username="wangwu"))
    CommentFactory.create_batch(2, member=first)
    second = MemberFactory(display_name="王五")
    with pytest.raises(CommandError) as refused:
        run("suspend_member", "王五", "--days", "1", "--reason", "刷屏")
    message = str(refused.value)
    assert "give one as #ID" in message
    assert f"#{first.pk}  王五  2 comments  account wangwu" in message
    assert f"#{second.pk}  王五  0 comments  no account" in message
    assert not Member.objects.filter(suspended_until__isnull=False).exists()


def test_suspend_refuses_an_unknown_name():
    with pytest.raises(CommandError, match="No member named"):
        run("suspend_member", "无名氏", "--days", "1", "--reason", "刷屏")


def test_ban_has_no_end():
    member = MemberFactory(display_name="张三")
    output = run("suspend_member", "张三", "--ban", "--reason", "诈骗链接")
    member.refresh_from_db()
    assert member.is_banned and member.suspended_until is None
    assert f"Banned 张三 (#{member.pk})" in output


def test_suspend_without_a_reason_is_refused():
    MemberFactory(display_name="张三")
    with pytest.raises(CommandError, match="--reason"):
        run("suspend_member", "张三", "--days", "3")
    assert not Member.objects.get().is_suspended


def test_suspend_with_both_days_and_ban_is_refused():
    MemberFactory(display_name="张三")
    with pytest.raises(CommandError, match="not allowed with"):
        run("suspend_member", "张三", "--days", "3", "--ban", "--reason", "刷屏")


@pytest.fixture
def os_user(monkeypatch) -> str:
    """The operating-system user who runs the commands in these tests."""
    monkeypatch.setattr("getpass.getuser", lambda: "ops")
    return "ops"


def test_suspend_records_the_os_user_who_ran_it(os_user):
    member = MemberFactory(display_name="张三")
    run("suspend_member", "张三", "--days", "3", "--reason", "刷屏")
    action = ModerationAction.objects.get()
    assert action.kind == ModerationAction.Kind.SUSPEND
    assert action.member == member
    assert action.actor is None
    assert action.actor_name == "ops (command line)"
    assert action.reason == "刷屏"
    member.refresh_from_db()
    assert member.suspension_reason == "刷屏"


def test_suspend_by_a_moderator_records_their_account_and_the_os_user(os_user):
    mod = moderator(username="banzhu")
    MemberFactory(display_name="张三")
    run("suspend_member", "张三", "--ban", "--reason", "广告", "--by", "banzhu")
    action = ModerationAction.objects.get()
    assert action.actor == mod
    assert action.actor_name == "banzhu (command line, OS user ops)"


def test_suspend_by_an_unknown_account_is_refused_and_changes_nothing():
    MemberFactory(display_name="张三")
    with pytest.raises(CommandError, match="no site account named 'nobody'"):
        run("suspend_member", "张三", "--days", "1", "--reason", "刷屏", "--by", "nobody")
    assert not Member.objects.get().is_suspended
    assert not ModerationAction.objects.exists()


def test_suspend_by_an_account_that_is_not_a_moderator_is_refused():
    UserFactory(username="reader")
    MemberFactory(display_name="张三")
    with pytest.raises(CommandError, match="not a moderator"):
        run("suspend_member", "张三", "--days", "1", "--reason", "刷屏", "--by", "reader")
    assert not ModerationAction.objects.exists()


def test_report_names_who_suspended_from_the_command_line(os_user):
    MemberFactory(display_name="张三")
    run("suspend_member", "张三", "--days", "3", "--reason", "刷屏")
    rows = section(run("moderation_report"), "Members suspended or banned")[3:]
    assert "ops (command line)" in rows[0]


def test_unsuspend_lifts_a_ban_and_records_who_ran_it(os_user):
    member = MemberFactory(display_name="张三")
    member_suspend(moderator=None, member=member, until=None, reason="误封")
    output = run("unsuspend_member", "张三", "--reason", "申诉通过")
    member.refresh_from_db()
    assert not member.is_suspended
    assert f"Lifted: 张三 (#{member.pk}) was banned." in output
    lifted = ModerationAction.objects.filter(kind=ModerationAction.Kind.UNSUSPEND).get()
    assert (lifted.actor, lifted.actor_name) == (None, "ops (command line)")
    assert lifted.reason == "申诉通过"


def test_unsuspend_by_a_moderator_records_their_account(os_user):
    mod = moderator(username="banzhu")
    member = MemberFactory(display_name="张三")
    member_suspend(moderator=None, member=member, until=None, reason="误封")
    run("unsuspend_member", "张三", "--by", "banzhu")
    lifted = ModerationAction.objects.filter(kind=ModerationAction.Kind.UNSUSPEND).get()
    assert (lifted.actor, lifted.actor_name) == (mod, "banzhu (command line, OS user ops)")


def test_unsuspend_says_when_the_member_was_not_suspended():
    member = MemberFactory(display_name="张三")
    output = run("unsuspend_member", f"#{member.pk}")
    assert "is not suspended; nothing changed" in output
    assert not ModerationAction.objects.exists()
