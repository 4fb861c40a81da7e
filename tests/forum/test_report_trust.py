"""Reports weighed by trust: who reports decides how much a report counts toward hiding."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from forum import moderation, services, trust
from forum.models import Comment, Member, ModerationAction, Report
from forum.models.moderation import ReportedComment
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


def posted(**fields) -> Comment:
    return CommentFactory(lesson=fields.pop("lesson", None) or LessonFactory(), **fields)


def new_account() -> Member:
    """An account made this minute, which has written nothing yet."""
    return services.member_for(UserFactory())


def reported(comment: Comment, reporters: list[Member]) -> Comment:
    for reporter in reporters:
        moderation.report_create(reporter=reporter, comment=comment, reason="spam")
    comment.refresh_from_db()
    return comment


def test_three_reports_from_accounts_made_this_minute_hide_nothing():
    comment = reported(posted(), [new_account() for _ in range(3)])
    assert comment.status == Comment.Status.PUBLISHED
    assert list(comment.reports.values_list("status", "weight")) == [("open", 0.0)] * 3
    assert ReportedComment.objects.filter(pk=comment.pk, reports__status="open").exists()
    assert not ModerationAction.objects.filter(kind="auto-hide").exists()


def test_three_reports_from_established_members_hide_the_comment():
    comment = reported(posted(), [established_member() for _ in range(3)])
    assert comment.status == Comment.Status.HIDDEN
    action = ModerationAction.objects.get(kind="auto-hide")
    assert action.actor is None and action.comment == comment
    assert action.reason == "3 条待处理举报，权重合计 3"


def test_an_old_account_that_has_written_too_little_weighs_nothing():
    quiet = established_member()
    quiet.comments.filter(pk=quiet.comments.first().pk).update(deleted_at=timezone.now())
    assert trust.report_weight(quiet, posted()) == 0


def test_a_busy_account_made_yesterday_weighs_nothing():
    member = established_member()
    member.user.date_joined = timezone.now() - timedelta(days=1)
    member.user.save()
    assert trust.report_weight(member, posted()) == 0


def test_an_imported_member_without_an_account_weighs_nothing():
    member = MemberFactory()
    CommentFactory.create_batch(5, member=member)
    assert trust.report_weight(member, posted()) == 0


def test_a_teachers_comment_is_never_hidden_by_members_reports():
    lesson = LessonFactory()
    comment = posted(lesson=lesson, member=teacher_of(lesson.course))
    comment = reported(comment, [established_member() for _ in range(6)])
    assert comment.status == Comment.Status.PUBLISHED
    assert comment.reports.filter(status="open").count() == 6


@pytest.mark.parametrize("flag", ["is_featured", "is_pinned", "is_author_reply"])
def test_a_featured_pinned_or_authors_comment_is_never_hidden_by_reports(flag):
    comment = reported(posted(**{flag: True}), [established_member() for _ in range(4)])
    assert comment.status == Comment.Status.PUBLISHED
    assert ReportedComment.objects.filter(pk=comment.pk, reports__status="open").exists()


def test_a_featured_comment_waits_even_for_a_moderators_report():
    comment = reported(posted(is_featured=True), [services.member_for(moderator())])
    assert comment.status == Comment.Status.PUBLISHED


def test_a_moderators_report_hides_at_once():
    comment = reported(posted(), [services.member_for(moderator())])
    assert comment.status == Comment.Status.HIDDEN
    assert comment.reports.get().weight == 3


def test_the_courses_teachers_report_hides_at_once_but_another_courses_does_not():
    lesson = LessonFactory()
    elsewhere = reported(posted(), [teacher_of(lesson.course)])
    assert elsewhere.status == Comment.Status.PUBLISHED
    assert elsewhere.reports.get().weight == 0  # a new account, teaching elsewhere
    here = reported(posted(lesson=lesson), [teacher_of(lesson.course)])
    assert here.status == Comment.Status.HIDDEN


def test_the_weight_follows_the_threshold_for_moderators(settings):
    settings.FORUM_REPORTS_TO_HIDE = 5
    assert trust.report_weight(services.member_for(moderator()), posted()) == 5


def test_each_reports_weight_is_kept_as_it_was_when_reported():
    reporter = established_member()
    first = moderation.report_create(reporter=reporter, comment=posted(), reason="spam")
    moderation.reports_resolve(moderator=moderator(), comment=first.comment, upheld=True)
    second = moderation.report_create(reporter=reporter, comment=posted(), reason="spam")
    first.refresh_from_db()
    assert (first.weight, second.weight) == (1.0, 1.25)


def history(reporter: Member, *, upheld: int, dismissed: int) -> None:
    """Closed reports of `reporter`, as moderators decided them."""
    for status, n in ((Report.Status.UPHELD, upheld), (Report.Status.DISMISSED, dismissed)):
        for comment in CommentFactory.create_batch(n):
            Report.objects.create(comment=comment, reporter=reporter, reason="spam", status=status)


@pytest.mark.parametrize(
    ("upheld", "dismissed", "weight"),
    [(0, 0, 1.0), (1, 0, 1.25), (2, 0, 1.5), (9, 0, 2.0), (0, 1, 0.5), (0, 2, 0.0), (0, 5, 0.0)],
    ids=["none", "one-upheld", "two-upheld", "capped", "one-dismissed", "two-dismissed", "floor"],
)
def test_upheld_reports_add_weight_and_dismissed_ones_take_it_away(upheld, dismissed, weight):
    reporter = established_member()
    history(reporter, upheld=upheld, dismissed=dismissed)
    assert trust.report_weight(reporter, posted()) == weight


def test_two_members_with_upheld_reports_hide_what_three_newcomers_cannot():
    reporters = [established_member() for _ in range(2)]
    for reporter in reporters:
        history(reporter, upheld=4, dismissed=0)
    comment = reported(posted(), [new_account(), *reporters])
    assert comment.status == Comment.Status.HIDDEN


def test_open_reports_add_nothing_to_the_reporters_weight():
    reporter = established_member()
    history(reporter, upheld=0, dismissed=0)
    moderation.report_create(reporter=reporter, comment=posted(), reason="spam")
    assert trust.report_weight(reporter, posted()) == 1.0


def load(member: Member) -> Member:
    """The reporter as a request has it: its account loaded, its permissions not read yet."""
    return Member.objects.select_related("user").get(pk=member.pk)


@pytest.mark.parametrize("upheld", [0, 1, 20])
def test_weighing_a_report_costs_a_fixed_number_of_queries(upheld, django_assert_num_queries):
    """One for the reporter's history, two for the account's permissions (user's and groups')."""
    reporter = established_member()
    history(reporter, upheld=upheld, dismissed=upheld)
    comment = posted()
    reporter = load(reporter)
    with django_assert_num_queries(3):
        trust.report_weight(reporter, comment)


def test_a_moderator_is_weighed_without_reading_their_history(django_assert_num_queries):
    mod = services.member_for(moderator())
    comment = posted()
    reporter = load(mod)
    with django_assert_num_queries(2):
        assert trust.report_weight(reporter, comment) == 3


def test_a_member_granted_the_moderation_permission_weighs_the_threshold():
    member = established_member()
    member.user.user_permissions.add(Permission.objects.get(codename="moderate_comment"))
    assert trust.report_weight(load(member), posted()) == 3


def test_dismissing_reports_that_hid_a_comment_publishes_it_again():
    comment = reported(posted(), [services.member_for(moderator())])
    moderation.reports_resolve(moderator=moderator(), comment=comment, upheld=False)
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
