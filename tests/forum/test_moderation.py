from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from forum import likes, linking, moderation, services
from forum.models import Comment, CourseModeration, ModerationAction, Report
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

HTMX = {"HTTP_HX_REQUEST": "true"}


def posted(lesson=None, parent=None, **fields) -> Comment:
    lesson = lesson or (parent.lesson if parent else LessonFactory())
    return services.comment_post(
        author=fields.pop("author", None) or MemberFactory(),
        lesson=lesson,
        parent=parent,
        body=fields.pop("body", "一条留言"),
    )


def report(comment: Comment, reason: str = "spam") -> Report:
    """A report from a member whose report counts (forum.trust)."""
    return moderation.report_create(reporter=established_member(), comment=comment, reason=reason)


def test_three_reports_from_different_members_hide_the_comment():
    comment = posted()
    report(comment)
    report(comment, "abuse")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    report(comment, "off-topic")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.HIDDEN
    comment.lesson.refresh_from_db()
    assert comment.lesson.comment_count == 0
    action = ModerationAction.objects.get(kind=ModerationAction.Kind.AUTO_HIDE)
    assert action.actor is None and action.comment == comment
    assert (action.status_before, action.status_after) == ("published", "hidden")


def test_one_open_report_per_member_and_comment():
    comment = posted()
    reporter = MemberFactory()
    moderation.report_create(reporter=reporter, comment=comment, reason="spam")
    with pytest.raises(ValidationError):
        moderation.report_create(reporter=reporter, comment=comment, reason="abuse")
    assert Report.objects.count() == 1


def test_a_reports_text_is_kept_without_nul():
    """PostgreSQL cannot store NUL in text; a comment's body is kept without it too."""
    found = moderation.report_create(
        reporter=MemberFactory(), comment=posted(), reason="other", text="广\x00告"
    )
    found.refresh_from_db()
    assert found.text == "广告"


def test_you_cannot_report_your_own_comment():
    comment = posted()
    with pytest.raises(ValidationError):
        moderation.report_create(reporter=comment.member, comment=comment, reason="spam")


def test_upholding_reports_records_who_and_why_and_removes_the_comment():
    comment = posted()
    for _ in range(2):
        report(comment)
    mod = moderator()
    closed = moderation.reports_resolve(
        moderator=mod, comment=comment, upheld=True, outcome="remove", reason="广告"
    )
    assert closed == 2
    comment.refresh_from_db()
    assert comment.status == Comment.Status.REMOVED
    assert set(comment.reports.values_list("status", "resolved_by", "resolution_note")) == {
        ("upheld", mod.pk, "广告")
    }
    assert ModerationAction.objects.filter(kind="reports-upheld", actor=mod, reason="广告").exists()


def test_dismissing_reports_publishes_a_comment_the_reports_had_hidden():
    comment = posted()
    for _ in range(3):
        report(comment)
    comment.refresh_from_db()
    assert comment.status == Comment.Status.HIDDEN
    moderation.reports_resolve(
        moderator=moderator(), comment=comment, upheld=False, reason="正常讨论"
    )
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert not comment.reports.filter(status="open").exists()
    comment.lesson.refresh_from_db()
    assert comment.lesson.comment_count == 1


def test_reporters_agreed_and_dismissed_counts_are_kept_apart():
    reporter = MemberFactory()
    good, bad = posted(), posted()
    moderation.report_create(reporter=reporter, comment=good, reason="spam")
    moderation.report_create(reporter=reporter, comment=bad, reason="spam")
    moderation.reports_resolve(moderator=moderator(), comment=good, upheld=True, outcome="hide")
    moderation.reports_resolve(moderator=moderator(), comment=bad, upheld=False)
    statuses = sorted(reporter.reports_made.values_list("status", flat=True))
    assert statuses == ["dismissed", "upheld"]


def test_report_through_htmx_thanks_the_reader(member_client):
    comment = posted()
    response = member_client.post(
        reverse("forum:comment-report", args=[comment.pk]), {"reason": "spam"}, **HTMX
    )
    assert "感谢" in response.content.decode()
    assert comment.reports.count() == 1


def test_report_without_javascript_redirects_back_to_the_comment(member_client):
    comment = posted()
    response = member_client.post(
        reverse("forum:comment-report", args=[comment.pk]), {"reason": "abuse", "text": "骂人"}
    )
    assert response["Location"].endswith(f"#comment-{comment.pk}")
    assert comment.reports.get().text == "骂人"


def test_report_without_a_reason_shows_the_form_again(member_client):
    comment = posted()
    response = member_client.post(reverse("forum:comment-report", args=[comment.pk]), {}, **HTMX)
    assert 'name="reason"' in response.content.decode()
    assert not comment.reports.exists()


def suspended_member_client(client, *, banned: bool = False):
    user = UserFactory()
    member = services.member_for(user)
    moderation.member_suspend(
        moderator=None,
        member=member,
        until=None if banned else timezone.now() + timedelta(days=7),
        reason="刷屏",
    )
    client.force_login(user)
    return member


def test_suspended_member_cannot_post_and_is_told_why_and_until_when(client):
    suspended_member_client(client)
    lesson = LessonFactory()
    response = client.post(reverse("forum:comment-create", args=[lesson.pk]), {"body": "还想发"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "暂停" in html and "刷屏" in html
    assert not Comment.objects.exists()


def test_suspended_members_refusal_says_until_when(client):
    member = suspended_member_client(client)
    until = timezone.localtime(member.suspended_until).strftime("%Y-%m-%d %H:%M")
    lesson = LessonFactory()
    response = client.post(reverse("forum:comment-create", args=[lesson.pk]), {"body": "还想发"})
    assert response.status_code == 403
    assert until in response.content.decode()


def test_suspended_member_cannot_like_and_htmx_shows_the_message(client):
    suspended_member_client(client)
    comment = posted()
    response = client.post(reverse("forum:comment-like", args=[comment.pk]), **HTMX)
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#flash"
    assert "刷屏" in response.content.decode()
    comment.refresh_from_db()
    assert comment.like_count == 0


def test_suspended_member_cannot_reply_or_report(client):
    member = suspended_member_client(client)
    comment = posted()
    with pytest.raises(PermissionDenied):
        services.comment_post(author=member, lesson=comment.lesson, parent=comment, body="回")
    with pytest.raises(PermissionDenied):
        moderation.report_create(reporter=member, comment=comment, reason="spam")
    with pytest.raises(PermissionDenied):
        likes.like_add(member=member, comment=comment)


def test_suspended_member_reads_and_sees_the_suspension_notice(client):
    suspended_member_client(client)
    comment = posted()
    response = client.get(comment.lesson.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert "data-suspended" in html and "刷屏" in html
    assert 'id="comment-body"' not in html


def test_banned_member_is_refused_too(client):
    member = suspended_member_client(client, banned=True)
    with pytest.raises(PermissionDenied, match="刷屏"):
        services.comment_post(author=member, lesson=LessonFactory(), body="hi")


def test_suspension_ends_by_itself():
    member = MemberFactory()
    moderation.member_suspend(
        moderator=None, member=member, until=timezone.now() - timedelta(minutes=1), reason="x"
    )
    assert not member.is_suspended
    services.comment_post(author=member, lesson=LessonFactory(), body="回来了")


@pytest.fixture
def premoderation(settings):
    settings.FORUM_PREMODERATION = "new-members"
    settings.FORUM_TRUSTED_AFTER = 1


def test_new_members_comment_waits_for_review(premoderation, client):
    author = UserFactory()
    lesson = LessonFactory()
    comment = services.comment_post(author=services.member_for(author), lesson=lesson, body="新人")
    assert comment.status == Comment.Status.PENDING
    lesson.refresh_from_db()
    assert lesson.comment_count == 0
    assert (
        f'id="comment-{comment.pk}"' not in client.get(lesson.get_absolute_url()).content.decode()
    )
    client.force_login(author)
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert f'id="comment-{comment.pk}"' in html
    assert "待审核" in html


def test_another_signed_in_member_does_not_see_a_pending_comment(premoderation, client):
    lesson = LessonFactory()
    author = services.member_for(UserFactory())
    comment = services.comment_post(author=author, lesson=lesson, body="新人的第一条留言")
    assert comment.status == Comment.Status.PENDING
    client.force_login(UserFactory())
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert f'id="comment-{comment.pk}"' not in html
    assert "新人的第一条留言" not in html
    assert client.get(reverse("forum:comment", args=[comment.pk])).status_code == 404


def test_approving_a_pending_comment_publishes_and_counts_it(premoderation):
    lesson = LessonFactory()
    comment = services.comment_post(author=MemberFactory(), lesson=lesson, body="新人")
    moderation.comment_moderate(moderator=moderator(), comment=comment, action="publish")
    comment.refresh_from_db()
    lesson.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert lesson.comment_count == 1


def test_trusted_members_and_teachers_skip_review(premoderation):
    lesson = LessonFactory()
    trusted = MemberFactory()
    CommentFactory(member=trusted)
    assert posted(lesson, author=trusted).status == Comment.Status.PUBLISHED
    assert posted(lesson, author=teacher_of(lesson.course)).status == Comment.Status.PUBLISHED


def test_a_course_can_turn_pre_moderation_off(premoderation):
    lesson = LessonFactory()
    CourseModeration.objects.create(course=lesson.course, premoderation="off")
    assert posted(lesson).status == Comment.Status.PUBLISHED


def test_a_course_can_turn_pre_moderation_on(settings):
    settings.FORUM_PREMODERATION = "off"
    lesson = LessonFactory()
    CourseModeration.objects.create(course=lesson.course, premoderation="on")
    assert posted(lesson).status == Comment.Status.PENDING


def test_hiding_a_reply_moves_the_parent_and_lesson_counters():
    parent = posted()
    reply = posted(parent=parent)
    moderation.comment_moderate(moderator=moderator(), comment=reply, action="hide", reason="x")
    parent.refresh_from_db()
    parent.lesson.refresh_from_db()
    assert parent.reply_count == 0
    assert parent.lesson.comment_count == 1
    moderation.comment_moderate(moderator=moderator(), comment=reply, action="restore")
    parent.refresh_from_db()
    assert parent.reply_count == 1


def test_hidden_comment_is_gone_from_the_lesson_page(client):
    comment = posted()
    moderation.comment_moderate(moderator=moderator(), comment=comment, action="spam")
    html = client.get(comment.lesson.get_absolute_url()).content.decode()
    assert f'id="comment-{comment.pk}"' not in html


def test_hide_all_of_a_members_content_is_one_recorded_action():
    member = MemberFactory()
    lesson = LessonFactory()
    for _ in range(3):
        posted(lesson, author=member)
    hidden = moderation.member_hide_all(moderator=moderator(), member=member, reason="广告号")
    assert hidden == 3
    assert not member.comments.filter(status="published").exists()
    assert ModerationAction.objects.filter(kind="hide-all", reason="广告号").count() == 1
    lesson.refresh_from_db()
    assert lesson.comment_count == 0


def test_linking_an_imported_member_lets_an_account_claim_its_history():
    imported = MemberFactory(display_name="风轻扬")
    old = posted(author=imported)
    user = UserFactory()
    own = services.member_for(user)
    mine = posted(author=own)
    liked = posted()
    likes.like_add(member=own, comment=liked)
    likes.like_add(member=imported, comment=liked)
    linking.member_link_account(moderator=moderator(), member=imported, user=user)
    imported.refresh_from_db()
    liked.refresh_from_db()
    assert imported.user == user
    assert set(imported.comments.values_list("pk", flat=True)) == {old.pk, mine.pk}
    assert liked.like_count == 1
    assert ModerationAction.objects.filter(kind="link-account").exists()


def test_every_state_change_of_a_comment_is_recorded():
    comment = posted()
    mod = moderator()
    for action in ["feature", "pin", "hide", "restore", "unpin", "unfeature", "remove"]:
        moderation.comment_moderate(moderator=mod, comment=comment, action=action, reason=action)
    assert list(ModerationAction.objects.order_by("pk").values_list("kind", flat=True)) == [
        "feature",
        "pin",
        "hide",
        "restore",
        "unpin",
        "unfeature",
        "remove",
    ]


def test_a_teachers_inline_pin_is_recorded_too(client):
    comment = posted()
    teacher = teacher_of(comment.lesson.course)
    client.force_login(teacher.user)
    client.post(reverse("forum:comment-pin", args=[comment.pk]), **HTMX)
    action = ModerationAction.objects.get(kind="pin")
    assert (action.actor, action.comment) == (teacher.user, comment)


def test_an_action_that_changes_nothing_is_not_recorded():
    comment = posted()
    assert (
        moderation.comment_moderate(moderator=moderator(), comment=comment, action="publish")
        is None
    )
    assert not ModerationAction.objects.exists()


def test_hiding_a_reported_comment_closes_its_reports_as_upheld():
    comment = posted()
    report(comment)
    mod = moderator()
    moderation.comment_moderate(moderator=mod, comment=comment, action="spam", reason="广告")
    assert list(comment.reports.values_list("status", "resolved_by", "resolution_note")) == [
        ("upheld", mod.pk, "广告")
    ]
