"""`import_lesson --fetch-media`: an imported lesson's pictures and its commenters' avatars,
downloaded once and served from this site instead of the source site.

Each image is fetched through the import's SSRF guard (forum.importing.fetch), checked and
re-encoded as an upload is (forum.images: avatars as avatars, article pictures at their size
within a cap) and stored by content hash; MediaFile remembers which URL gave which file, so a
URL is fetched once, whichever lesson or commenter shows it and however often the lesson is
imported again. The downloads happen outside any transaction; what they change (members'
avatars, the article's image URLs) is written in one. An image that cannot be fetched or is
refused keeps its remote URL and is reported, and the import goes on.

Imported members keep `avatar_url`, where the avatar came from (Member.avatar_src shows the
stored one first); the article's Markdown gets this site's URLs, so the lesson renders the same
after an edit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import unquote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import translation

from forum import images
from forum.caching import stamps
from forum.importing.fetch import FetchError, fetch_url
from forum.models import MediaFile, Member
from lessons.models import Lesson

Kind = MediaFile.Kind


@dataclass
class MediaResult:
    stored: int = 0  # images downloaded and stored by this call
    reused: int = 0  # images already here (fetched before, by this run or an earlier one)
    warnings: list[str] = field(default_factory=list)


class Fetcher:
    """Downloads and stores images for one run of the command, each URL at most once: a URL
    that failed is not tried again in the same run (a later run tries it again)."""

    def __init__(self, *, allow_private: bool, timeout: float) -> None:
        self.allow_private = allow_private
        self.timeout = timeout
        self._failed: dict[tuple[str, str], str] = {}

    def stored_name(self, url: str, kind: str, result: MediaResult) -> str | None:
        """The stored file for the image at `url`, fetched now if need be; None if it failed
        (with a warning in `result`)."""
        known = MediaFile.objects.filter(kind=kind, source_digest=MediaFile.digest(url)).first()
        if known is not None and default_storage.exists(known.stored_name):
            result.reused += 1
            return known.stored_name
        if (kind, url) in self._failed:
            return None
        try:
            data = fetch_url(
                url,
                timeout=self.timeout,
                max_bytes=settings.FORUM_IMAGE_MAX_BYTES,
                allow_private=self.allow_private,
            )
            encode: Callable[[bytes], images.Encoded] = (
                images.avatar_encode if kind == Kind.AVATAR else images.picture_encode
            )
            encoded = encode(data)
        except (FetchError, ValidationError) as error:
            with translation.override("en"):  # the command reports in English throughout
                reason = " ".join(getattr(error, "messages", [str(error)]))
            self._failed[kind, url] = reason
            result.warnings.append(f"{kind} {url} kept remote: {reason}")
            return None
        folder = images.AVATAR_FOLDER if kind == Kind.AVATAR else images.IMAGE_FOLDER
        name = images.store(encoded, folder=folder)
        _remember(kind, url, name)
        result.stored += 1
        return name


@transaction.atomic
def _remember(kind: str, url: str, name: str) -> None:
    digest = MediaFile.digest(url)
    MediaFile.objects.bulk_create(
        [MediaFile(kind=kind, source_digest=digest, source_url=url, stored_name=name)],
        update_conflicts=True,
        unique_fields=["kind", "source_digest"],
        update_fields=["stored_name"],
    )


class _ImageSources(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            src = dict(attrs).get("src") or ""
            if src.lower().startswith(("http://", "https://")) and src not in self.sources:
                self.sources.append(src)


def picture_urls(body_html: str) -> list[str]:
    """The remote images of a rendered article, in order, each once."""
    parser = _ImageSources()
    parser.feed(body_html)
    parser.close()
    return parser.sources


def lesson_media_fetch(*, lesson: Lesson, fetcher: Fetcher) -> MediaResult:
    """Download the article's pictures and the avatars of the lesson's imported commenters,
    then point the lesson and the members at the stored files (one transaction)."""
    result = MediaResult()
    pictures = {}
    for url in picture_urls(lesson.body_html):
        name = fetcher.stored_name(url, Kind.PICTURE, result)
        if name is not None:
            pictures[url] = default_storage.url(name)
    commenters = (
        Member.objects.filter(comments__lesson=lesson, user=None, avatar="")
        .exclude(avatar_url="")
        .distinct()
        .order_by("pk")
    )
    avatars = {}
    for member in commenters:
        name = fetcher.stored_name(member.avatar_url, Kind.AVATAR, result)
        if name is not None:
            avatars[member.pk] = name
    _media_write(lesson=lesson, pictures=pictures, avatars=avatars, result=result)
    return result


@transaction.atomic
def _media_write(
    *, lesson: Lesson, pictures: dict[str, str], avatars: dict[int, str], result: MediaResult
) -> None:
    for name in set(avatars.values()):
        # The filter on `avatar` keeps an avatar set in the meantime (a member who claimed
        # this identity and uploaded their own).
        Member.objects.filter(pk__in=[pk for pk, n in avatars.items() if n == name]).filter(
            avatar=""
        ).update(avatar=name)
    if avatars:
        stamps.pages_changed(member_ids=sorted(avatars))
    if not pictures:
        return
    lesson = Lesson.objects.select_for_update().get(pk=lesson.pk)
    markdown = lesson.body_markdown
    for remote, local in sorted(pictures.items(), key=lambda item: -len(item[0])):
        for spelled in dict.fromkeys((remote, unquote(remote))):
            markdown = _url_replace(markdown, spelled, local)
    if markdown == lesson.body_markdown:
        return
    lesson.body_markdown = markdown
    lesson.save(update_fields=["body_markdown", "body_html", "body_blocks", "updated_at"])
    for url in picture_urls(lesson.body_html):
        if url in pictures:
            result.warnings.append(f"picture {url}: stored, but its URL could not be rewritten")
    stamps.pages_changed(lesson_ids=[lesson.pk])


def _url_replace(text: str, url: str, local: str) -> str:
    """`url` replaced by `local` where it stands whole: in `(…)`, quotes, `<…>` or alone."""
    pattern = rf"(?<![^\s(\"'<=]){re.escape(url)}(?=[\s)\"'>]|$)"
    return re.sub(pattern, lambda _match: local, text)
