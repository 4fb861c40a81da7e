"""Reads of the discussion: a lesson's threads at a fixed query cost."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Case, Count, F, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.db.models.functions import Coalesce

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


def shows_as_editor_reply(reply: Comment) -> bool:
    """Whether `reply` may be the 编辑回复 block of its parent's card: an imported staff reply
    that is not the teacher's (its label says which), on the same terms as an author reply."""
    return (
        not reply.is_author_reply
        and bool(reply.author_reply_label)
        and not reply.is_deleted
        and reply.status == Comment.Status.PUBLISHED
    )


def author_reply_of(comment: Comment) -> Comment | None:
    """The reply shown as the 作者回复 block of `comment`'s card, read from the database (a
    fragment after a change): the oldest that `shows_as_author_reply`."""
    return (
        comment.replies.counted().filter(is_author_reply=True).order_by("created_at", "pk").first()
    )


def _attach_replies(
    roots: list[Comment], replies: list[Comment], *, listed_anyway: Collection[int] = ()
) -> None:
    """Give every comment `.children` (replies in display order), `.reply_to` when a reply sits
    deeper than FORUM_THREAD_DEPTH and so shows one level up with "回复 @name", `.author_reply`:
    the first teacher's reply to it, and `.editor_reply`: the first imported 编辑回复.

    Those two show once, as blocks of the commenter's card, and are not among its `.children`;
    the block links to the answer's own thread. `listed_anyway` (a permalink's focus, the chain
    down to it, answers whose replies it shows) stay listed as replies too."""
    deepest = settings.FORUM_THREAD_DEPTH - 1
    by_id = {c.pk: c for c in roots}
    for comment in [*roots, *replies]:
        comment.children = []
        comment.reply_to = None
        comment.author_reply = None
        comment.editor_reply = None
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
        in_card = False
        if parent.author_reply is None and shows_as_author_reply(reply):
            parent.author_reply, in_card = reply, True
        elif parent.editor_reply is None and shows_as_editor_reply(reply):
            parent.editor_reply, in_card = reply, True
        if not (in_card and holder is parent and reply.pk not in listed_anyway):
            holder.children.append(reply)


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
    block: str = "",
) -> ThreadPage:
    """One page of a lesson's top-level comments with all their replies, in three queries:
    the page's ids (from the sort's index alone, however deep the page), their rows, their
    replies. With `block`, only the comments on that block of the lesson (forum.anchoring)."""
    per_page = per_page or settings.FORUM_COMMENTS_PER_PAGE
    top_level: CommentQuerySet = Comment.objects.for_lesson(lesson).visible_to(viewer).top_level()
    if block:
        top_level = top_level.filter(block_id=block)
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


# A permalink shows a window of its thread, however deep the chain (a 1,000-deep chain cost
# 1.1–2.8 s and 2 MB a request when the page held the whole thread): this many ancestors above
# the comment, this many levels of replies below it, and at most this many replies in all.
WINDOW_ANCESTORS = 5
WINDOW_LEVELS = 4
WINDOW_REPLIES = 50


@dataclass
class ThreadWindow:
    top: Comment  # the highest comment shown, with `.children`
    everything: list[Comment]  # every comment shown, flat
    continues_above: int | None  # the comment above `top` whose permalink goes on up


def thread_window(comment: Comment, viewer: Member | None = None) -> ThreadWindow:
    """`comment` in its thread: the chain of its ancestors up to WINDOW_ANCESTORS, and its
    replies WINDOW_LEVELS deep, WINDOW_REPLIES at most, oldest first level by level (a
    comment whose replies are left out gets `.more_below`, a link to its own permalink).
    Other branches of the thread are left to their own permalinks and the lesson page.
    Queries: one for the ancestors' ids, one for their rows, one per level of replies, and
    one for the author replies of ancestors whose block is on a branch left out."""
    visible = Comment.objects.visible_to(viewer).select_related("member")
    # One ancestor more than shown: the link up is there only if the viewer may see it.
    hops = ["parent_id", *("parent__" * n + "parent_id" for n in range(1, WINDOW_ANCESTORS + 1))]
    chain = Comment.objects.filter(pk=comment.pk).values_list(*hops).get()
    # Each ancestor's 作者回复 block (`author_reply_of`), which may sit on a branch not shown.
    first_author_reply = (
        Comment.objects.counted()
        .filter(parent=OuterRef("pk"), is_author_reply=True)
        .order_by("created_at", "pk")
        .values("pk")[:1]
    )
    rows = visible.annotate(author_reply_id=Subquery(first_author_reply)).in_bulk(
        [pk for pk in chain if pk is not None]
    )
    above = []  # the ancestors shown, nearest first; one the viewer cannot see ends the chain
    for pk in chain[:WINDOW_ANCESTORS]:
        if pk not in rows:
            break
        above.append(rows[pk])
    top = above[-1] if above else comment
    continues_above = chain[-1] if len(above) == WINDOW_ANCESTORS and chain[-1] in rows else None

    below: list[Comment] = []
    level = [comment]
    for _ in range(WINDOW_LEVELS):
        budget = WINDOW_REPLIES - len(below)
        if not level or budget <= 0:
            break
        replies = visible.filter(parent__in=level).order_by("-is_author_reply", "created_at", "pk")
        level = list(replies[:budget])
        below += level
    replies_shown = Counter(reply.parent_id for reply in below)
    for reply in below:  # the focused comment's own page is this one: it gets no link
        reply.more_below = reply.reply_count > replies_shown[reply.pk]

    chain_down = [*reversed(above[:-1]), comment] if above else []
    replies = sorted(
        [*chain_down, *below], key=lambda c: (not c.is_author_reply, c.created_at, c.pk)
    )
    listed_anyway = {c.pk for c in chain_down} | {r.pk for r in below if r.reply_count}
    _attach_replies([top], replies, listed_anyway=listed_anyway)
    blocks = Comment.objects.select_related("member").in_bulk(
        [a.author_reply_id for a in above if a.author_reply_id and a.author_reply is None]
    )
    for ancestor in above:
        ancestor.author_reply = ancestor.author_reply or blocks.get(ancestor.author_reply_id)
    return ThreadWindow(top, [top, *replies], continues_above)


# A member's profile ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileCounts:
    comments: int  # visible: published, not deleted
    likes: int  # received on those comments, imported likes included
    answers: int  # 作者回复 among them


def profile_counts(member: Member) -> ProfileCounts:
    """What a profile counts, in one query: only what everyone can see counts."""
    totals = (
        Comment.objects.counted()
        .filter(member=member)
        .aggregate(
            comments=Count("pk"),
            likes=Coalesce(Sum("like_count"), 0),
            answers=Count("pk", filter=Q(is_author_reply=True)),
        )
    )
    return ProfileCounts(**totals)


def profile_comments(member: Member, *, page: int, per_page: int) -> tuple[list[Comment], bool]:
    """A page of the member's visible comments, newest first, each with its lesson and course;
    and whether an older page follows. One query, served by the member's index."""
    start = (page - 1) * per_page
    comments = list(
        Comment.objects.counted()
        .filter(member=member)
        .select_related("lesson__course")
        .defer(
            "body",
            "lesson__body_markdown",
            "lesson__body_html",
            "lesson__body_blocks",
            "lesson__course__description",
        )
        .order_by("-created_at", "-pk")[start : start + per_page + 1]
    )
    return comments[:per_page], len(comments) > per_page


def course_teachers(course) -> QuerySet[Member]:
    """The members with a profile who teach `course` (a Course, or an OuterRef to one), in the
    order its teacher line names them: the one the import made for that line first (it keeps
    its import key once linked to an account), then accounts."""
    imported_first = Case(When(import_key="", then=1), default=0)
    return Member.objects.filter(courses_taught=course, slug__isnull=False).order_by(
        imported_first, F("user").asc(nulls_last=True), "pk"
    )


def teacher_slug(course: str = "course") -> Subquery:
    """For a query of lessons (or of courses, with `course="pk"`): the profile address of the
    member the course's teacher line names, so that the line links to them at no extra query."""
    return Subquery(course_teachers(OuterRef(course)).values("slug")[:1])
