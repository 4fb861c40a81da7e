"""form-action for the social login buttons a page shows.

The settings allow the authorization origins of the providers configured by environment
variables (forum.social.config). A provider added in the admin is only known when a page lists
it: the template tag that lists the buttons notes each provider's origin on the request, and
this middleware (just inside Django's CSP middleware) adds to that page's form-action the ones
the settings lack. Pages without buttons keep the settings' policy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from forum.social.config import origin


def form_action_allow(request: HttpRequest, providers: Iterable) -> None:
    """Note the authorization origin of each of `providers`, whose buttons the page shows."""
    noted = getattr(request, "social_form_action", [])
    for provider in providers:
        url = provider.get_oauth2_adapter(request).authorize_url
        if (found := origin(url)) not in noted:
            noted.append(found)
    request.social_form_action = noted


class FormActionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = getattr(response, "_csp_config", settings.SECURE_CSP)
        allowed = list((policy or {}).get("form-action", []))
        missing = [
            found for found in getattr(request, "social_form_action", []) if found not in allowed
        ]
        if policy and missing:
            response._csp_config = {**policy, "form-action": [*allowed, *missing]}
        return response
