"""Images from outside: members' avatar uploads and the pictures `import_lesson --fetch-media`
downloads. Each is read up to a byte limit, decoded by Pillow under a pixel limit, re-encoded
(so no metadata, and no bytes a browser could read as anything but an image, survive) and stored
through Django's storage API under the SHA-256 of its encoded bytes: the same picture is stored
once, and a stored name never changes its content (so it may be cached forever).

Only JPEG, PNG, WebP and GIF are decoded; anything else (a PDF, an SVG, a truncated file, a
decompression bomb) is a ValidationError with a message for the member, and nothing is stored.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

AVATAR_SIZE = 256
AVATAR_FOLDER = "avatars"
IMAGE_FOLDER = "images"
# Pillow's names of the formats read; every other plugin (PDF, EPS, PSD, ICO…) is never tried.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
# What a stored file is served as, by its extension: images only, never HTML or SVG.
CONTENT_TYPES = {
    "webp": "image/webp",
    "png": "image/png",
    "jpg": "image/jpeg",
    "gif": "image/gif",
}
STORED_NAME = re.compile(
    rf"(?:{AVATAR_FOLDER}|{IMAGE_FOLDER})/[0-9a-f]{{64}}\.(?:{'|'.join(CONTENT_TYPES)})"
)


@dataclass(frozen=True)
class Encoded:
    data: bytes
    extension: str  # a key of CONTENT_TYPES

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):g}"


def read_limited(file: IO[bytes], *, limit: int | None = None) -> bytes:
    """The file's bytes, reading at most limit + 1 of them; refused if there are more."""
    limit = settings.FORUM_IMAGE_MAX_BYTES if limit is None else limit
    file.seek(0)
    data = file.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(
            _("The image is larger than %(limit)s MB."),
            code="too_large",
            params={"limit": _megabytes(limit)},
        )
    return data


def _refused() -> ValidationError:
    return ValidationError(
        _("This file is not a JPEG, PNG, WebP or GIF image that can be read (or it is cut short)."),
        code="not_an_image",
    )


def _too_many_pixels(limit: int) -> ValidationError:
    return ValidationError(
        _("The image has more pixels than the %(limit)s megapixels accepted."),
        code="too_many_pixels",
        params={"limit": f"{limit / 1_000_000:g}"},
    )


def decode(
    data: bytes, *, max_pixels: int | None = None, draft: int | None = None
) -> tuple[Image.Image, str]:
    """The first frame of a JPEG, PNG, WebP or GIF image, upright (EXIF orientation applied),
    and the format it came in (one of FORMATS).

    The size in the header is checked against `max_pixels` before any pixel is decoded: a small
    file can declare 20,000 × 20,000 pixels and take gigabytes once decoded. Pillow's own bomb
    check (Image.MAX_IMAGE_PIXELS, left at its default) counts as a refusal too, whether it warns
    or raises. `draft`: a JPEG may be decoded at a reduced scale, no smaller than this.
    """
    max_pixels = settings.FORUM_IMAGE_MAX_PIXELS if max_pixels is None else max_pixels
    with warnings.catch_warnings():
        # A damaged EXIF block warns ("Truncated File Read") and is read as far as it goes.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            width, height = image.size
            if width < 1 or height < 1:
                raise _refused()
            if width * height > max_pixels:
                raise _too_many_pixels(max_pixels)
            if draft and image.format == "JPEG":
                image.draft("RGB", (draft, draft))
            image.seek(0)  # the first frame of an animation
            image.load()
            upright = ImageOps.exif_transpose(image)
            source_format = image.format
        except ValidationError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(max_pixels) from None
        except Exception:
            # UnidentifiedImageError, OSError ("image file is truncated"), and whatever else a
            # decoder raises on hostile bytes (SyntaxError, struct.error, IndexError…): each
            # means the same to the member.
            raise _refused() from None
    return upright, source_format


def _with_alpha(image: Image.Image) -> bool:
    return image.mode in {"RGBA", "LA", "PA", "RGBa", "La"} or "transparency" in image.info


def _plain(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image has transparency."""
    mode = "RGBA" if _with_alpha(image) else "RGB"
    return image if image.mode == mode else image.convert(mode)


def avatar_encode(data: bytes) -> Encoded:
    """A square AVATAR_SIZE px WebP of the image's centre.

    WebP rather than PNG: a photo is a tenth of the size at the same look, it keeps
    transparency, every browser the site supports shows it, and Pillow writes it with no EXIF
    or XMP unless asked. The encoder is deterministic, so the same upload gives the same bytes
    (and name).
    """
    image = _plain(decode(data, draft=AVATAR_SIZE * 2)[0])
    square = ImageOps.fit(image, (AVATAR_SIZE, AVATAR_SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    square.save(out, "WEBP", quality=85, method=4)
    return Encoded(out.getvalue(), "webp")


def picture_encode(data: bytes) -> Encoded:
    """An article's picture at its own size, within FORUM_IMAGE_MAX_SIDE px a side; re-encoded
    without metadata. JPEG stays JPEG and WebP stays WebP (re-compressed at high quality); PNG
    and GIF (its first frame) become PNG, which keeps diagrams and screenshots sharp."""
    image, source_format = decode(data)
    image = _plain(image)
    side = settings.FORUM_IMAGE_MAX_SIDE
    if max(image.size) > side:
        image.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if source_format == "WEBP":
        image.save(out, "WEBP", quality=90, method=4)
        return Encoded(out.getvalue(), "webp")
    if source_format == "JPEG":
        image.save(out, "JPEG", quality=90, optimize=True)
        return Encoded(out.getvalue(), "jpg")
    image.save(out, "PNG", optimize=True)
    return Encoded(out.getvalue(), "png")


def store(encoded: Encoded, *, folder: str) -> str:
    """Save the encoded image as `<folder>/<sha256>.<ext>` unless it is there already; its
    stored name. Two processes saving the same image at once write the same bytes: the storage
    may give the second another name, which is removed again."""
    name = f"{folder}/{encoded.digest}.{encoded.extension}"
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(encoded.data))
        if saved != name:
            default_storage.delete(saved)
    return name


class CappedUploadHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: an uploaded file keeps at most FORUM_IMAGE_MAX_BYTES + 1
    bytes (the rest of the request is read and dropped), so a huge upload takes neither memory
    nor disk, and reaches the form just big enough to be refused there with a message."""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        keep = settings.FORUM_IMAGE_MAX_BYTES + 1 - start
        if keep <= 0:
            return None  # the handlers after this one never see it
        return raw_data[:keep]

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) makes the file
