"""The social logins' names as this site says them (allauth names WeChat "Weixin")."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from forum.social import config
from forum.social.form_action import form_action_allow

register = template.Library()


@register.filter
def provider_label(provider_id: str) -> str:
    labels = {"weixin": _("WeChat"), "weibo": _("Weibo"), "github": "GitHub"}
    return labels.get(provider_id, provider_id)


@register.simple_tag(takes_context=True)
def social_providers(context: template.Context) -> list:
    """The providers whose buttons the page shows (allauth's `get_providers`), their origins
    allowed by the page's form-action (forum.social.form_action)."""
    from allauth.socialaccount.adapter import get_adapter

    request = context["request"]
    providers = shown_order(get_adapter().list_providers(request))
    form_action_allow(request, providers)
    return providers


def shown_order(providers: list) -> list:
    """WeChat first (most readers have it), then GitHub and Weibo (allauth sorts by name)."""
    order = [provider.id for provider in config.PROVIDERS]
    return sorted(providers, key=lambda p: order.index(p.id) if p.id in order else len(order))


@register.inclusion_tag("socialaccount/snippets/linked_accounts.html", takes_context=True)
def linked_accounts(context: template.Context) -> dict:
    """The settings page's "linked accounts": the providers this account logs in with (one
    query), whether it has an email address to invite one (one more), and the providers it
    can still link (configured ones: no query)."""
    from allauth.account.models import EmailAddress
    from allauth.socialaccount.adapter import get_adapter
    from allauth.socialaccount.models import SocialAccount

    request = context["request"]
    accounts = list(SocialAccount.objects.filter(user=request.user).order_by("provider", "pk"))
    linked = {account.provider for account in accounts}
    providers = [
        p for p in shown_order(get_adapter().list_providers(request)) if p.id not in linked
    ]
    form_action_allow(request, providers)
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "accounts": accounts,
        "unlinked_providers": providers,
        "has_email": EmailAddress.objects.filter(user=request.user).exists(),
        "has_password": request.user.has_usable_password(),
    }
