"""The lesson page and its discussion: posting, replying, editing, deleting, curating."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import reswap, retarget

from forum import services
from forum.anchoring import block_counts, units_with_counts
from forum.caching.pages import shared_copies
from forum.models import Comment, LessonLike
from forum.ratelimit import rate_limited
from forum.selectors import (
    DEFAULT_SORT,
    SORTS,
    author_reply_of,
    teacher_slug,
    thread_for,
    thread_window,
)
from forum.views.common import (
    back_to,
    comment_or_404,
    mark_liked,
    member_required,
    page_number,
    page_on_this_site,
    viewer_context,
    viewer_member,
)
from lessons.anchors import BLOCK_ID
from lessons.models import Lesson

BLOCK_SAMPLE = "b0000000000"
HTMX_TARGETS = {"comment-list-more": "#comment-page", "discussion-threads": "#discussion-threads"}


def discussion_params(request: HttpRequest) -> tuple[str, int, str, str]:
    """What a lesson page shows, from its request: the sort (the default for anything else),
    the page (Http404 if it is not one), the fragment an htmx request asks for ("" for the
    whole page, and for a target that is not one of them) and the block whose comments it
    lists ("" for all; one that is not an anchor is ignored)."""
    sort = request.GET.get("sort", DEFAULT_SORT)
    target = request.htmx.target if request.htmx else ""
    block = request.GET.get("block", "")
    return (
        sort if sort in SORTS else DEFAULT_SORT,
        page_number(request),
        target if target in HTMX_TARGETS else "",
        block if BLOCK_ID.fullmatch(block) else "",
    )


def _lessons(course_slug: str, lesson_slug: str) -> QuerySet[Lesson]:
    return Lesson.objects.filter(course__slug=course_slug, slug=lesson_slug)


def _lesson_id(course_slug: str, lesson_slug: str) -> int | None:
    return _lessons(course_slug, lesson_slug).values_list("pk", flat=True).first()


@require_safe
@shared_copies(params=discussion_params, lesson=_lesson_id)
def lesson_page(request: HttpRequest, course_slug: str, lesson_slug: str) -> HttpResponse:
    """The lesson and a page of its threads (or the fragment an htmx request asks for)."""
    sort, page, target, block = discussion_params(request)
    viewer = viewer_member(request)
    lessons = _lessons(course_slug, lesson_slug).select_related("course")
    lessons = lessons.annotate(teacher_slug=teacher_slug())
    if viewer is not None:
        lessons = lessons.annotate(
            liked=Exists(LessonLike.objects.filter(member=viewer, lesson=OuterRef("pk")))
        )
    lesson = get_object_or_404(lessons)
    threads = thread_for(lesson, viewer=viewer, sort=sort, page=page, block=block)
    if page > 1 and not threads.comments:
        raise Http404("no such page")
    mark_liked(viewer, threads.everything)
    context = viewer_context(request, lesson)
    # The page's own URL, of what it shows alone: parameters it does not know change nothing.
    query = urlencode(
        [("block", block)] * bool(block)
        + [("sort", sort)] * (sort != DEFAULT_SORT)
        + [("page", page)] * (page != 1)
    )
    page_url = lesson.get_absolute_url() + (f"?{query}" if query else "")
    context["here"] = context["page_url"] = page_url
    context.update(lesson=lesson, threads=threads, passage=_passage(lesson, block))
    template = "forum/lesson.html"
    if target:
        return TemplateResponse(request, template + HTMX_TARGETS[target], context)
    context.update(_body_context(lesson))
    siblings = list(
        Lesson.objects.filter(course=lesson.course).in_reading_order().values_list("slug", "title")
    )
    index = [slug for slug, _ in siblings].index(lesson.slug)
    context["previous_lesson"] = siblings[index - 1] if index > 0 else None
    context["next_lesson"] = siblings[index + 1] if index + 1 < len(siblings) else None
    return TemplateResponse(request, template, context)


def _body_context(lesson: Lesson) -> dict:
    """The lesson's body cut at its blocks, each with its comment count (one query)."""
    # A block's comments are at blocks_url + its anchor + "/": one reverse() for the page, not
    # one per block.
    sample = reverse("forum:block-comments", args=[lesson.pk, BLOCK_SAMPLE])
    return {
        "body_units": units_with_counts(lesson.body_blocks, block_counts(lesson)),
        "lesson_url": lesson.get_absolute_url(),
        "blocks_url": sample.removesuffix(f"{BLOCK_SAMPLE}/"),
    }


def _passage(lesson: Lesson, block: str) -> dict | None:
    """The block a discussion is filtered to: its anchor and text ("" once it is gone from the
    lesson: its comments still quote it)."""
    return {"id": block, "text": lesson.blocks.get(block, "")} if block else None


@require_safe
def block_comments(request: HttpRequest, lesson_id: int, block: str) -> HttpResponse:
    """A block's comments, in the page's sort, with a form to add one: the fragment the block's
    count opens under it (htmx), or a page of its own."""
    lesson = get_object_or_404(Lesson.objects.select_related("course"), pk=lesson_id)
    if not BLOCK_ID.fullmatch(block):
        raise Http404("no such block")
    sort = request.GET.get("sort", DEFAULT_SORT)
    sort = sort if sort in SORTS else DEFAULT_SORT
    viewer = viewer_member(request)
    threads = thread_for(lesson, viewer=viewer, sort=sort, block=block)
    mark_liked(viewer, threads.everything)
    context = viewer_context(request, lesson)
    here = reverse("forum:block-comments", args=[lesson.pk, block])
    context.update(lesson=lesson, threads=threads, passage=_passage(lesson, block), here=here)
    if request.htmx:
        return TemplateResponse(request, "forum/passage.html#block-panel", context)
    return TemplateResponse(request, "forum/passage.html", context)


def thread_page(
    request: HttpRequest,
    comment: Comment,
    *,
    open_form: str = "",
    form: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    """The permalink page: the comment in a window of its thread (`thread_window`); also the
    no-JS reply and edit forms."""
    lesson = comment.lesson
    viewer = viewer_member(request)
    window = thread_window(comment, viewer)
    mark_liked(viewer, window.everything)
    context = {
        "lesson": lesson,
        "focus": comment,
        "thread": window.top,
        "continues_above": window.continues_above,
        "open_form": open_form,
        "form": form or ({"body": comment.body} if open_form == "edit" else {}),
        "here": comment.url,
        **viewer_context(request, lesson),
    }
    return TemplateResponse(request, "forum/thread.html", context, status=status)


def _comment_lesson_id(comment_id: int) -> int | None:
    return Comment.objects.filter(pk=comment_id).values_list("lesson_id", flat=True).first()


@require_safe
@shared_copies(params=lambda request: (), lesson=_comment_lesson_id)
def comment_detail(request: HttpRequest, comment_id: int) -> HttpResponse:
    """A comment's permalink: the page depends on nothing in the query string."""
    return thread_page(request, comment_or_404(request, comment_id))


def _comment_fragment(
    request: HttpRequest, comment: Comment, partial: str, **extra
) -> HttpResponse:
    """One comment's fragment after a change; its replies are already on the page."""
    comment.children = getattr(comment, "children", [])
    comment.reply_to = getattr(comment, "reply_to", None)
    if comment.reply_count:
        comment.author_reply = author_reply_of(comment)
    context = {"comment": comment, "lesson": comment.lesson, **extra}
    context.update(viewer_context(request, comment.lesson))
    return render(request, f"forum/includes/comment.html#{partial}", context)


@require_POST
@member_required
@rate_limited("post")
def comment_create(request: HttpRequest, lesson_id: int) -> HttpResponse:
    lesson = get_object_or_404(Lesson.objects.select_related("course__moderation"), pk=lesson_id)
    author = services.member_for(request.user)
    body = request.POST.get("body", "")
    block = request.POST.get("block", "")  # one that is no block of the lesson is refused
    try:
        comment = services.comment_post(
            author=author,
            lesson=lesson,
            body=body,
            submission=request.POST.get("submission", ""),
            block=block,
        )
    except ValidationError as error:
        form = {"body": body, "errors": error.messages}
        block = block if BLOCK_ID.fullmatch(block) else ""
        passage = _passage(lesson, block)
        if request.htmx:
            partial = "passage.html#block-comment-form" if block else "lesson.html#comment-form"
            response = render(
                request,
                f"forum/{partial}",
                {"lesson": lesson, "form": form, "passage": passage},
            )
            target = f"#comment-form-{block}" if block else "#comment-form"
            return reswap(retarget(response, target), "outerHTML")
        context = {"lesson": lesson, "form": form, "passage": passage}
        context["threads"] = thread_for(lesson, viewer=author, block=block)
        context.update(_body_context(lesson))
        context.update(viewer_context(request, lesson))
        return render(request, "forum/lesson.html", context, status=400)
    if request.htmx:
        comment.member = author
        extra = {}
        if comment.block_id and comment.status == Comment.Status.PUBLISHED:
            # The block's count beside it goes up with the comment (out of band).
            count = block_counts(lesson).get(comment.block_id, 0)
            extra = {"counted_block": {"id": comment.block_id, "count": count}}
        return _comment_fragment(request, comment, "new-comment", **extra)
    # Its own page, as a reply's: on the lesson page a new comment comes after the pinned and
    # featured ones (30 on many imported lessons), so it is often not on the page shown first.
    return redirect(comment.get_absolute_url())


@require_http_methods(["GET", "POST"])
def comment_reply(request: HttpRequest, comment_id: int) -> HttpResponse:
    """GET: the reply form (a fragment for htmx); POST: post the reply."""
    if request.method == "POST":
        return reply_create(request, comment_id)
    return reply_form(request, comment_id)


@require_http_methods(["GET", "POST"])
def comment_edit(request: HttpRequest, comment_id: int) -> HttpResponse:
    """GET: the edit form (a fragment for htmx); POST: save the new text."""
    if request.method == "POST":
        return comment_update(request, comment_id)
    return edit_form(request, comment_id)


@member_required
def reply_form(request: HttpRequest, comment_id: int) -> HttpResponse:
    comment = comment_or_404(request, comment_id)
    if not request.htmx:
        return thread_page(request, comment, open_form="reply")
    return _comment_fragment(request, comment, "reply-form", form={})


@member_required
@rate_limited("reply")
def reply_create(request: HttpRequest, comment_id: int) -> HttpResponse:
    parent = comment_or_404(request, comment_id)
    author = services.member_for(request.user)
    body = request.POST.get("body", "")
    try:
        reply = services.comment_post(
            author=author,
            lesson=parent.lesson,
            parent=parent,
            body=body,
            submission=request.POST.get("submission", ""),
        )
    except ValidationError as error:
        form = {"body": body, "errors": error.messages}
        if request.htmx:
            response = _comment_fragment(request, parent, "reply-form", form=form)
            return reswap(retarget(response, f"#reply-slot-{parent.pk}"), "innerHTML")
        return thread_page(request, parent, open_form="reply", form=form, status=400)
    if request.htmx:
        reply.member = author
        reply.lesson = parent.lesson
        reply.reply_to = parent if parent.depth >= settings.FORUM_THREAD_DEPTH - 1 else None
        parent.reply_count += 1
        # The teacher's first answer also shows in the commenter's card, as after a reload.
        first_answer = reply.is_author_reply and author_reply_of(parent) == reply
        return _comment_fragment(
            request,
            reply,
            "new-reply",
            parent=parent,
            parent_author_reply=reply if first_answer else None,
        )
    return redirect(f"{reverse('forum:comment', args=[reply.pk])}#comment-{reply.pk}")


@member_required
def edit_form(request: HttpRequest, comment_id: int) -> HttpResponse:
    comment = comment_or_404(request, comment_id)
    if comment.member.user_id != request.user.pk:
        raise PermissionDenied
    if not request.htmx:
        return thread_page(request, comment, open_form="edit")
    return _comment_fragment(request, comment, "edit-form", form={"body": comment.body})


@member_required
@rate_limited("edit")
def comment_update(request: HttpRequest, comment_id: int) -> HttpResponse:
    comment = comment_or_404(request, comment_id)
    body = request.POST.get("body", "")
    try:
        comment = services.comment_edit(
            member=services.member_for(request.user), comment=comment, body=body
        )
    except ValidationError as error:
        form = {"body": body, "errors": error.messages}
        if request.htmx:
            return _comment_fragment(request, comment, "edit-form", form=form)
        return thread_page(request, comment, open_form="edit", form=form, status=400)
    if request.htmx:
        return _comment_fragment(request, comment, "comment-content")
    return redirect(f"{reverse('forum:comment', args=[comment.pk])}#comment-{comment.pk}")


@require_POST
@member_required
def comment_delete(request: HttpRequest, comment_id: int) -> HttpResponse:
    comment = comment_or_404(request, comment_id)
    services.comment_delete(member=services.member_for(request.user), comment=comment)
    if request.htmx:
        if comment.reply_count == 0:  # the list item that holds it goes too, from the form up
            return reswap(retarget(HttpResponse(""), "closest li"), "delete")
        return _comment_fragment(request, comment, "comment-content")
    if comment.reply_count == 0:
        return redirect(f"{comment.lesson.get_absolute_url()}#comments")
    return redirect(f"{reverse('forum:comment', args=[comment.pk])}#comment-{comment.pk}")


@require_POST
@member_required
def comment_curate(request: HttpRequest, comment_id: int, action: str) -> HttpResponse:
    """Feature/unfeature and pin/unpin: `action` is feature, unfeature, pin or unpin."""
    comment = comment_or_404(request, comment_id)
    try:
        if action in {"feature", "unfeature"}:
            services.comment_feature(
                user=request.user, comment=comment, featured=action == "feature"
            )
        else:
            services.comment_pin(user=request.user, comment=comment, pinned=action == "pin")
    except ValidationError as error:
        return HttpResponse(" ".join(error.messages), status=400)
    if request.htmx:
        here = page_on_this_site(request, request.POST.get("next", ""))
        return _comment_fragment(request, comment, "comment-content", here=here)
    return back_to(request, comment.lesson.get_absolute_url(), f"comment-{comment.pk}")
