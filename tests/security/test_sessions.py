"""Sessions: a new key at login, other sessions end with a password change, safe cookies."""

from __future__ import annotations

import secrets
import subprocess
from http.cookies import SimpleCookie

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory
from tests.manage_subprocess import run_manage

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-horse-battery-staple-43"


def logged_in_with_password(user) -> Client:
    client = Client()
    response = client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def is_logged_in(client: Client) -> bool:
    """Whether a page that needs an account is shown, rather than the login page."""
    return client.get(reverse("account_change_password")).status_code == 200


def test_login_rotates_the_session_key():
    user = UserFactory()
    client = Client()
    before = client.session.session_key  # a session from before login, e.g. a planted one
    client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD})
    after = client.session.session_key
    assert after != before
    assert client.session["_auth_user_id"] == str(user.pk)
    assert not Session.objects.filter(session_key=before).exists()


def test_logout_ends_the_session_on_the_server():
    client = logged_in_with_password(UserFactory())
    key = client.session.session_key
    client.post(reverse("account_logout"))
    assert not Session.objects.filter(session_key=key).exists()
    assert not is_logged_in(client)


def test_password_change_ends_the_other_sessions_and_keeps_this_one():
    user = UserFactory()
    here, elsewhere = logged_in_with_password(user), logged_in_with_password(user)
    assert is_logged_in(elsewhere)
    response = here.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert is_logged_in(here)
    assert not is_logged_in(elsewhere)


def production(*args: str) -> subprocess.CompletedProcess:
    """manage.py with production settings: DEBUG off, behind a proxy, an in-memory database."""
    return run_manage(
        *args,
        timeout=120,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="forum.example",
        CSRF_TRUSTED_ORIGINS="https://forum.example",
        DATABASE_URL="sqlite:///:memory:",
        FORUM_TRUSTED_PROXIES="127.0.0.1",
    )


# Logs in over HTTPS in a fresh in-memory database and prints the cookies the responses set.
# Only static storage is swapped, since no collectstatic manifest exists here.
LOG_IN_AND_PRINT_COOKIES = """
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, override_settings
call_command("migrate", verbosity=0)
get_user_model().objects.create_user("probe", "probe@example.com", "probe-password-long-1")
files = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
with override_settings(STORAGES={"default": files, "staticfiles": plain}):
    client = Client(HTTP_HOST="forum.example")
    page = client.get("/accounts/login/", secure=True)
    login = client.post(
        "/accounts/login/", {"login": "probe", "password": "probe-password-long-1"}, secure=True
    )
print("LOGIN", login.status_code)
print(page.cookies["csrftoken"].output())
print(login.cookies["sessionid"].output())
"""


def test_production_cookies_are_secure_httponly_and_samesite_lax():
    result = production("shell", "-c", LOG_IN_AND_PRINT_COOKIES)
    assert result.returncode == 0, result.stderr
    assert "LOGIN 302" in result.stdout
    cookies = SimpleCookie()
    for line in result.stdout.splitlines():
        if line.startswith("Set-Cookie:"):
            cookies.load(line.removeprefix("Set-Cookie:").strip())
    session, csrf = cookies["sessionid"], cookies["csrftoken"]
    assert session["secure"] and session["httponly"]
    assert session["samesite"] == "Lax"
    assert csrf["secure"]
    assert csrf["samesite"] == "Lax"


def test_deploy_check_passes_with_production_settings():
    result = production("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
