"""allauth, adapted: our client address for its rate limits, a sign-up and a login that do not
tell whether an email address already has an account, and the member loaded with the account."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter, get_adapter
from allauth.account.app_settings import LoginMethod
from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.account.internal import userkit
from allauth.account.models import EmailAddress
from allauth.account.utils import filter_users_by_email
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connections, router
from django.db.models import Model
from django.http import HttpRequest

from forum.models import Member
from forum.ratelimit import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        """allauth's login, sign-up and password-reset limits count the same client as ours."""
        return client_ip(request) or super().get_client_ip(request)

    def send_confirmation_mail(self, request: HttpRequest, emailconfirmation, signup: bool) -> None:
        """An address that belongs to another account gets "you already have an account", never
        a link that would confirm it for a second one."""
        address = emailconfirmation.email_address
        if address_belongs_to_another(address):
            self.send_account_already_exists_mail(address.email)
        else:
            super().send_confirmation_mail(request, emailconfirmation, signup)


def address_belongs_to_another(address: EmailAddress) -> bool:
    """Another account verified this address, or had it first."""
    claimant = address.user
    return any(
        other.pk != claimant.pk
        and (
            other.emailaddress_set.filter(email__iexact=address.email, verified=True).exists()
            or (other.date_joined, other.pk) < (claimant.date_joined, claimant.pk)
        )
        for other in filter_users_by_email(address.email)
    )


class SignupForm(AllauthSignupForm):
    """With verification optional, allauth refuses a taken address on the form, which tells a
    visitor that it has an account. Here the sign-up goes through as for any new address: the
    address stays unverified on the new account (it cannot log in with it, reset a password
    through it or ever confirm it), and its owner is mailed that they already have an account.
    With verification mandatory, allauth's own answer already hides it."""

    def validate_unique_email(self, value: str) -> str:
        if app_settings.EMAIL_VERIFICATION == app_settings.EmailVerificationMethod.MANDATORY:
            return super().validate_unique_email(value)
        return get_adapter().validate_unique_email(value)


class _Columns:
    """A model's columns in a written-out query, and its instances made from their values the
    way the ORM makes them (with the database's converters)."""

    def __init__(self, model: type[Model], using: str) -> None:
        connection = connections[using]
        table = model._meta.db_table
        self.model, self.using = model, using
        self.fields = model._meta.concrete_fields
        self.attnames = [field.attname for field in self.fields]
        quote = connection.ops.quote_name
        self.sql = ", ".join(f"{quote(table)}.{quote(field.column)}" for field in self.fields)
        self.converters = []
        for field in self.fields:
            column = field.get_col(table)
            found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
            self.converters.append((found, column))

    def instance(self, values: Sequence) -> Model:
        connection = connections[self.using]
        converted = []
        for value, (converters, column) in zip(values, self.converters, strict=True):
            for converter in converters:
                value = converter(value, column, connection)
            converted.append(value)
        return self.model.from_db(self.using, self.attnames, converted)


@functools.cache
def _account_query(using: str) -> tuple[str, _Columns, _Columns]:
    User = get_user_model()
    users, members = _Columns(User, using), _Columns(Member, using)
    quote = connections[using].ops.quote_name
    user_table, member_table = quote(User._meta.db_table), quote(Member._meta.db_table)
    user_pk = quote(User._meta.pk.column)
    member_user = quote(Member._meta.get_field("user").column)
    # Only the models' quoted names are formatted in; the id is a parameter.
    sql = (
        f"SELECT {users.sql}, {members.sql} FROM {user_table} "  # noqa: S608
        f"LEFT OUTER JOIN {member_table} ON {user_table}.{user_pk} = {member_table}.{member_user} "
        f"WHERE {user_table}.{user_pk} = %s"
    )
    return sql, users, members


def login_account(login: str) -> AbstractBaseUser | None:
    """The one account a login (an email address or a username) may sign in to, found without
    checking a password: the account its email address belongs to (the one that verified it,
    or had it first), else the account of that username."""
    by_email, by_username = [], None
    # Both looked up every time, so the queries are the same whichever exists.
    if LoginMethod.EMAIL in app_settings.LOGIN_METHODS:
        by_email = userkit.filter_users_by_email(login, prefer_verified=True, for_login=True)
    if LoginMethod.USERNAME in app_settings.LOGIN_METHODS:
        by_username = userkit.get_user_by_username(login)
    if by_email:
        return min(by_email, key=lambda account: (account.date_joined, account.pk))
    return by_username


class AuthenticationBackend(AllauthBackend):
    """allauth's (which is Django's ModelBackend too), checking one account's password per
    attempt, and loading the account's forum member in the same query: every signed-in page
    and action needs both. The query is written out: it runs on every signed-in request, and
    the ORM spends 0.6 ms of CPU building it, four times what running it costs."""

    def _authenticate(self, request: HttpRequest | None, **credentials) -> AbstractBaseUser | None:
        """The password hasher runs once per attempt, whether or not the account exists: on the
        account's password here, or, for no account, on a throwaway one (allauth's
        `authenticate`). allauth's own checks an address's accounts twice when both login
        methods are on (as the `username` its form also passes, then as the `email`), and each
        of an address's accounts, which told by the time taken whether an address has one."""
        login = credentials.get("email") or credentials.get("username")
        if not login:
            return None
        return self._check_password(login_account(login), credentials.get("password") or "")

    def get_user(self, user_id: int) -> AbstractBaseUser | None:
        User = get_user_model()
        using = router.db_for_read(User)
        sql, users, members = _account_query(using)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, [User._meta.pk.to_python(user_id)])
            row = cursor.fetchone()
        if row is None:
            return None
        user = users.instance(row[: len(users.fields)])
        member_values = row[len(users.fields) :]
        if member_values[0] is None:  # known to have none, as select_related would remember
            Member._meta.get_field("user").remote_field.set_cached_value(user, None)
        else:
            user.member = members.instance(member_values)
        return user if self.user_can_authenticate(user) else None
