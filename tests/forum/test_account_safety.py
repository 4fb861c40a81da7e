"""Account safety: changing the email address asks for the password again unless it was given in
the last few minutes, changing the password asks for the current one, a reset link goes only to
a verified address, and a changed email or password is told to the member's verified address."""

from __future__ import annotations

import pytest
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory
from tests.security.test_enumeration import outcome

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-and-unusual-passphrase-7"


@pytest.fixture
def owner(db):
    owner = UserFactory(username="xiaohong", email="hong@example.com")
    EmailAddress.objects.create(user=owner, email=owner.email, primary=True, verified=True)
    return owner


def confirmed_access(user, *, seconds_ago: float) -> Client:
    """A client that logged in and gave its password on the "confirm access" page, as long
    ago as asked: the times allauth keeps in the session are moved back."""
    client = Client()
    client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD})
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    session = client.session
    records = session[AUTHENTICATION_METHODS_SESSION_KEY]
    assert any(record.get("reauthenticated") for record in records)
    for record in records:
        record["at"] -= seconds_ago
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session.save()
    return client


LONG_AGO = settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 60


def add_email(client: Client, email: str = "hong.new@example.com"):
    return client.post(reverse("account_email"), {"action_add": "", "email": email})


def test_adding_an_email_long_after_giving_the_password_asks_for_it_again(owner):
    client = confirmed_access(owner, seconds_ago=LONG_AGO)
    response = add_email(client)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert not EmailAddress.objects.filter(email="hong.new@example.com").exists()
    page = client.get(response["Location"]).content.decode()
    assert 'name="password"' in page and 'class="site-header"' in page


def test_a_login_alone_does_not_let_the_email_be_changed(owner):
    client = Client()
    client.post(reverse("account_login"), {"login": "xiaohong", "password": PASSWORD})
    response = add_email(client)
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert not EmailAddress.objects.filter(email="hong.new@example.com").exists()


@pytest.mark.parametrize("action", ["action_primary", "action_remove"])
def test_choosing_or_removing_an_address_long_after_giving_the_password_asks_again(owner, action):
    other = EmailAddress.objects.create(user=owner, email="hong2@example.com", verified=True)
    client = confirmed_access(owner, seconds_ago=LONG_AGO)
    response = client.post(reverse("account_email"), {action: "", "email": other.email})
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    other.refresh_from_db()
    assert not other.primary
    assert mail.outbox == []


def test_with_the_password_given_recently_the_email_form_works(owner):
    client = confirmed_access(owner, seconds_ago=60)
    response = add_email(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email")
    assert EmailAddress.objects.filter(user=owner, email="hong.new@example.com").exists()


def test_giving_the_password_again_carries_out_the_change_that_asked_for_it(owner):
    client = confirmed_access(owner, seconds_ago=LONG_AGO)
    asked = add_email(client)
    response = client.post(asked["Location"], {"password": PASSWORD})
    assert response.status_code == 302
    assert EmailAddress.objects.filter(user=owner, email="hong.new@example.com").exists()


def test_a_wrong_password_on_the_confirm_access_page_changes_nothing(owner):
    client = confirmed_access(owner, seconds_ago=LONG_AGO)
    asked = add_email(client)
    response = client.post(asked["Location"], {"password": "not-the-password-9"})
    assert response.status_code == 200
    assert not EmailAddress.objects.filter(email="hong.new@example.com").exists()


def change_password(client: Client, current: str):
    return client.post(
        reverse("account_change_password"),
        {"oldpassword": current, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )


def test_changing_the_password_asks_for_the_current_one_however_long_ago_the_login(owner):
    client = confirmed_access(owner, seconds_ago=LONG_AGO)
    assert 'name="oldpassword"' in client.get(reverse("account_change_password")).content.decode()
    for current in ("", "not-the-password-9"):
        response = change_password(client, current)
        assert response.status_code == 200
        assert "oldpassword" in response.context["form"].errors
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
    assert mail.outbox == []


def test_with_the_current_password_the_password_changes(owner):
    client = confirmed_access(owner, seconds_ago=LONG_AGO)
    assert change_password(client, PASSWORD).status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)


def request_reset(email: str):
    return Client().post(reverse("account_reset_password"), {"email": email}, follow=True)


def test_a_reset_for_an_address_no_account_verified_sends_nothing_and_looks_the_same(owner):
    unverified = UserFactory(username="newcomer1", email="ming@example.com")
    EmailAddress.objects.create(user=unverified, email=unverified.email, primary=True)
    UserFactory(username="nobody1", email="nobody@example.com")  # no EmailAddress at all
    answers = {
        email: outcome(request_reset(email), email)
        for email in ("ming@example.com", "nobody@example.com", "huang@example.com")
    }
    assert mail.outbox == []
    verified = request_reset("hong@example.com")
    assert len(set(answers.values())) == 1
    assert outcome(verified, "hong@example.com") == answers["huang@example.com"]


def test_a_reset_for_a_verified_address_sends_one_link_to_its_account(owner):
    newcomer = UserFactory(username="newcomer1", email="hong@example.com")
    EmailAddress.objects.create(user=newcomer, email="hong@example.com", verified=False)
    request_reset("hong@example.com")
    (message,) = mail.outbox
    assert message.to == ["hong@example.com"]
    assert "/accounts/password/reset/key/" in message.body
    assert "xiaohong" in message.body and "newcomer1" not in message.body


def test_changing_the_primary_email_tells_the_old_address(owner):
    EmailAddress.objects.create(user=owner, email="hong2@example.com", verified=True)
    client = confirmed_access(owner, seconds_ago=60)
    client.post(reverse("account_email"), {"action_primary": "", "email": "hong2@example.com"})
    (notice,) = mail.outbox
    assert notice.to == ["hong@example.com"]
    assert "你的邮箱地址已更改" in notice.subject
    assert "hong@example.com" in notice.body and "hong2@example.com" in notice.body
    assert "你的账号刚刚有了这项变动" in notice.body and "您" not in notice.body


def test_changing_the_password_sends_a_notice(owner):
    client = confirmed_access(owner, seconds_ago=LONG_AGO)
    change_password(client, PASSWORD)
    (notice,) = mail.outbox
    assert notice.to == ["hong@example.com"]
    assert "你的密码已修改" in notice.subject
    assert "你的密码已修改。" in notice.body and "127.0.0.1" in notice.body


def test_removing_an_address_tells_the_primary_one(owner):
    EmailAddress.objects.create(user=owner, email="hong2@example.com", verified=True)
    client = confirmed_access(owner, seconds_ago=60)
    client.post(reverse("account_email"), {"action_remove": "", "email": "hong2@example.com"})
    (notice,) = mail.outbox
    assert notice.to == ["hong@example.com"] and "hong2@example.com" in notice.body


def test_a_notice_never_goes_to_an_address_the_member_did_not_verify(db):
    """A newcomer who typed someone else's address at sign-up: its owner hears nothing of them."""
    newcomer = UserFactory(username="newcomer1", email="hong@example.com")
    EmailAddress.objects.create(user=newcomer, email=newcomer.email, primary=True)
    change_password(confirmed_access(newcomer, seconds_ago=0), PASSWORD)
    newcomer.refresh_from_db()
    assert newcomer.check_password(NEW_PASSWORD)
    assert mail.outbox == []


def test_a_notice_speaks_the_members_language(owner):
    client = confirmed_access(owner, seconds_ago=0)
    client.cookies["django_language"] = "en"
    change_password(client, PASSWORD)
    (notice,) = mail.outbox
    assert "Your password was changed" in notice.subject
    assert "Hello from Lesson Forum!" in notice.body and "If it was not you" in notice.body
