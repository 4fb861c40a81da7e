"""A member's own avatar: set from an upload, or removed (the letter avatar shows again)."""

from __future__ import annotations

from functools import partial

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from forum import images
from forum.caching import stamps
from forum.models import MediaFile, Member


def avatar_set(*, member: Member, upload: UploadedFile) -> Member:
    """Make the uploaded image `member`'s avatar; ValidationError, and nothing stored or
    changed, if it is not an image we accept.

    The image is decoded and stored before the transaction (decoding a large photo takes a
    moment, and SQLite would hold its write lock meanwhile); the member's row changes in one.
    """
    encoded = images.avatar_encode(images.read_limited(upload))
    name = images.store(encoded, folder=images.AVATAR_FOLDER)
    with transaction.atomic():
        _avatar_write(member, name)
    return member


@transaction.atomic
def avatar_stored_set(*, member: Member, name: str) -> Member:
    """Make an image already checked and stored (forum.images.store) `member`'s avatar."""
    _avatar_write(member, name)
    return member


@transaction.atomic
def avatar_remove(*, member: Member) -> Member:
    _avatar_write(member, "")
    return member


def _avatar_write(member: Member, name: str) -> None:
    previous = member.avatar.name
    if previous == name:
        return
    member.avatar = name
    member.save(update_fields=["avatar"])
    stamps.pages_changed(member_ids=[member.pk])
    if previous:
        transaction.on_commit(partial(unused_delete, previous))


def unused_delete(name: str) -> bool:
    """Delete a stored avatar that no member shows and no import refers to any more."""
    in_use = (
        Member.objects.filter(avatar=name).exists()
        or MediaFile.objects.filter(stored_name=name).exists()
    )
    if in_use or not images.STORED_NAME.fullmatch(name):
        return False
    default_storage.delete(name)
    return True
