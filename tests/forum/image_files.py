"""Image files for the upload and import tests, made in memory (or crafted byte by byte)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def image_bytes(
    size: tuple[int, int] = (64, 48), color: tuple = (200, 30, 30), fmt: str = "PNG", **params
) -> bytes:
    mode = "RGBA" if len(color) == 4 else "RGB"
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt, **params)
    return out.getvalue()


def noisy_png(size: tuple[int, int] = (128, 128)) -> bytes:
    """A PNG whose pixel data does not compress: cutting it short cuts into the pixels."""
    data = bytes(
        (x * 7919 + y * 104729 + (x * y) % 251) % 256
        for y in range(size[1])
        for x in range(size[0] * 3)
    )
    out = io.BytesIO()
    Image.frombytes("RGB", size, data).save(out, "PNG")
    return out.getvalue()


def padded_png(total: int) -> bytes:
    """A valid PNG of exactly `total` bytes: a small image with a private ancillary chunk."""
    head = image_bytes((16, 16))
    iend = head.index(b"IEND") - 4
    padding = total - len(head) - 12
    assert padding >= 0
    return head[:iend] + _chunk(b"prVt", b"\0" * padding) + head[iend:]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A few hundred bytes whose header says width × height: nothing that big is ever made."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


def animated_gif(colors: list[tuple[int, int, int]], size: tuple[int, int] = (40, 30)) -> bytes:
    frames = [Image.new("RGB", size, color) for color in colors]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def jpeg_with_orientation(orientation: int) -> bytes:
    """40 × 20: the left half red, the right half blue, and an EXIF Orientation tag."""
    image = Image.new("RGB", (40, 20), (220, 0, 0))
    image.paste((0, 0, 220), (20, 0, 40, 20))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "SecretCam"  # Make: metadata that must not survive
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, exif=exif)
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<script>alert(1)</script><rect width="10" height="10"/></svg>'
)
