"""WeChat's website login with the unionid as the stable identity.

allauth's provider keys a WeChat account by its openid, which differs for each of a company's
apps (the website's QR login, the official account, the mini program); the unionid is the same
in all of them once the apps share an open-platform account. So the unionid is the uid when
WeChat sends one, the openid otherwise. Configured as the weixin provider's `provider_class`
(forum.social.config).
"""

from __future__ import annotations

from allauth.socialaccount.providers.weixin.provider import WeixinProvider as AllauthWeixinProvider


class WeixinProvider(AllauthWeixinProvider):
    # allauth finds a provider's URLs and views in its package.
    package = "allauth.socialaccount.providers.weixin"

    def extract_uid(self, data: dict) -> str:
        return str(data.get("unionid") or data["openid"])
