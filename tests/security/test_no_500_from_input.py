"""No input answers 5xx: every URL pattern of the URLconf (the project's, allauth's and the
admin's) with huge integers, NUL, invalid UTF-8 and over-long values in each path parameter,
in the query string and in form fields, for an anonymous reader, a member and a superuser.

The patterns are walked, not listed, so a new URL is covered the day it is added. A hostile
value goes into one place at a time, the rest of the request being plausible (a real lesson,
comment and form), so that it gets as far into the view as it can: a page number past the
lesson's threads, a report's text past its reason. Responses are those of production, with
DEBUG off (the 404 and 400 pages are the site's templates).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern

from forum import services
from forum.models import Notification, Report
from forum.notifications.unsubscribe import unsubscribe_token
from forum.views.common import MAX_PAGE
from lessons.revisions import revision_record
from tests.factories import PASSWORD, CommentFactory, UserFactory

pytestmark = pytest.mark.django_db

# As they appear in a URL or a urlencoded form, %-encoded.
HOSTILE = {
    "huge integer": "99999999999999999999999",  # past 64 bits: PostgreSQL's bigint, SQLite's
    "NUL": "%00",
    "invalid UTF-8": "%ff%fe",
    "over-long": "9" * 10_000,  # and past the 4,300 digits int() reads
}
QUERY_KEYS = ("page", "sort", "next", "q", "course", "lesson")
# Every form field the site's, allauth's and the admin's forms read, with a plausible value:
# the fields a view first checks against its choices, and the fields of free text.
CHOICES = {
    "reason": "spam",
    "action": "delete_selected",
    "_selected_action": "1",
    "language": "en",
    "page": "1",
    **dict.fromkeys(Notification.Kind.values, "page"),  # the settings page's deliveries
}
TEXT = {
    "body": "你好",
    "text": "广告",
    "next": "/",
    "login": "someone",
    "password": PASSWORD,
    "oldpassword": PASSWORD,
    "password1": "a-new-password-42",
    "password2": "a-new-password-42",
    "username": "someone-new",
    "email": "someone-new@example.com",
    "code": "123456",
    "display_name": "小红",
    "bio": "爱学习",
}
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Pattern:
    """A URL pattern as literal text and named slots: ("courses/", ("course_slug",), "/")."""

    name: str
    parts: tuple[str | tuple[str], ...]
    admin: bool
    per_model: bool  # one of the admin's URLs for each model, which run the same code

    @property
    def slots(self) -> list[str]:
        return [part[0] for part in self.parts if isinstance(part, tuple)]

    def url(self, values: dict[str, str]) -> str:
        return "/" + "".join(
            values[part[0]] if isinstance(part, tuple) else part for part in self.parts
        )


_ROUTE_SLOT = re.compile(r"<(?:[^>:]+:)?([^>]+)>")


def _route_parts(route: str) -> list[str | tuple[str]]:
    pieces = _ROUTE_SLOT.split(route)  # literal, name, literal, name, …, literal
    return [(piece,) if index % 2 else piece for index, piece in enumerate(pieces) if piece]


def _regex_parts(regex: str) -> list[str | tuple[str]]:
    """Named groups become slots; the rest must be literal text (with ^, $ and escapes)."""
    parts: list[str | tuple[str]] = [""]
    index = 0
    while index < len(regex):
        if regex.startswith("(?P<", index):
            end = regex.index(">", index)
            name, depth, index = regex[index + 4 : end], 1, end + 1
            while depth:  # to the group's closing parenthesis
                depth += {"(": 1, ")": -1}.get(regex[index], 0)
                index += 2 if regex[index] == "\\" else 1
            parts += [(name,), ""]
        elif regex[index] in "^$":
            index += 1
        else:
            escaped = regex[index] == "\\"
            parts[-1] += regex[index + escaped]
            index += 1 + escaped
    literals = "".join(part for part in parts if isinstance(part, str))
    assert not re.search(r"[()\[\]*+?|{}.]", literals), f"teach _regex_parts to read {regex}"
    return [part for part in parts if part]


def url_patterns() -> list[Pattern]:
    """Every pattern the URLconf resolves, with the prefixes of the resolvers it sits under."""
    found: list[Pattern] = []

    def walk(entries: list, prefix: list[str | tuple[str]], admin: bool) -> None:
        for entry in entries:
            if isinstance(entry.pattern, RoutePattern):
                parts = [*prefix, *_route_parts(str(entry.pattern))]
            else:
                parts = [*prefix, *_regex_parts(str(entry.pattern))]
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, parts, admin or entry.app_name == "admin")
            else:
                assert isinstance(entry, URLPattern)
                per_model = hasattr(entry.callback, "model_admin")
                name = entry.name or str(entry.pattern)
                found.append(Pattern(name, tuple(parts), admin, per_model))

    walk(get_resolver().url_patterns, [], False)
    return found


def test_the_walk_finds_the_project_allauth_and_the_admin():
    names = {pattern.name for pattern in url_patterns()}
    assert {"lesson", "comment-report", "account_login", "forum_comment_change"} <= names
    assert any(pattern.per_model for pattern in url_patterns())
    assert sum(pattern.admin for pattern in url_patterns()) > 60


@dataclass
class World:
    plain: dict[str, str]  # a plausible value for each path parameter
    clients: dict[str, Client]


@pytest.fixture
def world(settings) -> World:
    settings.DEBUG = False
    author, member = UserFactory(), UserFactory()
    superuser = UserFactory(is_staff=True, is_superuser=True)
    comment = CommentFactory(member=services.member_for(author))
    notification = Notification.objects.create(
        recipient=services.member_for(member), kind="reply", comment=comment
    )
    clients = {"anonymous": Client(raise_request_exception=False)}
    for role, user in (("member", member), ("superuser", superuser)):
        clients[role] = Client(raise_request_exception=False)
        clients[role].force_login(user)
    plain = {
        "course_slug": comment.lesson.course.slug,
        "lesson_slug": comment.lesson.slug,
        "lesson_id": str(comment.lesson.pk),
        "block": next(iter(comment.lesson.blocks)),
        "number": str(revision_record(lesson=comment.lesson).number),
        "comment_id": str(comment.pk),
        "notification_id": str(notification.pk),
        "username": member.username,
        "slug": services.member_for(author).slug,
        "object_id": str(author.pk),
        "id": str(author.pk),
        "content_type_id": "1",
        "app_label": "forum",
        "url": "nowhere/",
        "key": "abc",
        "uidb36": "1",
        "token": unsubscribe_token(services.member_for(author), "reply"),
        "name": f"avatars/{'0' * 64}.webp",
    }
    return World(plain, clients)


def urlencoded(fields: dict[str, str], *, quoted: bool = False) -> str:
    return "&".join(f"{name}={quote(value) if quoted else value}" for name, value in fields.items())


def requests_for(
    pattern: Pattern, number: int, plain: dict[str, str], *, staff: bool
) -> Iterator[tuple]:
    """(method, URL, urlencoded body): each hostile value in each path parameter, in each
    query key, and in the form's fields (all of them; the free text behind valid choices).

    The admin runs the same code for each model, and turns whoever is not staff away at the
    door (a redirect to its login) whatever the URL: those URLs get one value per place, in
    turn (`number` is the pattern's), so that over them every value meets every place."""
    missing = set(pattern.slots) - set(plain)
    assert not missing, f"give world() a plausible value for {missing} of {pattern.name}"
    here = pattern.url(plain)
    post = "logout" not in pattern.name  # it would sign the client out for what follows
    places = [
        *((method, slot) for slot in pattern.slots for method in ("GET", "POST")),
        *(("GET", f"?{key}") for key in QUERY_KEYS),
        *((("POST", "all fields"), ("POST", "free text")) if post else ()),
    ]
    values = list(HOSTILE.values())
    for place_number, (method, place) in enumerate(places):
        turn = values[(number + place_number) % len(values)]
        for value in [turn] if pattern.per_model or (pattern.admin and not staff) else values:
            if place.startswith("?"):
                yield method, f"{here}{place}={value}", ""
            elif place == "all fields":
                yield method, here, urlencoded(dict.fromkeys([*CHOICES, *TEXT], value))
            elif place == "free text":
                body = (
                    urlencoded(CHOICES, quoted=True) + "&" + urlencoded(dict.fromkeys(TEXT, value))
                )
                yield method, here, body
            elif method == "GET" or post:
                yield method, pattern.url(plain | {place: value}), ""


@pytest.mark.parametrize("role", ["anonymous", "member", "superuser"])
def test_no_input_answers_5xx(world, role):
    client = world.clients[role]
    failures = []
    for number, pattern in enumerate(url_patterns()):
        for method, url, body in requests_for(
            pattern, number, world.plain, staff=role == "superuser"
        ):
            # Each request starts from the same world, and a database error in one (which
            # aborts PostgreSQL's transaction) cannot fail the ones after it.
            savepoint = transaction.savepoint_create()
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, body, content_type=FORM)
            transaction.savepoint_rollback(savepoint)
            if response.status_code >= 500:
                failures.append(f"{response.status_code} {method} {url[:100]} {body[:100]}")
    assert not failures, f"{len(failures)} requests answered 5xx:\n" + "\n".join(failures)


# ---------------------------------------------------------------------------------------------
# What the known failures answer now, and what forum.input_guard lets through.


@pytest.fixture
def lesson_url(world) -> str:
    return f"/courses/{world.plain['course_slug']}/{world.plain['lesson_slug']}/"


@pytest.mark.parametrize("page", ["99999999999999999999999", str(MAX_PAGE + 1), "0", "x"])
def test_a_page_no_lesson_can_have_is_not_found(client, lesson_url, page):
    assert client.get(f"{lesson_url}?page={page}").status_code == 404


def test_the_last_page_number_allowed_is_no_error(client, lesson_url):
    assert client.get(f"{lesson_url}?page={MAX_PAGE}").status_code < 500


@pytest.mark.parametrize("path", ["/courses/%00/", "/courses/x%00/y/", "/comments/1%00/"])
def test_nul_in_a_path_names_no_page(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("query", ["q=%00", "next=/%00", "sort=%ff%fe", "q=%e4%b8", "a%00=1"])
def test_nul_or_invalid_utf8_in_the_query_string_is_a_clear_400(client, lesson_url, query):
    response = client.get(f"{lesson_url}?{query}")
    assert response.status_code == 400
    assert "网址里有无法识别的字符" in response.content.decode()


@pytest.mark.parametrize("body", ["reason=spam&text=%00", "reason=spam&text=%ff", "text%00=x"])
def test_nul_or_invalid_utf8_in_a_form_is_a_clear_400(member_client, world, body):
    url = reverse("forum:comment-report", args=[world.plain["comment_id"]])
    response = member_client.post(url, body, content_type=FORM)
    assert response.status_code == 400
    assert "表单里有无法识别的字符" in response.content.decode()
    assert not Report.objects.exists()


def test_nul_in_a_multipart_form_is_a_clear_400(member_client, world):
    url = reverse("forum:comment-report", args=[world.plain["comment_id"]])
    response = member_client.post(url, {"reason": "spam", "text": "广\x00告"})
    assert response.status_code == 400
    assert not Report.objects.exists()


def test_escaped_percent_signs_and_chinese_pass(member_client, world, lesson_url):
    assert member_client.get(f"{lesson_url}?q=%2500&sort=%E6%9C%80%E6%96%B0").status_code == 200
    url = reverse("forum:comment-report", args=[world.plain["comment_id"]])
    body = "reason=spam&text=%E5%B9%BF%E5%91%8A%2500+%C3%BF"
    assert member_client.post(url, body, content_type=FORM).status_code == 302
    assert Report.objects.get().text == "广告%00 ÿ"


@pytest.mark.parametrize("next_url", ["next-page", "99999", "?page=2", "http://[", "//evil.test/"])
def test_a_next_that_is_not_a_page_of_this_site_goes_back_to_the_comment(
    member_client, world, next_url
):
    url = reverse("forum:comment-like", args=[world.plain["comment_id"]])
    response = member_client.post(url, {"next": next_url}, HTTP_REFERER=next_url)
    assert response.status_code == 302
    assert response["Location"].startswith("/courses/")
