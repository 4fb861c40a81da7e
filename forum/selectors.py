"""Reads of the discussion: a lesson's threads at a fixed query cost."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from forum.models import Comment, CommentQuerySet, Member
from forum.models.discussion import FEATURED_ORDER
from lessons.models import Lesson

SORTS = {
    "featured": FEATURED_ORDER,
    "hot": ("-like_count", "-created_at", "-pk"),
    "new": ("-created_at", "-pk"),
    "old": ("created_at", "pk"),
}
DEFAULT_SORT = "featured"


@dataclass
class ThreadPage:
    comments: list[Comment]  # top-level comments, each with `.children`
    everything: list[Comment]  # the same comments and all their replies, flat
    sort: str
    number: int
    has_next: bool
    top_level_total: int


def shows_as_author_reply(reply: Comment) -> bool:
    """Whether `reply` may be the 作者回复 block of its parent's card: a deleted reply stays in
    the thread as a placeholder while it has replies, and one in review is its author's alone."""
    return (
        reply.is_author_reply and not reply.is_deleted and reply.status == Comment.Status.PUBLISHED
    )


def author_reply_of(comment: Comment) -> Comment | None:
    """The reply shown as the 作者回复 block of `comment`'s card, read from the database (a
    fragment after a change): the oldest that `shows_as_author_reply`."""
    return (
        comment.replies.counted().filter(is_author_reply=True).order_by("created_at", "pk").first()
    )


def _attach_replies(roots: list[Comment], replies: list[Comment]) -> None:
    """Give every comment `.children` (replies in display order), `.reply_to` when a reply sits
    deeper than FORUM_THREAD_DEPTH and so shows one level up with "回复 @name", and
    `.author_reply`: the first teacher's reply to it, wherever that reply is displayed."""
    deepest = settings.FORUM_THREAD_DEPTH - 1
    by_id = {c.pk: c for c in roots}
    for comment in [*roots, *replies]:
        comment.children = []
        comment.reply_to = None
        comment.author_reply = None
        by_id[comment.pk] = comment
    for reply in replies:  # author replies first, then oldest first
        parent = by_id.get(reply.parent_id)
        if parent is None:
            continue
        holder = parent
        while holder.depth >= deepest and holder.parent_id in by_id:
            holder = by_id[holder.parent_id]
        if holder is not parent:
            reply.reply_to = parent
        holder.children.append(reply)
        if parent.author_reply is None and shows_as_author_reply(reply):
            parent.author_reply = reply


def _visible_replies(roots: list[Comment], viewer: Member | None) -> list[Comment]:
    return list(
        Comment.objects.visible_to(viewer)
        .filter(root__in=roots)
        .select_related("member")
        .order_by("-is_author_reply", "created_at", "pk")
    )


def thread_for(
    lesson: Lesson,
    *,
    viewer: Member | None = None,
    sort: str = DEFAULT_SORT,
    page: int = 1,
    per_page: int | None = None,
) -> ThreadPage:
    """One page of a lesson's top-level comments with all their replies, in three queries:
    the page's ids (from the sort's index alone, however deep the page), their rows, their
    replies."""
    per_page = per_page or settings.FORUM_COMMENTS_PER_PAGE
    top_level: CommentQuerySet = Comment.objects.for_lesson(lesson).visible_to(viewer).top_level()
    start = (page - 1) * per_page
    window = top_level.order_by(*SORTS[sort]).values_list("pk", flat=True)
    ids = list(window[start : start + per_page + 1])
    has_next = len(ids) > per_page
    ids = ids[:per_page]
    rows = Comment.objects.select_related("member").in_bulk(ids)
    roots = [rows[pk] for pk in ids if pk in rows]  # gone since the first query: left out
    replies = attach_replies(roots, viewer)
    return ThreadPage(roots, [*roots, *replies], sort, page, has_next, lesson.thread_count)


def attach_replies(roots: list[Comment], viewer: Member | None) -> list[Comment]:
    """Fetch the replies of `roots` in one query and hang them into the tree; returns them."""
    replies = _visible_replies(roots, viewer) if roots else []
    _attach_replies(roots, replies)
    return replies


def thread_of(comment: Comment, viewer: Member | None = None) -> tuple[Comment, list[Comment]]:
    """The thread `comment` belongs to: its top-level comment with `.children`, and all of
    the thread's comments flat."""
    root = Comment.objects.select_related("member").get(pk=comment.root_id or comment.pk)
    return root, [root, *attach_replies([root], viewer)]
