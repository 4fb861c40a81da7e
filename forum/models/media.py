"""Images that `import_lesson --fetch-media` downloaded, by the URL they came from."""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils.translation import gettext_lazy as _


class MediaFile(models.Model):
    """A source site's image, stored here (forum.images): each URL is fetched once, and imports
    after the first, or other commenters with the same avatar, reuse the stored file."""

    class Kind(models.TextChoices):
        AVATAR = "avatar", _("commenter's avatar")
        PICTURE = "picture", _("article picture")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # The URL may be longer than an index allows: its SHA-256 is the key.
    source_digest = models.CharField(_("source URL digest"), max_length=64)
    source_url = models.TextField(_("source URL"))
    stored_name = models.CharField(_("stored name"), max_length=200)
    fetched_at = models.DateTimeField(_("fetched at"), auto_now_add=True)

    class Meta:
        verbose_name = _("downloaded image")
        verbose_name_plural = _("downloaded images")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "source_digest"], name="mediafile_unique_source"
            )
        ]

    def __str__(self) -> str:
        return self.source_url

    @staticmethod
    def digest(url: str) -> str:
        return hashlib.sha256(url.encode()).hexdigest()
