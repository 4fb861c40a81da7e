"""Rendered threads for anonymous readers, cached in the shared cache.

A thread's key holds its `version` (moved by every change in the thread, see forum.activity),
the cache-wide generation (moved when a member's name or avatar changes), the language and the
display depth, so a cached thread is never stale on any app server. Signed-in readers see their
own likes and controls, so their threads are always rendered fresh.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.translation import get_language

from forum.activity import generation
from forum.models import Comment
from forum.selectors import attach_replies
from lessons.models import Lesson

TIMEOUT = 24 * 3600


def _key(root: Comment, gen: str) -> str:
    return f"thread:{get_language()}:{gen}:{settings.FORUM_THREAD_DEPTH}:{root.pk}:{root.version}"


def render_cached(lesson: Lesson, roots: list[Comment]) -> None:
    """Give each root `.cached_html`: from the cache, or rendered now (one query for all the
    replies of the threads that missed) and stored."""
    gen = generation()
    keys = {root.pk: _key(root, gen) for root in roots}
    found = cache.get_many(keys.values())
    missing = [root for root in roots if keys[root.pk] not in found]
    attach_replies(missing, None)
    fresh = {}
    for root in missing:
        fresh[keys[root.pk]] = render_to_string(
            "forum/includes/comment.html",
            {
                "comment": root,
                "lesson": lesson,
                "viewer": None,
                "can_curate": False,
                "thread_depth": settings.FORUM_THREAD_DEPTH,
            },
        )
    if fresh:
        cache.set_many(fresh, TIMEOUT)
    found |= fresh
    for root in roots:
        root.cached_html = found[keys[root.pk]]
