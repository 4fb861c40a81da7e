"""Linking a site account to an imported identity (a commenter or teacher brought by an import).

The identity survives and keeps its import key, so that later imports keep attributing to it; if
the account already had a forum identity of its own, everything of that one moves into it and it
goes away, so the account ends up with one history. A moderator links through the admin's action
or by approving a claim (forum.claims); either way the open claims on the identity are decided.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Count, F, Q, When
from django.utils import timezone
from django.utils.translation import gettext as _

from forum.caching import stamps
from forum.models import (
    Comment,
    CommentLike,
    LessonLike,
    Member,
    MemberClaim,
    ModerationAction,
    Notification,
)
from forum.models.discussion import slug_base
from forum.moderation import _record
from forum.notifications import services as notify
from lessons.models import Lesson

Kind = ModerationAction.Kind
TEACHERS = "Teachers"  # the role made by forum/migrations/0005_roles.py
# What the account's own identity brings to the surviving one: what its member chose and sees.
PROFILE_FIELDS = ["display_name", "name_skeleton", "account_skeleton", "bio", "language"]
PROFILE_FIELDS += ["notification_settings"]


def claim_close(
    claim: MemberClaim, *, status: str, moderator: AbstractBaseUser | None, note: str
) -> None:
    """Decide an open claim and record it; the claimant is told by the caller (`claim_tell`),
    once the claimant's member is the one that stays."""
    claim.status = status
    claim.decided_by = moderator
    claim.decided_at = timezone.now()
    claim.decision_note = note[:500]
    claim.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    approved = status == MemberClaim.Status.APPROVED
    _record(
        actor=moderator,
        kind=Kind.CLAIM_APPROVED if approved else Kind.CLAIM_REFUSED,
        target=f"#{claim.pk} {claim.claimant} → {claim.member}",
        reason=note,
        member=claim.member,
        before=MemberClaim.Status.OPEN,
        after=status,
    )


def claim_tell(claim: MemberClaim, *, recipient: Member) -> None:
    """Tell the claimant the decision, as a moderators' decision about the identity's newest
    imported comment (a notification is about a comment; an identity without one is told
    nothing). Once approved, the identity holds the claimant's own comments too."""
    comment = (
        Comment.objects.counted()
        .filter(member=claim.member_id)
        .order_by(Case(When(source_key="", then=1), default=0), "-created_at", "-pk")
        .only("pk")
        .first()
    )
    if comment is not None:
        approved = claim.status == MemberClaim.Status.APPROVED
        notify.notify_claim_decided(
            comment,
            recipient=recipient,
            action=Kind.CLAIM_APPROVED if approved else Kind.CLAIM_REFUSED,
            reason=claim.decision_note,
        )


def _claims_settle(
    *, member: Member, owner: Member | None, moderator: AbstractBaseUser, note: str
) -> list[MemberClaim]:
    """Decide what linking `member` to the account of `owner` (its member, if any) decides: the
    owner's claim on `member` is approved, everyone else's refused; an account holds one imported
    identity, so the owner's claims on others are refused too. Returns them, decided."""
    wanted = Q(member=member)
    if owner is not None and member.import_key:
        wanted |= Q(claimant=owner)
    decided = list(
        MemberClaim.objects.open()
        .filter(wanted)
        .select_related("member", "claimant")
        .select_for_update(of=("self",))
        .order_by("pk")
    )

    def approved(claim: MemberClaim) -> bool:
        return owner is not None and (claim.member_id, claim.claimant_id) == (member.pk, owner.pk)

    decided.sort(key=lambda claim: not approved(claim))  # the audit trail's order
    for claim in decided:
        if approved(claim):
            claim_close(claim, status=MemberClaim.Status.APPROVED, moderator=moderator, note=note)
            continue
        if claim.member_id == member.pk:
            refusal = _("The identity was linked to another account.")
        else:
            refusal = _("Your account now holds the imported identity %(name)s.") % {
                "name": member.display_name
            }
        claim_close(claim, status=MemberClaim.Status.REFUSED, moderator=moderator, note=refusal)
    return decided


def _likes_merge(*, source: Member, into: Member) -> None:
    """Move `source`'s likes to `into`. A comment or lesson both liked keeps one like, and a like
    of one's own comment (nobody may give one) goes: each counter drops by the likes that go."""
    into_liked = CommentLike.objects.filter(member=into).values("comment")
    twice = Q(member=source, comment__in=into_liked)
    own = Q(member__in=[source.pk, into.pk], comment__member=into)
    going = CommentLike.objects.filter(pk__in=CommentLike.objects.filter(twice | own).values("pk"))
    for row in going.values("comment").annotate(n=Count("pk")).order_by("comment"):
        Comment.objects.filter(pk=row["comment"]).update(like_count=F("like_count") - row["n"])
    going.delete()
    source.comment_likes.update(member=into)
    into_liked = LessonLike.objects.filter(member=into).values("lesson")
    twice = source.lesson_likes.filter(lesson__in=into_liked)
    Lesson.objects.filter(pk__in=twice.values("lesson")).update(like_count=F("like_count") - 1)
    twice.delete()
    source.lesson_likes.update(member=into)


def member_merge(*, source: Member, into: Member) -> None:
    """Move everything of `source` into `into` and delete `source`, inside the caller's
    transaction: comments, likes, notifications (told and done, the unread count with them),
    reports made, claims, courses taught, moderation records, standing, and the profile
    `source`'s member chose (name, bio, avatar, language, notification settings). The caller
    saves `into`'s profile fields (PROFILE_FIELDS, avatar and standing)."""
    source.comments.update(member=into)
    _likes_merge(source=source, into=into)
    unread = source.notifications.filter(read_at__isnull=True).update(recipient=into)
    source.notifications.update(recipient=into)
    Notification.objects.filter(actor=source).update(actor=into)
    Member.objects.filter(pk=into.pk).update(
        unread_notifications=F("unread_notifications") + unread
    )
    source.reports_made.update(reporter=into)
    source.claims_made.update(claimant=into)
    source.claims.update(member=into)
    into.courses_taught.add(*source.courses_taught.all())
    ModerationAction.objects.filter(member=source).update(member=into)
    for field in PROFILE_FIELDS:
        setattr(into, field, getattr(source, field))
    if source.avatar:
        into.avatar = source.avatar
    # A suspension or ban of either stays: the longer one, with its reason.
    if source.is_banned and not into.is_banned:
        into.is_banned, into.suspension_reason = True, source.suspension_reason
    elif (
        source.is_suspended
        and not into.is_banned
        and (into.suspended_until is None or into.suspended_until < source.suspended_until)
    ):
        into.suspended_until = source.suspended_until
        into.suspension_reason = source.suspension_reason
    source.delete()


def teacher_role_grant(member: Member) -> bool:
    """An account linked to an identity that teaches a course gets the teacher role, so that its
    answers on the course's lessons are 作者回复 (forum.services.is_teacher). Whether it was
    added."""
    user = member.user
    if not member.courses_taught.exists() or user.has_perm("forum.curate_own_lessons"):
        return False
    group, created = Group.objects.get_or_create(name=TEACHERS)
    if created:  # only where the migration's data was emptied (transactional tests)
        group.permissions.add(
            Permission.objects.get(content_type__app_label="forum", codename="curate_own_lessons")
        )
    user.groups.add(group)
    for cache in ("_perm_cache", "_group_perm_cache"):  # what has_perm remembered
        user.__dict__.pop(cache, None)
    return True


@transaction.atomic
def member_link_account(
    *, moderator: AbstractBaseUser, member: Member, user: AbstractBaseUser, reason: str = ""
) -> Member:
    """Let a site account become an imported identity, with its history (see the module).

    The account's own member, if it has one, is merged into `member`; its chosen name wins (the
    imported name is recorded in the audit trail). Open claims on `member` are decided, the
    account is given the teacher role if `member` teaches, and the pages they wrote on change.
    """
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.user_id and member.user_id != user.pk:
        raise ValidationError(_("This member is already linked to another account."))
    existing = Member.objects.filter(user=user).exclude(pk=member.pk).first()
    if existing is not None and existing.import_key and member.import_key:
        raise ValidationError(
            _("The account %(username)s already holds the imported identity %(name)s.")
            % {"username": user.get_username(), "name": existing.display_name}
        )
    imported_name = member.display_name
    merged_pk = existing.pk if existing is not None else None
    decided = _claims_settle(member=member, owner=existing, moderator=moderator, note=reason)
    fields = ["user", "slug"]
    if existing is not None:
        member_merge(source=existing, into=member)
        fields += [*PROFILE_FIELDS, "avatar", "is_banned", "suspended_until", "suspension_reason"]
    member.user = user
    member.slug = slug_base(member)  # the account's profile address, which `existing` held
    member.save(update_fields=fields)
    for claim in decided:
        mine = claim.claimant_id == merged_pk
        claim_tell(claim, recipient=member if mine else claim.claimant)
    teacher = teacher_role_grant(member)
    # Their comments show the account's name, and the teacher line of the courses they teach
    # leads to the account's profile.
    taught = Lesson.objects.filter(course__teachers=member).values_list("pk", flat=True)
    stamps.pages_changed(member_ids=[member.pk], lesson_ids=list(taught))
    merged = "" if merged_pk is None else f"; merged member #{merged_pk}"
    _record(
        actor=moderator,
        kind=Kind.LINK_ACCOUNT,
        target=str(member),
        reason=reason,
        member=member,
        before=f"name={imported_name}; no account{merged}",
        after=f"name={member.display_name}; account {user.get_username()}"
        + ("; added to Teachers" if teacher else ""),
    )
    return member
