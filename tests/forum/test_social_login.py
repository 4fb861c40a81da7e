"""Logging in with GitHub, WeChat and Weibo, offline: each provider's endpoints answered by
`responses`, the avatar download by a fake of the SSRF-guarded fetch."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from forum.importing import fetch
from forum.models import Member
from forum.social import apps_cache, config
from tests.factories import MemberFactory, UserFactory
from tests.forum.image_files import image_bytes

pytestmark = pytest.mark.django_db

User = get_user_model()
AVATAR_URL = "https://avatars.example.com/u/42.png"


@dataclass
class Provider:
    id: str
    authorize_url: str
    token_url: str
    profile_url: str
    # The profile the provider answers with, and the display name and uid it must give.
    profile: dict
    name: str
    uid: str
    token: dict = field(default_factory=lambda: {"access_token": "token-1"})
    emails: list | None = None
    # What each really says (allauth reads WeChat's text/plain names as such).
    content_type: str = "application/json; charset=utf-8"

    def answer(self, rsps: responses.RequestsMock, *, token=None) -> None:
        rsps.add(responses.POST, self.token_url, **(token or {"json": self.token}))
        body = json.dumps(self.profile, ensure_ascii=False).encode()
        rsps.add(responses.GET, self.profile_url, body=body, content_type=self.content_type)
        if self.emails is not None:
            rsps.add(responses.GET, "https://api.github.com/user/emails", json=self.emails)


def github(**profile) -> Provider:
    data = {"id": 42, "login": "octo", "name": "章鱼猫", "avatar_url": AVATAR_URL} | profile
    return Provider(
        id="github",
        authorize_url="https://github.com/login/oauth/authorize",
        token_url="https://github.com/login/oauth/access_token",
        profile_url="https://api.github.com/user",
        profile=data,
        name=data["name"] or data["login"],
        uid=str(data["id"]),
        emails=[{"email": "octo@example.com", "verified": True, "primary": True}],
    )


def weixin(**profile) -> Provider:
    data = {
        "openid": "openid-1",
        "unionid": "union-1",
        "nickname": "微信读者",
        "headimgurl": AVATAR_URL,
    } | profile
    return Provider(
        id="weixin",
        authorize_url="https://open.weixin.qq.com/connect/qrconnect",
        token_url="https://api.weixin.qq.com/sns/oauth2/access_token",
        profile_url="https://api.weixin.qq.com/sns/userinfo",
        profile=data,
        name=data["nickname"],
        uid=data.get("unionid") or data["openid"],
        token={"access_token": "token-1", "openid": data["openid"]},
        content_type="text/plain",
    )


def weibo(**profile) -> Provider:
    data = {"idstr": "5001", "screen_name": "微博读者", "avatar_large": AVATAR_URL} | profile
    return Provider(
        id="weibo",
        authorize_url="https://api.weibo.com/oauth2/authorize",
        token_url="https://api.weibo.com/oauth2/access_token",
        profile_url="https://api.weibo.com/2/users/show.json",
        profile=data,
        name=data["screen_name"],
        uid=data["idstr"],
        token={"access_token": "token-1", "uid": "5001"},
        content_type="text/plain;charset=UTF-8",
    )


PROVIDERS = [github, weixin, weibo]


@pytest.fixture(autouse=True)
def configured(settings):
    environ = {
        "GITHUB_CLIENT_ID": "gh-id",
        "GITHUB_CLIENT_SECRET": "gh-secret",
        "WEIXIN_APP_ID": "wx-id",
        "WEIXIN_APP_SECRET": "wx-secret",
        "WEIBO_CLIENT_ID": "wb-id",
        "WEIBO_CLIENT_SECRET": "wb-secret",
    }
    settings.SOCIALACCOUNT_PROVIDERS = config.providers_settings(environ)
    settings.ACCOUNT_REAUTHENTICATION_REQUIRED = False
    cache.delete(apps_cache.CACHE_KEY)


@pytest.fixture(autouse=True)
def avatar_downloads(monkeypatch):
    """The SSRF-guarded fetch, faked: records each URL asked for and answers with a PNG."""
    asked: list[str] = []

    def fake_fetch(url: str, **_kwargs) -> bytes:
        asked.append(url)
        return image_bytes((300, 300))

    monkeypatch.setattr(fetch, "fetch_url", fake_fetch)
    return asked


def start(
    client: Client, provider: Provider, *, process: str = "login", next_url: str = "/"
) -> str:
    """Press the provider's button; the state allauth sent to the provider."""
    response = client.post(reverse(f"{provider.id}_login"), {"process": process, "next": next_url})
    assert response.status_code == 302
    assert response.url.startswith(provider.authorize_url)
    return parse_qs(urlsplit(response.url).query)["state"][0]


def callback(client: Client, provider: Provider, state: str, **params):
    query = {"code": "code-1", "state": state} | params
    return client.get(reverse(f"{provider.id}_callback"), query)


def sign_in(client: Client, provider: Provider, *, next_url: str = "/"):
    state = start(client, provider, next_url=next_url)
    with responses.RequestsMock() as rsps:
        provider.answer(rsps)
        return callback(client, provider, state)


def rows() -> tuple[int, int, int]:
    return User.objects.count(), SocialAccount.objects.count(), Member.objects.count()


def signed_in_user(client: Client):
    return User.objects.filter(pk=client.session.get("_auth_user_id")).first()


@pytest.mark.parametrize("make", PROVIDERS)
def test_first_login_makes_the_account_with_the_providers_name_and_avatar(make, avatar_downloads):
    provider = make()
    client = Client()
    response = sign_in(client, provider, next_url="/lessons/somewhere/")
    assert response.status_code == 302 and response.url == "/lessons/somewhere/"
    account = SocialAccount.objects.get(provider=provider.id)
    assert account.uid == provider.uid
    member = account.user.member
    assert member.display_name == provider.name
    assert member.avatar.name.startswith("avatars/")
    assert avatar_downloads == [AVATAR_URL]
    assert signed_in_user(client) == account.user
    assert not account.user.has_usable_password()


@pytest.mark.parametrize("make", PROVIDERS)
def test_second_login_finds_the_same_account_and_fetches_no_avatar(make, avatar_downloads):
    provider = make()
    sign_in(Client(), provider)
    before = rows()
    client = Client()
    response = sign_in(client, provider)
    assert response.status_code == 302
    assert rows() == before
    assert signed_in_user(client) == SocialAccount.objects.get().user
    assert avatar_downloads == [AVATAR_URL]


def test_wechat_without_a_unionid_is_known_by_its_openid():
    provider = weixin(unionid=None)
    sign_in(Client(), provider)
    assert SocialAccount.objects.get().uid == "openid-1"


def test_wechat_account_has_no_email_and_settings_invite_to_add_one():
    client = Client()
    sign_in(client, weixin())
    user = signed_in_user(client)
    assert user.email == "" and not EmailAddress.objects.filter(user=user).exists()
    page = client.get(reverse("forum:settings"))
    assert page.context["has_email"] is False
    assert reverse("account_email") in page.content.decode()


def test_a_refused_provider_name_asks_for_another_and_makes_nothing_yet():
    MemberFactory(user=UserFactory(username="章鱼猫"), display_name="章鱼猫")
    before = rows()
    client = Client()
    response = sign_in(client, github())
    assert response.status_code == 302 and response.url == reverse("socialaccount_signup")
    assert rows() == before
    # The sign-up form refuses a look-alike name too, then takes a free one.
    page = client.post(reverse("socialaccount_signup"), {"username": "章鱼猫", "email": ""})
    assert page.status_code == 200 and rows() == before
    client.post(reverse("socialaccount_signup"), {"username": "octopus", "email": ""})
    member = SocialAccount.objects.get().user.member
    assert member.user.username == "octopus"
    assert member.display_name == "octopus"


def test_a_verified_email_of_an_account_asks_to_log_in_to_it_first_and_takes_nothing():
    UserFactory(username="owner", email="octo@example.com")
    EmailAddress.objects.create(
        user=User.objects.get(username="owner"), email="octo@example.com", verified=True
    )
    before = rows()
    client = Client()
    response = sign_in(client, github())
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert rows() == before and signed_in_user(client) is None
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert "GitHub" in message


def test_an_unverified_taken_email_is_left_off_the_new_account():
    UserFactory(username="owner", email="octo@example.com")
    provider = github()
    provider.emails = [{"email": "octo@example.com", "verified": False, "primary": True}]
    client = Client()
    sign_in(client, provider)
    user = signed_in_user(client)
    assert user.username != "owner" and user.email == ""
    assert not EmailAddress.objects.filter(user=user).exists()


@pytest.mark.parametrize("make", PROVIDERS)
def test_a_member_links_the_provider_from_settings(make):
    provider = make()
    user = UserFactory(username="reader")
    client = Client()
    client.force_login(user)
    state = start(client, provider, process="connect", next_url=reverse("forum:settings"))
    with responses.RequestsMock() as rsps:
        provider.answer(rsps)
        callback(client, provider, state)
    account = SocialAccount.objects.get()
    assert account.user == user and account.uid == provider.uid
    page = client.get(reverse("forum:settings"))
    assert [a.provider for a in page.context["accounts"]] == [provider.id]


def test_a_member_with_a_password_unlinks_a_provider():
    user = UserFactory(username="reader")
    account = SocialAccount.objects.create(user=user, provider="github", uid="42")
    client = Client()
    client.force_login(user)
    client.post(reverse("socialaccount_connections"), {"account": account.pk})
    assert not SocialAccount.objects.exists()


def test_unlinking_the_only_way_to_log_in_is_refused():
    client = Client()
    sign_in(client, github())
    account = SocialAccount.objects.get()
    response = client.post(reverse("socialaccount_connections"), {"account": account.pk})
    assert response.status_code == 200
    assert SocialAccount.objects.filter(pk=account.pk).exists()
    assert response.context["form"].errors
    settings_page = client.get(reverse("forum:settings"))
    assert settings_page.context["has_password"] is False


def failing(kind: str):
    if kind == "token 500":
        return {"status": 500, "body": "oops"}
    if kind == "malformed JSON":
        return {"status": 200, "body": "{not json", "content_type": "application/json"}
    return {"body": requests.exceptions.ReadTimeout("slow")}


@pytest.mark.parametrize("make", PROVIDERS)
@pytest.mark.parametrize("kind", ["token 500", "malformed JSON", "timeout"])
def test_a_failing_token_endpoint_tells_the_login_page_and_makes_nothing(make, kind):
    provider = make()
    before = rows()
    client = Client()
    state = start(client, provider)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        provider.answer(rsps, token=failing(kind))
        response = callback(client, provider, state)
    assert_failed_to_login_page(client, response, before)


@pytest.mark.parametrize("make", PROVIDERS)
def test_a_malformed_profile_tells_the_login_page_and_makes_nothing(make):
    provider = make()
    before = rows()
    client = Client()
    state = start(client, provider)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.POST, provider.token_url, json=provider.token)
        rsps.add(responses.GET, provider.profile_url, body="<html>", content_type="text/html")
        response = callback(client, provider, state)
    assert_failed_to_login_page(client, response, before)


@pytest.mark.parametrize("make", PROVIDERS)
def test_a_wrong_state_tells_the_login_page_and_makes_nothing(make):
    provider = make()
    before = rows()
    client = Client()
    start(client, provider)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        provider.answer(rsps)
        response = callback(client, provider, "forged-state")
        assert len(rsps.calls) == 0
    assert_failed_to_login_page(client, response, before)


@pytest.mark.parametrize("make", PROVIDERS)
def test_access_denied_tells_the_login_page_and_makes_nothing(make):
    provider = make()
    before = rows()
    client = Client()
    state = start(client, provider, next_url="/lessons/x/")
    response = client.get(
        reverse(f"{provider.id}_callback"), {"error": "access_denied", "state": state}
    )
    assert_failed_to_login_page(client, response, before)
    assert "next=%2Flessons%2Fx%2F" in response.url


def assert_failed_to_login_page(client: Client, response, before) -> None:
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert rows() == before and signed_in_user(client) is None
    page = client.get(response.url)
    [message] = [str(m) for m in page.context["messages"]]
    assert message
    assert page.status_code == 200


def test_the_login_page_shows_a_button_for_each_configured_provider():
    page = Client().get(reverse("account_login"))
    shown = [provider.id for provider in page.context["socialaccount_providers"]]
    assert shown == ["weixin", "github", "weibo"]
    html = page.content.decode()
    for provider_id in shown:
        assert f'action="{reverse(provider_id + "_login")}' in html


def test_with_no_provider_configured_the_login_and_sign_up_pages_show_no_buttons(settings):
    settings.SOCIALACCOUNT_PROVIDERS = config.providers_settings({})
    for name in ["account_login", "account_signup"]:
        page = Client().get(reverse(name))
        assert page.status_code == 200
        assert 'class="social-buttons"' not in page.content.decode()


def test_providers_from_the_environment_cost_no_query(django_assert_num_queries):
    from allauth.socialaccount.adapter import get_adapter

    apps_cache.admin_apps()  # warm: the admin has none
    with django_assert_num_queries(0):
        assert len(get_adapter().list_apps(None)) == 3


def test_providers_from_the_admin_cost_one_cached_read(settings, django_assert_num_queries):
    from allauth.socialaccount.adapter import get_adapter

    settings.SOCIALACCOUNT_PROVIDERS = config.providers_settings({})
    SocialApp.objects.create(provider="github", name="GitHub", client_id="db-id", secret="s")
    with django_assert_num_queries(1):
        assert [app.client_id for app in get_adapter().list_apps(None)] == ["db-id"]
    with django_assert_num_queries(0):
        assert [app.client_id for app in get_adapter().list_apps(None)] == ["db-id"]
    SocialApp.objects.all().delete()
    with django_assert_num_queries(1):
        assert get_adapter().list_apps(None) == []


def test_the_login_page_lists_admin_providers_without_a_query_once_cached(
    settings, django_assert_num_queries
):
    settings.SOCIALACCOUNT_PROVIDERS = config.providers_settings({})
    SocialApp.objects.create(provider="weibo", name="Weibo", client_id="db-id", secret="s")
    client = Client()
    client.get(reverse("account_login"))
    with django_assert_num_queries(0):
        page = client.get(reverse("account_login"))
    assert [p.id for p in page.context["socialaccount_providers"]] == ["weibo"]


def test_form_action_allows_self_and_each_configured_providers_origin_only():
    environ = {"GITHUB_CLIENT_ID": "id", "GITHUB_CLIENT_SECRET": "s", "WEIBO_CLIENT_ID": "id"}
    providers = config.providers_settings(environ)
    assert config.form_action_origins(providers) == ["https://github.com"]
    assert config.form_action_origins(config.providers_settings({})) == []
    enterprise = config.providers_settings(environ | {"GITHUB_URL": "http://127.0.0.1:8765/"})
    assert config.form_action_origins(enterprise) == ["http://127.0.0.1:8765"]


def test_the_settings_load_form_action_from_the_environment():
    from tests.manage_subprocess import run_manage

    code = "from django.conf import settings; print(' '.join(settings.SECURE_CSP['form-action']))"
    environ = {"WEIXIN_APP_ID": "wx", "WEIXIN_APP_SECRET": "s"}
    result = run_manage("shell", "-v", "0", "-c", code, **environ)
    assert result.stdout.split() == ["'self'", "https://open.weixin.qq.com"]


def form_action(response) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    [directive] = [part for part in policy.split(";") if part.strip().startswith("form-action")]
    return directive.split()[1:]


def test_an_admin_provider_s_origin_is_allowed_on_the_pages_that_show_its_button(settings):
    settings.SOCIALACCOUNT_PROVIDERS = config.providers_settings({})
    SocialApp.objects.create(provider="weibo", name="Weibo", client_id="db-id", secret="s")
    client = Client()
    assert form_action(client.get(reverse("account_login"))) == [
        "'self'",
        "https://api.weibo.com",
    ]
    assert form_action(client.get("/")) == ["'self'"]


def test_an_environment_provider_s_origin_is_not_repeated_on_the_login_page(settings):
    settings.SECURE_CSP = {
        **settings.SECURE_CSP,
        "form-action": ["'self'", *config.form_action_origins(settings.SOCIALACCOUNT_PROVIDERS)],
    }
    assert form_action(Client().get(reverse("account_login"))) == [
        "'self'",
        "https://open.weixin.qq.com",
        "https://github.com",
        "https://api.weibo.com",
    ]


@pytest.mark.parametrize("provider_id", ["github", "weixin", "weibo"])
def test_an_unconfigured_provider_s_login_and_callback_are_not_found(settings, provider_id):
    settings.SOCIALACCOUNT_PROVIDERS = config.providers_settings({})
    client = Client()
    assert client.post(reverse(f"{provider_id}_login")).status_code == 404
    assert client.get(reverse(f"{provider_id}_callback"), {"code": "c"}).status_code == 404


def test_an_avatar_the_guard_refuses_leaves_the_letter_avatar_and_the_login_goes_on(monkeypatch):
    def refused(url: str, **_kwargs) -> bytes:
        raise fetch.FetchError(f"{url}: not a public address")

    monkeypatch.setattr(fetch, "fetch_url", refused)
    client = Client()
    sign_in(client, github())
    member = signed_in_user(client).member
    assert not member.avatar and member.avatar_src == ""


def test_allauth_s_error_page_speaks_chinese():
    from allauth.socialaccount.adapter import get_adapter
    from django.template.loader import render_to_string
    from django.test import RequestFactory
    from django.utils import translation

    request = RequestFactory().get("/")
    provider = get_adapter().get_provider(request, "weixin")
    with translation.override("zh-hans"):
        html = render_to_string(
            "socialaccount/authentication_error.html",
            {"auth_error": {"provider": provider, "code": "unknown"}},
            request=request,
        )
    assert "用 微信 登录没有成功" in html
