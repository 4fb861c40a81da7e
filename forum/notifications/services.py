"""Who is told what: the notify_* functions the discussion's write services call inside their
transaction, and the reader's own writes (opening a notification, marking all read).

Every function that adds or reads a notification moves the recipient's `unread_notifications`
by the rows it really changed, in the same transaction, so the bell is exact without a count.
Nobody is told of their own action, of a comment in review or deleted, or of anything a
suspended member did; members without an account (imported commenters) are told nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Count, Expression, F, Max, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from forum.counting import subquery_count
from forum.models import Comment, CommentLike, Member, ModerationAction, Notification
from forum.notifications import mentions
from forum.notifications.preferences import Delivery, delivery

Kind = Notification.Kind
Action = ModerationAction.Kind
Email = Notification.Email
EMAIL_FOR = {
    Delivery.PAGE: Email.NONE,
    Delivery.EMAIL: Email.PENDING,
    Delivery.DIGEST: Email.DIGEST,
}
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # before any like
# What a comment tells others of itself: withdrawn when it is deleted or hidden.
ABOUT_ITS_TEXT = (Kind.REPLY, Kind.AUTHOR_REPLY, Kind.MENTION)


def _unread_move(member_id: int, delta: int) -> None:
    if delta:
        Member.objects.filter(pk=member_id).update(
            unread_notifications=Greatest(F("unread_notifications") + delta, 0)
        )


def _tell(
    *,
    recipient: Member,
    kind: str,
    comment: Comment,
    actor: Member | None,
    action: str = "",
    reason: str = "",
    since: datetime | Expression | None = None,
) -> Notification | None:
    """One notification, as the recipient chose to get `kind` (two queries, and the email's
    task enqueued once the transaction commits); None where nobody is to be told."""
    if recipient.user_id is None or (actor is not None and actor.pk == recipient.pk):
        return None
    if actor is not None and actor.is_suspended:
        return None
    how = delivery(recipient, kind)
    if how == Delivery.OFF:
        return None
    notification = Notification.objects.create(
        recipient=recipient,
        kind=kind,
        comment=comment,
        actor=actor,
        action=action,
        reason=reason[:500],
        email=EMAIL_FOR[how],
        since=timezone.now() if since is None else since,
    )
    _unread_move(recipient.pk, +1)
    if notification.email == Email.PENDING:
        _email_on_commit(notification.pk)
    return notification


def _email_on_commit(notification_id: int) -> None:
    from forum.notifications.tasks import enqueue_email

    transaction.on_commit(partial(enqueue_email, notification_id))


def notify_posted(comment: Comment, *, author: Member, named: list[Member] | None = None) -> None:
    """A comment was published (posted, or approved by a moderator): tell the author of the
    comment it answers, and the members it mentions (`named`, if the caller has them)."""
    if not comment.is_counted:
        return
    told = {author.pk}
    parent = comment.parent
    if parent is not None and parent.is_counted:
        kind = Kind.AUTHOR_REPLY if comment.is_author_reply else Kind.REPLY
        _tell(recipient=parent.member, kind=kind, comment=comment, actor=author)
        told.add(parent.member_id)  # told once, as the reply, whatever they chose for it
    if named is None:
        named = mentions.mentioned(comment.body)
    _tell_mentioned(comment, author=author, named=named, told=told)


def notify_edited(comment: Comment, *, author: Member, before: str, named: list[Member]) -> None:
    """An edit tells only the names it adds."""
    if not comment.is_counted:
        return
    if not named:
        return
    told = {author.pk, *(member.pk for member in mentions.mentioned(before))}
    if comment.parent_id is not None:
        told.add(comment.parent.member_id)
    _tell_mentioned(comment, author=author, named=named, told=told)


def _tell_mentioned(
    comment: Comment, *, author: Member, named: list[Member], told: set[int]
) -> None:
    for member in named:
        if member.pk not in told:
            told.add(member.pk)
            _tell(recipient=member, kind=Kind.MENTION, comment=comment, actor=author)


def notify_liked(comment: Comment, *, like: CommentLike) -> None:
    """A new like: the comment's one unread like notification names the latest liker and
    counts the others who liked it since its author last read one (a like taken back drops
    out); if there is none, one is made. Inside the like's transaction, after its row."""
    liker, recipient = like.member, comment.member  # the author: loaded with the comment
    if liker.is_suspended or recipient.pk == liker.pk or recipient.user_id is None:
        return
    if delivery(recipient, Kind.LIKE) == Delivery.OFF or _likes_told_again(comment, liker):
        return
    last_read = Notification.objects.filter(
        recipient=recipient, comment=comment.pk, kind=Kind.LIKE, read_at__isnull=False
    ).values("recipient")
    since = Coalesce(Subquery(last_read.annotate(at=Max("read_at")).values("at")), Value(EPOCH))
    try:
        with transaction.atomic():  # two first likes at once: the second updates the first's
            _tell(recipient=recipient, kind=Kind.LIKE, comment=comment, actor=liker, since=since)
    except IntegrityError:
        _likes_told_again(comment, liker)


def _likes_told_again(comment: Comment, liker: Member) -> bool:
    unread = Notification.objects.filter(
        recipient=comment.member_id, comment=comment.pk, kind=Kind.LIKE, read_at__isnull=True
    )
    if not unread.update(actor=liker, created_at=timezone.now()):
        return False
    # Counted in a statement of its own, begun once the row above is held: it sees every like
    # committed before; a like still to commit is counted by its liker, who holds the row next.
    since = CommentLike.objects.filter(comment=comment.pk, created_at__gt=OuterRef("since"))
    unread.update(others=Greatest(subquery_count(since, "comment") - 1, 0))
    return True


def notify_moderated(
    comment: Comment, *, action: str, moderator: Member | None, reason: str = ""
) -> None:
    """A moderator (or the teacher) acted on a comment: tell its author. Featuring and pinning
    are told as good news, hiding and restoring with the reason."""
    if action in (Action.FEATURE, Action.PIN):
        if comment.is_counted:
            _tell(
                recipient=comment.member,
                kind=Kind.FEATURED,
                comment=comment,
                actor=moderator,
                action=action,
            )
        return
    if action in (Action.HIDE, Action.SPAM, Action.REMOVE, Action.AUTO_HIDE):
        withdraw(comment)
    elif action not in (Action.RESTORE, Action.PUBLISH):
        return
    # A moderator's decision is the forum's: it names no moderator, and is told even when the
    # moderator wrote the comment's thread.
    if comment.member_id != (moderator.pk if moderator else None) and not comment.is_deleted:
        _tell(
            recipient=comment.member,
            kind=Kind.MODERATION,
            comment=comment,
            actor=None,
            action=action,
            reason=reason,
        )


def notify_reports_closed(
    comment: Comment, *, reporter_ids: Iterable[int], outcome: str, reason: str = ""
) -> None:
    """Tell each reporter what became of their report (`outcome`: upheld or dismissed)."""
    for reporter in Member.objects.filter(pk__in=list(reporter_ids)).order_by("pk"):
        _tell(
            recipient=reporter,
            kind=Kind.REPORT,
            comment=comment,
            actor=None,
            action=outcome,
            reason=reason,
        )


def notify_claim_decided(
    comment: Comment, *, recipient: Member, action: str, reason: str = ""
) -> None:
    """Tell a member the moderators' decision on their claim of an imported identity (forum.claims):
    `action` is claim-approved or claim-refused, about `comment`, the identity's newest."""
    _tell(
        recipient=recipient,
        kind=Kind.MODERATION,
        comment=comment,
        actor=None,
        action=action,
        reason=reason,
    )


def withdraw(comment: Comment) -> None:
    """The comment was deleted or hidden: what it told others of itself goes, read or not."""
    told = Notification.objects.filter(comment=comment.pk, kind__in=ABOUT_ITS_TEXT)
    unread = told.filter(read_at__isnull=True).values("recipient").annotate(n=Count("pk"))
    for row in unread.order_by("recipient"):
        _unread_move(row["recipient"], -row["n"])
    told.delete()


@transaction.atomic
def notification_open(*, member: Member, notification: Notification) -> Notification:
    """The member opened it: it is read (opening it again changes nothing)."""
    now = timezone.now()
    changed = Notification.objects.filter(
        pk=notification.pk, recipient=member, read_at__isnull=True
    ).update(read_at=now)
    if changed:
        notification.read_at = now
        _unread_move(member.pk, -changed)
        member.unread_notifications = max(member.unread_notifications - changed, 0)
    return notification


@transaction.atomic
def notifications_read_all(*, member: Member) -> int:
    """Mark every notification read; returns how many were unread. The count moves by the rows
    marked: one told meanwhile, whose row this did not see, stays unread and counted."""
    changed = Notification.objects.filter(recipient=member, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    _unread_move(member.pk, -changed)
    member.unread_notifications = max(member.unread_notifications - changed, 0)
    return changed
