"""Leaving: a member downloads their data and deletes their account, keeping their comments
as 已注销用户 or deleting them; counters, notifications, reports and the audit trail stay true."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from allauth.account.internal.flows.login import record_authentication
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from forum import likes, linking, moderation, services
from forum.leaving.deletion import account_delete
from forum.models import (
    Comment,
    CommentLike,
    LessonLike,
    Member,
    ModerationAction,
    Notification,
    Report,
)
from forum.models.caching import LessonStamp
from tests.factories import (
    PASSWORD,
    CommentFactory,
    CourseFactory,
    LessonFactory,
    UserFactory,
    established_member,
    moderator,
    teacher_of,
)
from tests.forum.test_account_safety import LONG_AGO, confirmed_access

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_rate_limits(settings):
    settings.FORUM_RATE_LIMIT_SCALE = 0


def reauthenticated(client: Client, user) -> Client:
    """Record in the client's session that the password was given again just now, as allauth's
    "confirm access" page does."""
    request = RequestFactory().get("/")
    request.session = client.session
    record_authentication(request, user, method="password", reauthenticated=True)
    request.session.save()
    return client


def logged_in(user, *, recently: bool = True) -> Client:
    client = Client()
    client.force_login(user)
    return reauthenticated(client, user) if recently else client


def recount_clean() -> bool:
    out = io.StringIO()
    call_command("recount", "--check", stdout=out)
    return "No drift" in out.getvalue()


@dataclass
class World:
    user: object
    leaver: Member
    other: Member
    lesson: object
    answered: Comment  # theirs, top-level, with a reply by `other`
    lonely: Comment  # theirs, top-level, no replies
    reply: Comment  # theirs, a reply to `others_comment`
    others_comment: Comment  # other's, liked by the leaver and by a third member
    others_reply: Comment  # other's reply to `answered`
    pending: Comment  # theirs, awaiting review (hidden by a moderator)


@pytest.fixture
def world(settings) -> World:
    """An account that wrote, replied, liked, reported, was told things and was moderated."""
    user = UserFactory(username="xiaoming", email="ming@example.com")
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    EmailAddress.objects.create(user=user, email="ming2@example.com", verified=False)
    leaver = services.member_for(user)
    Member.objects.filter(pk=leaver.pk).update(
        display_name="小明",
        bio="在上海写代码",
        language="en",
        notification_settings={"like": "off"},
        name_skeleton="xiaoming",
        account_skeleton="xiaoming",
    )
    leaver.refresh_from_db()
    other = established_member(username="xiaohong")
    third = services.member_for(UserFactory())
    lesson = LessonFactory()
    second_lesson = LessonFactory()
    answered = services.comment_post(author=leaver, lesson=lesson, body="第一条，请多指教")
    lonely = services.comment_post(author=leaver, lesson=second_lesson, body="没人回")
    others_comment = services.comment_post(author=other, lesson=lesson, body="我的看法")
    reply = services.comment_post(
        author=leaver, lesson=lesson, parent=others_comment, body="同意你"
    )
    others_reply = services.comment_post(
        author=other, lesson=lesson, parent=answered, body="回复小明"
    )
    hidden = services.comment_post(author=leaver, lesson=second_lesson, body="广告")
    staff = moderator()
    moderation.comment_moderate(moderator=staff, comment=hidden, action="hide", reason="广告")
    likes.like_add(member=third, comment=others_comment)
    likes.like_add(member=leaver, comment=others_comment)
    likes.like_add(member=other, comment=answered)
    likes.lesson_like_add(member=leaver, lesson=lesson)
    likes.lesson_like_add(member=other, lesson=lesson)
    moderation.report_create(
        reporter=leaver, comment=CommentFactory(lesson=lesson), reason="spam", text="看着像广告"
    )
    moderation.member_suspend(
        moderator=staff, member=leaver, until=timezone.now() - timedelta(days=1), reason="刷屏"
    )
    return World(
        user, leaver, other, lesson, answered, lonely, reply, others_comment, others_reply, hidden
    )


# ---------------------------------------------------------------------------------------------
# The export.


def download(client: Client) -> tuple[object, dict]:
    response = client.post(reverse("forum:settings-export"))
    return response, json.loads(response.content)


def test_the_export_page_shows_a_download_button(world):
    response = logged_in(world.user, recently=False).get(reverse("forum:settings-export"))
    assert response.status_code == 200
    assert b"data-export-form" in response.content


def test_the_export_is_a_json_attachment_named_for_the_member_and_the_day(world):
    response, _data = download(logged_in(world.user, recently=False))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="lesson-forum-xiaoming-{today}.json"'
    )
    assert response["Cache-Control"] == "no-store"


def test_the_export_holds_the_profile(world):
    _response, data = download(logged_in(world.user, recently=False))
    profile = data["profile"]
    assert profile["user_name"] == "xiaoming"
    assert (profile["display_name"], profile["bio"], profile["language"]) == (
        "小明",
        "在上海写代码",
        "en",
    )
    assert profile["email_addresses"] == [
        {"email": "ming@example.com", "verified": True, "primary": True},
        {"email": "ming2@example.com", "verified": False, "primary": False},
    ]
    assert profile["notification_settings"]["like"] == "off"
    assert profile["notification_settings"]["reply"] == "email"  # the default, said
    assert profile["joined"] == world.user.date_joined.isoformat()


def test_the_export_holds_every_comment_as_written(world):
    _response, data = download(logged_in(world.user, recently=False))
    by_id = {c["id"]: c for c in data["comments"]}
    assert set(by_id) == {c.pk for c in (world.answered, world.lonely, world.reply, world.pending)}
    reply = by_id[world.reply.pk]
    assert reply["parent_id"] == world.others_comment.pk
    assert reply["body_markdown"] == "同意你"
    assert reply["lesson"]["title"] == world.lesson.title
    assert reply["lesson"]["url"].endswith(world.lesson.get_absolute_url())
    assert reply["permalink"].endswith(f"/comments/{world.reply.pk}/#comment-{world.reply.pk}")
    assert by_id[world.answered.pk]["like_count"] == 1
    assert by_id[world.pending.pk]["status"] == "hidden"


def test_the_export_holds_likes_reports_and_notifications(world):
    _response, data = download(logged_in(world.user, recently=False))
    assert [like["comment_id"] for like in data["likes"]["comments"]] == [world.others_comment.pk]
    assert [like["lesson"]["title"] for like in data["likes"]["lessons"]] == [world.lesson.title]
    assert [(r["reason"], r["text"], r["status"]) for r in data["reports"]] == [
        ("spam", "看着像广告", "open")
    ]
    kinds = {(n["kind"], n["by"]) for n in data["notifications"]}
    assert ("reply", "xiaohong") in kinds


def test_the_export_of_someone_elses_account_is_not_theirs(world):
    _response, data = download(logged_in(world.other.user, recently=False))
    assert data["profile"]["user_name"] == "xiaohong"
    assert world.answered.pk not in {c["id"] for c in data["comments"]}


def test_the_export_needs_a_login():
    response = Client().post(reverse("forum:settings-export"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def _export_queries(django_assert_num_queries, user, queries: int) -> None:
    client = logged_in(user, recently=False)
    with django_assert_num_queries(queries):
        response, _data = download(client)
    assert response.status_code == 200


@pytest.mark.parametrize("size", [10, 100])
def test_the_export_costs_the_same_queries_at_10_and_100_comments(size, django_assert_num_queries):
    user = UserFactory()
    member = services.member_for(user)
    lesson = LessonFactory()
    comments = CommentFactory.create_batch(size, member=member, lesson=lesson)
    for comment in comments:
        CommentLike.objects.create(member=member, comment=CommentFactory(lesson=lesson))
        Notification.objects.create(recipient=member, kind="reply", comment=comment)
        Report.objects.create(reporter=member, comment=CommentFactory(lesson=lesson), reason="spam")
    # The session and its account, then the member, the email addresses, and one query for
    # each of comments, comment likes, lesson likes, reports and notifications.
    _export_queries(django_assert_num_queries, user, 9)


def test_the_export_is_rate_limited(world, settings):
    settings.FORUM_RATE_LIMIT_SCALE = 1
    settings.FORUM_RATE_LIMITS = {**settings.FORUM_RATE_LIMITS, "export": [(2, 3600, "member")]}
    client = logged_in(world.user, recently=False)
    assert [client.post(reverse("forum:settings-export")).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    assert client.get(reverse("forum:settings-export")).status_code == 200  # the page is free


# ---------------------------------------------------------------------------------------------
# Deletion: what both choices do.


@pytest.mark.parametrize("keep", [True, False])
def test_the_account_and_its_email_addresses_are_gone_and_login_fails(world, keep):
    account_delete(user=world.user, keep_comments=keep)
    assert not get_user_model().objects.filter(username="xiaoming").exists()
    assert not EmailAddress.objects.filter(email__startswith="ming").exists()
    client = Client()
    response = client.post(reverse("account_login"), {"login": "xiaoming", "password": PASSWORD})
    assert response.status_code == 200  # the form again, with its error
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("keep", [True, False])
def test_the_member_row_is_emptied_and_shows_as_deleted_member(world, keep):
    left = account_delete(user=world.user, keep_comments=keep)
    left = Member.objects.get(pk=left.pk)
    assert left.user is None and left.left_at is not None
    assert (left.display_name, left.bio, left.avatar_url, left.language) == ("", "", "", "")
    assert (left.name_skeleton, left.account_skeleton) == ("", "")
    assert left.notification_settings == {} and left.unread_notifications == 0
    assert left.slug == f"~deleted.{left.pk}"
    assert not left.is_imported
    with translation.override("zh-hans"):
        assert left.shown_name == "已注销用户"
    assert not Member.objects.profiles().filter(pk=left.pk).exists()
    assert Client().get(reverse("forum:member", args=[left.slug])).status_code == 404
    assert Client().get(reverse("forum:member", args=["xiaoming"])).status_code == 404


@pytest.mark.parametrize("keep", [True, False])
def test_likes_go_and_every_count_they_were_in_is_exact(world, keep):
    account_delete(user=world.user, keep_comments=keep)
    world.others_comment.refresh_from_db()
    world.lesson.refresh_from_db()
    assert world.others_comment.like_count == 1  # the third member's
    assert world.lesson.like_count == 1  # other's
    assert not CommentLike.objects.filter(member=world.leaver).exists()
    assert not LessonLike.objects.filter(member=world.leaver).exists()
    assert recount_clean()


@pytest.mark.parametrize("keep", [True, False])
def test_a_like_notification_naming_them_names_the_liker_before(world, keep):
    told = Notification.objects.get(kind="like", comment=world.others_comment)
    assert (told.actor, told.others) == (world.leaver, 1)
    account_delete(user=world.user, keep_comments=keep)
    told.refresh_from_db()
    assert told.actor == Member.objects.get(pk=world.others_comment.likes.get().member_id)
    assert told.others == 0


def test_a_like_notification_of_their_like_alone_goes_with_it(world):
    mine = services.comment_post(author=world.other, lesson=world.lesson, body="只有小明赞")
    likes.like_add(member=world.leaver, comment=mine)
    other = Member.objects.get(pk=world.other.pk)
    assert Notification.objects.filter(kind="like", comment=mine).exists()
    account_delete(user=world.user, keep_comments=True)
    assert not Notification.objects.filter(kind="like", comment=mine).exists()
    assert Member.objects.get(pk=other.pk).unread_notifications == other.unread_notifications - 1
    assert recount_clean()


@pytest.mark.parametrize("keep", [True, False])
def test_their_notifications_go_and_open_reports_are_withdrawn(world, keep):
    account_delete(user=world.user, keep_comments=keep)
    assert not Notification.objects.filter(recipient=world.leaver).exists()
    report = Report.objects.get(reporter=world.leaver)
    assert report.status == Report.Status.DISMISSED and report.resolved_at is not None
    assert report.resolution_note == "已撤回：举报人已注销账号。"


@pytest.mark.parametrize("keep", [True, False])
def test_the_audit_trail_keeps_its_records_but_not_their_name(world, keep):
    moderation.member_edit_record(
        moderator=moderator(), member=world.leaver, changes={"display_name": ("小明", "小明明")}
    )
    before = ModerationAction.objects.count()
    account_delete(user=world.user, keep_comments=keep)
    assert ModerationAction.objects.count() == before
    theirs = ModerationAction.objects.filter(member=world.leaver)
    assert {a.kind for a in theirs} == {"hide", "suspend", "edit-member"}
    label = f"已注销用户 #{world.leaver.pk}"
    assert {a.member_name for a in theirs} == {label}
    assert theirs.get(kind="suspend").target == label
    edit = theirs.get(kind="edit-member")
    assert (edit.target, edit.status_before, edit.status_after) == (label, "", "")
    assert theirs.get(kind="hide").reason == "广告"  # the decision itself is kept
    assert not ModerationAction.objects.filter(member_name="小明").exists()
    assert not ModerationAction.objects.filter(target__contains="小明").exists()


def test_an_account_link_in_the_audit_trail_forgets_the_user_name(world):
    staff = moderator()
    imported = Member.objects.create(display_name="Geek_e9e5f5", import_key="k1")
    linking.member_link_account(moderator=staff, member=imported, user=world.user)
    account_delete(user=world.user, keep_comments=True)
    record = ModerationAction.objects.get(kind="link-account")
    assert "xiaoming" not in record.status_after
    assert record.target == f"已注销用户 #{imported.pk}"


@pytest.mark.parametrize("keep", [True, False])
def test_the_lessons_pages_they_wrote_on_or_liked_are_stale(world, keep):
    stamps_before = dict(LessonStamp.objects.values_list("lesson", "value"))
    account_delete(user=world.user, keep_comments=keep)
    stamps_after = dict(LessonStamp.objects.values_list("lesson", "value"))
    moved = {pk for pk, value in stamps_after.items() if stamps_before.get(pk) != value}
    assert moved == {world.lesson.pk, world.lonely.lesson_id}


def test_the_avatar_file_is_deleted_on_commit(
    world, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    world.leaver.avatar.save("abc.png", ContentFile(b"png"), save=True)
    path = tmp_path / world.leaver.avatar.name
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        account_delete(user=world.user, keep_comments=True)
    assert not path.exists()


def test_an_avatar_another_member_shows_is_kept(
    world, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    world.leaver.avatar.save("same.png", ContentFile(b"png"), save=True)
    Member.objects.filter(pk=world.other.pk).update(avatar=world.leaver.avatar.name)
    with django_capture_on_commit_callbacks(execute=True):
        account_delete(user=world.user, keep_comments=True)
    assert (tmp_path / world.leaver.avatar.name).exists()


def test_an_account_that_never_took_part_is_simply_deleted():
    user = UserFactory()
    assert account_delete(user=user, keep_comments=False) is None
    assert not get_user_model().objects.filter(pk=user.pk).exists()


# ---------------------------------------------------------------------------------------------
# Keeping the comments.


def test_kept_comments_stay_with_their_replies_and_counts(world):
    lesson_before = type(world.lesson).objects.get(pk=world.lesson.pk)
    account_delete(user=world.user, keep_comments=True)
    kept = Comment.objects.filter(member=world.leaver)
    assert kept.count() == 4 and not kept.filter(deleted_at__isnull=False).exists()
    world.lesson.refresh_from_db()
    assert world.lesson.comment_count == lesson_before.comment_count
    assert recount_clean()


def test_kept_comments_show_deleted_member_on_the_lesson_page(world):
    account_delete(user=world.user, keep_comments=True)
    with translation.override("zh-hans"):
        page = Client().get(world.lesson.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert "已注销用户" in html and "第一条，请多指教" in html
    assert "小明" not in html.replace("回复小明", "")


# ---------------------------------------------------------------------------------------------
# Deleting the comments.


def test_deleted_comments_leave_placeholders_where_replies_hang_and_counts_are_exact(world):
    counts = {
        pk: (c, t)
        for pk, c, t in type(world.lesson).objects.values_list(
            "pk", "comment_count", "thread_count"
        )
    }
    account_delete(user=world.user, keep_comments=False)
    mine = Comment.objects.filter(member=world.leaver)
    assert not mine.filter(deleted_at__isnull=True).exists()
    listed = set(Comment.objects.listed().filter(member=world.leaver).values_list("pk", flat=True))
    assert listed == {world.answered.pk}  # a placeholder: other's reply hangs on it
    lesson = type(world.lesson).objects.get(pk=world.lesson.pk)
    # `answered` and `reply` counted on this lesson, `answered` a thread
    assert (lesson.comment_count, lesson.thread_count) == (
        counts[lesson.pk][0] - 2,
        counts[lesson.pk][1] - 1,
    )
    world.others_comment.refresh_from_db()
    assert world.others_comment.reply_count == 0
    second = type(world.lesson).objects.get(pk=world.lonely.lesson_id)
    assert (second.comment_count, second.thread_count) == (
        counts[second.pk][0] - 1,
        counts[second.pk][1] - 1,
    )
    assert recount_clean()


def test_deleted_comments_take_back_what_they_told_others(world):
    other = Member.objects.get(pk=world.other.pk)
    told = Notification.objects.filter(recipient=other, comment=world.reply, kind="reply")
    assert told.filter(read_at__isnull=True).count() == 1
    account_delete(user=world.user, keep_comments=False)
    assert not told.exists()
    assert Member.objects.get(pk=other.pk).unread_notifications == other.unread_notifications - 1
    assert recount_clean()


def test_a_deleted_comments_page_shows_the_placeholder_and_the_reply(world):
    account_delete(user=world.user, keep_comments=False)
    html = Client().get(world.lesson.get_absolute_url()).content.decode()
    assert "第一条，请多指教" not in html and "同意你" not in html
    assert "回复小明" in html


# ---------------------------------------------------------------------------------------------
# Who may, and the page.


def test_staff_and_moderators_are_refused(world):
    for user in (moderator(), UserFactory(is_staff=True), UserFactory(is_superuser=True)):
        with pytest.raises(PermissionDenied):
            account_delete(user=user, keep_comments=True)
        assert get_user_model().objects.filter(pk=user.pk).exists()


def test_a_teacher_of_a_course_is_refused(world):
    teacher = teacher_of(CourseFactory())
    with pytest.raises(PermissionDenied):
        account_delete(user=teacher.user, keep_comments=True)
    assert get_user_model().objects.filter(pk=teacher.user_id).exists()


def test_the_page_tells_staff_to_ask_an_administrator():
    user = moderator()
    client = logged_in(user)
    page = client.get(reverse("forum:settings-delete"))
    assert page.status_code == 200 and b"data-refusal" in page.content
    assert b"data-delete-form" not in page.content
    response = client.post(reverse("forum:settings-delete"), {"comments": "keep", "confirm": "on"})
    assert response.status_code == 403
    assert get_user_model().objects.filter(pk=user.pk).exists()


def test_a_stale_login_is_sent_to_give_the_password_again(world):
    client = confirmed_access(world.user, seconds_ago=LONG_AGO)
    page = client.get(reverse("forum:settings-delete"))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("account_reauthenticate"))
    response = client.post(reverse("forum:settings-delete"), {"comments": "keep", "confirm": "on"})
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert get_user_model().objects.filter(pk=world.user.pk).exists()


def test_a_login_alone_is_not_recent_authentication(world):
    client = logged_in(world.user, recently=False)
    response = client.get(reverse("forum:settings-delete"))
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_giving_the_password_again_carries_on_with_the_deletion(world):
    """allauth keeps the suspended POST and replays it once the password is given."""
    client = confirmed_access(world.user, seconds_ago=LONG_AGO)
    client.post(reverse("forum:settings-delete"), {"comments": "delete", "confirm": "on"})
    response = client.post(
        reverse("account_reauthenticate") + "?next=" + reverse("forum:settings-delete"),
        {"password": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("lessons:home")
    assert not get_user_model().objects.filter(pk=world.user.pk).exists()
    assert not Comment.objects.filter(member=world.leaver, deleted_at__isnull=True).exists()
    assert "_auth_user_id" not in client.session


def test_the_page_asks_which_way_and_for_confirmation(world):
    client = logged_in(world.user)
    page = client.get(reverse("forum:settings-delete"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="comments" value="keep"' in html and 'name="comments" value="delete"' in html
    response = client.post(reverse("forum:settings-delete"), {"comments": "keep"})
    assert response.status_code == 400
    assert get_user_model().objects.filter(pk=world.user.pk).exists()


def test_deleting_logs_out_and_goes_home_with_a_message(world):
    client = logged_in(world.user)
    response = client.post(
        reverse("forum:settings-delete"), {"comments": "keep", "confirm": "on"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("lessons:home")
    assert "_auth_user_id" not in client.session
    assert [str(m) for m in response.context["messages"]]
    assert client.get(reverse("forum:settings")).status_code == 302  # to the login page


def test_the_settings_page_links_to_export_and_deletion(member_client):
    html = member_client.get(reverse("forum:settings")).content.decode()
    assert reverse("forum:settings-export") in html
    assert f'class="button button--danger" href="{reverse("forum:settings-delete")}"' in html


def test_the_export_page_costs_two_queries(world, django_assert_num_queries):
    client = logged_in(world.user, recently=False)
    with django_assert_num_queries(2):  # the session, the account
        assert client.get(reverse("forum:settings-export")).status_code == 200


def test_the_deletion_page_costs_five_queries(world, django_assert_num_queries):
    client = logged_in(world.user)
    # The session and the account; the refusal's: the account's permissions (its own, its
    # groups'), whether it teaches a course.
    with django_assert_num_queries(5):
        assert client.get(reverse("forum:settings-delete")).status_code == 200
