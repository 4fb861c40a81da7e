"""Writes of the teacher's workspace: answering is `forum.services.comment_post`; this marks a
comment "不需要回复" and takes the mark back."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from forum import moderation, services
from forum.models import Comment, Member, QueueDismissal


def _tend(user: AbstractBaseUser, member: Member, comment: Comment) -> None:
    """Teachers of the comment's course and moderators, while not suspended."""
    moderation.participation_check(member)
    if not services.can_curate(user, comment.lesson):
        raise PermissionDenied(_("Only the lesson's teacher and moderators can do this."))


@transaction.atomic
def dismissal_add(*, user: AbstractBaseUser, member: Member, comment: Comment) -> QueueDismissal:
    """Take a comment out of the queue: it needs no answer. Marking it again changes nothing."""
    _tend(user, member, comment)
    if not comment.is_counted:
        raise ValidationError(_("This comment is no longer shown."), code="closed")
    mark, _created = QueueDismissal.objects.get_or_create(
        comment=comment, defaults={"member": member}
    )
    return mark


@transaction.atomic
def dismissal_remove(*, user: AbstractBaseUser, member: Member, comment: Comment) -> bool:
    """Put a comment marked "不需要回复" back in the queue; False if it was not marked."""
    _tend(user, member, comment)
    deleted, _rows = QueueDismissal.objects.filter(comment=comment).delete()
    return bool(deleted)


def answer_check(user: AbstractBaseUser, member: Member, comment: Comment) -> None:
    """Only a teacher of the course answers from the queue: their reply is its 作者回复."""
    moderation.participation_check(member)
    if not services.is_teacher(member, comment.lesson):
        raise PermissionDenied(_("Only the lesson's teachers answer as its author."))
