"""A new member's avatar from their social login: fetched once, at the first login, through the
import's SSRF guard (forum.importing.fetch), checked and re-encoded as an upload is, and stored
like one. It shows until the member uploads their own or removes it."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError

from forum import avatars, images
from forum.importing import fetch
from forum.models import Member

logger = logging.getLogger(__name__)


def provider_avatar_set(*, member: Member, url: str) -> bool:
    """Store the image at `url` as `member`'s avatar, unless they have one; False, and nothing
    changed, when there is no URL or it cannot be fetched or is not an image we accept (the
    letter avatar shows)."""
    if not url or member.avatar:
        return False
    try:
        data = fetch.fetch_url(
            url,
            timeout=settings.SOCIALACCOUNT_REQUESTS_TIMEOUT,
            max_bytes=settings.FORUM_IMAGE_MAX_BYTES,
        )
        encoded = images.avatar_encode(data)
    except (fetch.FetchError, ValidationError) as error:
        logger.warning("avatar %s not stored: %s", url, error)
        return False
    avatars.avatar_stored_set(
        member=member, name=images.store(encoded, folder=images.AVATAR_FOLDER)
    )
    return True
