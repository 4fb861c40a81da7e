"""CSRF and access control, for every URL of the project.

The URL table is checked against the URL resolver, so a new view cannot appear without saying
what it does; every state-changing URL refuses a POST without a CSRF token and a GET. The role
matrix then gives each role's exact answer for each action on own, others', removed, deleted
and missing comments.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, path, reverse
from django.utils import timezone

import forum.urls
import lessons.views
from forum import likes, moderation, services
from forum.avatars import avatar_set
from forum.models import (
    Comment,
    CommentLike,
    LessonLike,
    Member,
    Notification,
    QueueDismissal,
    Report,
)
from forum.notifications.unsubscribe import unsubscribe_token
from lessons.revisions import revision_record
from tests.factories import (
    CommentFactory,
    CourseFactory,
    LessonFactory,
    UserFactory,
    moderator,
    teacher_of,
)
from tests.forum import test_leaving as leaving_tests
from tests.forum.image_files import image_bytes

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
# Covered by their own projects and tests: the admin and allauth's account pages.
FOREIGN_URLCONFS = {"allauth.urls"}


@pytest.fixture(autouse=True)
def no_rate_limits(settings):
    settings.FORUM_RATE_LIMIT_SCALE = 0


def project_urls() -> dict[str, URLPattern]:
    """Every URL pattern of the project outside the admin and allauth, by its name."""
    found: dict[str, URLPattern] = {}

    def walk(patterns: list, namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if (
                    entry.app_name == "admin"
                    or getattr(entry.urlconf_module, "__name__", "") in FOREIGN_URLCONFS
                ):
                    continue
                inner = ":".join(part for part in (namespace, entry.namespace) if part)
                walk(entry.url_patterns, inner)
            else:
                name = entry.name or f"<unnamed {entry.pattern}>"
                found[f"{namespace}:{name}" if namespace else name] = entry

    walk(get_resolver().url_patterns, "")
    return found


# ---------------------------------------------------------------------------------------------
# The world each URL is requested in, and what the table's actors are.


@dataclass
class World:
    lesson: object
    comment: Comment  # published, top-level, by `author`
    author: object
    other: object
    moderator: object
    imported: Member  # an imported commenter no account holds, whom members may claim
    teacher: object = None  # teaches the lesson's course


@pytest.fixture
def world() -> World:
    author, other, curator = UserFactory(), UserFactory(), moderator()
    # Members are made on first use; make them now, so a refused request changes no row.
    services.member_for(other)
    services.member_for(curator)
    comment = CommentFactory(member=services.member_for(author))
    imported = Member.objects.create(display_name="Geek_e9e5f5", import_key="imported")
    teacher = teacher_of(comment.lesson.course).user
    return World(comment.lesson, comment, author, other, curator, imported, teacher)


def comment_liked(world: World) -> None:
    likes.like_add(member=services.member_for(world.other), comment=world.comment)


def lesson_liked(world: World) -> None:
    likes.lesson_like_add(member=services.member_for(world.other), lesson=world.lesson)


def revised(world: World) -> None:
    """The lesson's body as two revisions, so that its history has a diff to show."""
    revision_record(lesson=world.lesson)
    world.lesson.body_markdown += "\n\n补充的一段。"
    world.lesson.save()
    revision_record(lesson=world.lesson)


def featured(world: World) -> None:
    Comment.objects.filter(pk=world.comment.pk).update(is_featured=True, featured_at=timezone.now())


def pinned(world: World) -> None:
    Comment.objects.filter(pk=world.comment.pk).update(is_pinned=True, pinned_at=timezone.now())


def notified(world: World) -> None:
    Notification.objects.create(
        recipient=services.member_for(world.author), kind="reply", comment=world.comment
    )
    Member.objects.filter(user=world.author).update(unread_notifications=1)


def notified_and_read(world: World) -> None:
    """Opening a notification marks it read: a link's GET, on purpose (the state it changes is
    the reader's own; tests/forum/test_notification_pages.py). Read already, it changes nothing."""
    Notification.objects.create(
        recipient=services.member_for(world.author),
        kind="reply",
        comment=world.comment,
        read_at=timezone.now(),
    )


class AvatarFile(io.BytesIO):
    """An uploaded PNG that each request reads whole (the table posts its data more than once)."""

    name = "avatar.png"

    def read(self, *args) -> bytes:
        self.seek(0)
        return super().read(*args)


def avatar_stored(world: World) -> None:
    member = services.member_for(world.author)
    avatar_set(member=member, upload=SimpleUploadedFile("a.png", image_bytes()))


def dismissed(world: World) -> None:
    QueueDismissal.objects.create(comment=world.comment, member=world.teacher.member)


SETTINGS = {"language": "en", **{kind: "page" for kind in Notification.Kind.values}}


@dataclass(frozen=True)
class Url:
    """What a URL answers `who` (author, other or moderator) with a CSRF token.

    get: 200 for a page or a form, which change nothing (302 for the language switch, which
    sets a cookie and goes back, and for /favicon.ico, which leads to the icon); 405 when only
    POST is allowed.
    post: 405 for read-only pages; 302 when the POST changes data (after `before` has put the
    world in a state the POST changes).
    signed: the POST is authorized by a signed token in the URL instead of a session and a
    CSRF token (an email's one-click unsubscribe, which mail clients post with neither).
    download: the POST answers with a file and changes no row (it is a POST for its CSRF token
    and its rate limit).
    reauthenticated: the page asks for the password again unless it was given in the last few
    minutes (allauth's "confirm access"); the client has just given it.
    """

    get: int
    post: int = 405
    who: str = "author"
    data: dict = field(default_factory=dict)
    before: Callable[[World], None] | None = None
    signed: bool = False
    download: bool = False
    reauthenticated: bool = False

    @property
    def changes_state(self) -> bool:
        return self.post != 405 and not self.download


URLS = {
    "language": Url(get=302),
    "favicon": Url(get=302),
    "lessons:home": Url(get=200),
    "lessons:course": Url(get=200),
    "forum:lesson": Url(get=200),
    "forum:block-comments": Url(get=200),
    "lessons:revisions": Url(get=200, before=revised),
    "lessons:revision": Url(get=200, before=revised),
    "forum:comment": Url(get=200),
    "forum:comment-likers": Url(get=200),
    "forum:comment-create": Url(get=405, post=302, who="other", data={"body": "新留言"}),
    "forum:comment-reply": Url(get=200, post=302, who="other", data={"body": "回复一下"}),
    "forum:comment-edit": Url(get=200, post=302, data={"body": "改过的留言"}),
    "forum:comment-delete": Url(get=405, post=302),
    "forum:comment-report": Url(get=200, post=302, who="other", data={"reason": "spam"}),
    "forum:comment-like": Url(get=405, post=302, who="other"),
    "forum:comment-unlike": Url(get=405, post=302, who="other", before=comment_liked),
    "forum:lesson-like": Url(get=405, post=302, who="other"),
    "forum:lesson-unlike": Url(get=405, post=302, who="other", before=lesson_liked),
    "forum:comment-feature": Url(get=405, post=302, who="moderator"),
    "forum:comment-unfeature": Url(get=405, post=302, who="moderator", before=featured),
    "forum:comment-pin": Url(get=405, post=302, who="moderator"),
    "forum:comment-unpin": Url(get=405, post=302, who="moderator", before=pinned),
    "forum:unsubscribe": Url(
        get=200, post=200, data={"List-Unsubscribe": "One-Click"}, signed=True
    ),
    "forum:notifications": Url(get=200),
    "forum:notification": Url(get=302, before=notified_and_read),
    "forum:notifications-read": Url(get=405, post=302, before=notified),
    "forum:settings": Url(get=200, post=302, data=SETTINGS),
    "forum:settings-avatar": Url(get=405, post=302, data={"avatar": AvatarFile(image_bytes())}),
    "forum:settings-avatar-remove": Url(get=405, post=302, before=avatar_stored),
    "media": Url(get=200, before=avatar_stored),
    "forum:member": Url(get=200),
    "forum:search": Url(get=200),
    "forum:member-claim": Url(get=200, post=302, who="other", data={"reason": "是我的旧账号"}),
    "forum:settings-export": Url(get=200, post=200, download=True),
    "forum:settings-delete": Url(
        get=200, post=302, data={"comments": "keep", "confirm": "on"}, reauthenticated=True
    ),
    "forum:teach": Url(get=200, who="teacher"),
    "forum:teach-glance": Url(get=200, who="teacher"),
    "forum:teach-queue-csv": Url(get=200, who="teacher"),
    "forum:teach-weekly-csv": Url(get=200, who="teacher"),
    "forum:teach-answer": Url(get=200, post=302, who="teacher", data={"body": "老师的回答"}),
    "forum:teach-dismiss": Url(get=405, post=302, who="teacher"),
    "forum:teach-undismiss": Url(get=405, post=302, who="teacher", before=dismissed),
}
STATE_CHANGING = sorted(name for name, url in URLS.items() if url.changes_state and not url.signed)
SIGNED = sorted(name for name, url in URLS.items() if url.signed)
READ_ONLY = sorted(name for name, url in URLS.items() if not url.changes_state and not url.download)
DOWNLOADS = sorted(name for name, url in URLS.items() if url.download)


def url_for(name: str, world: World) -> str:
    values = {
        "course_slug": world.lesson.course.slug,
        "lesson_slug": world.lesson.slug,
        "lesson_id": world.lesson.pk,
        "block": next(iter(world.lesson.blocks)),
        "number": 1,
        "comment_id": world.comment.pk,
        "token": unsubscribe_token(services.member_for(world.author), "reply"),
        "username": world.author.get_username(),
        "notification_id": Notification.objects.values_list("pk", flat=True).last() or 999999,
        "slug": world.imported.slug,
        "name": Member.objects.exclude(avatar="").values_list("avatar", flat=True).first()
        or f"avatars/{'0' * 64}.webp",
    }
    pattern = project_urls()[name]
    unknown = set(pattern.pattern.converters) - set(values)
    assert not unknown, f"teach url_for() what to put in {unknown} of {name}"
    return reverse(name, kwargs={key: values[key] for key in pattern.pattern.converters})


def snapshot() -> dict[str, list[dict]]:
    """Every row of the forum's and the lessons' tables."""
    models = [
        *apps.get_app_config("forum").get_models(),
        *apps.get_app_config("lessons").get_models(),
    ]
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in models
        if not model._meta.proxy
    }


def client_for(user, *, csrf_checks: bool = False, reauthenticated: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf_checks)
    client.force_login(user)
    return leaving_tests.reauthenticated(client, user) if reauthenticated else client


def uncovered() -> tuple[set[str], set[str]]:
    """URLs the table does not cover, and names in the table no URL has any more."""
    found = set(project_urls())
    return found - set(URLS), set(URLS) - found


def test_every_project_url_is_in_the_table():
    missing, stale = uncovered()
    assert not missing, "say in URLS whether these are read-only or state-changing"
    assert not stale, "these URLs no longer exist: take them out of URLS"


# The project with two more views, one of them without a name, for the test below.
urlpatterns = [
    *forum.urls.urlpatterns,
    path("comments/<int:comment_id>/boost/", lessons.views.home, name="comment-boost"),
    path("sneaky/", lessons.views.home),
]


def test_a_new_view_cannot_escape_the_table(settings):
    settings.ROOT_URLCONF = __name__
    assert uncovered() == ({"comment-boost", "<unnamed sneaky/>"}, set())


@pytest.mark.parametrize("name", STATE_CHANGING)
def test_post_without_csrf_token_is_refused_and_with_one_it_works(name, world):
    url = URLS[name]
    if url.before:
        url.before(world)
    client = client_for(
        getattr(world, url.who), csrf_checks=True, reauthenticated=url.reauthenticated
    )
    client.get(reverse("lessons:home"))  # sets the CSRF cookie
    target = url_for(name, world)
    before = snapshot()
    assert client.post(target, url.data).status_code == 403
    assert snapshot() == before
    token = client.cookies["csrftoken"].value
    assert client.post(target, url.data, HTTP_X_CSRFTOKEN=token).status_code == url.post
    assert snapshot() != before


@pytest.mark.parametrize("name", STATE_CHANGING)
def test_a_token_from_another_visitor_is_refused(name, world):
    url = URLS[name]
    if url.before:
        url.before(world)
    stranger = Client(enforce_csrf_checks=True)
    stranger.get(reverse("account_login"))  # a form: the stranger gets a CSRF cookie
    client = client_for(getattr(world, url.who), csrf_checks=True)
    client.get(reverse("lessons:home"))  # its own CSRF cookie, which the token does not match
    before = snapshot()
    token = stranger.cookies["csrftoken"].value
    response = client.post(url_for(name, world), url.data, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("name", SIGNED)
def test_a_signed_url_changes_state_with_its_token_alone_and_not_without(name, world):
    url = URLS[name]
    stranger = Client(enforce_csrf_checks=True)  # no session, no CSRF cookie or token
    target = url_for(name, world)
    tampered = target.rstrip("/")[:-1] + ("A" if target[-2] != "A" else "B") + "/"
    before = snapshot()
    assert stranger.post(tampered, url.data).status_code == 400
    assert snapshot() == before
    assert stranger.post(target, url.data).status_code == url.post
    assert snapshot() != before


@pytest.mark.parametrize("name", sorted(URLS))
def test_get_changes_nothing(name, world):
    url = URLS[name]
    if url.before:
        url.before(world)
    client = client_for(getattr(world, url.who), reauthenticated=url.reauthenticated)
    before = snapshot()
    # A file goes only in a form's body: in a query string it would be its bytes.
    data = {key: value for key, value in url.data.items() if not hasattr(value, "read")}
    assert client.get(url_for(name, world), data).status_code == url.get
    assert client.get(url_for(name, world), data, **HTMX).status_code == url.get
    assert snapshot() == before


@pytest.mark.parametrize("name", READ_ONLY)
def test_read_only_pages_refuse_a_post(name, world):
    client = client_for(world.moderator)
    before = snapshot()
    assert client.post(url_for(name, world), {"body": "x"}).status_code == 405
    assert snapshot() == before


@pytest.mark.parametrize("name", DOWNLOADS)
def test_a_download_needs_a_csrf_token_and_changes_nothing(name, world):
    url = URLS[name]
    client = client_for(getattr(world, url.who), csrf_checks=True)
    client.get(reverse("lessons:home"))  # sets the CSRF cookie
    before = snapshot()
    assert client.post(url_for(name, world), url.data).status_code == 403
    token = client.cookies["csrftoken"].value
    response = client.post(url_for(name, world), url.data, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == url.post
    assert response["Content-Disposition"].startswith("attachment;")
    assert snapshot() == before


@pytest.mark.parametrize("name", STATE_CHANGING + DOWNLOADS)
def test_anonymous_htmx_requests_are_sent_to_log_in(name, world):
    before = snapshot()
    response = Client().post(url_for(name, world), URLS[name].data, **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("account_login") + "?next=")
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------
# The role matrix. Targets are relative to the one acting: "own" is their published comment,
# "others" a published comment of another member (so member × others is "other member"),
# "removed" another member's comment a moderator removed, "deleted" another member's comment
# its author deleted (still listed as a placeholder above a reply), "own-deleted" the actor's
# own deleted comment, "missing" comment 999999. For an anonymous visitor "own" is another
# member's comment. Posting and liking a lesson have the lesson or lesson 999999 as target.

COMMENT_TARGETS = ("own", "others", "removed", "deleted", "own-deleted", "missing")
LESSON_TARGETS = ("lesson", "missing")
ROLES = ("anonymous", "member", "suspended", "teacher", "other-teacher", "moderator", "superuser")
# 302 is a redirect to the login page for the anonymous, Post/Redirect/Get for everyone else.
MATRIX = {
    #                lesson missing
    "post": """
        anonymous       302 302
        member          302 404
        suspended       403 404
        teacher         302 404
        other-teacher   302 404
        moderator       302 404
        superuser       302 404
    """,
    "lesson-like": """
        anonymous       302 302
        member          302 404
        suspended       403 404
        teacher         302 404
        other-teacher   302 404
        moderator       302 404
        superuser       302 404
    """,
    #                own others removed deleted own-deleted missing
    "reply": """
        anonymous       302 302 302 302 302 302
        member          302 302 404 400 400 404
        suspended       403 403 404 403 403 404
        teacher         302 302 404 400 400 404
        other-teacher   302 302 404 400 400 404
        moderator       302 302 404 400 400 404
        superuser       302 302 404 400 400 404
    """,
    "edit": """
        anonymous       302 302 302 302 302 302
        member          302 403 404 403 403 404
        suspended       403 403 404 403 403 404
        teacher         302 403 404 403 403 404
        other-teacher   302 403 404 403 403 404
        moderator       302 403 404 403 403 404
        superuser       302 403 404 403 403 404
    """,
    # Suspended members may still take their own words back; deleting again changes nothing and
    # answers as the first delete did (two tabs, a double click).
    "delete": """
        anonymous       302 302 302 302 302 302
        member          302 403 404 403 302 404
        suspended       302 403 404 403 302 404
        teacher         302 403 404 403 302 404
        other-teacher   302 403 404 403 302 404
        moderator       302 403 404 403 302 404
        superuser       302 403 404 403 302 404
    """,
    "like": """
        anonymous       302 302 302 302 302 302
        member          403 302 404 403 403 404
        suspended       403 403 404 403 403 404
        teacher         403 302 404 403 403 404
        other-teacher   403 302 404 403 403 404
        moderator       403 302 404 403 403 404
        superuser       403 302 404 403 403 404
    """,
    # Taking a like back is always allowed (and idempotent).
    "unlike": """
        anonymous       302 302 302 302 302 302
        member          302 302 404 302 302 404
        suspended       302 302 404 302 302 404
        teacher         302 302 404 302 302 404
        other-teacher   302 302 404 302 302 404
        moderator       302 302 404 302 302 404
        superuser       302 302 404 302 302 404
    """,
    # 400: the form again, saying one cannot report one's own (or a deleted) comment.
    "report": """
        anonymous       302 302 302 302 302 302
        member          400 302 404 400 400 404
        suspended       403 403 404 403 403 404
        teacher         400 302 404 400 400 404
        other-teacher   400 302 404 400 400 404
        moderator       400 302 404 400 400 404
        superuser       400 302 404 400 400 404
    """,
    "feature": """
        anonymous       302 302 302 302 302 302
        member          403 403 404 403 403 404
        suspended       403 403 404 403 403 404
        teacher         302 302 404 302 302 404
        other-teacher   403 403 404 403 403 404
        moderator       302 302 404 302 302 404
        superuser       302 302 404 302 302 404
    """,
    "pin": """
        anonymous       302 302 302 302 302 302
        member          403 403 404 403 403 404
        suspended       403 403 404 403 403 404
        teacher         302 302 404 302 302 404
        other-teacher   403 403 404 403 403 404
        moderator       302 302 404 302 302 404
        superuser       302 302 404 302 302 404
    """,
    # Who liked a comment: its author and moderators; a page, so 200.
    "likers": """
        anonymous       302 302 302 302 302 302
        member          200 403 404 403 200 404
        suspended       200 403 404 403 200 404
        teacher         200 403 404 403 200 404
        other-teacher   200 403 404 403 200 404
        moderator       200 200 404 200 200 404
        superuser       200 200 404 200 200 404
    """,
    # The teacher's workspace: 403 for whoever has none, before any comment is looked up; a
    # comment outside it, or no longer shown, is not there (404). Only teachers answer (their
    # reply is the 作者回复); moderators too mark "不需要回复".
    "teach-answer": """
        anonymous       302 302 302 302 302 302
        member          403 403 403 403 403 403
        suspended       403 403 403 403 403 403
        teacher         302 302 404 404 404 404
        other-teacher   404 404 404 404 404 404
        moderator       403 403 404 404 404 404
        superuser       403 403 404 404 404 404
    """,
    "teach-dismiss": """
        anonymous       302 302 302 302 302 302
        member          403 403 403 403 403 403
        suspended       403 403 403 403 403 403
        teacher         302 302 404 404 404 404
        other-teacher   404 404 404 404 404 404
        moderator       302 302 404 404 404 404
        superuser       302 302 404 404 404 404
    """,
}
# The request each action makes: method, URL name, what the URL takes, the form.
REQUESTS = {
    "post": ("post", "forum:comment-create", "lesson", {"body": "我的看法"}),
    "lesson-like": ("post", "forum:lesson-like", "lesson", {}),
    "reply": ("post", "forum:comment-reply", "comment", {"body": "同意"}),
    "edit": ("post", "forum:comment-edit", "comment", {"body": "改一下"}),
    "delete": ("post", "forum:comment-delete", "comment", {}),
    "like": ("post", "forum:comment-like", "comment", {}),
    "unlike": ("post", "forum:comment-unlike", "comment", {}),
    "report": ("post", "forum:comment-report", "comment", {"reason": "spam"}),
    "feature": ("post", "forum:comment-feature", "comment", {}),
    "pin": ("post", "forum:comment-pin", "comment", {}),
    "likers": ("get", "forum:comment-likers", "comment", {}),
    "teach-answer": ("post", "forum:teach-answer", "comment", {"body": "老师的回答"}),
    "teach-dismiss": ("post", "forum:teach-dismiss", "comment", {}),
}


def expectations() -> list[tuple[str, str, str, int]]:
    cases = []
    for action, grid in MATRIX.items():
        targets = LESSON_TARGETS if REQUESTS[action][2] == "lesson" else COMMENT_TARGETS
        rows = [line.split() for line in grid.strip().splitlines()]
        assert [row[0] for row in rows] == list(ROLES), action
        for role, *codes in rows:
            assert len(codes) == len(targets), (action, role)
            cases += [(action, role, t, int(c)) for t, c in zip(targets, codes, strict=True)]
    return cases


def test_the_matrix_covers_every_action_of_the_url_table():
    acted = {name for _method, name, _takes, _data in REQUESTS.values()}
    assert set(MATRIX) == set(REQUESTS)
    # Each state-changing URL is in the matrix, or is the undo of one that is, or acts on the
    # member's own things alone, with no target to be another's (their tests are in
    # tests/forum/test_notification_pages.py and tests/forum/test_avatars.py).
    undo = {"forum:lesson-unlike", "forum:comment-unfeature", "forum:comment-unpin"}
    undo |= {"forum:teach-undismiss"}
    own = {"forum:notifications-read", "forum:settings", "forum:settings-delete"}
    own |= {"forum:settings-avatar", "forum:settings-avatar-remove"}
    # A claim's target is an imported member, not a comment: tests/forum/test_claims.py.
    members = {"forum:member-claim"}
    assert set(STATE_CHANGING) - acted == undo | own | members


def actor_for(role: str, lesson):
    """The account acting in `role`, with its member made (so refusals change no row)."""
    if role == "anonymous":
        return None
    if role == "teacher":
        return teacher_of(lesson.course).user
    if role == "other-teacher":
        return teacher_of(CourseFactory()).user
    if role == "moderator":
        user = moderator()
    elif role == "superuser":
        user = UserFactory(is_staff=True, is_superuser=True)
    else:
        user = UserFactory()
    member = services.member_for(user)
    if role == "suspended":
        moderation.member_suspend(
            moderator=None, member=member, until=timezone.now() + timedelta(days=1), reason="刷屏"
        )
    return user


def target_comment(target: str, lesson, actor) -> Comment | None:
    if target == "missing":
        return None
    third = services.member_for(UserFactory())
    own = target in {"own", "own-deleted"} and actor is not None
    member = services.member_for(actor) if own else third
    if target == "removed":
        return CommentFactory(lesson=lesson, member=third, status=Comment.Status.REMOVED)
    comment = CommentFactory(lesson=lesson, member=member)
    if target in {"deleted", "own-deleted"}:
        CommentFactory(lesson=lesson, member=third, parent=comment)
        Comment.objects.filter(pk=comment.pk).update(deleted_at=timezone.now(), reply_count=1)
    return comment


@pytest.mark.parametrize(
    ("action", "role", "target", "status"),
    expectations(),
    ids=lambda value: str(value),
)
def test_role_matrix(action, role, target, status):
    method, name, takes, data = REQUESTS[action]
    lesson = LessonFactory()
    actor = actor_for(role, lesson)
    client = client_for(actor) if actor else Client()
    if takes == "lesson":
        url = reverse(name, args=[lesson.pk if target == "lesson" else 999999])
    else:
        comment = target_comment(target, lesson, actor)
        if action == "unlike" and comment is not None:
            CommentLike.objects.create(
                member=services.member_for(actor or UserFactory()), comment=comment
            )
            Comment.objects.filter(pk=comment.pk).update(like_count=F("like_count") + 1)
        url = reverse(name, args=[comment.pk if comment else 999999])
    before = snapshot()
    response = getattr(client, method)(url, data)
    assert response.status_code == status
    login = reverse("account_login")
    if status == 302:
        assert response["Location"].startswith(login) == (actor is None)
    if actor is None or status >= 400:
        assert snapshot() == before


# ---------------------------------------------------------------------------------------------
# What a form may not set: the author, the status, the counters, the flags, the lesson.

FORGED = {
    "status": "removed",
    "like_count": "999",
    "reply_count": "999",
    "is_featured": "on",
    "is_pinned": "on",
    "is_author_reply": "on",
    "depth": "0",
    "parent": "",
}


@pytest.fixture
def forged_world(db):
    lesson, elsewhere = LessonFactory(), LessonFactory()
    victim = services.member_for(UserFactory())
    return lesson, elsewhere, victim


def forged(victim: Member, elsewhere) -> dict:
    return {
        **FORGED,
        "author": victim.pk,
        "member": victim.pk,
        "member_id": victim.pk,
        "reporter": victim.pk,
        "lesson": elsewhere.pk,
        "lesson_id": elsewhere.pk,
    }


def assert_plain(comment: Comment, *, member: Member, lesson, body: str) -> None:
    assert (comment.member, comment.lesson, comment.body) == (member, lesson, body)
    assert comment.status == Comment.Status.PUBLISHED
    assert (comment.like_count, comment.reply_count) == (0, 0)
    assert not (comment.is_featured or comment.is_pinned or comment.is_author_reply)


def test_posting_ignores_forged_fields(forged_world, member_client, member):
    lesson, elsewhere, victim = forged_world
    url = reverse("forum:comment-create", args=[lesson.pk])
    member_client.post(url, {**forged(victim, elsewhere), "body": "我的留言"})
    comment = Comment.objects.get(body="我的留言")
    assert_plain(comment, member=member.member, lesson=lesson, body="我的留言")
    assert comment.parent is None and comment.depth == 0


def test_replying_ignores_forged_fields(forged_world, member_client, member):
    lesson, elsewhere, victim = forged_world
    parent = CommentFactory(lesson=lesson)
    other_parent = CommentFactory(lesson=elsewhere)
    data = {**forged(victim, elsewhere), "parent": other_parent.pk, "body": "我的回复"}
    member_client.post(reverse("forum:comment-reply", args=[parent.pk]), data)
    reply = Comment.objects.get(body="我的回复")
    assert_plain(reply, member=member.member, lesson=lesson, body="我的回复")
    assert (reply.parent, reply.root, reply.depth) == (parent, parent, 1)


def test_editing_ignores_forged_fields(forged_world, member_client, member):
    lesson, elsewhere, victim = forged_world
    comment = CommentFactory(lesson=lesson, member=services.member_for(member))
    url = reverse("forum:comment-edit", args=[comment.pk])
    member_client.post(url, {**forged(victim, elsewhere), "body": "改过了"})
    comment.refresh_from_db()
    assert_plain(comment, member=member.member, lesson=lesson, body="改过了")


def test_liking_ignores_forged_fields(forged_world, member_client, member):
    lesson, elsewhere, victim = forged_world
    comment = CommentFactory(lesson=lesson)
    member_client.post(reverse("forum:comment-like", args=[comment.pk]), forged(victim, elsewhere))
    member_client.post(reverse("forum:lesson-like", args=[lesson.pk]), forged(victim, elsewhere))
    comment.refresh_from_db()
    lesson.refresh_from_db()
    assert comment.like_count == 1 and lesson.like_count == 1
    assert list(CommentLike.objects.values_list("member", "comment")) == [
        (member.member.pk, comment.pk)
    ]
    assert list(LessonLike.objects.values_list("member", "lesson")) == [
        (member.member.pk, lesson.pk)
    ]


def test_reporting_ignores_forged_fields(forged_world, member_client, member):
    lesson, elsewhere, victim = forged_world
    comment = CommentFactory(lesson=lesson)
    data = {**forged(victim, elsewhere), "reason": "spam", "resolved_by": "1", "comment": "1"}
    member_client.post(reverse("forum:comment-report", args=[comment.pk]), data)
    report = Report.objects.get()
    assert (report.comment, report.reporter) == (comment, member.member)
    assert report.status == Report.Status.OPEN and report.resolved_by is None
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED


def test_curating_ignores_forged_fields(forged_world):
    lesson, elsewhere, victim = forged_world
    comment = CommentFactory(lesson=lesson)
    client = client_for(moderator())
    client.post(reverse("forum:comment-feature", args=[comment.pk]), forged(victim, elsewhere))
    comment.refresh_from_db()
    assert comment.is_featured and not comment.is_pinned
    assert comment.status == Comment.Status.PUBLISHED and comment.like_count == 0
    assert comment.member != victim and comment.lesson == lesson


def test_the_user_model_is_not_writable_from_forum_forms(member_client, member):
    """A form's `is_staff` or `is_superuser` goes nowhere near the account."""
    lesson = LessonFactory()
    data = {"body": "嗨", "is_staff": "on", "is_superuser": "on", "username": "admin"}
    member_client.post(reverse("forum:comment-create", args=[lesson.pk]), data)
    account = get_user_model().objects.get(pk=member.pk)
    assert not (account.is_staff or account.is_superuser)
    assert account.username == member.username
