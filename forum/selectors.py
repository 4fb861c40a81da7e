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


def _attach_replies(roots: list[Comment], replies: list[Comment]) -> None:
    """Give every comment `.children` (replies in display order) and `.reply_to` when a
    reply sits deeper than FORUM_THREAD_DEPTH and so shows one level up with "回复 @name"."""
    deepest = settings.FORUM_THREAD_DEPTH - 1
    by_id = {c.pk: c for c in roots}
    for comment in [*roots, *replies]:
        comment.children = []
        comment.reply_to = None
        by_id[comment.pk] = comment
    for reply in replies:
        parent = by_id.get(reply.parent_id)
        if parent is None:
            continue
        holder = parent
        while holder.depth >= deepest and holder.parent_id in by_id:
            holder = by_id[holder.parent_id]
        if holder is not parent:
            reply.reply_to = parent
        holder.children.append(reply)
    for comment in by_id.values():
        comment.author_reply = next(
            (c for c in comment.children if c.is_author_reply and c.parent_id == comment.pk), None
        )


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
    with_replies: bool = True,
) -> ThreadPage:
    """One page of a lesson's top-level comments with all their replies, in three queries.
    Without `with_replies` the caller brings the replies (see forum.thread_cache)."""
    per_page = per_page or settings.FORUM_COMMENTS_PER_PAGE
    top_level: CommentQuerySet = Comment.objects.for_lesson(lesson).visible_to(viewer).top_level()
    start = (page - 1) * per_page
    window = top_level.select_related("member").order_by(*SORTS[sort])[start : start + per_page + 1]
    roots = list(window)
    has_next = len(roots) > per_page
    roots = roots[:per_page]
    replies = attach_replies(roots, viewer) if with_replies else []
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
