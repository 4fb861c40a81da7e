"""What the forum's views share: who is asking, login for htmx, and Post/Redirect/Get."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django_htmx.http import HttpResponseClientRedirect

from forum import likes, services
from forum.models import Comment, Member
from lessons.models import Lesson

SORT_CHOICES = [
    ("featured", _("Featured")),
    ("hot", _("Most liked")),
    ("new", _("Newest")),
    ("old", _("Oldest")),
]


def member_required(view: Callable) -> Callable:
    """Log in first; htmx requests are sent to the login page as a whole page, not a swap."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        back = request.headers.get("HX-Current-URL") if request.htmx else None
        next_url = back or request.get_full_path()
        if request.htmx:
            login = reverse(settings.LOGIN_URL)
            return HttpResponseClientRedirect(f"{login}?next={quote(next_url)}")
        return redirect_to_login(next_url)

    return wrapper


# No lesson has a million pages of threads. Far past it, a page's offset (page × page size)
# overflows the databases' 64-bit integers: "bigint out of range" on PostgreSQL, "datatype
# mismatch" on SQLite.
MAX_PAGE = 1_000_000


def page_number(request: HttpRequest) -> int:
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        raise Http404("no such page") from None
    if not 1 <= page <= MAX_PAGE:
        raise Http404("no such page")
    return page


def viewer_member(request: HttpRequest) -> Member | None:
    return services.member_for(request.user) if request.user.is_authenticated else None


def mark_liked(viewer: Member | None, comments: list[Comment]) -> None:
    liked = likes.liked_comment_ids(viewer, comments)
    for comment in comments:
        comment.liked = comment.pk in liked


def discussion_context() -> dict:
    return {"thread_depth": settings.FORUM_THREAD_DEPTH, "sort_choices": SORT_CHOICES}


def viewer_context(request: HttpRequest, lesson: Lesson) -> dict:
    return {
        "viewer": viewer_member(request),
        "can_curate": services.can_curate(request.user, lesson),
        **discussion_context(),
    }


# What a like needs of a comment: whether it may be liked, the like button, and whether and
# how its author is told (forum.notifications).
LIKE_FIELDS = (
    "lesson_id",
    "member__user_id",
    "member__notification_settings",
    "root_id",
    "status",
    "deleted_at",
    "like_count",
    "imported_like_count",
)


def comment_or_404(request: HttpRequest, comment_id: int, *, for_like: bool = False) -> Comment:
    """A comment the asker may see: published, or their own awaiting review. With `for_like`,
    only the fields a like reads (LIKE_FIELDS); otherwise with its lesson and author."""
    if for_like:
        comments = Comment.objects.select_related("member").only(*LIKE_FIELDS)
    else:
        comments = Comment.objects.select_related("lesson__course__moderation", "member")
        # The lesson's article is long and no action on a comment shows it.
        comments = comments.defer(
            "lesson__body_markdown", "lesson__body_html", "lesson__body_blocks"
        )
    comment = get_object_or_404(comments, pk=comment_id)
    if comment.status != Comment.Status.PUBLISHED and not _own_pending(request, comment):
        raise Http404("no such comment")
    return comment


def _own_pending(request: HttpRequest, comment: Comment) -> bool:
    """Asks nothing of the database: the account's member was loaded with it (and an account
    without one wrote nothing)."""
    if comment.status != Comment.Status.PENDING or not request.user.is_authenticated:
        return False
    member = getattr(request.user, "member", None)
    return member is not None and comment.member_id == member.pk


def page_on_this_site(request: HttpRequest, url: str) -> str:
    """`url` without its anchor if it is a page of this site, else "". A path without its
    leading "/" is relative to nothing we know, and redirect() would take it for a view's name."""
    safe = url.startswith("/") or url.lower().startswith(("http://", "https://"))
    safe = safe and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url.split("#", 1)[0] if safe else ""


def back_to(request: HttpRequest, fallback: str, anchor: str) -> HttpResponse:
    """Post/Redirect/Get back to the page the form was on, at `anchor`: the form's own `next`
    when it carries one, else the Referer, else `fallback`."""
    page = page_on_this_site(request, request.POST.get("next", "")) or page_on_this_site(
        request, request.headers.get("Referer", "")
    )
    return redirect(f"{page or fallback}#{anchor}")
