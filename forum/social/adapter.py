"""allauth's social accounts, adapted: providers listed without a query, the member made with
the provider's name (through our name rules) and avatar, no account taken over because a
provider says its email address matches, and failures told on the login page."""

from __future__ import annotations

import logging

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.utils import filter_users_by_email, user_email, user_username
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter, _build_apps_from_settings
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.base import AuthError
from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _

from forum import identity, services
from forum.social import apps_cache
from forum.social.avatar import provider_avatar_set
from forum.templatetags.social import provider_label

logger = logging.getLogger(__name__)

# Where each provider keeps the name a person shows, best first.
NAME_KEYS = {
    "github": ("name", "login"),
    "weixin": ("nickname",),
    "weibo": ("screen_name", "name"),
}


def provider_name(sociallogin: SocialLogin) -> str:
    """The display name the provider gives, trimmed to what a member's name holds."""
    data = sociallogin.account.extra_data or {}
    for key in NAME_KEYS.get(sociallogin.account.provider, ("name",)):
        if isinstance(value := data.get(key), str) and value.strip():
            return " ".join(value.split())[:150]
    return ""


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request: HttpRequest | None, provider=None, client_id=None) -> list:
        """Those configured in the settings (no query), then the admin's (one cache read)."""
        apps = [
            app
            for app in apps_cache.admin_apps()
            if (provider is None or provider in {app.provider, app.provider_id})
            and (client_id is None or app.client_id == client_id)
        ]
        for configured in _build_apps_from_settings(
            provider=provider, client_id=client_id
        ).values():
            apps.extend(configured)
        return apps

    def get_app(self, request: HttpRequest | None, provider, client_id=None):
        """A provider nobody configured has no login: its URLs answer 404, not 500."""
        try:
            return super().get_app(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist:
            raise Http404(f"{provider} is not configured") from None

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """A new social login whose verified email address belongs to an account is sent to
        log in to that account first (then link the provider in the settings): never signed in
        to it, never given a second account with the address. An unverified address that is
        taken is dropped: the new account is made without it."""
        if sociallogin.is_existing or request.user.is_authenticated:
            return
        kept = []
        for address in sociallogin.email_addresses:
            if not filter_users_by_email(address.email):
                kept.append(address)
            elif address.verified:
                messages.info(
                    request,
                    _(
                        "An account with this email address exists: log in to it first, "
                        "then link %(provider)s in your settings."
                    )
                    % {"provider": provider_label(sociallogin.provider.id)},
                )
                query = urlencode({"next": reverse("forum:settings")})
                raise ImmediateHttpResponse(
                    HttpResponseRedirect(f"{reverse('account_login')}?{query}")
                )
        sociallogin.email_addresses = kept
        if user_email(sociallogin.user) not in {address.email for address in kept}:
            user_email(sociallogin.user, kept[0].email if kept else "")

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        """Signed up at once with the provider's name, unless our name rules refuse it or the
        user name is not free: then allauth's sign-up form asks for a name."""
        name = provider_name(sociallogin)
        if not name or identity.name_refusal(name):
            return False
        try:
            get_account_adapter(request).clean_username(user_username(sociallogin.user) or "")
        except ValidationError:
            return False
        return super().is_auto_signup_allowed(request, sociallogin)

    def save_user(
        self, request: HttpRequest, sociallogin: SocialLogin, form=None
    ) -> AbstractBaseUser:
        """The account and its member, named by the provider when our name rules allow it (by
        the user name otherwise), with the provider's avatar."""
        user = super().save_user(request, sociallogin, form)
        member = services.member_for(user)
        name = provider_name(sociallogin)
        if name and name != member.display_name and not identity.name_refusal(name, member=member):
            member.display_name = name
            member.save(update_fields=["display_name"])
        provider_avatar_set(member=member, url=sociallogin.account.get_avatar_url() or "")
        return user

    def on_authentication_error(
        self, request: HttpRequest, provider, error=None, exception=None, extra_context=None
    ) -> None:
        """Back to the login page (and to where the visitor was going), with what went wrong."""
        if exception is not None:
            logger.warning("%s login failed: %r", provider.id, exception)
        if error == AuthError.CANCELLED:
            text = _("You cancelled logging in with %(provider)s.")
        elif error == AuthError.DENIED:
            text = _("%(provider)s did not allow logging in.")
        else:
            text = _(
                "Logging in with %(provider)s did not work: it did not answer as expected, or "
                "the login had expired. Please try again."
            )
        messages.error(request, text % {"provider": provider_label(provider.id)})
        state = (extra_context or {}).get("state") or {}
        url = reverse("account_login")
        following = state.get("next") if isinstance(state, dict) else None
        if following and url_has_allowed_host_and_scheme(
            following, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            url = f"{url}?{urlencode({'next': following})}"
        raise ImmediateHttpResponse(HttpResponseRedirect(url))
