"""Claiming an imported identity: a signed-in member asks, from the identity's profile, with a
reason; a moderator approves (the identity's history becomes theirs: forum.linking) or refuses
it in the admin's queue, each decision recorded and told to the claimant.
"""

from __future__ import annotations

from typing import Literal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from forum import linking
from forum.models import Member, MemberClaim
from forum.moderation import participation_check

Status = MemberClaim.Status
REASON_MAX = MemberClaim._meta.get_field("reason").max_length
# Claims one member may have waiting at once: enough for a commenter who used several names on
# the source site, too few to fill the moderators' queue.
OPEN_MAX = 3

ClaimState = Literal["login", "claim", "open"]


def claim_state(viewer: Member | None, member: Member) -> ClaimState | None:
    """What the claim control on `member`'s profile shows `viewer` (None: an anonymous visitor):
    "login" (log in to claim), "claim" (the button), "open" (their claim waits), or None, nothing,
    where the profile is not an imported identity or the viewer cannot claim it (suspended, or
    already holding one). One query for a signed-in viewer, none otherwise."""
    if not member.is_imported:
        return None
    if viewer is None:
        return "login"
    if viewer.is_suspended or viewer.import_key:
        return None
    if MemberClaim.objects.open().filter(member=member, claimant=viewer).exists():
        return "open"
    return "claim"


def _clean_reason(reason: str) -> str:
    reason = reason.replace("\x00", "").replace("\r\n", "\n").strip()
    if not reason:
        raise ValidationError(_("Say why this identity is yours."), code="blank")
    if len(reason) > REASON_MAX:
        raise ValidationError(
            _("Keep the reason under %(max)d characters.") % {"max": REASON_MAX}, code="long"
        )
    return reason


@transaction.atomic
def claim_create(*, claimant: Member, member: Member, reason: str) -> MemberClaim:
    """Ask the moderators to let `claimant` become the imported identity `member`."""
    participation_check(claimant)
    member = Member.objects.select_for_update().get(pk=member.pk)  # not being linked meanwhile
    if not member.is_imported:
        raise ValidationError(_("This identity already belongs to an account."), code="linked")
    if claimant.import_key:
        raise ValidationError(
            _(
                "Your account already holds an imported identity; an account holds one. "
                "Ask a moderator if this one is yours too."
            ),
            code="holds",
        )
    reason = _clean_reason(reason)
    if MemberClaim.objects.open().filter(claimant=claimant).count() >= OPEN_MAX:
        raise ValidationError(
            _("You have %(count)d claims waiting; wait for a moderator's decision first.")
            % {"count": OPEN_MAX},
            code="too-many",
        )
    try:
        with transaction.atomic():
            return MemberClaim.objects.create(member=member, claimant=claimant, reason=reason)
    except IntegrityError:
        raise ValidationError(
            _("You have already claimed this identity; a moderator will decide."),
            code="duplicate",
        ) from None


def _open_claim(claim: MemberClaim) -> MemberClaim:
    claim = (
        MemberClaim.objects.select_related("member", "claimant__user")
        .select_for_update(of=("self",))
        .get(pk=claim.pk)
    )
    if claim.status != Status.OPEN:
        raise ValidationError(
            _("This claim was already decided (%(status)s).")
            % {"status": claim.get_status_display()},
            code="decided",
        )
    return claim


@transaction.atomic
def claim_approve(*, moderator: AbstractBaseUser, claim: MemberClaim, note: str = "") -> Member:
    """Approve: the claimant's account is linked to the identity and their member merged into it
    (forum.linking.member_link_account, which also decides the other open claims on it).
    Returns the identity, now the claimant's member."""
    # The identity's row first, as linking locks it, then the claims on it: two moderators
    # approving two claims on one identity wait for each other instead of deadlocking.
    Member.objects.select_for_update().filter(pk=claim.member_id).exists()
    claim = _open_claim(claim)
    if claim.claimant.user is None:
        raise ValidationError(_("The claimant's account no longer exists."), code="gone")
    return linking.member_link_account(
        moderator=moderator, member=claim.member, user=claim.claimant.user, reason=note
    )


@transaction.atomic
def claim_refuse(*, moderator: AbstractBaseUser, claim: MemberClaim, note: str) -> MemberClaim:
    """Refuse, telling the claimant `note`."""
    claim = _open_claim(claim)
    linking.claim_close(claim, status=Status.REFUSED, moderator=moderator, note=note)
    linking.claim_tell(claim, recipient=claim.claimant)
    return claim
