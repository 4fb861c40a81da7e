"""The social applications added in the admin, read once and kept in the cache: listing the
providers on every login page then costs one cache read and no query. Saving or deleting one
in the admin forgets the cached list (connected in forum.apps)."""

from __future__ import annotations

from django.core.cache import cache

CACHE_KEY = "forum:social-apps"


def admin_apps() -> list:
    """Every SocialApp row, from the cache (one read), or from the database on a miss."""
    from allauth.socialaccount.models import SocialApp

    apps = cache.get(CACHE_KEY)
    if apps is None:
        apps = list(SocialApp.objects.order_by("pk"))
        cache.set(CACHE_KEY, apps, timeout=None)
    return apps


def forget(**_kwargs) -> None:
    cache.delete(CACHE_KEY)
