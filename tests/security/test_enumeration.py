"""Login, sign-up and password reset do not tell whether an account exists."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

# What differs between two requests anyway: the CSRF token (masked anew for each response),
# the CSP nonce, and what the visitor typed, which the form shows back.
TOKEN = re.compile(r"\b[A-Za-z0-9]{64}\b")
NONCE = re.compile(r'nonce="[^"]*"')


def page(response, typed: str) -> str:
    html = response.content.decode().replace(typed, "TYPED")
    return NONCE.sub('nonce=""', TOKEN.sub("TOKEN", html))


def outcome(response, typed: str) -> tuple[int, str, str]:
    return response.status_code, response.get("Location", ""), page(response, typed)


@pytest.fixture
def known(db):
    return UserFactory(username="xiaohong", email="hong@example.com")


@pytest.mark.parametrize(
    ("existing", "unknown"),
    [("xiaohong", "xiaohuang"), ("hong@example.com", "huang@example.com")],
    ids=["username", "email"],
)
def test_login_with_a_wrong_password_looks_like_an_unknown_account(known, existing, unknown):
    url = reverse("account_login")
    wrong = Client().post(url, {"login": existing, "password": "not-the-password-9"})
    missing = Client().post(url, {"login": unknown, "password": "not-the-password-9"})
    assert wrong.status_code == 200
    assert outcome(wrong, existing) == outcome(missing, unknown)


def sign_up(email: str, username: str) -> tuple:
    client = Client()
    data = {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD}
    response = client.post(reverse("account_signup"), data, follow=True)
    return (
        response.status_code,
        [(url.replace(username, "NAME"), code) for url, code in response.redirect_chain],
        page(response, email).replace(username, "NAME"),
    )


def test_sign_up_with_a_taken_email_looks_like_a_new_one_when_email_is_verified(settings, known):
    """With verification, the owner of a taken address is mailed instead of the visitor told."""
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    taken = sign_up("hong@example.com", "newcomer1")
    new = sign_up("ming@example.com", "newcomer2")
    assert taken == new
    assert [message.to for message in mail.outbox] == [["hong@example.com"], ["ming@example.com"]]
    assert not get_user_model().objects.filter(username="newcomer1").exists()


@pytest.mark.xfail(
    strict=True,
    reason=(
        "with ACCOUNT_EMAIL_VERIFICATION=optional allauth must refuse a taken email "
        "(UNIQUE_EMAIL wins over PREVENT_ENUMERATION); production needs 'mandatory'"
    ),
)
def test_sign_up_with_a_taken_email_looks_like_a_new_one_with_the_default_settings(known):
    assert sign_up("hong@example.com", "newcomer1") == sign_up("ming@example.com", "newcomer2")


def test_password_reset_looks_the_same_for_known_and_unknown_email(known):
    url = reverse("account_reset_password")
    for_known = Client().post(url, {"email": "hong@example.com"}, follow=True)
    known_mail = [message.to for message in mail.outbox]
    for_unknown = Client().post(url, {"email": "huang@example.com"}, follow=True)
    assert for_known.redirect_chain == for_unknown.redirect_chain
    assert page(for_known, "hong@example.com") == page(for_unknown, "huang@example.com")
    # Only the account's owner is mailed: the form cannot be used to mail strangers.
    assert known_mail == [["hong@example.com"]]
    assert [message.to for message in mail.outbox] == known_mail
    assert "/accounts/password/reset/key/" in mail.outbox[0].body
