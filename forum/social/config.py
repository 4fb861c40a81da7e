"""Which social logins are configured, read from environment variables when the settings load:
allauth's SOCIALACCOUNT_PROVIDERS entries (an "APP" each, so that listing them costs no
query) and the origins the Content Security Policy's form-action must allow.

Imported by forum/settings.py: it imports nothing from Django's apps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderEnv:
    id: str
    client_id_variable: str
    secret_variable: str
    # Where the browser is sent to approve: the origin form-action must allow.
    authorization_origin: str


PROVIDERS = (
    ProviderEnv("weixin", "WEIXIN_APP_ID", "WEIXIN_APP_SECRET", "https://open.weixin.qq.com"),
    ProviderEnv("github", "GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET", "https://github.com"),
    ProviderEnv("weibo", "WEIBO_CLIENT_ID", "WEIBO_CLIENT_SECRET", "https://api.weibo.com"),
)


def origin(url: str) -> str:
    """`https://host[:port]` of a URL (its scheme and authority)."""
    scheme, _sep, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def providers_settings(environ: Mapping[str, str]) -> dict[str, dict]:
    """SOCIALACCOUNT_PROVIDERS: every provider's settings, with an "APP" for each whose
    client id and secret are both set."""
    github_url = environ.get("GITHUB_URL", "").strip().rstrip("/")
    settings: dict[str, dict] = {
        # WeChat's stable identity is the unionid when the app has one (forum.social.weixin).
        "weixin": {
            "provider_class": "forum.social.weixin.WeixinProvider",
            "SCOPE": ["snsapi_login"],
        },
        "github": {
            "SCOPE": ["read:user", "user:email"],
            "OAUTH_PKCE_ENABLED": True,
            **({"GITHUB_URL": github_url} if github_url else {}),
        },
        "weibo": {},
    }
    for provider in PROVIDERS:
        client_id = environ.get(provider.client_id_variable, "").strip()
        secret = environ.get(provider.secret_variable, "").strip()
        if client_id and secret:
            settings[provider.id]["APP"] = {"client_id": client_id, "secret": secret, "key": ""}
    return settings


def form_action_origins(providers: Mapping[str, dict]) -> list[str]:
    """The authorization origin of each provider configured in `providers` (allauth's login
    is a form POST that redirects there, and Chromium checks form-action on that redirect)."""
    origins = []
    for provider in PROVIDERS:
        entry = providers.get(provider.id, {})
        if "APP" not in entry:
            continue
        if provider.id == "github" and entry.get("GITHUB_URL"):
            origins.append(origin(entry["GITHUB_URL"]))
        else:
            origins.append(provider.authorization_origin)
    return origins
