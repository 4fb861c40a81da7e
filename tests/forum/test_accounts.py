from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from forum import services
from forum.accounts import AuthenticationBackend
from forum.models import Member
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_sign_up_with_username_email_and_password(client, django_user_model):
    response = client.post(
        reverse("account_signup"),
        {
            "username": "xiaoming",
            "email": "xiaoming@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert django_user_model.objects.filter(username="xiaoming").exists()


def test_log_in_by_email(client):
    user = UserFactory(username="xiaohong", email="hong@example.com")
    response = client.post(
        reverse("account_login"), {"login": "hong@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_log_in_by_username(client):
    user = UserFactory(username="xiaohong")
    client.post(reverse("account_login"), {"login": "xiaohong", "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(user.pk)


def test_log_in_by_the_username_typed_in_fullwidth(client):
    UserFactory(username="xiaohong")
    client.post(reverse("account_login"), {"login": "ｘｉａｏｈｏｎｇ", "password": PASSWORD})
    assert client.session.get("_auth_user_id")


def test_wrong_password_is_a_clear_error(client):
    UserFactory(username="xiaohong")
    response = client.post(
        reverse("account_login"), {"login": "xiaohong", "password": "not-the-password"}
    )
    assert response.status_code == 200
    assert "不正确" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_log_out_needs_a_post(member_client):
    member_client.get(reverse("account_logout"))
    assert "_auth_user_id" in member_client.session
    member_client.post(reverse("account_logout"))
    assert "_auth_user_id" not in member_client.session


def test_password_reset_sends_an_email(client):
    user = UserFactory(email="hong@example.com")
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    response = client.post(reverse("account_reset_password"), {"email": "hong@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "hong@example.com" in mail.outbox[0].to


def test_account_pages_wear_the_site_layout(client):
    html = client.get(reverse("account_login")).content.decode()
    assert 'class="site-header"' in html
    assert "page-entrance" in html
    assert 'class="form form--entrance"' in html


def test_the_backend_loads_the_account_as_the_orm_does_with_its_member_in_one_query(
    django_assert_num_queries,
):
    user = UserFactory(last_login=timezone.now())
    member = services.member_for(user)
    Member.objects.filter(pk=member.pk).update(suspended_until=timezone.now(), is_banned=True)
    with django_assert_num_queries(1):
        loaded = AuthenticationBackend().get_user(user.pk)
        loaded_member = loaded.member
    expected = get_user_model().objects.get(pk=user.pk)
    for field in get_user_model()._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(expected, field.attname), field.name
    for field in Member._meta.concrete_fields:
        assert getattr(loaded_member, field.attname) == getattr(
            Member.objects.get(pk=member.pk), field.attname
        ), field.name
    assert loaded.last_login.tzinfo is not None and loaded_member.is_banned is True


def test_the_backend_knows_an_account_without_a_member_without_asking_again(
    django_assert_num_queries,
):
    user = UserFactory()
    with django_assert_num_queries(1):
        loaded = AuthenticationBackend().get_user(user.pk)
        with pytest.raises(Member.DoesNotExist):
            loaded.member  # noqa: B018


def test_the_backend_refuses_unknown_and_inactive_accounts():
    assert AuthenticationBackend().get_user(999_999) is None
    assert AuthenticationBackend().get_user(UserFactory(is_active=False).pk) is None
