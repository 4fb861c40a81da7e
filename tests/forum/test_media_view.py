"""Stored images served by the site: content-hash names only, as images, never as a page."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from forum import avatars
from forum.services import member_for
from tests.factories import UserFactory
from tests.forum.image_files import image_bytes
from tests.manage_subprocess import run_manage

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored_avatar() -> str:
    member = member_for(UserFactory())
    avatars.avatar_set(member=member, upload=SimpleUploadedFile("a.png", image_bytes()))
    return member.avatar.url


def test_a_stored_avatar_is_served_as_an_image_that_runs_nothing(client, stored_avatar):
    response = client.get(stored_avatar)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "immutable" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"RIFF")


@pytest.mark.parametrize(
    "path",
    [
        "/media/avatars/evil.webp",
        "/media/avatars/" + "a" * 64 + ".html",
        "/media/avatars/" + "a" * 64 + ".svg",
        "/media/avatars/" + "A" * 64 + ".webp",
        "/media/other/" + "a" * 64 + ".webp",
        "/media/avatars/../../forum/settings.py",
        "/media/avatars/%2e%2e/%2e%2e/forum/settings.py",
        "/media/../forum/settings.py",
        "/media/avatars/" + "a" * 64 + ".webp",  # the right shape, but never stored
    ],
)
def test_anything_but_a_stored_content_hash_name_is_not_found(client, stored_avatar, path):
    assert client.get(path).status_code == 404


def test_a_file_put_beside_the_stored_ones_is_not_served(client, media_root, stored_avatar):
    (media_root / "avatars" / "page.html").write_text("<script>alert(1)</script>")
    assert client.get("/media/avatars/page.html").status_code == 404


def test_the_site_policy_still_allows_its_own_images(client):
    policy = client.get("/")["Content-Security-Policy"]
    img_src = next(part for part in policy.split(";") if part.strip().startswith("img-src"))
    assert "'self'" in img_src.split()


POLICY = (
    "from django.conf import settings as s; "
    "print(' '.join(s.SECURE_CSP['img-src']), s.STORAGES['default']['BACKEND'], "
    "s.FORUM_SERVE_MEDIA)"
)


def test_remote_images_stay_allowed_by_default_and_can_be_dropped():
    default = run_manage("shell", "-c", POLICY).stdout.split()
    assert default[-5:-2] == ["'self'", "https:", "data:"]
    dropped = run_manage("shell", "-c", POLICY, FORUM_CSP_REMOTE_IMAGES="0").stdout.split()
    assert dropped[-4:-2] == ["'self'", "data:"]


def test_a_bucket_stores_and_serves_the_images_when_configured():
    output = run_manage(
        "shell", "-c", POLICY, FORUM_MEDIA_S3_BUCKET="media", FORUM_MEDIA_S3_DOMAIN="cdn.example"
    ).stdout.split()
    assert output[-6:] == [
        "'self'",
        "https:",
        "https://cdn.example",
        "data:",
        "storages.backends.s3.S3Storage",
        "False",
    ]
