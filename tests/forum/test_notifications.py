"""Who is told what (forum.notifications.services): replies, teacher answers, mentions, likes,
featuring, moderation and reports; the unread count kept exact; the reply's query budget."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from forum import likes, moderation, services
from forum.models import Comment, Member, ModerationAction, Notification
from forum.notifications.services import notification_open, notifications_read_all
from tests.factories import (
    CommentFactory,
    LessonFactory,
    MemberFactory,
    UserFactory,
    established_member,
    moderator,
    teacher_of,
)

pytestmark = pytest.mark.django_db
Kind = Notification.Kind
HTMX = {"HTTP_HX_REQUEST": "true"}


def account(name: str | None = None, **settings) -> Member:
    """A member with a site account (imported members have none, and are told nothing)."""
    user = UserFactory(**({"username": name} if name else {}))
    member = services.member_for(user)
    if settings:
        member.notification_settings = settings
        member.save(update_fields=["notification_settings"])
    return member


def unread(member: Member) -> int:
    member.refresh_from_db(fields=["unread_notifications"])
    return member.unread_notifications


def told(member: Member, kind: str | None = None) -> list[Notification]:
    rows = Notification.objects.filter(recipient=member).order_by("pk")
    return list(rows.filter(kind=kind) if kind else rows)


def assert_no_drift() -> None:
    out = io.StringIO()
    call_command("recount", "--check", stdout=out)
    assert "No drift" in out.getvalue()


@pytest.fixture
def lesson():
    return LessonFactory()


# Replies and answers ------------------------------------------------------------------------


def test_a_reply_tells_the_author_of_the_comment_it_answers(lesson):
    b, a = account(), account()
    comment = services.comment_post(author=b, lesson=lesson, body="请问温度参数是什么？")
    reply = services.comment_post(author=a, lesson=lesson, parent=comment, body="见第二节")
    (notification,) = told(b)
    assert (notification.kind, notification.actor, notification.comment) == ("reply", a, reply)
    assert notification.email == Notification.Email.PENDING  # replies: email at once by default
    assert unread(b) == 1
    assert told(a) == []


def test_a_teachers_reply_is_told_as_an_author_reply(lesson):
    b = account()
    teacher = teacher_of(lesson.course)
    comment = services.comment_post(author=b, lesson=lesson, body="老师好")
    services.comment_post(author=teacher, lesson=lesson, parent=comment, body="你好")
    assert [n.kind for n in told(b)] == ["author-reply"]


def test_nobody_is_told_of_their_own_reply_or_like(lesson):
    b = account()
    comment = services.comment_post(author=b, lesson=lesson, body="自问")
    services.comment_post(author=b, lesson=lesson, parent=comment, body="自答 @" + b.user.username)
    assert told(b) == []
    assert unread(b) == 0


def test_imported_members_without_an_account_are_told_nothing(lesson):
    imported = MemberFactory()
    comment = CommentFactory(lesson=lesson, member=imported)
    services.comment_post(author=account(), lesson=lesson, parent=comment, body="回复")
    likes.like_add(member=account(), comment=comment)
    assert Notification.objects.count() == 0


def test_a_reply_in_review_tells_nobody_until_it_is_approved(lesson, settings):
    settings.FORUM_PREMODERATION = "new-members"
    b = account()
    b_comment = CommentFactory(lesson=lesson, member=b)
    newcomer = account()
    reply = services.comment_post(author=newcomer, lesson=lesson, parent=b_comment, body="新人")
    assert reply.status == Comment.Status.PENDING
    assert told(b) == []
    moderation.comment_moderate(moderator=moderator(), comment=reply, action="publish")
    assert [n.kind for n in told(b)] == ["reply"]
    assert [(n.kind, n.action) for n in told(newcomer)] == [("moderation", "publish")]


def test_a_deleted_reply_takes_back_what_it_told(lesson):
    b, a = account(), account()
    comment = CommentFactory(lesson=lesson, member=b)
    reply = services.comment_post(author=a, lesson=lesson, parent=comment, body="说错了")
    assert unread(b) == 1
    services.comment_delete(member=a, comment=reply)
    assert told(b) == []
    assert unread(b) == 0
    assert_no_drift()


def test_a_suspended_members_approved_comment_tells_no_one(lesson, settings):
    settings.FORUM_PREMODERATION = "new-members"
    b = account()
    b_comment = CommentFactory(lesson=lesson, member=b)
    spammer = account()
    reply = services.comment_post(author=spammer, lesson=lesson, parent=b_comment, body="广告")
    spammer.suspended_until = timezone.now() + timedelta(days=1)
    spammer.save()
    reply.member.refresh_from_db()
    moderation.comment_moderate(moderator=moderator(), comment=reply, action="publish")
    assert told(b) == []


def test_a_kind_turned_off_tells_nothing_and_page_only_sends_no_email(lesson):
    off = account(reply="off")
    page_only = account(reply="page")
    a = account()
    for member in (off, page_only):
        comment = CommentFactory(lesson=lesson, member=member)
        services.comment_post(author=a, lesson=lesson, parent=comment, body="回复")
    assert told(off) == []
    assert [n.email for n in told(page_only)] == [""]


# Mentions ------------------------------------------------------------------------------------


def test_a_mention_links_the_name_and_tells_the_member_once(lesson):
    dux = account("独行")
    comment = services.comment_post(
        author=account(), lesson=lesson, body="@独行老师你好，@独行 再问一次"
    )
    assert [n.kind for n in told(dux)] == ["mention"]
    assert comment.body_html.count('class="mention"') == 2
    assert 'href="/members/%E7%8B%AC%E8%A1%8C/"' in comment.body_html
    assert ">@独行</a>老师你好" in comment.body_html


def test_the_longest_user_name_wins(lesson):
    short, long = account("ab"), account("abc")
    services.comment_post(author=account(), lesson=lesson, body="hi @abcd")
    assert told(long, "mention") and not told(short)


def test_an_unknown_name_stays_text(lesson):
    comment = services.comment_post(author=account(), lesson=lesson, body="@没有这个人 你好")
    assert "<a" not in comment.body_html
    assert Notification.objects.count() == 0


def test_mentions_in_code_or_an_email_address_are_not_mentions(lesson):
    bob = account("bob")
    comment = services.comment_post(
        author=account(), lesson=lesson, body="`@bob` and mail me at x@bob.example"
    )
    assert told(bob) == []
    assert "mention" not in comment.body_html


def test_at_most_five_members_are_mentioned(lesson):
    members = [account(f"m{i}") for i in range(7)]
    body = " ".join(f"@m{i}" for i in range(7))
    comment = services.comment_post(author=account(), lesson=lesson, body=body)
    assert [bool(told(m)) for m in members] == [True] * 5 + [False] * 2
    assert comment.body_html.count('class="mention"') == 5


def test_a_reply_that_mentions_whom_it_answers_tells_them_once(lesson):
    b = account("bee")
    comment = CommentFactory(lesson=lesson, member=b)
    services.comment_post(author=account(), lesson=lesson, parent=comment, body="@bee 看这里")
    assert [n.kind for n in told(b)] == ["reply"]


def test_an_edit_tells_only_the_names_it_adds(lesson):
    old, new = account("old"), account("new")
    author = account()
    comment = services.comment_post(author=author, lesson=lesson, body="@old 你好")
    services.comment_edit(member=author, comment=comment, body="@old 你好 @new 也看看")
    services.comment_edit(member=author, comment=comment, body="@old 你好 @new 也看看！")
    assert len(told(old)) == 1
    assert len(told(new)) == 1
    assert 'class="mention"' in Comment.objects.get(pk=comment.pk).body_html


def test_an_inactive_account_is_not_mentioned(lesson):
    gone = account("gone")
    gone.user.is_active = False
    gone.user.save()
    services.comment_post(author=account(), lesson=lesson, body="@gone 在吗")
    assert told(gone) == []


# Likes ---------------------------------------------------------------------------------------


def test_ten_likes_make_one_row_naming_the_latest_and_nine_others(lesson):
    b = account()
    comment = CommentFactory(lesson=lesson, member=b)
    likers = [account() for _ in range(10)]
    for liker in likers:
        likes.like_add(member=liker, comment=comment)
    (notification,) = told(b)
    assert (notification.kind, notification.actor, notification.others) == ("like", likers[-1], 9)
    assert notification.email == ""  # likes: in the page only by default
    assert unread(b) == 1


def test_unlikes_tell_nothing_and_drop_out_of_the_count(lesson):
    b = account()
    comment = CommentFactory(lesson=lesson, member=b)
    first, second = account(), account()
    likes.like_add(member=first, comment=comment)
    likes.like_add(member=second, comment=comment)
    before = told(b)
    likes.like_remove(member=second, comment=comment)
    assert told(b) == before
    assert told(b)[0].others == 1
    likes.like_add(member=second, comment=comment)  # liked again: still one other
    (notification,) = told(b)
    assert (notification.actor, notification.others) == (second, 1)


def test_a_like_after_the_row_was_read_starts_a_new_one(lesson):
    b = account()
    comment = CommentFactory(lesson=lesson, member=b)
    likes.like_add(member=account(), comment=comment)
    notification_open(member=b, notification=told(b)[0])
    likes.like_add(member=account(), comment=comment)
    rows = told(b)
    assert len(rows) == 2
    assert (rows[1].read_at, rows[1].others) == (None, 0)
    assert unread(b) == 1


# Moderation, featuring and reports -----------------------------------------------------------


def test_hiding_and_restoring_tell_the_author_with_the_reason(lesson):
    b = account()
    comment = CommentFactory(lesson=lesson, member=b)
    mod = moderator()
    moderation.comment_moderate(moderator=mod, comment=comment, action="hide", reason="广告")
    moderation.comment_moderate(moderator=mod, comment=comment, action="restore", reason="误判")
    rows = told(b, "moderation")
    assert [(n.action, n.reason, n.actor) for n in rows] == [
        ("hide", "广告", None),
        ("restore", "误判", None),
    ]


def test_a_hidden_reply_takes_back_its_reply_notification(lesson):
    b = account()
    comment = CommentFactory(lesson=lesson, member=b)
    reply = services.comment_post(author=account(), lesson=lesson, parent=comment, body="垃圾")
    moderation.comment_moderate(moderator=moderator(), comment=reply, action="spam")
    assert told(b) == []
    assert unread(b) == 0


def test_featuring_and_pinning_tell_the_author_but_not_the_teacher_of_their_own(lesson):
    b = account()
    teacher = teacher_of(lesson.course)
    comment = CommentFactory(lesson=lesson, member=b)
    own = CommentFactory(lesson=lesson, member=teacher)
    services.comment_feature(user=teacher.user, comment=comment, featured=True)
    services.comment_pin(user=teacher.user, comment=comment, pinned=True)
    services.comment_feature(user=teacher.user, comment=comment, featured=False)
    services.comment_feature(user=teacher.user, comment=own, featured=True)
    assert [(n.kind, n.action, n.actor) for n in told(b)] == [
        ("featured", "feature", teacher),
        ("featured", "pin", teacher),
    ]
    assert told(teacher) == []


def test_reporters_are_told_the_outcome(lesson):
    comment = CommentFactory(lesson=lesson, member=account())
    reporters = [account(), account()]
    for reporter in reporters:
        moderation.report_create(reporter=reporter, comment=comment, reason="spam")
    moderation.reports_resolve(
        moderator=moderator(), comment=comment, upheld=False, reason="没问题"
    )
    for reporter in reporters:
        assert [(n.kind, n.action, n.reason) for n in told(reporter)] == [
            ("report", "dismissed", "没问题")
        ]


def test_reports_closed_by_hiding_the_comment_are_told_as_upheld(lesson):
    author = account()
    comment = CommentFactory(lesson=lesson, member=author)
    reporter = account()
    moderation.report_create(reporter=reporter, comment=comment, reason="abuse")
    moderation.comment_moderate(moderator=moderator(), comment=comment, action="hide")
    assert [(n.kind, n.action) for n in told(reporter)] == [("report", "upheld")]
    assert [(n.kind, n.action) for n in told(author)] == [("moderation", "hide")]


def test_reports_that_hid_a_comment_then_dismissed_restore_it_and_say_so(lesson, settings):
    settings.FORUM_REPORTS_TO_HIDE = 1
    author = account()
    comment = CommentFactory(lesson=lesson, member=author)
    moderation.report_create(reporter=established_member(), comment=comment, reason="spam")
    moderation.reports_resolve(moderator=moderator(), comment=comment, upheld=False)
    assert [n.action for n in told(author)] == ["auto-hide", "restore"]
    assert ModerationAction.objects.filter(kind="auto-hide").exists()


# Reading them --------------------------------------------------------------------------------


def test_opening_and_reading_all_keep_the_count_exact(lesson):
    b = account()
    comments = CommentFactory.create_batch(3, lesson=lesson, member=b)
    for comment in comments:
        services.comment_post(author=account(), lesson=lesson, parent=comment, body="回复")
    assert unread(b) == 3
    first = told(b)[0]
    notification_open(member=b, notification=first)
    notification_open(member=b, notification=first)  # again: changes nothing
    assert unread(b) == 2
    assert notifications_read_all(member=b) == 2
    assert unread(b) == 0
    assert_no_drift()


def test_recount_finds_and_fixes_a_drifted_unread_count(lesson):
    b = account()
    services.comment_post(
        author=account(), lesson=lesson, parent=CommentFactory(lesson=lesson, member=b), body="x"
    )
    Member.objects.filter(pk=b.pk).update(unread_notifications=7)
    out = io.StringIO()
    call_command("recount", stdout=out)
    assert "member unread notifications" in out.getvalue()
    assert unread(b) == 1


# What it costs -------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False])
def test_a_reply_costs_three_queries_more_than_before_notifications_and_search(
    member_client, member, django_capture_on_commit_callbacks, htmx
):
    """Before this issue a reply was 13 queries here (session, account and member, the parent
    with its lesson and author; a savepoint in tests; the author's permissions (two); the
    course's moderation policy; the lesson's lock, the comment, the counters, the stamp; the
    savepoint's release). The policy now comes with the lesson (-1); telling the parent's
    author is a row and their count (+2), the email's task a row once it commits (+1), and
    the reply's search document a row (+1)."""
    b = account()
    parent = CommentFactory(member=b)
    services.member_for(member)
    headers = HTMX if htmx else {}
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = member_client.post(f"{parent.url}reply/", {"body": "有用"}, **headers)
    assert response.status_code == (200 if htmx else 302)
    assert len(queries) == 13 + 3, "\n".join(q["sql"][:120] for q in queries.captured_queries)
    assert unread(b) == 1
