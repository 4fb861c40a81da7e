"""How much a member's report counts, and which comments members' reports never hide.

Three reports from accounts made a minute ago used to hide any comment. A report now weighs
what its reporter has shown of themselves; a comment is hidden for review when the weights of
its open reports reach FORUM_REPORTS_TO_HIDE (forum.moderation).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from forum import services  # the module: services imports moderation, which imports this
from forum.counting import subquery_count
from forum.models import Comment, Member, Report

# Each earlier report a moderator upheld adds this much, up to UPHELD_CAP in all; each one
# dismissed takes DISMISSED_PENALTY away. A member whose reports keep being dismissed ends
# up weighing nothing, however long they have been here.
UPHELD_BONUS = 0.25
UPHELD_CAP = 1.0
DISMISSED_PENALTY = 0.5


def report_weight(reporter: Member, comment: Comment) -> float:
    """What `reporter`'s report on `comment` weighs, as the rule reads today.

    - A member without an account (imported) weighs 0.
    - Moderators, and teachers of the comment's course, weigh FORUM_REPORTS_TO_HIDE: their
      report alone hides an ordinary comment.
    - An account younger than FORUM_REPORT_TRUSTED_AFTER_DAYS days, or with fewer than
      FORUM_REPORT_TRUSTED_COMMENTS visible comments (published, not deleted), weighs 0: its
      report waits in the moderators' queue and hides nothing. New accounts are cheap; a
      member's history is not.
    - Anyone else weighs 1, plus UPHELD_BONUS for each earlier report a moderator upheld (up
      to UPHELD_CAP), minus DISMISSED_PENALTY for each one dismissed, never below 0.

    Costs one query for the reporter's history, and the permission lookups of an account
    whose permissions were not read yet (two, with Django's ModelBackend, then cached on it).
    """
    user = reporter.user
    if user is None or not user.is_active:
        return 0.0
    full = float(settings.FORUM_REPORTS_TO_HIDE)
    if user.has_perm("forum.moderate_comment"):
        return full
    made = Report.objects.filter(reporter=OuterRef("pk"))
    history = (
        Member.objects.filter(pk=reporter.pk)
        .annotate(
            teaches=Exists(
                Member.courses_taught.through.objects.filter(
                    member=OuterRef("pk"), course__lessons=comment.lesson_id
                )
            ),
            visible=subquery_count(
                Comment.objects.filter(member=OuterRef("pk")).counted(), "member"
            ),
            upheld=subquery_count(made.filter(status=Report.Status.UPHELD), "reporter"),
            dismissed=subquery_count(made.filter(status=Report.Status.DISMISSED), "reporter"),
        )
        .values("teaches", "visible", "upheld", "dismissed")
        .get()
    )
    if history["teaches"] and user.has_perm("forum.curate_own_lessons"):
        return full
    joined = getattr(user, "date_joined", None)
    too_new = joined is None or timezone.now() - joined < timedelta(
        days=settings.FORUM_REPORT_TRUSTED_AFTER_DAYS
    )
    if too_new or history["visible"] < settings.FORUM_REPORT_TRUSTED_COMMENTS:
        return 0.0
    bonus = min(UPHELD_BONUS * history["upheld"], UPHELD_CAP)
    return max(0.0, 1.0 + bonus - DISMISSED_PENALTY * history["dismissed"])


def hidden_only_by_moderators(comment: Comment) -> bool:
    """A featured, pinned or teacher's comment is never hidden by reports, however many or
    whose: it waits in the queue for a moderator to decide."""
    return (
        comment.is_featured
        or comment.is_pinned
        or comment.is_author_reply
        or services.is_teacher(comment.member, comment.lesson)
    )
