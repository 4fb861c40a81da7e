"""Reads of the discussion: a lesson's threads at a fixed query cost."""

from __future__ import annotations

from dataclasses import dataclass

from forum.models import Comment
from lessons.models import Lesson

PER_PAGE = 20


@dataclass
class ThreadPage:
    comments: list[Comment]  # top-level comments, each with `.children` (its replies, in order)
    number: int
    has_next: bool
    top_level_total: int


def thread_for(lesson: Lesson, *, page: int = 1, per_page: int = PER_PAGE) -> ThreadPage:
    """One page of a lesson's top-level comments with all their replies, in three queries."""
    visible = Comment.objects.for_lesson(lesson).published().select_related("member")
    top_level = visible.top_level()
    start = (page - 1) * per_page
    comments = list(top_level.in_featured_order()[start : start + per_page + 1])
    has_next = len(comments) > per_page
    comments = comments[:per_page]
    by_id = {c.pk: c for c in comments}
    for comment in comments:
        comment.children = []
    replies = list(visible.filter(root__in=by_id).order_by("-is_author_reply", "created_at", "pk"))
    for reply in replies:
        reply.children = []
        by_id[reply.pk] = reply
    for reply in replies:
        parent = by_id.get(reply.parent_id)
        if parent is not None:
            parent.children.append(reply)
    return ThreadPage(comments, page, has_next, top_level.count())
