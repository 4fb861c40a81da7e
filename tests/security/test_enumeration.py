"""Login, sign-up and password reset do not tell whether an account exists."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

# What differs between two requests anyway: the CSRF token (masked anew for each response),
# and what the visitor typed, which the form shows back.
TOKEN = re.compile(r"\b[A-Za-z0-9]{64}\b")


def page(response, typed: str) -> str:
    return TOKEN.sub("TOKEN", response.content.decode().replace(typed, "TYPED"))


def outcome(response, typed: str) -> tuple[int, str, str]:
    return response.status_code, response.get("Location", ""), page(response, typed)


@pytest.fixture
def known(db):
    owner = UserFactory(username="xiaohong", email="hong@example.com")
    EmailAddress.objects.create(user=owner, email=owner.email, primary=True, verified=True)
    return owner


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


@pytest.fixture
def hashes(monkeypatch) -> list[str]:
    """The passwords the hasher runs on, in order. A run is what takes the time: ~0.3 s with
    production's PBKDF2 (MD5 here); everything else a login does is under a millisecond."""
    runs = []
    encode = MD5PasswordHasher.encode

    def counted(self, password: str, salt: str) -> str:
        runs.append(password)
        return encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counted)
    return runs


def log_in(login: str, password: str) -> Client:
    client = Client()
    client.post(reverse("account_login"), {"login": login, "password": password})
    return client


@pytest.mark.parametrize(
    "login",
    ["hong@example.com", "HONG@example.com", "huang@example.com", "xiaohong", "xiaohuang"],
    ids=["address", "address-in-capitals", "unknown-address", "username", "unknown-username"],
)
def test_a_failed_login_runs_the_password_hasher_once_whether_or_not_the_account_exists(
    known, hashes, login
):
    log_in(login, "not-the-password-9")
    assert hashes == ["not-the-password-9"]


def test_an_address_two_accounts_claim_runs_the_hasher_once_and_signs_in_the_first(db, hashes):
    first = UserFactory(username="xiaohong", email="hong@example.com")
    newcomer = UserFactory(username="newcomer1", email="hong@example.com", password="other-9x")
    for account in (first, newcomer):
        EmailAddress.objects.create(user=account, email="hong@example.com", verified=False)
    hashes.clear()
    assert "_auth_user_id" not in log_in("hong@example.com", "other-9x").session
    assert log_in("hong@example.com", PASSWORD).session["_auth_user_id"] == str(first.pk)
    assert hashes == ["other-9x", PASSWORD]
    assert log_in("newcomer1", "other-9x").session["_auth_user_id"] == str(newcomer.pk)


def sign_up(email: str, username: str) -> tuple:
    client = Client()
    data = {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD}
    response = client.post(reverse("account_signup"), data, follow=True)
    return (
        response.status_code,
        [(url.replace(username, "NAME"), code) for url, code in response.redirect_chain],
        # The letter avatar's colour follows the name the visitor chose, not the address.
        re.sub(r"avatar--hue-\d", "avatar--hue-N", page(response, email).replace(username, "NAME")),
    )


def test_sign_up_with_a_taken_email_looks_like_a_new_one_when_email_is_verified(settings, known):
    """With verification, the owner of a taken address is mailed instead of the visitor told."""
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    taken = sign_up("hong@example.com", "newcomer1")
    new = sign_up("ming@example.com", "newcomer2")
    assert taken == new
    assert [message.to for message in mail.outbox] == [["hong@example.com"], ["ming@example.com"]]
    assert not get_user_model().objects.filter(username="newcomer1").exists()


def test_sign_up_with_a_taken_email_looks_like_a_new_one_with_the_default_settings(known):
    taken = sign_up("hong@example.com", "newcomer1")
    new = sign_up("ming@example.com", "newcomer2")
    assert taken == new
    assert [message.to for message in mail.outbox] == [["hong@example.com"], ["ming@example.com"]]


def test_the_owner_of_a_taken_email_is_told_they_already_have_an_account(known):
    sign_up("hong@example.com", "newcomer1")
    (message,) = mail.outbox
    assert "/accounts/confirm-email/" not in message.body
    assert reverse("account_reset_password") in message.body


def test_a_taken_email_stays_its_owners_for_login_and_password_reset(known):
    sign_up("hong@example.com", "newcomer1")
    owner = Client()
    owner.post(reverse("account_login"), {"login": "hong@example.com", "password": PASSWORD})
    assert owner.session["_auth_user_id"] == str(known.pk)
    mail.outbox.clear()
    Client().post(reverse("account_reset_password"), {"email": "hong@example.com"})
    (message,) = mail.outbox
    assert "xiaohong" in message.body and "newcomer1" not in message.body


def test_a_taken_email_can_never_be_confirmed_by_the_newcomer(known):
    client = Client()
    client.post(
        reverse("account_signup"),
        {
            "username": "newcomer1",
            "email": "hong@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    mail.outbox.clear()
    client.post(reverse("account_email"), {"action_send": "", "email": "hong@example.com"})
    assert mail.outbox
    assert all("/accounts/confirm-email/" not in message.body for message in mail.outbox)
    newcomer = get_user_model().objects.get(username="newcomer1")
    assert not newcomer.emailaddress_set.filter(verified=True).exists()


def test_of_two_unconfirmed_claims_to_an_email_the_first_account_can_confirm_it(db):
    first = UserFactory(username="xiaohong", email="hong@example.com")
    EmailAddress.objects.create(user=first, email=first.email, primary=True, verified=False)
    sign_up("hong@example.com", "newcomer1")
    mail.outbox.clear()
    owner = Client()
    owner.force_login(first)
    owner.post(reverse("account_email"), {"action_send": "", "email": "hong@example.com"})
    (message,) = mail.outbox
    assert "/accounts/confirm-email/" in message.body
