"""Moderation: status changes with their counters, reports, suspensions — each one recorded.

Every function here writes a `ModerationAction`, the audit trail that nobody can edit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from forum import avatars, trust
from forum.caching import stamps
from forum.models import Comment, Member, ModerationAction, Report
from forum.notifications import services as notify
from forum.search.sync import comments_reindex
from lessons.models import Lesson

Kind = ModerationAction.Kind
Status = Comment.Status

STATUS_FOR = {
    Kind.PUBLISH: Status.PUBLISHED,
    Kind.RESTORE: Status.PUBLISHED,
    Kind.HIDE: Status.HIDDEN,
    Kind.AUTO_HIDE: Status.HIDDEN,
    Kind.SPAM: Status.SPAM,
    Kind.REMOVE: Status.REMOVED,
}
FLAG_FOR = {
    Kind.FEATURE: ("is_featured", True),
    Kind.UNFEATURE: ("is_featured", False),
    Kind.PIN: ("is_pinned", True),
    Kind.UNPIN: ("is_pinned", False),
}
COMMENT_ACTIONS = (*STATUS_FOR, *FLAG_FOR)


def _target(comment: Comment) -> str:
    return f"#{comment.pk} {comment.body[:60]}"


def _record(
    *,
    actor: AbstractBaseUser | None,
    kind: str,
    target: str,
    reason: str = "",
    comment: Comment | None = None,
    member: Member | None = None,
    before: str = "",
    after: str = "",
    actor_name: str = "",
) -> ModerationAction:
    """Write one audit record, with the names of who acted and on whom copied into it: the
    foreign keys empty when an account, a member or a lesson is deleted, the names stay."""
    return ModerationAction.objects.create(
        actor=actor,
        actor_name=(actor_name or (actor.get_username() if actor else ""))[:200],
        kind=kind,
        target=target[:200],
        reason=reason[:500],
        comment=comment,
        member=member,
        member_name=member.display_name[:150] if member else "",
        status_before=before,
        status_after=after,
    )


def counts(status: str, deleted_at: datetime | None) -> bool:
    """Whether a comment in this state is counted in the lesson's and parent's counters."""
    return status == Status.PUBLISHED and deleted_at is None


def counters_move(comment: Comment, delta: int) -> None:
    """Move the counters that count `comment` (published and not deleted) by `delta`:
    the lesson's comments (and threads, for a top-level comment) and the parent's replies."""
    if comment.parent_id:
        Lesson.objects.filter(pk=comment.lesson_id).update(comment_count=F("comment_count") + delta)
        Comment.objects.filter(pk=comment.parent_id).update(reply_count=F("reply_count") + delta)
    else:
        Lesson.objects.filter(pk=comment.lesson_id).update(
            comment_count=F("comment_count") + delta, thread_count=F("thread_count") + delta
        )


def status_set(comment: Comment, status: str) -> None:
    """Change a comment's status, moving the counters when it enters or leaves the count.
    Inside the caller's `stamps.discussion_write`."""
    was_counted = counts(comment.status, comment.deleted_at)
    comment.status = status
    comment.save(update_fields=["status"])
    delta = int(counts(status, comment.deleted_at)) - int(was_counted)
    if delta:
        counters_move(comment, delta)
        comments_reindex([comment.pk])


@transaction.atomic
def comment_moderate(
    *, moderator: AbstractBaseUser, comment: Comment, action: str, reason: str = ""
) -> ModerationAction | None:
    """Publish, hide, mark as spam, remove, restore, (un)feature or (un)pin a comment.

    Returns None, recording nothing, when the comment is already in that state. Hiding,
    marking as spam or removing a reported comment also closes its open reports as upheld.
    """
    with stamps.discussion_write(lesson_id=comment.lesson_id):
        comment = Comment.objects.select_for_update().get(pk=comment.pk)
        if action in STATUS_FOR:
            before = comment.status
            if before == STATUS_FOR[action]:
                return None
            status_set(comment, STATUS_FOR[action])
            after = comment.status
            if after != Status.PUBLISHED:
                open_reports = comment.reports.filter(status=Report.Status.OPEN)
                reporters = list(open_reports.values_list("reporter", flat=True))
                note = (reason or Kind(action).label)[:500]
                open_reports.update(
                    status=Report.Status.UPHELD,
                    resolved_by=moderator,
                    resolved_at=timezone.now(),
                    resolution_note=note,
                )
                notify.notify_reports_closed(
                    comment, reporter_ids=reporters, outcome="upheld", reason=note
                )
            _notify_status(comment, before=before, moderator=moderator, reason=reason)
        elif action in FLAG_FOR:
            field, value = FLAG_FOR[action]
            if getattr(comment, field) == value:
                return None
            before = f"{field}={getattr(comment, field)}"
            setattr(comment, field, value)
            stamp = field.replace("is_", "") + "_at"
            setattr(comment, stamp, timezone.now() if value else None)
            comment.save(update_fields=[field, stamp])
            after = f"{field}={value}"
            notify.notify_moderated(comment, action=action, moderator=_member_of(moderator))
        else:
            raise ValueError(f"unknown moderation action {action!r}")
        return _record(
            actor=moderator,
            kind=action,
            target=_target(comment),
            reason=reason,
            comment=comment,
            member=comment.member,
            before=before,
            after=after,
        )


def _member_of(user: AbstractBaseUser | None) -> Member | None:
    try:
        return user.member if user is not None else None
    except Member.DoesNotExist:
        return None


def _notify_status(
    comment: Comment, *, before: str, moderator: AbstractBaseUser | None, reason: str
) -> None:
    """Tell a comment's author that its status changed; a comment approved from review is
    published now, and tells whom it answers and mentions."""
    after = comment.status
    if after == Status.PUBLISHED:
        action = Kind.PUBLISH if before == Status.PENDING else Kind.RESTORE
        if before == Status.PENDING:
            notify.notify_posted(comment, author=comment.member)
    else:
        action = {Status.HIDDEN: Kind.HIDE, Status.SPAM: Kind.SPAM}.get(after, Kind.REMOVE)
    notify.notify_moderated(comment, action=action, moderator=_member_of(moderator), reason=reason)


@transaction.atomic
def comments_moderate(
    *, moderator: AbstractBaseUser, comments: Iterable[Comment], action: str, reason: str = ""
) -> list[ModerationAction]:
    """The admin's bulk actions: the same action on each comment, each change recorded."""
    done = (
        comment_moderate(moderator=moderator, comment=c, action=action, reason=reason)
        for c in comments
    )
    return [record for record in done if record is not None]


def participation_check(member: Member) -> None:
    """Suspended and banned members can read but not post, reply, like or report."""
    if member.is_banned:
        raise PermissionDenied(
            _("Your account is banned from taking part. Reason: %(reason)s")
            % {"reason": member.suspension_reason or _("none given")}
        )
    if member.is_suspended:
        until = date_format(timezone.localtime(member.suspended_until), "Y-m-d H:i")
        raise PermissionDenied(
            _("Your account is suspended until %(until)s. Reason: %(reason)s")
            % {"until": until, "reason": member.suspension_reason or _("none given")}
        )


def _open_reports_hide(comment: Comment) -> None:
    """Hide a published comment for review once its open reports weigh FORUM_REPORTS_TO_HIDE
    together, unless only a moderator may hide it (featured, pinned, a teacher's)."""
    threshold = settings.FORUM_REPORTS_TO_HIDE
    if not threshold or comment.status != Status.PUBLISHED:
        return
    open_reports = comment.reports.filter(status=Report.Status.OPEN).aggregate(
        count=Count("pk"), weight=Sum("weight", default=0.0)
    )
    if open_reports["weight"] < threshold or trust.hidden_only_by_moderators(comment):
        return
    before = comment.status
    status_set(comment, Status.HIDDEN)
    notify.notify_moderated(comment, action=Kind.AUTO_HIDE, moderator=None)
    _record(
        actor=None,
        kind=Kind.AUTO_HIDE,
        target=_target(comment),
        reason=_("%(count)d open reports weighing %(weight)s")
        % {"count": open_reports["count"], "weight": f"{open_reports['weight']:g}"},
        comment=comment,
        member=comment.member,
        before=before,
        after=comment.status,
    )


@transaction.atomic
def report_create(*, reporter: Member, comment: Comment, reason: str, text: str = "") -> Report:
    """Report a comment, the report weighing what its reporter's standing makes it
    (forum.trust); when the open reports weigh FORUM_REPORTS_TO_HIDE it is hidden for review."""
    participation_check(reporter)
    if reason not in Report.Reason.values:
        raise ValidationError(_("Choose a reason."), code="reason")
    if comment.member_id == reporter.pk:
        raise ValidationError(_("You cannot report your own comment."), code="own")
    if comment.is_deleted:
        raise ValidationError(_("This comment was deleted."), code="deleted")
    with stamps.discussion_write(lesson_id=comment.lesson_id):
        comment = Comment.objects.select_for_update().get(pk=comment.pk)
        try:
            with transaction.atomic():
                report = Report.objects.create(
                    comment=comment,
                    reporter=reporter,
                    reason=reason,
                    weight=trust.report_weight(reporter, comment),
                    text=text.replace("\x00", "").strip()[:1000],  # as a comment's body is kept
                )
        except IntegrityError:
            raise ValidationError(
                _("You have already reported this comment; a moderator will look at it."),
                code="duplicate",
            ) from None
        _open_reports_hide(comment)
        return report


@transaction.atomic
def reports_resolve(
    *,
    moderator: AbstractBaseUser,
    comment: Comment,
    upheld: bool,
    outcome: str = "",
    reason: str = "",
) -> int:
    """Close a comment's open reports. Upheld: hide or remove the comment (`outcome`);
    dismissed: keep it, and publish it again if the reports had hidden it. Returns how many
    reports were closed."""
    with stamps.discussion_write(lesson_id=comment.lesson_id):
        comment = Comment.objects.select_for_update().get(pk=comment.pk)
        open_reports = comment.reports.filter(status=Report.Status.OPEN)
        reporters = list(open_reports.values_list("reporter", flat=True))
        closed = open_reports.update(
            status=Report.Status.UPHELD if upheld else Report.Status.DISMISSED,
            resolved_by=moderator,
            resolved_at=timezone.now(),
            resolution_note=reason[:500],
        )
        before = comment.status
        if upheld:
            status_set(comment, Status.REMOVED if outcome == Kind.REMOVE else Status.HIDDEN)
        elif (
            comment.status == Status.HIDDEN
            and comment.moderation_actions.filter(kind=Kind.AUTO_HIDE).exists()
        ):
            status_set(comment, Status.PUBLISHED)
        notify.notify_reports_closed(
            comment,
            reporter_ids=reporters,
            outcome="upheld" if upheld else "dismissed",
            reason=reason,
        )
        if comment.status != before:
            _notify_status(comment, before=before, moderator=moderator, reason=reason)
        _record(
            actor=moderator,
            kind=Kind.REPORTS_UPHELD if upheld else Kind.REPORTS_DISMISSED,
            target=_target(comment),
            reason=reason,
            comment=comment,
            member=comment.member,
            before=before,
            after=comment.status,
        )
        return closed


def member_state(member: Member) -> str:
    """A member's standing as the audit trail and operators read it (site time zone)."""
    if member.is_banned:
        return "banned"
    if member.is_suspended:
        return f"suspended until {timezone.localtime(member.suspended_until):%Y-%m-%d %H:%M}"
    return "not suspended"


@transaction.atomic
def member_suspend(
    *,
    moderator: AbstractBaseUser | None,
    member: Member,
    until: datetime | None,
    reason: str,
    actor_name: str = "",
) -> ModerationAction:
    """Suspend until `until`, or ban for good when `until` is None. The member is shown
    `reason`. `actor_name` names who acted in the audit trail when it is more than the
    moderator's username (e.g. "root (command line)")."""
    before = member_state(member)
    member.is_banned = until is None
    member.suspended_until = until
    member.suspension_reason = reason[:500]
    member.save(update_fields=["is_banned", "suspended_until", "suspension_reason"])
    return _record(
        actor=moderator,
        kind=Kind.BAN if until is None else Kind.SUSPEND,
        target=str(member),
        reason=reason,
        actor_name=actor_name,
        member=member,
        before=before,
        after=member_state(member),
    )


@transaction.atomic
def member_unsuspend(
    *, moderator: AbstractBaseUser | None, member: Member, reason: str = "", actor_name: str = ""
) -> ModerationAction:
    before = member_state(member)
    member.is_banned = False
    member.suspended_until = None
    member.suspension_reason = ""
    member.save(update_fields=["is_banned", "suspended_until", "suspension_reason"])
    return _record(
        actor=moderator,
        kind=Kind.UNSUSPEND,
        target=str(member),
        reason=reason,
        actor_name=actor_name,
        member=member,
        before=before,
        after=member_state(member),
    )


def _short(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


@transaction.atomic
def member_edit_record(
    *, moderator: AbstractBaseUser, member: Member, changes: dict[str, tuple[str, str]]
) -> ModerationAction | None:
    """Record a moderator's edit of a member's fields (display name, avatar, courses taught):
    `changes` maps each changed field to its value before and after, as text. Values are cut
    short; an edit that changed nothing records nothing. The pages that show the member's
    name or avatar (the lessons they wrote on) change with it."""
    if not changes:
        return None
    stamps.pages_changed(member_ids=[member.pk])

    def side(index: int) -> str:
        return "; ".join(f"{f}={_short(pair[index]) or '—'}" for f, pair in changes.items())

    return _record(
        actor=moderator,
        kind=Kind.EDIT_MEMBER,
        target=str(member),
        member=member,
        before=side(0)[:300],
        after=side(1)[:300],
    )


@transaction.atomic
def member_hide_all(*, moderator: AbstractBaseUser, member: Member, reason: str = "") -> int:
    """Hide every published comment of a member, as one recorded action. Returns the count."""
    comments = list(member.comments.filter(status=Status.PUBLISHED).order_by("lesson", "pk"))
    for comment in comments:
        with stamps.discussion_write(lesson_id=comment.lesson_id):
            status_set(comment, Status.HIDDEN)
            notify.withdraw(comment)
    _record(
        actor=moderator,
        kind=Kind.HIDE_ALL,
        target=str(member),
        reason=reason,
        member=member,
        before=f"{len(comments)} published",
        after=f"{len(comments)} hidden",
    )
    return len(comments)


@transaction.atomic
def member_avatar_remove(*, moderator: AbstractBaseUser, member: Member, reason: str = "") -> bool:
    """Take down a member's uploaded avatar (the letter avatar shows again); False if they had
    none. Recorded as an edit of the member, with the file's name."""
    name = member.avatar.name
    if not name:
        return False
    avatars.avatar_remove(member=member)
    _record(
        actor=moderator,
        kind=Kind.EDIT_MEMBER,
        target=str(member),
        reason=reason,
        member=member,
        before=f"avatar={name}",
        after="avatar=",
    )
    return True
