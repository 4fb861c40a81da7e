"""The footer's language switch."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.views.decorators.http import require_safe


@require_safe
def language_choose(request: HttpRequest) -> HttpResponse:
    """`?language=en&next=/…`: keep the language in its cookie and go back.

    A link rather than Django's set_language form: a page that holds no form holds no CSRF
    token, so the page readers who are not signed in get is one shared copy (forum.caching)
    and costs no token. Choosing a language changes nothing but how pages read to this browser.
    """
    next_url = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    language = request.GET.get("language", "")
    if language in dict(settings.LANGUAGES) and check_for_language(language):
        language_cookie_set(response, language)
    return response


def language_cookie_set(response: HttpResponse, language: str) -> None:
    """Keep `language` in Django's language cookie, which LocaleMiddleware reads."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
