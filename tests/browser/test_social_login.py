"""A reader signs in with GitHub (a fake one on 127.0.0.1), lands back on the lesson and
comments: the button's POST redirects to the provider (allowed by form-action), PKCE and the
state round-trip, and the account and member are made with the GitHub name."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.github.views import GitHubOAuth2Adapter
from django.core.cache import cache
from django.utils.csp import CSP

from forum.models import Member
from forum.social import apps_cache, config
from tests.browser.conftest import PIXEL, console_errors
from tests.browser.fake_github import EMAILS, USER, FakeGitHub

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fake_github(settings, monkeypatch):
    with FakeGitHub(client_id="gh-id", secret="gh-secret") as fake:
        environ = {
            "GITHUB_CLIENT_ID": "gh-id",
            "GITHUB_CLIENT_SECRET": "gh-secret",
            "GITHUB_URL": fake.url,
        }
        settings.SOCIALACCOUNT_PROVIDERS = config.providers_settings(environ)
        form_action = [CSP.SELF, *config.form_action_origins(settings.SOCIALACCOUNT_PROVIDERS)]
        assert form_action == [CSP.SELF, fake.url]
        settings.SECURE_CSP = {**settings.SECURE_CSP, "form-action": form_action}
        # allauth reads GITHUB_URL when its module is imported; point the adapter at the fake
        # (/user and /user/emails at its root, as github.com's API has them).
        monkeypatch.setattr(
            GitHubOAuth2Adapter, "authorize_url", f"{fake.url}/login/oauth/authorize"
        )
        monkeypatch.setattr(
            GitHubOAuth2Adapter, "access_token_url", f"{fake.url}/login/oauth/access_token"
        )
        monkeypatch.setattr(GitHubOAuth2Adapter, "profile_url", f"{fake.url}/user")
        monkeypatch.setattr(GitHubOAuth2Adapter, "emails_url", f"{fake.url}/user/emails")
        cache.delete(apps_cache.CACHE_KEY)
        yield fake


def test_sign_in_with_github_land_back_on_the_lesson_and_comment(
    live_server, lesson, lesson_url, page, fake_github, console_messages
):
    # The sandbox has no internet: remote avatars on the lesson get a pixel; the fake GitHub
    # answers for itself.
    page.route(
        lambda url: not url.startswith(("http://localhost", fake_github.url)),
        lambda route: route.fulfill(status=200, body=PIXEL, content_type="image/png"),
    )
    lesson_path = lesson.get_absolute_url()
    page.goto(f"{live_server.url}/accounts/login/?next={lesson_path}")
    button = page.get_by_role("button", name="使用 GitHub 登录")
    with page.expect_navigation(url=f"{fake_github.url}/login/oauth/authorize**"):
        button.click()
    page.get_by_role("link", name="Authorize").click()
    page.wait_for_url(lesson_url)

    account = SocialAccount.objects.get(provider="github")
    assert account.uid == str(USER["id"])
    member = Member.objects.get(user=account.user)
    assert member.display_name == USER["name"]
    assert account.user.email == EMAILS[0]["email"]
    assert fake_github.calls == [
        "GET /login/oauth/authorize",
        "POST /login/oauth/access_token",
        "GET /user",
        "GET /user/emails",
    ]

    page.fill("#comment-body", "用 GitHub 登录后的第一条评论。")
    page.click("#comment-form button[type=submit]")
    card = page.locator("article.comment", has_text="用 GitHub 登录后的第一条评论").first
    card.wait_for()
    assert card.locator("[data-author]").first.inner_text() == USER["name"]
    assert member.comments.count() == 1
    assert console_errors(console_messages) == []
