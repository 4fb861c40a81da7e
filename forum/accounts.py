"""allauth, adapted: our client address for its rate limits, a sign-up and a login that do not
tell whether an email address already has an account, password resets and security notices
only to verified addresses, user names that cannot pass for another's (forum.identity), and
the member made and loaded with the account."""

from __future__ import annotations

import unicodedata

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter, get_adapter
from allauth.account.app_settings import LoginMethod
from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import ResetPasswordForm as AllauthResetPasswordForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.account.internal import userkit
from allauth.account.models import EmailAddress
from allauth.account.utils import filter_users_by_email
from allauth.utils import get_username_max_length
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from forum import identity, services
from forum.ratelimit import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        """allauth's login, sign-up and password-reset limits count the same client as ours."""
        return client_ip(request) or super().get_client_ip(request)

    def clean_username(self, username: str, shallow: bool = False) -> str:
        """A user name is kept in its NFKC form (`ａｄｍｉｎ` is `admin`), and refused when it
        looks like a reserved word, another account's name or a teacher's (forum.identity)."""
        username = unicodedata.normalize("NFKC", username)
        # The form checked the length as typed; NFKC can make it longer (`㍿` is `株式会社`).
        if limit := get_username_max_length():
            MaxLengthValidator(limit)(username)
        # Before allauth's checks, whose "enter a valid user name" would say less about `独‍行`.
        if not shallow and (refusal := identity.name_refusal(username)):
            raise ValidationError(refusal, code="name_refused")
        return super().clean_username(username, shallow)

    def save_user(
        self, request: HttpRequest, user: AbstractBaseUser, form, commit: bool = True
    ) -> AbstractBaseUser:
        """The member is made with the account, so that its name counts at once against
        look-alikes (forum.identity compares members' skeletons)."""
        user = super().save_user(request, user, form, commit)
        if commit:
            services.member_for(user)
        return user

    def send_confirmation_mail(self, request: HttpRequest, emailconfirmation, signup: bool) -> None:
        """An address that belongs to another account gets "you already have an account", never
        a link that would confirm it for a second one."""
        address = emailconfirmation.email_address
        if address_belongs_to_another(address):
            self.send_account_already_exists_mail(address.email)
        else:
            super().send_confirmation_mail(request, emailconfirmation, signup)

    def send_notification_mail(
        self,
        template_prefix: str,
        user: AbstractBaseUser,
        context: dict | None = None,
        email: str | None = None,
    ) -> None:
        """A notice that the password or the email address changed goes to an address the
        member verified, never to one that may be a stranger's (a taken address stays
        unverified on the newcomer's account): it tells the IP address and browser of whoever
        made the change."""
        email = email or EmailAddress.objects.get_primary_email(user)
        verified = EmailAddress.objects.filter(user=user, email__iexact=email, verified=True)
        if email and verified.exists():
            super().send_notification_mail(template_prefix, user, context, email)


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


class LabelledFields:
    """Each field says what it is in its label only: a placeholder repeating the label is noise
    that vanishes as you type (templates/allauth/elements/fields.html shows the label)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.pop("placeholder", None)


class LoginForm(LabelledFields, AllauthLoginForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = _("User name or email")


class SignupForm(LabelledFields, AllauthSignupForm):
    """With verification optional, allauth refuses a taken address on the form, which tells a
    visitor that it has an account. Here the sign-up goes through as for any new address: the
    address stays unverified on the new account (it cannot log in with it, reset a password
    through it or ever confirm it), and its owner is mailed that they already have an account.
    With verification mandatory, allauth's own answer already hides it."""

    def validate_unique_email(self, value: str) -> str:
        if app_settings.EMAIL_VERIFICATION == app_settings.EmailVerificationMethod.MANDATORY:
            return super().validate_unique_email(value)
        return get_adapter().validate_unique_email(value)


class ResetPasswordForm(LabelledFields, AllauthResetPasswordForm):
    """A reset link goes only to the account that verified the address. An unverified address
    may be a stranger's, typed at sign-up (a taken address stays unverified on the newcomer's
    account): a link would mail them about an account they never made, and hand it to them.
    For an address no account verified nothing is sent, and the page answers as for any other
    address."""

    def clean_email(self) -> str:
        email = super().clean_email()
        verified = EmailAddress.objects.filter(email__iexact=email, verified=True)
        owners = set(verified.values_list("user_id", flat=True))
        self.users = [user for user in self.users if user.pk in owners]
        return email


def login_account(login: str) -> AbstractBaseUser | None:
    """The one account a login (an email address or a username) may sign in to, found without
    checking a password: the account its email address belongs to (the one that verified it,
    or had it first), else the account of that username."""
    by_email, by_username = [], None
    # Both looked up every time, so the queries are the same whichever exists.
    if LoginMethod.EMAIL in app_settings.LOGIN_METHODS:
        by_email = userkit.filter_users_by_email(login, prefer_verified=True, for_login=True)
    if LoginMethod.USERNAME in app_settings.LOGIN_METHODS:
        # User names are stored in their NFKC form (AccountAdapter.clean_username): ｄｕｘｉｎｇ
        # typed on a fullwidth keyboard is duxing.
        by_username = userkit.get_user_by_username(unicodedata.normalize("NFKC", login))
    if by_email:
        return min(by_email, key=lambda account: (account.date_joined, account.pk))
    return by_username


class AuthenticationBackend(AllauthBackend):
    """allauth's (which is Django's ModelBackend too), checking one account's password per
    attempt, and loading the account's forum member in the same query: every signed-in page
    and action needs both."""

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
        # select_related also remembers an account without a member: asking costs no query.
        try:
            user = User._default_manager.select_related("member").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
