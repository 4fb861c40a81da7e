"""Write paths of the discussion: one transaction each, counters moved with F()."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from forum import moderation
from forum.caching import stamps
from forum.models import Comment, CommentRevision, CourseModeration, Member
from forum.notifications import mentions
from forum.notifications.services import notify_edited, notify_posted, withdraw
from forum.search import sync as search_index
from lessons.models import Lesson
from lessons.rendering import render_comment_markdown

# What a comment on a block keeps of it: enough to say which passage it was about.
BLOCK_QUOTE_LENGTH = 500


def member_for(user: AbstractBaseUser) -> Member:
    """The forum identity of a site account, created on first use."""
    try:
        return user.member
    except Member.DoesNotExist:
        member, _created = Member.objects.get_or_create(
            user=user, defaults={"display_name": user.get_username()}
        )
        return member


def is_teacher(member: Member | None, lesson: Lesson) -> bool:
    """A member whose account has the teacher role and who teaches the lesson's course."""
    return (
        member is not None
        and member.user is not None
        and member.user.has_perm("forum.curate_own_lessons")
        and member.courses_taught.filter(pk=lesson.course_id).exists()
    )


def can_curate(user: AbstractBaseUser | AnonymousUser, lesson: Lesson) -> bool:
    """Moderators everywhere, teachers on their own lessons, while not suspended: feature and
    pin."""
    if not user.is_authenticated:
        return False
    member = getattr(user, "member", None)
    if member is not None and member.is_suspended:
        return False
    if user.has_perm("forum.moderate_comment"):
        return True
    return is_teacher(member, lesson)


def premoderated(member: Member, lesson: Lesson) -> bool:
    """Whether the member's new comment on this lesson waits for a moderator."""
    try:  # selected with the lesson where a post is made (no query)
        policy = lesson.course.moderation
    except CourseModeration.DoesNotExist:
        policy = None
    setting = policy.premoderation if policy else CourseModeration.Premoderation.SITE
    if setting == CourseModeration.Premoderation.SITE:
        on = settings.FORUM_PREMODERATION == "new-members"
    else:
        on = setting == CourseModeration.Premoderation.ON
    if not on or is_teacher(member, lesson):
        return False
    if member.user is not None and member.user.has_perm("forum.moderate_comment"):
        return False
    published = member.comments.filter(status=Comment.Status.PUBLISHED).count()
    return published < settings.FORUM_TRUSTED_AFTER


def clean_body(body: str) -> str:
    body = body.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if not body.strip():
        raise ValidationError(_("Write something first."), code="blank")
    if len(body) > settings.FORUM_COMMENT_MAX_LENGTH:
        raise ValidationError(
            _("At most %(limit)d characters (this is %(length)d).")
            % {"limit": settings.FORUM_COMMENT_MAX_LENGTH, "length": len(body)},
            code="too_long",
        )
    return body.strip("\n")


def _submission_key(submission: str, body: str) -> str:
    """The form's one-time key with what was written: the same form sent twice with the same
    text is one submission; a second comment written in the same form (htmx keeps it) is not."""
    if not submission:
        return ""
    return hashlib.sha256(f"{submission}\n{body}".encode()).hexdigest()


@transaction.atomic
def comment_post(
    *,
    author: Member,
    lesson: Lesson,
    body: str,
    parent: Comment | None = None,
    submission: str = "",
    block: str = "",
) -> Comment:
    """Post a top-level comment, or a reply when `parent` is given; `block`: the anchor of the
    block of the lesson a top-level comment is on (lessons.anchors). A form sent again with
    the same `submission` key (a double click, a resent request) gets the comment the first
    one posted, and posts nothing."""
    moderation.participation_check(author)
    body = clean_body(body)
    block, quote = (block, lesson.blocks.get(block)) if parent is None else ("", "")
    if block and quote is None:
        raise ValidationError(_("That passage is no longer in the lesson."), code="block")
    if parent is not None:
        if parent.lesson_id != lesson.pk:
            raise ValidationError(_("The reply belongs to another lesson."), code="lesson")
        if parent.status != Comment.Status.PUBLISHED or parent.is_deleted:
            raise ValidationError(_("This comment can no longer be replied to."), code="closed")
    # Rendered before the lesson is locked: other writes to it need not wait for the renderer.
    named = mentions.mentioned(body)
    comment = Comment(
        lesson=lesson,
        member=author,
        parent=parent,
        root_id=(parent.root_id or parent.pk) if parent else None,
        depth=parent.depth + 1 if parent else 0,
        body=body,
        body_html=render_comment_markdown(body, mentions.links(named)),
        is_author_reply=parent is not None and is_teacher(author, lesson),
        status=Comment.Status.PENDING if premoderated(author, lesson) else Comment.Status.PUBLISHED,
        submission_key=_submission_key(submission, body),
        block_id=block,
        block_quote=(quote or "")[:BLOCK_QUOTE_LENGTH],
        revision_number=lesson.revision_number or None,
    )
    with stamps.discussion_write(lesson_id=lesson.pk):
        if comment.submission_key and (
            posted := Comment.objects.filter(
                member=author, submission_key=comment.submission_key
            ).first()
        ):
            return posted  # the first submission has committed: the lesson's lock orders them
        comment.save(force_insert=True)
        if comment.status == Comment.Status.PUBLISHED:
            moderation.counters_move(comment, +1)
            notify_posted(comment, author=author, named=named)
            search_index.comment_added(comment)
    return comment


def _own(member: Member, comment: Comment) -> None:
    if comment.member_id != member.pk:
        raise PermissionDenied(_("Only its author can change this comment."))
    if comment.status == Comment.Status.REMOVED:
        raise PermissionDenied(_("This comment was deleted."))


def _locked(comment: Comment) -> Comment:
    """The comment's row as it is now, locked until the transaction ends: what a change is
    decided on, so that two at once (two tabs, a double click, a moderator) both see the other."""
    return Comment.objects.select_for_update().get(pk=comment.pk)


@transaction.atomic
def comment_edit(*, member: Member, comment: Comment, body: str) -> Comment:
    """Change your own comment; the text it replaces is kept for moderators, whatever edits
    run at the same time."""
    _own(member, comment)
    if comment.is_deleted:
        raise PermissionDenied(_("This comment was deleted."))
    moderation.participation_check(member)
    body = clean_body(body)
    if body == comment.body:
        return comment
    named = mentions.mentioned(body)
    comment.body_html = render_comment_markdown(body, mentions.links(named))  # before the lock
    with stamps.discussion_write(lesson_id=comment.lesson_id):
        current = _locked(comment)
        _own(member, current)
        if current.is_deleted:
            raise PermissionDenied(_("This comment was deleted."))
        CommentRevision.objects.create(
            comment=current,
            body=current.body,
            written_at=current.edited_at or current.created_at,
        )
        comment.body = body
        comment.edited_at = timezone.now()
        comment.save(update_fields=["body", "body_html", "edited_at"])
        comment.status = current.status
        notify_edited(comment, author=member, before=current.body, named=named)
        search_index.comment_text_changed(comment)
    return comment


@transaction.atomic
def comment_delete(*, member: Member, comment: Comment) -> Comment:
    """Soft-delete your own comment: its replies stay readable under a placeholder. Deleting
    it again changes nothing (two requests at once both answer as the first)."""
    _own(member, comment)
    with stamps.discussion_write(lesson_id=comment.lesson_id):
        current = _locked(comment)
        _own(member, current)
        if not current.is_deleted:
            current.deleted_at = timezone.now()
            current.save(update_fields=["deleted_at"])
            if current.status == Comment.Status.PUBLISHED:
                moderation.counters_move(current, -1)
            withdraw(current)
            search_index.comment_removed(current)
    comment.deleted_at, comment.reply_count = current.deleted_at, current.reply_count
    return comment


def _curate(user: AbstractBaseUser, comment: Comment) -> None:
    member = getattr(user, "member", None)
    if member is not None:  # suspended: refused as every other action of theirs is
        moderation.participation_check(member)
    if not can_curate(user, comment.lesson):
        raise PermissionDenied(_("Only the lesson's teacher and moderators can do this."))


def comment_feature(*, user: AbstractBaseUser, comment: Comment, featured: bool) -> Comment:
    """Feature or unfeature, as the lesson's teacher or a moderator; recorded in the audit trail."""
    _curate(user, comment)
    action = moderation.Kind.FEATURE if featured else moderation.Kind.UNFEATURE
    moderation.comment_moderate(moderator=user, comment=comment, action=action)
    comment.refresh_from_db(fields=["is_featured", "featured_at"])
    return comment


def comment_pin(*, user: AbstractBaseUser, comment: Comment, pinned: bool) -> Comment:
    """Pin or unpin a top-level comment, as the lesson's teacher or a moderator; recorded."""
    _curate(user, comment)
    if comment.parent_id is not None:
        raise ValidationError(_("Only top-level comments can be pinned."), code="reply")
    action = moderation.Kind.PIN if pinned else moderation.Kind.UNPIN
    moderation.comment_moderate(moderator=user, comment=comment, action=action)
    comment.refresh_from_db(fields=["is_pinned", "pinned_at"])
    return comment
