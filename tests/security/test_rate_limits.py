"""Abuse limits: posting, replying, liking and reporting, per member and per client IP.

The limits here are hourly, so a test never straddles a window unless it starts in the last
seconds of an hour; the `limits` fixture waits for the next hour then.
"""

from __future__ import annotations

import threading
import time
from ipaddress import ip_network

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django.utils.translation import ngettext

from forum.models import Comment
from forum.ratelimit import client_ip, limit_hit
from forum.services import member_for
from forum.settings import parse_rate_limits
from tests.conftest import REDIS_URL
from tests.factories import PASSWORD, CommentFactory, LessonFactory, UserFactory
from tests.manage_subprocess import run_manage

pytestmark = pytest.mark.django_db

ACTIONS = ["post", "reply", "like", "edit", "report"]
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def limits(settings):
    """Our limits on, at 2 an hour per member and 3 per IP unless a test says otherwise."""
    left = 3600 - time.time() % 3600
    if left < 15:
        time.sleep(left + 0.5)
    settings.FORUM_RATE_LIMIT_SCALE = 1
    settings.FORUM_TRUSTED_PROXIES = []
    settings.FORUM_RATE_LIMITS = dict.fromkeys(ACTIONS, parse_rate_limits("2/h/member,3/h/ip"))
    cache.clear()
    return settings


def limit(settings, text: str, actions: list[str] = ACTIONS) -> None:
    settings.FORUM_RATE_LIMITS = {
        **settings.FORUM_RATE_LIMITS,
        **dict.fromkeys(actions, parse_rate_limits(text)),
    }


def logged_in(user=None) -> Client:
    client = Client()
    client.force_login(user or UserFactory())
    return client


def act(client: Client, action: str, **extra):
    """One request of `action` on a fresh comment, so only the limit can refuse it."""
    if action == "edit":
        author = member_for(get_user_model().objects.get(pk=client.session["_auth_user_id"]))
        target = CommentFactory(member=author)
        url = reverse("forum:comment-edit", args=[target.pk])
        return client.post(url, {"body": "改一下"}, **extra)
    target = CommentFactory()
    if action == "post":
        url = reverse("forum:comment-create", args=[target.lesson_id])
        return client.post(url, {"body": "又一条留言"}, **extra)
    if action == "reply":
        url = reverse("forum:comment-reply", args=[target.pk])
        return client.post(url, {"body": "同意"}, **extra)
    if action == "like":
        return client.post(reverse("forum:comment-like", args=[target.pk]), **extra)
    url = reverse("forum:comment-report", args=[target.pk])
    return client.post(url, {"reason": "spam"}, **extra)


def statuses(client: Client, action: str, times: int, **extra) -> list[int]:
    return [act(client, action, **extra).status_code for _ in range(times)]


def too_often(minutes: int) -> str:
    with translation.override("zh-hans"):
        return ngettext(
            "You are doing this too often. Please try again in %(count)d minute.",
            "You are doing this too often. Please try again in %(count)d minutes.",
            minutes,
        ) % {"count": minutes}


@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_is_limited_per_member(action):
    client = logged_in()
    assert statuses(client, action, 3) == [302, 302, 429]


@pytest.mark.parametrize("action", ACTIONS)
def test_two_members_on_one_ip_share_the_ip_limit(action):
    first, second = logged_in(), logged_in()
    assert statuses(first, action, 2) == [302, 302]
    assert statuses(second, action, 2) == [302, 429]


@pytest.mark.parametrize("action", ACTIONS)
def test_one_member_on_two_ips_shares_the_member_limit(action, settings):
    limit(settings, "2/h/member,100/h/ip")
    client = logged_in()
    assert act(client, action, REMOTE_ADDR="198.51.100.1").status_code == 302
    assert act(client, action, REMOTE_ADDR="198.51.100.2").status_code == 302
    assert act(client, action, REMOTE_ADDR="198.51.100.3").status_code == 429


def test_comment_and_lesson_likes_share_one_limit():
    client = logged_in()
    lesson = LessonFactory()
    assert act(client, "like").status_code == 302
    assert client.post(reverse("forum:lesson-like", args=[lesson.pk])).status_code == 302
    assert client.post(reverse("forum:lesson-unlike", args=[lesson.pk])).status_code == 429


def test_a_refused_comment_is_not_posted():
    client = logged_in()
    lesson = LessonFactory()
    url = reverse("forum:comment-create", args=[lesson.pk])
    for _ in range(3):
        client.post(url, {"body": "刷屏"})
    assert Comment.objects.filter(lesson=lesson).count() == 2


def test_htmx_gets_the_message_in_the_notice_area():
    client = logged_in()
    statuses(client, "like", 2, **HTMX)
    response = act(client, "like", **HTMX)
    assert response.status_code == 429
    assert response["HX-Retarget"] == "#flash"
    assert response["HX-Reswap"] == "innerHTML"
    wait = int(response["Retry-After"])
    assert 0 < wait <= 3600
    html = response.content.decode()
    assert "<html" not in html
    assert 'role="alert"' in html
    assert too_often(-(-wait // 60)) in html


def test_without_htmx_a_page_says_when_to_try_again():
    client = logged_in()
    statuses(client, "post", 2)
    response = act(client, "post")
    assert response.status_code == 429
    wait = int(response["Retry-After"])
    assert 0 < wait <= 3600
    html = response.content.decode()
    assert 'class="site-header"' in html
    assert too_often(-(-wait // 60)) in html


def test_anonymous_visitors_are_sent_to_log_in_and_not_counted():
    anonymous = Client()
    for _ in range(4):
        response = act(anonymous, "post")
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    assert statuses(logged_in(), "post", 2) == [302, 302]


def test_opening_the_report_form_is_not_counted(settings):
    limit(settings, "1/h/member,100/h/ip", ["report"])
    client = logged_in()
    comment = CommentFactory()
    url = reverse("forum:comment-report", args=[comment.pk])
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
    assert client.post(url, {"reason": "spam"}).status_code == 302


def test_scale_zero_turns_the_limits_off(settings):
    settings.FORUM_RATE_LIMIT_SCALE = 0
    assert statuses(logged_in(), "like", 6) == [302] * 6


def test_scale_two_doubles_the_limits(settings):
    settings.FORUM_RATE_LIMIT_SCALE = 2
    limit(settings, "2/h/member,100/h/ip")
    assert statuses(logged_in(), "like", 5) == [302] * 4 + [429]


def test_a_spoofed_forwarded_for_does_not_change_the_bucket():
    client = logged_in()
    codes = [
        act(client, "like", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(4)
    ]
    assert codes == [302, 302, 429, 429]


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket(settings):
    settings.FORUM_TRUSTED_PROXIES = [ip_network("127.0.0.1")]
    limit(settings, "100/h/member,2/h/ip")
    client = logged_in()
    first = {"HTTP_X_FORWARDED_FOR": "203.0.113.1"}
    second = {"HTTP_X_FORWARDED_FOR": "203.0.113.2"}
    assert statuses(client, "like", 2, **first) == [302, 302]
    assert statuses(client, "like", 2, **second) == [302, 302]
    assert act(client, "like", **first).status_code == 429
    # What the client wrote left of the proxy's entry does not move it to another bucket.
    assert act(client, "like", HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.1").status_code == 429


def ip_of(remote: str, forwarded: str | None = None) -> str:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **extra))


def test_client_ip_without_trusted_proxies_is_the_peer():
    assert ip_of("192.0.2.10", "203.0.113.5") == "192.0.2.10"


def test_client_ip_walks_left_through_trusted_proxies_only(settings):
    settings.FORUM_TRUSTED_PROXIES = [ip_network("10.0.0.0/8"), ip_network("192.0.2.1")]
    assert ip_of("10.1.2.3", "203.0.113.5") == "203.0.113.5"
    assert ip_of("10.1.2.3", "1.1.1.1, 203.0.113.5, 192.0.2.1") == "203.0.113.5"
    assert ip_of("10.1.2.3", "junk, 203.0.113.5") == "203.0.113.5"
    # Garbage where the client should be: the last proxy stands in for it.
    assert ip_of("10.1.2.3", "not-an-address") == "10.1.2.3"
    # Everyone is a proxy: the left-most address is as far as we can see.
    assert ip_of("10.1.2.3", "10.9.9.9") == "10.9.9.9"
    assert ip_of("10.1.2.3") == "10.1.2.3"
    assert ip_of("198.51.100.1", "203.0.113.5") == "198.51.100.1"
    assert ip_of("::ffff:10.1.2.3", "[2001:db8::1]") == "2001:db8::1"


def test_ipv6_clients_are_counted_per_64_block(settings):
    limit(settings, "100/h/member,2/h/ip")
    client = logged_in()
    codes = [act(client, "like", REMOTE_ADDR=f"2001:db8:1:2::{n}").status_code for n in (1, 2, 3)]
    assert codes == [302, 302, 429]
    assert act(client, "like", REMOTE_ADDR="2001:db8:1:3::1").status_code == 302


@pytest.mark.parametrize(
    "text", ["5/m", "5/m/user", "five/m/ip", "5/w/ip", "0/m/ip", "5/0m/ip", "5/m/ip,6/60s/ip"]
)
def test_malformed_limits_are_refused(text):
    with pytest.raises(ValueError):
        parse_rate_limits(text)


def test_limits_accept_counted_periods():
    assert parse_rate_limits(" 5/10m/member, 20/d/ip") == [(5, 600, "member"), (20, 86400, "ip")]


PRINT_LIMITS = (
    "from django.conf import settings as s; "
    "print(s.FORUM_RATE_LIMIT_SCALE, s.FORUM_RATE_LIMITS['like'], "
    "getattr(s, 'ACCOUNT_RATE_LIMITS', 'default'))"
)


def test_limits_and_scale_come_from_the_environment():
    result = run_manage(
        "shell", "-c", PRINT_LIMITS, FORUM_RATE_LIMIT_LIKE="7/m/member", FORUM_RATE_LIMIT_SCALE="2"
    )
    assert result.stdout.strip().splitlines()[-1] == "2.0 [(7, 60, 'member')] default"


def test_scale_zero_in_the_environment_turns_allauths_limits_off_too():
    result = run_manage("shell", "-c", PRINT_LIMITS, FORUM_RATE_LIMIT_SCALE="0")
    assert result.stdout.strip().splitlines()[-1].endswith(" False")


def test_a_malformed_limit_in_the_environment_is_a_clear_start_up_error():
    result = run_manage("check", FORUM_RATE_LIMIT_POST="lots", FORUM_TRUSTED_PROXIES="10.0.0.0/8")
    assert result.returncode != 0
    assert "FORUM_RATE_LIMIT_POST must look like" in result.stderr


def test_allauth_counts_the_same_client_as_we_do(settings, client):
    """Behind the proxy, allauth's login limit is per client, not one bucket for the site."""
    settings.FORUM_TRUSTED_PROXIES = [ip_network("127.0.0.1")]
    settings.ACCOUNT_RATE_LIMITS = {"login": "2/h/ip"}
    url = reverse("account_login")
    wrong = {"login": "nobody", "password": "wrong-password-1"}

    def attempt(ip: str) -> int:
        response = client.post(url, wrong, HTTP_X_FORWARDED_FOR=ip)
        return response.status_code

    assert [attempt("203.0.113.1") for _ in range(3)] == [200, 200, 429]
    assert attempt("203.0.113.2") == 200


def test_allauth_ignores_a_spoofed_forwarded_for(settings, client):
    settings.ACCOUNT_RATE_LIMITS = {"login": "2/h/ip"}
    url = reverse("account_login")
    codes = [
        client.post(
            url, {"login": "nobody", "password": "wrong"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        ).status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]


@pytest.fixture
def redis_cache(settings, redis_prefix):
    """The Redis cache the app servers share, under a key prefix of this test's own."""
    settings.CACHES = {
        "default": {
            "BACKEND": "forum.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": redis_prefix,
        }
    }
    return redis_prefix


def test_the_limit_is_shared_across_clients_and_processes(redis_cache, settings):
    limit(settings, "4/h/member,100/h/ip", ["like"])
    user = UserFactory()
    first, second = logged_in(user), logged_in(user)
    assert act(first, "like").status_code == 302
    assert act(second, "like").status_code == 302
    hit = (
        "from forum.ratelimit import limit_hit; "
        f"print(limit_hit('like', user_id={user.pk}, ip='127.0.0.1'))"
    )

    def other_process() -> str:
        result = run_manage(
            "shell",
            "-c",
            hit,
            REDIS_URL=REDIS_URL,
            CACHE_KEY_PREFIX=redis_cache,
            FORUM_RATE_LIMIT_LIKE="4/h/member,100/h/ip",
            FORUM_RATE_LIMIT_SCALE="1",
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    assert other_process() == "None"  # the third hit: allowed
    assert act(first, "like").status_code == 302  # the fourth
    assert act(second, "like").status_code == 429
    assert int(other_process()) > 0  # the other process is refused too


def test_concurrent_hits_are_all_counted(redis_cache, settings):
    limit(settings, "50/h/member,1000/h/ip", ["like"])
    allowed = []

    def hammer() -> None:
        for _ in range(10):
            allowed.append(limit_hit("like", user_id=1, ip="192.0.2.1") is None)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 50
    assert allowed.count(False) == 30


# The admin's login is allauth's, under allauth's limits.

ADMIN_LOGIN = "/admin/login/?next=/admin/"


def test_the_admin_login_sends_a_visitor_to_allauths_login(client):
    response = client.get(ADMIN_LOGIN, follow=True)
    assert response.status_code == 200
    assert response.resolver_match.view_name == "account_login"
    assert response.redirect_chain[-1][0] == f"{reverse('account_login')}?next=%2Fadmin%2F"


def test_a_password_posted_to_the_admins_own_login_signs_nobody_in(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    response = client.post(ADMIN_LOGIN, {"username": staff.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session


def test_repeated_failed_admin_logins_are_refused_even_with_the_right_password(settings, client):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/h/ip,3/h/key"}
    staff = UserFactory(is_staff=True, is_superuser=True)
    login = client.get(ADMIN_LOGIN, follow=True).redirect_chain[-1][0]
    for _ in range(3):
        response = client.post(login, {"login": staff.username, "password": "wrong-password-1"})
        assert response.status_code == 200
    response = client.post(login, {"login": staff.username, "password": PASSWORD})
    with translation.override("zh-hans"):
        refused = translation.gettext("Too many failed login attempts. Try again later.")
    assert refused in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302
