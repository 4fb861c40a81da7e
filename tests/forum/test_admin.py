"""The admin as the moderation panel: role boundaries, recorded actions, the reports queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from forum import avatars, moderation
from forum.models import Comment, CommentLike, CommentRevision, Member, ModerationAction, Report
from lessons.models import Lesson
from tests.factories import (
    PASSWORD,
    CommentFactory,
    CourseFactory,
    LessonFactory,
    MemberFactory,
    UserFactory,
    likes_in_bulk,
    members_in_bulk,
    moderator,
    role,
)
from tests.forum.image_files import image_bytes

pytestmark = pytest.mark.django_db

REASON_PAGE = "admin/forum/action_reason.html"


def admin_url(model: str, view: str = "changelist", *args, app: str = "forum") -> str:
    return reverse(f"admin:{app}_{model}_{view}", args=args)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def mod():
    return moderator(username="banzhu")


@pytest.fixture
def mod_client(mod) -> Client:
    return client_for(mod)


def published(n: int, lesson: Lesson | None = None, **fields) -> list[Comment]:
    """`n` published comments on one lesson, whose counter counts them as the services would."""
    lesson = lesson or LessonFactory()
    comments = CommentFactory.create_batch(n, lesson=lesson, **fields)
    counted = Comment.objects.filter(lesson=lesson).counted().count()
    Lesson.objects.filter(pk=lesson.pk).update(comment_count=counted)
    return comments


def report(comment: Comment, reason: str = Report.Reason.SPAM, **fields) -> Report:
    return Report.objects.create(comment=comment, reporter=MemberFactory(), reason=reason, **fields)


def choose_action(client: Client, url: str, action: str, pks: list[int]):
    """Pick an action on a change list; the admin answers with the reason page."""
    return client.post(url, {"action": action, ACTION_CHECKBOX_NAME: pks, "index": 0})


def confirm_action(client: Client, url: str, action: str, pks: list[int], **fields):
    """The reason page's own form, posted back."""
    data = {"action": action, ACTION_CHECKBOX_NAME: pks, "post": "yes", **fields}
    return client.post(url, data)


def templates(response) -> list[str]:
    return [t.name for t in response.templates]


# Role boundaries, each by direct request.


def permissions_of(group: str) -> set[str]:
    """The role's permissions as the data migration made them."""
    permissions = role(group).permissions.select_related("content_type")
    return {f"{p.content_type.app_label}.{p.codename}" for p in permissions}


def test_moderators_have_exactly_the_moderation_permissions():
    assert permissions_of("Moderators") == {
        "forum.view_comment",
        "forum.change_comment",
        "forum.moderate_comment",
        "forum.view_commentrevision",
        "forum.view_commentlike",
        "forum.view_member",
        "forum.change_member",
        "forum.view_report",
        "forum.change_report",
        "forum.view_moderationaction",
        "django_tasks_database.view_dbtaskresult",
        "forum.view_notification",
        "forum.view_memberclaim",
        "forum.change_memberclaim",
    }


def test_moderators_see_the_task_workers_queue_and_change_nothing_there(mod_client):
    from django_tasks_db.models import DBTaskResult

    from forum.notifications.tasks import enqueue_email

    enqueue_email(12345)
    (task,) = DBTaskResult.objects.all()
    url = admin_url("dbtaskresult", app="django_tasks_database")
    response = mod_client.get(url)
    assert response.status_code == 200
    assert "send_notification_email" in response.content.decode()
    change = admin_url("dbtaskresult", "change", task.pk, app="django_tasks_database")
    assert mod_client.get(change).status_code == 200
    assert mod_client.post(change, {"status": "SUCCESSFUL"}).status_code == 403
    delete = admin_url("dbtaskresult", "delete", task.pk, app="django_tasks_database")
    assert mod_client.post(delete, {"post": "yes"}).status_code == 403
    assert DBTaskResult.objects.get().status == task.status


def test_moderators_have_nothing_on_lessons_accounts_or_groups():
    user = moderator()
    assert not {p for p in permissions_of("Moderators") if p.startswith(("lessons.", "auth."))}
    for model in ("user", "group"):
        for verb in ("add", "change", "delete"):
            assert not user.has_perm(f"auth.{verb}_{model}")
    lessons = Permission.objects.filter(content_type__app_label="lessons")
    assert lessons.exists()
    assert not [p.codename for p in lessons if user.has_perm(f"lessons.{p.codename}")]


def test_teachers_may_only_curate_their_own_lessons():
    assert permissions_of("Teachers") == {"forum.curate_own_lessons"}


def test_moderator_cannot_open_a_lesson_in_the_admin(mod_client):
    lesson = LessonFactory()
    response = mod_client.get(admin_url("lesson", "change", lesson.pk, app="lessons"))
    assert response.status_code == 403


def test_moderator_cannot_change_a_lesson_by_direct_post(mod_client):
    lesson = LessonFactory(title="原标题")
    url = admin_url("lesson", "change", lesson.pk, app="lessons")
    response = mod_client.post(
        url, {"course": lesson.course_id, "title": "改了", "slug": lesson.slug, "position": 1}
    )
    assert response.status_code == 403
    lesson.refresh_from_db()
    assert lesson.title == "原标题"


def test_moderator_cannot_change_a_users_password(mod_client):
    user = UserFactory()
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    assert mod_client.get(url).status_code == 403
    response = mod_client.post(
        url, {"password1": "new-password-1234", "password2": "new-password-1234"}
    )
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_member_who_is_not_staff_cannot_reach_the_admin(member_client):
    for url in (reverse("admin:index"), admin_url("comment")):
        response = member_client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]
        # The admin's login (allauth's) refuses an account that is signed in but not staff.
        assert member_client.get(response["Location"]).status_code == 403


def test_member_who_is_not_staff_cannot_run_a_moderation_action(member_client):
    comment = published(1)[0]
    confirm_action(member_client, admin_url("comment"), "hide", [comment.pk], reason="x")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert not ModerationAction.objects.exists()


def test_moderator_sees_the_comment_list_with_the_moderation_actions(mod_client):
    published(2)
    response = mod_client.get(admin_url("comment"))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 2
    choices = {name for name, _ in response.context["action_form"].fields["action"].choices}
    assert {"publish", "hide", "spam", "feature", "unfeature", "pin", "unpin"} <= choices
    assert {"remove", "restore"} <= choices
    assert "delete_selected" not in choices


def test_moderator_does_not_see_course_moderation_policies(mod_client):
    assert mod_client.get(admin_url("coursemoderation")).status_code == 403


def test_superuser_can_set_a_course_moderation_policy(superuser_client):
    course = CourseFactory()
    response = superuser_client.post(
        admin_url("coursemoderation", "add"), {"course": course.pk, "premoderation": "on"}
    )
    assert response.status_code == 302
    assert course.moderation.premoderation == "on"


# Comment moderation.


def test_bulk_action_asks_for_a_reason_before_acting(mod_client):
    comments = published(3)
    pks = [c.pk for c in comments]
    response = choose_action(mod_client, admin_url("comment"), "hide", pks)
    assert response.status_code == 200
    assert REASON_PAGE in templates(response)
    assert response.context["count"] == 3
    assert Comment.objects.filter(status=Comment.Status.PUBLISHED).count() == 3
    assert not ModerationAction.objects.exists()


def test_hiding_three_comments_with_one_action_records_three_actions(mod_client, mod):
    comments = published(3)
    pks = [c.pk for c in comments]
    url = admin_url("comment")
    response = confirm_action(mod_client, url, "hide", pks, reason="广告刷屏")
    assert response.status_code == 302
    assert set(Comment.objects.values_list("status", flat=True)) == {Comment.Status.HIDDEN}
    actions = ModerationAction.objects.filter(kind=ModerationAction.Kind.HIDE)
    assert sorted(actions.values_list("comment_id", flat=True)) == sorted(pks)
    assert {(a.actor, a.reason, a.status_before, a.status_after) for a in actions} == {
        (mod, "广告刷屏", "published", "hidden")
    }
    assert Lesson.objects.get().comment_count == 0


def test_moderation_action_runs_from_a_comments_own_page(mod_client):
    comment = published(1)[0]
    url = admin_url("comment", "change", comment.pk)
    data = {"CHANGE_FORM-action": "spam", ACTION_CHECKBOX_NAME: [comment.pk]}
    asked = mod_client.post(url, data)
    assert REASON_PAGE in templates(asked)
    response = mod_client.post(url, {**data, "post": "yes", "reason": "推销"})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.status == Comment.Status.SPAM
    assert ModerationAction.objects.get().reason == "推销"


def test_pinning_from_the_list_is_recorded_with_an_empty_reason(mod_client):
    comment = published(1)[0]
    confirm_action(mod_client, admin_url("comment"), "pin", [comment.pk])
    comment.refresh_from_db()
    assert comment.is_pinned
    log = ModerationAction.objects.get()
    assert (log.kind, log.reason, log.status_after) == ("pin", "", "is_pinned=True")


def test_comment_status_cannot_be_changed_through_the_form(superuser_client):
    comment = published(1)[0]
    response = superuser_client.post(
        admin_url("comment", "change", comment.pk), {"status": "spam", "body": "改写"}
    )
    assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED


def test_comment_page_shows_thread_history_likes_reports_and_actions(mod_client, mod):
    parent = published(1)[0]
    comment = CommentFactory(lesson=parent.lesson, parent=parent, body="我是中间那条")
    reply = CommentFactory(lesson=parent.lesson, parent=comment, body="我是回复")
    CommentRevision.objects.create(comment=comment, body="改之前的原文", written_at=timezone.now())
    liker = MemberFactory(display_name="点赞的人")
    CommentLike.objects.create(comment=comment, member=liker)
    report(comment, text="这是广告")
    moderation.comment_moderate(moderator=mod, comment=comment, action="feature", reason="好")
    response = mod_client.get(admin_url("comment", "change", comment.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert admin_url("comment", "change", parent.pk) in html
    assert admin_url("comment", "change", reply.pk) in html
    assert "改之前的原文" in html
    assert "点赞的人" in html
    assert "这是广告" in html
    assert "is_featured=True" in html


def history_of(comment: Comment, n: int, likes: int) -> None:
    """`n` replies, reports, edits and recorded actions on `comment`, and `likes` likes."""
    CommentFactory.create_batch(n, lesson=comment.lesson, parent=comment)
    likes_in_bulk(comment, members_in_bulk(likes))
    reporters = Member.objects.bulk_create(Member(display_name=f"r{i}") for i in range(n))
    Report.objects.bulk_create(
        Report(comment=comment, reporter=m, reason=Report.Reason.SPAM) for m in reporters
    )
    now = timezone.now()
    CommentRevision.objects.bulk_create(
        CommentRevision(comment=comment, body=f"v{i}", written_at=now) for i in range(n)
    )
    ModerationAction.objects.bulk_create(
        ModerationAction(comment=comment, kind="feature", target="t") for _ in range(n)
    )


def test_comment_page_with_100_000_likes_costs_what_a_small_one_costs(
    mod_client, django_assert_num_queries
):
    """Issue 21: with 10 k likes the page took 7.8 s, with 100 k it was killed at 30 s."""
    small, large = published(2)
    history_of(small, 1, likes=1)
    history_of(large, 30, likes=100_000)
    mod_client.get(admin_url("comment", "change", small.pk))  # warm the session
    with CaptureQueriesContext(connection) as few:
        mod_client.get(admin_url("comment", "change", small.pk))
    with django_assert_num_queries(len(few)):
        response = mod_client.get(admin_url("comment", "change", large.pk))
    html = response.content.decode()
    assert ">fan99999<" in html and ">fan99980<" in html and ">fan99979<" not in html
    for model in ("commentlike", "report", "commentrevision", "moderationaction"):
        assert f"{admin_url(model)}?comment__id__exact={large.pk}" in html
    assert f"{admin_url('comment')}?parent__id__exact={large.pk}" in html
    small_html = mod_client.get(admin_url("comment", "change", small.pk)).content.decode()
    assert "data-all-rows" not in small_html


def test_the_latest_likes_edits_and_actions_come_first(mod_client):
    comment = published(1)[0]
    history_of(comment, 25, likes=25)
    html = mod_client.get(admin_url("comment", "change", comment.pk)).content.decode()
    assert "fan24" in html and "fan4<" not in html
    assert ">v24<" in html and ">v4<" not in html


@pytest.mark.parametrize("model", ["commentlike", "report", "commentrevision", "moderationaction"])
def test_all_of_a_comments_rows_are_on_a_filtered_change_list(mod_client, model):
    comment, other = published(2)
    history_of(comment, 2, likes=2)
    history_of(other, 1, likes=1)
    response = mod_client.get(admin_url(model), {"comment__id__exact": comment.pk})
    assert response.status_code == 200
    rows = response.context["cl"].result_list
    assert len(rows) == 2 and {row.comment_id for row in rows} == {comment.pk}


def test_a_members_recorded_actions_are_bounded_on_their_page(mod_client, mod):
    member = MemberFactory()
    ModerationAction.objects.bulk_create(
        ModerationAction(member=member, kind="suspend", target="t") for _ in range(30)
    )
    html = mod_client.get(admin_url("member", "change", member.pk)).content.decode()
    assert f"{admin_url('moderationaction')}?member__id__exact={member.pk}" in html


def test_changelist_filters_to_comments_with_open_reports(mod_client):
    reported, closed, _unreported = published(3)
    report(reported)
    report(closed, status=Report.Status.DISMISSED)
    response = mod_client.get(admin_url("comment"), {"open_reports": "yes"})
    assert response.status_code == 200
    assert [c.pk for c in response.context["cl"].result_list] == [reported.pk]
    assert response.context["cl"].result_list[0].open_report_count == 1


def test_changelist_filters_by_course(mod_client):
    mine = published(2)
    published(3)
    course = mine[0].lesson.course
    response = mod_client.get(admin_url("comment"), {"course": course.pk})
    assert response.status_code == 200
    assert {c.pk for c in response.context["cl"].result_list} == {c.pk for c in mine}


def test_changelist_query_count_does_not_grow_with_the_comments(
    mod_client, django_assert_num_queries
):
    def many(n: int) -> None:
        for lesson in LessonFactory.create_batch(n // 5):
            for comment in published(5, lesson=lesson):
                report(comment)
                CommentLike.objects.create(comment=comment, member=MemberFactory())

    url = admin_url("comment")
    many(5)
    mod_client.get(url)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as small:
        assert len(mod_client.get(url).context["cl"].result_list) == 5
    many(45)
    with django_assert_num_queries(len(small)):
        assert len(mod_client.get(url).context["cl"].result_list) == 50


# Reports and the 待处理举报 queue.


def test_queue_lists_only_reported_comments_most_reported_first(mod_client):
    once, thrice, never, twice = published(4)
    for comment, n in ((once, 1), (thrice, 3), (twice, 2)):
        for _ in range(n):
            report(comment)
    report(never, status=Report.Status.UPHELD)
    response = mod_client.get(admin_url("reportedcomment"))
    assert response.status_code == 200
    shown = response.context["cl"].result_list
    assert [c.pk for c in shown] == [thrice.pk, twice.pk, once.pk]
    assert [c.open_report_count for c in shown] == [3, 2, 1]


def test_queue_shows_the_reasons_and_each_reporters_record(mod_client, mod):
    comment = published(1)[0]
    reporter = MemberFactory(display_name="热心读者")
    for old in published(3):
        Report.objects.create(comment=old, reporter=reporter, reason="spam")
    moderation.reports_resolve(moderator=mod, comment=old, upheld=False, reason="正常")
    Report.objects.create(comment=comment, reporter=reporter, reason="abuse", text="骂人了")
    response = mod_client.get(admin_url("reportedcomment"))
    row = next(c for c in response.context["cl"].result_list if c.pk == comment.pk)
    (open_report,) = row.open_reports
    assert (open_report.reporter_upheld, open_report.reporter_dismissed) == (0, 1)
    assert "骂人了" in response.content.decode()


def test_queue_puts_the_weightiest_reports_first_and_shows_each_weight(mod_client):
    light, heavy = published(2)
    for _ in range(3):
        report(light, weight=0.0)
    report(heavy, weight=1.25)
    report(heavy, weight=2.0)
    response = mod_client.get(admin_url("reportedcomment"))
    shown = response.context["cl"].result_list
    assert [(c.pk, c.open_report_weight) for c in shown] == [(heavy.pk, 3.25), (light.pk, 0.0)]
    html = response.content.decode()
    assert "权重 1.25" in html and "权重 0" in html


def test_report_list_shows_each_reports_weight(mod_client):
    report(published(1)[0], weight=1.25)
    response = mod_client.get(admin_url("report"))
    assert "权重" in response.content.decode()
    assert [r.weight for r in response.context["cl"].result_list] == [1.25]


def test_queue_needs_the_report_permissions():
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_comment"))
    assert client_for(staff).get(admin_url("reportedcomment")).status_code == 403


def test_upholding_reports_hides_the_comment_and_records_who_and_why(mod_client, mod):
    comment = published(1)[0]
    report(comment)
    report(comment)
    url = admin_url("reportedcomment")
    asked = choose_action(mod_client, url, "uphold_hide", [comment.pk])
    assert REASON_PAGE in templates(asked)
    response = confirm_action(mod_client, url, "uphold_hide", [comment.pk], reason="确实是广告")
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.status == Comment.Status.HIDDEN
    assert set(comment.reports.values_list("status", "resolved_by", "resolution_note")) == {
        ("upheld", mod.pk, "确实是广告")
    }
    assert ModerationAction.objects.get().kind == ModerationAction.Kind.REPORTS_UPHELD
    assert not mod_client.get(url).context["cl"].result_list


def test_upholding_reports_can_remove_the_comment(mod_client):
    comment = published(1)[0]
    report(comment)
    confirm_action(
        mod_client, admin_url("reportedcomment"), "uphold_remove", [comment.pk], reason="违规"
    )
    comment.refresh_from_db()
    assert comment.status == Comment.Status.REMOVED


def test_dismissing_reports_keeps_the_comment_and_records_the_note(mod_client, mod):
    comment = published(1)[0]
    report(comment)
    confirm_action(
        mod_client, admin_url("reportedcomment"), "dismiss", [comment.pk], reason="正常讨论"
    )
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    resolved = comment.reports.get()
    assert (resolved.status, resolved.resolved_by, resolved.resolution_note) == (
        "dismissed",
        mod,
        "正常讨论",
    )
    assert resolved.resolved_at is not None


def test_resolving_reports_requires_a_reason(mod_client):
    comment = published(1)[0]
    report(comment)
    response = confirm_action(mod_client, admin_url("reportedcomment"), "dismiss", [comment.pk])
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert comment.reports.get().status == Report.Status.OPEN


def test_reports_can_be_resolved_from_the_report_list(mod_client, mod):
    comment = published(1)[0]
    first = report(comment)
    report(comment)
    confirm_action(mod_client, admin_url("report"), "uphold_hide", [first.pk], reason="广告")
    assert set(comment.reports.values_list("status", flat=True)) == {"upheld"}


def test_report_list_tells_each_reporters_upheld_and_dismissed_reports_apart(mod_client, mod):
    reporter = MemberFactory()
    comments = published(4)
    for comment in comments:
        Report.objects.create(comment=comment, reporter=reporter, reason="spam")
    for comment, upheld in zip(comments[:3], (True, True, False), strict=True):
        moderation.reports_resolve(moderator=mod, comment=comment, upheld=upheld, reason="看过")
    response = mod_client.get(admin_url("report"), {"status__exact": "open"})
    (row,) = response.context["cl"].result_list
    assert (row.reporter_upheld, row.reporter_dismissed) == (2, 1)


def test_reports_cannot_be_edited_or_deleted_in_the_admin(superuser_client):
    reported = report(published(1)[0])
    url = admin_url("report", "change", reported.pk)
    assert superuser_client.post(url, {"status": "dismissed"}).status_code == 403
    assert superuser_client.post(admin_url("report", "delete", reported.pk)).status_code == 403
    assert Report.objects.get().status == Report.Status.OPEN


# The audit trail.


@pytest.fixture
def audit_record(mod) -> ModerationAction:
    return moderation.comment_moderate(
        moderator=mod, comment=published(1)[0], action="hide", reason="原因"
    )


def test_audit_record_cannot_be_changed_even_by_a_superuser(superuser_client, audit_record):
    url = admin_url("moderationaction", "change", audit_record.pk)
    assert superuser_client.get(url).status_code == 200
    response = superuser_client.post(url, {"reason": "改掉", "kind": "publish"})
    assert response.status_code == 403
    audit_record.refresh_from_db()
    assert audit_record.reason == "原因"


def test_audit_record_cannot_be_deleted_even_by_a_superuser(superuser_client, audit_record):
    url = admin_url("moderationaction", "delete", audit_record.pk)
    assert superuser_client.get(url).status_code == 403
    assert superuser_client.post(url, {"post": "yes"}).status_code == 403
    assert ModerationAction.objects.filter(pk=audit_record.pk).exists()


def test_audit_trail_offers_no_add_and_no_bulk_actions(superuser_client, audit_record):
    assert superuser_client.get(admin_url("moderationaction", "add")).status_code == 403
    response = superuser_client.get(admin_url("moderationaction"))
    assert response.status_code == 200
    assert response.context["action_form"] is None
    delete = {"action": "delete_selected", ACTION_CHECKBOX_NAME: [audit_record.pk], "post": "yes"}
    superuser_client.post(admin_url("moderationaction"), delete)
    assert ModerationAction.objects.filter(pk=audit_record.pk).exists()


def test_moderator_reads_the_audit_trail(mod_client, audit_record):
    response = mod_client.get(admin_url("moderationaction"))
    assert [a.pk for a in response.context["cl"].result_list] == [audit_record.pk]


def audit_trail_html(client: Client) -> str:
    response = client.get(admin_url("moderationaction"))
    assert response.status_code == 200
    return response.content.decode()


def test_audit_record_names_the_moderator_after_their_account_is_deleted(
    superuser_client, mod, audit_record
):
    mod.delete()
    audit_record.refresh_from_db()
    assert audit_record.actor is None
    assert audit_record.actor_name == "banzhu"
    assert '<td class="field-moderator">banzhu</td>' in audit_trail_html(superuser_client)


def test_audit_record_says_what_and_whose_after_the_comments_lesson_is_deleted(
    superuser_client, mod
):
    comment = published(1, member=MemberFactory(display_name="张三"), body="买药加微信")[0]
    log = moderation.comment_moderate(moderator=mod, comment=comment, action="spam", reason="广告")
    comment.lesson.delete()
    log.refresh_from_db()
    assert log.comment is None
    assert (log.target, log.member_name) == (f"#{comment.pk} 买药加微信", "张三")
    html = audit_trail_html(superuser_client)
    assert f'<td class="field-target_link">#{comment.pk} 买药加微信</td>' in html
    assert ">张三</a></td>" in html


def test_audit_record_names_a_member_deleted_since(superuser_client, mod):
    member = MemberFactory(display_name="广告号")
    log = moderation.member_suspend(moderator=mod, member=member, until=None, reason="广告")
    member.delete()
    log.refresh_from_db()
    assert (log.member, log.member_name, log.actor_name) == (None, "广告号", "banzhu")
    assert '<td class="field-member_link">广告号</td>' in audit_trail_html(superuser_client)


# Members.


def test_suspending_a_member_for_seven_days_is_recorded(mod_client, mod):
    member = MemberFactory()
    url = admin_url("member")
    assert REASON_PAGE in templates(choose_action(mod_client, url, "suspend_7d", [member.pk]))
    confirm_action(mod_client, url, "suspend_7d", [member.pk], reason="人身攻击")
    member.refresh_from_db()
    assert member.is_suspended and not member.is_banned
    left = member.suspended_until - timezone.now()
    assert timedelta(days=6, hours=23) < left <= timedelta(days=7)
    log = ModerationAction.objects.get()
    assert (log.kind, log.actor, log.member, log.reason) == ("suspend", mod, member, "人身攻击")


def test_suspension_requires_a_reason(mod_client):
    member = MemberFactory()
    response = confirm_action(mod_client, admin_url("member"), "suspend_1d", [member.pk])
    assert response.context["form"].errors["reason"]
    member.refresh_from_db()
    assert not member.is_suspended


def test_banning_a_member_is_recorded(mod_client):
    member = MemberFactory()
    confirm_action(mod_client, admin_url("member"), "ban", [member.pk], reason="广告号")
    member.refresh_from_db()
    assert member.is_banned
    assert member.suspension_reason == "广告号"
    assert ModerationAction.objects.get().kind == ModerationAction.Kind.BAN


def test_lifting_a_suspension_is_recorded(mod_client, mod):
    member = MemberFactory()
    moderation.member_suspend(moderator=mod, member=member, until=None, reason="误封")
    confirm_action(mod_client, admin_url("member"), "unsuspend", [member.pk], reason="申诉成功")
    member.refresh_from_db()
    assert not member.is_suspended
    assert ModerationAction.objects.filter(kind="unsuspend", reason="申诉成功").count() == 1


def test_hiding_all_of_a_members_content_is_one_recorded_action(mod_client):
    member = MemberFactory()
    published(3, member=member)
    published(1)
    confirm_action(mod_client, admin_url("member"), "hide_all", [member.pk], reason="灌水")
    assert set(member.comments.values_list("status", flat=True)) == {Comment.Status.HIDDEN}
    assert Comment.objects.filter(status=Comment.Status.PUBLISHED).count() == 1
    log = ModerationAction.objects.get()
    assert (log.kind, log.member, log.status_after) == ("hide-all", member, "3 hidden")


def test_linking_a_member_to_a_site_account_is_recorded(mod_client):
    imported = MemberFactory(display_name="老读者")
    user = UserFactory(username="laoduzhe")
    url = admin_url("member")
    asked = choose_action(mod_client, url, "link_account", [imported.pk])
    assert "username" in asked.context["form"].fields
    confirm_action(mod_client, url, "link_account", [imported.pk], username="laoduzhe")
    imported.refresh_from_db()
    assert imported.user == user
    assert ModerationAction.objects.get().status_after == "name=老读者; account laoduzhe"


def test_linking_to_an_unknown_username_asks_again(mod_client):
    imported = MemberFactory()
    response = confirm_action(
        mod_client, admin_url("member"), "link_account", [imported.pk], username="nobody"
    )
    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert Member.objects.get(pk=imported.pk).user is None


def test_linking_a_member_already_linked_elsewhere_shows_the_error(mod_client):
    linked = MemberFactory(user=UserFactory())
    UserFactory(username="someone")
    response = confirm_action(
        mod_client, admin_url("member"), "link_account", [linked.pk], username="someone"
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not ModerationAction.objects.exists()


def test_member_list_filters_by_standing(mod_client, mod):
    active, suspended, banned = MemberFactory.create_batch(3)
    until = timezone.now() + timedelta(days=1)
    moderation.member_suspend(moderator=mod, member=suspended, until=until, reason="x")
    moderation.member_suspend(moderator=mod, member=banned, until=None, reason="x")
    url = admin_url("member")
    for standing, member in (("active", active), ("suspended", suspended), ("banned", banned)):
        response = mod_client.get(url, {"standing": standing})
        assert [m.pk for m in response.context["cl"].result_list] == [member.pk]


def test_member_list_filters_by_account_and_teaching(mod_client):
    course = CourseFactory()
    imported = MemberFactory()
    with_account = MemberFactory(user=UserFactory())
    teacher = MemberFactory()
    teacher.courses_taught.add(course, CourseFactory())
    url = admin_url("member")

    def shown(**params) -> set[int]:
        return {m.pk for m in mod_client.get(url, params).context["cl"].result_list}

    assert shown(has_account="yes") == {with_account.pk}
    assert shown(has_account="no") == {imported.pk, teacher.pk}
    assert shown(teaches="yes") == {teacher.pk}
    assert shown(teaches="no") == {imported.pk, with_account.pk}


def test_member_list_links_to_the_members_comments(mod_client):
    member = MemberFactory()
    published(2, member=member)
    published(1)
    response = mod_client.get(admin_url("member"))
    (row,) = (m for m in response.context["cl"].result_list if m.pk == member.pk)
    assert row.comment_count == 2
    link = f"{admin_url('comment')}?member__id__exact={member.pk}"
    assert link in response.content.decode()
    comments = mod_client.get(link).context["cl"].result_list
    assert {c.member_id for c in comments} == {member.pk}
    assert len(comments) == 2


def test_making_a_member_teach_a_course(mod_client):
    member = MemberFactory(display_name="老师")
    course = CourseFactory()
    response = mod_client.post(
        admin_url("member", "change", member.pk),
        {
            "display_name": "老师",
            "avatar_url": "",
            "courses_taught": [course.pk],
            "moderation_actions-TOTAL_FORMS": 0,
            "moderation_actions-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302
    assert list(member.courses_taught.all()) == [course]


def member_form(member: Member, **fields) -> dict:
    """The member change form as the admin posts it, with `fields` changed."""
    return {
        "display_name": member.display_name,
        "avatar_url": member.avatar_url,
        "courses_taught": [c.pk for c in member.courses_taught.all()],
        "moderation_actions-TOTAL_FORMS": 0,
        "moderation_actions-INITIAL_FORMS": 0,
        **fields,
    }


def test_editing_a_members_name_and_courses_is_recorded_before_and_after(mod_client, mod):
    member = MemberFactory(display_name="老名字")
    course = CourseFactory(title="Python 入门")
    url = admin_url("member", "change", member.pk)
    response = mod_client.post(
        url, member_form(member, display_name="新名字", courses_taught=[course.pk])
    )
    assert response.status_code == 302
    log = ModerationAction.objects.get()
    assert (log.kind, log.actor, log.member) == ("edit-member", mod, member)
    assert log.status_before == "display_name=老名字; courses_taught=—"
    assert log.status_after == "display_name=新名字; courses_taught=Python 入门"


def test_editing_a_members_avatar_records_the_urls_cut_short(mod_client):
    member = MemberFactory(avatar_url="https://img.example/old.png")
    new = "https://img.example/" + "a" * 200 + ".png"
    mod_client.post(admin_url("member", "change", member.pk), member_form(member, avatar_url=new))
    log = ModerationAction.objects.get()
    assert log.status_before == "avatar_url=https://img.example/old.png"
    assert log.status_after == f"avatar_url={new[:39]}…"


def test_a_member_form_with_an_error_and_no_name_is_shown_again(mod_client):
    """The page's title names the member as the form left it: "(no name)"."""
    member = MemberFactory(display_name="老名字")
    url = admin_url("member", "change", member.pk)
    response = mod_client.post(url, member_form(member, display_name="", avatar_url="not-a-url"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors


def test_saving_a_member_unchanged_records_nothing(mod_client):
    member = MemberFactory(display_name="老名字")
    member.courses_taught.add(CourseFactory())
    response = mod_client.post(admin_url("member", "change", member.pk), member_form(member))
    assert response.status_code == 302
    assert not ModerationAction.objects.exists()


# Lessons.


def test_rerender_action_renders_a_lessons_body_again(superuser_client):
    lesson = LessonFactory(body_markdown="## 小结\n\n**重点**")
    Lesson.objects.filter(pk=lesson.pk).update(body_html="<p>stale</p>")
    url = admin_url("lesson", app="lessons")
    response = superuser_client.post(
        url, {"action": "rerender", ACTION_CHECKBOX_NAME: [lesson.pk], "index": 0}
    )
    assert response.status_code == 302
    lesson.refresh_from_db()
    assert "<strong>重点</strong>" in lesson.body_html
    assert "stale" not in lesson.body_html


def test_saving_an_edited_lesson_body_renders_it(superuser_client):
    lesson = LessonFactory()
    response = superuser_client.post(
        admin_url("lesson", "change", lesson.pk, app="lessons"),
        {
            "course": lesson.course_id,
            "title": lesson.title,
            "slug": lesson.slug,
            "number": lesson.number,
            "position": lesson.position,
            "body_markdown": "新的 *正文*",
        },
    )
    assert response.status_code == 302
    lesson.refresh_from_db()
    assert "<em>正文</em>" in lesson.body_html


def test_course_list_sums_its_lessons_comment_counts(superuser_client):
    course = CourseFactory()
    LessonFactory(course=course, comment_count=3)
    LessonFactory(course=course, comment_count=4)
    response = superuser_client.get(admin_url("course", app="lessons"))
    (row,) = response.context["cl"].result_list
    assert (row.lesson_total, row.comment_total) == (2, 7)
    assert course.get_absolute_url() in response.content.decode()


def test_a_moderator_takes_down_an_uploaded_avatar_with_a_reason(
    mod_client, media_root, django_capture_on_commit_callbacks
):
    member = MemberFactory()
    avatars.avatar_set(
        member=member, upload=SimpleUploadedFile("a.png", image_bytes(), "image/png")
    )
    name = member.avatar.name
    assert (media_root / name).exists()
    with django_capture_on_commit_callbacks(execute=True):
        confirm_action(mod_client, admin_url("member"), "remove_avatar", [member.pk], reason="广告")
    member.refresh_from_db()
    assert not member.avatar
    assert not (media_root / name).exists()
    log = ModerationAction.objects.get()
    assert (log.kind, log.reason, log.status_before) == ("edit-member", "广告", f"avatar={name}")


def test_a_comment_on_a_passage_shows_the_passage_to_the_moderator(mod_client):
    (comment,) = published(1, block_id="b0123456789", block_quote="原文<b>这一段</b>")
    html = mod_client.get(admin_url("comment", "change", comment.pk)).content.decode()
    assert "原文&lt;b&gt;这一段&lt;/b&gt;" in html
