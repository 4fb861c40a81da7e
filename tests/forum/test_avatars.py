"""Avatar uploads in the settings: what is accepted, what is refused, how it is stored."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from forum import avatars, images
from forum.models import LessonStamp, Member
from forum.services import member_for
from tests.factories import CommentFactory, UserFactory
from tests.forum.image_files import (
    PDF,
    SVG,
    animated_gif,
    image_bytes,
    jpeg_with_orientation,
    noisy_png,
    padded_png,
    png_declaring,
)

pytestmark = pytest.mark.django_db
LIMIT = 5 * 1024 * 1024
# The site speaks Chinese first: the messages as a member reads them.
NOT_AN_IMAGE = "不是可以读取的 JPEG、PNG、WebP 或 GIF 图片"


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def upload(client, data: bytes, name: str = "avatar.png", content_type: str = "image/png"):
    file = SimpleUploadedFile(name, data, content_type=content_type)
    return client.post(reverse("forum:settings-avatar"), {"avatar": file})


def stored_image(member: Member) -> Image.Image:
    with member.avatar.open("rb") as file:
        image = Image.open(io.BytesIO(file.read()))
        image.load()
    return image


def test_a_png_becomes_a_square_256_px_webp_named_by_its_content(member, member_client, media_root):
    response = upload(member_client, image_bytes((300, 120)))
    assert response.status_code == 302
    assert response["Location"] == reverse("forum:settings")
    avatar = member_for(member).avatar
    assert images.STORED_NAME.fullmatch(avatar.name)
    assert avatar.name.startswith("avatars/") and avatar.name.endswith(".webp")
    image = stored_image(member_for(member))
    assert (image.format, image.size) == ("WEBP", (256, 256))
    assert [path.relative_to(media_root).as_posix() for path in stored_files(media_root)] == [
        avatar.name
    ]


def test_the_settings_page_shows_the_avatar_and_a_remove_button(member, member_client):
    upload(member_client, image_bytes())
    page = member_client.get(reverse("forum:settings")).content.decode()
    assert f'src="{member_for(member).avatar.url}"' in page
    assert 'data-action="avatar-remove"' in page
    assert "/media/avatars/" in member_for(member).avatar_src


def test_without_an_avatar_the_page_shows_the_letter_and_no_remove_button(member_client):
    page = member_client.get(reverse("forum:settings")).content.decode()
    assert 'class="avatar__letter"' in page
    assert "data-avatar" not in page
    assert 'data-action="avatar-remove"' not in page


@pytest.mark.parametrize(
    ("data", "name", "content_type", "message"),
    [
        (PDF, "avatar.png", "image/png", NOT_AN_IMAGE),
        (SVG, "avatar.svg", "image/svg+xml", NOT_AN_IMAGE),
        (noisy_png()[:3000], "avatar.png", "image/png", NOT_AN_IMAGE),
        (padded_png(LIMIT + 1), "avatar.png", "image/png", "图片超过了 5 MB"),
        (png_declaring(20_000, 20_000), "avatar.png", "image/png", "百万像素"),
        (png_declaring(7_000, 7_000), "avatar.png", "image/png", "百万像素"),
    ],
    ids=["renamed-pdf", "svg", "truncated-png", "5mb-plus-1-byte", "20000x20000", "49-megapixels"],
)
def test_what_is_not_an_acceptable_image_is_refused_and_nothing_stored(
    member, member_client, media_root, data, name, content_type, message
):
    before = member_for(member)
    response = upload(member_client, data, name, content_type)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'id="id_avatar-error"' in page
    assert stored_files(media_root) == []
    after = Member.objects.get(pk=before.pk)
    assert (after.avatar.name, after.avatar_url) == (before.avatar.name, before.avatar_url)


def test_a_refusal_keeps_the_avatar_already_there(member, member_client, media_root):
    upload(member_client, image_bytes())
    kept = member_for(member).avatar.name
    files = stored_files(media_root)
    assert upload(member_client, PDF).status_code == 400
    assert Member.objects.get(user=member).avatar.name == kept
    assert stored_files(media_root) == files


def test_an_image_of_exactly_the_limit_is_accepted(member, member_client):
    data = padded_png(LIMIT)
    assert len(data) == LIMIT
    assert upload(member_client, data).status_code == 302
    assert stored_image(member_for(member)).size == (256, 256)


def test_an_upload_far_over_the_limit_is_refused_with_the_message(
    member, member_client, media_root, settings
):
    settings.FORUM_IMAGE_MAX_BYTES = 10_000
    response = upload(member_client, padded_png(2_000_000))
    assert response.status_code == 400
    assert "图片超过了 0.00953674 MB" in response.content.decode()
    assert stored_files(media_root) == []


def test_upload_handler_keeps_one_byte_more_than_the_limit(settings):
    settings.FORUM_IMAGE_MAX_BYTES = 10
    handler = images.CappedUploadHandler()
    assert handler.receive_data_chunk(b"x" * 8, 0) == b"x" * 8
    assert handler.receive_data_chunk(b"y" * 8, 8) == b"yyy"
    assert handler.receive_data_chunk(b"z" * 8, 16) is None


def test_an_animated_gif_is_stored_as_its_first_frame(member, member_client):
    red, blue = (220, 20, 20), (20, 20, 220)
    response = upload(member_client, animated_gif([red, blue]), "a.gif", "image/gif")
    assert response.status_code == 302
    image = stored_image(member_for(member))
    assert image.size == (256, 256)
    assert getattr(image, "n_frames", 1) == 1
    r, g, b = image.convert("RGB").getpixel((128, 128))
    assert r > 180 and g < 60 and b < 60


def test_exif_orientation_is_applied_and_the_metadata_dropped(member, member_client):
    # Orientation 6: turned a quarter clockwise to be seen, the red left half is on top.
    response = upload(member_client, jpeg_with_orientation(6), "p.jpg", "image/jpeg")
    assert response.status_code == 302
    image = stored_image(member_for(member))
    top, bottom = (
        image.convert("RGB").getpixel((128, 20)),
        image.convert("RGB").getpixel((128, 235)),
    )
    assert top[0] > 150 and top[2] < 80
    assert bottom[2] > 150 and bottom[0] < 80
    assert not image.getexif()
    assert not set(image.info) & {"exif", "xmp", "icc_profile"}


def test_transparency_is_kept(member, member_client):
    upload(member_client, image_bytes((50, 50), (10, 200, 10, 0)))
    image = stored_image(member_for(member))
    assert image.mode == "RGBA"
    assert image.getpixel((128, 128))[3] == 0


def test_the_same_image_from_two_members_is_stored_once(member_client, media_root):
    other = UserFactory()
    data = image_bytes((100, 100), (1, 2, 3))
    first = avatars.avatar_set(
        member=member_for(other), upload=SimpleUploadedFile("a.png", data)
    ).avatar.name
    upload(member_client, data)
    assert Member.objects.filter(avatar=first).count() == 2
    assert len(stored_files(media_root)) == 1


def test_removing_the_avatar_deletes_the_file_nobody_else_uses(
    member, member_client, media_root, django_capture_on_commit_callbacks
):
    upload(member_client, image_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(reverse("forum:settings-avatar-remove"))
    assert response.status_code == 302
    assert member_for(member).avatar.name == ""
    assert member_for(member).avatar_src == ""
    assert stored_files(media_root) == []


def test_a_replaced_avatar_another_member_shows_is_kept(
    member, member_client, media_root, django_capture_on_commit_callbacks
):
    shared = image_bytes((30, 30), (9, 9, 9))
    avatars.avatar_set(member=member_for(UserFactory()), upload=SimpleUploadedFile("s.png", shared))
    upload(member_client, shared)
    with django_capture_on_commit_callbacks(execute=True):
        upload(member_client, image_bytes((30, 30), (250, 250, 250)))
    assert len(stored_files(media_root)) == 2


def test_setting_an_avatar_moves_the_stamps_of_the_lessons_the_member_wrote_on(member):
    comment = CommentFactory(member=member_for(member))
    LessonStamp.objects.create(lesson=comment.lesson, value=1)
    avatars.avatar_set(member=member_for(member), upload=SimpleUploadedFile("a.png", image_bytes()))
    assert LessonStamp.objects.get(lesson=comment.lesson).value != 1


def test_avatar_forms_need_a_signed_in_member_and_post(client, member_client):
    assert client.post(reverse("forum:settings-avatar")).status_code == 302
    assert Member.objects.count() == 0
    assert member_client.get(reverse("forum:settings-avatar")).status_code == 405


def test_no_file_at_all_is_refused_with_a_message(member_client):
    response = member_client.post(reverse("forum:settings-avatar"), {})
    assert response.status_code == 400
    assert 'id="id_avatar-error"' in response.content.decode()


def test_the_settings_page_costs_the_same_queries_with_the_avatar_part(
    member, member_client, django_assert_num_queries
):
    upload(member_client, image_bytes())
    member_client.get(reverse("forum:settings"))
    with django_assert_num_queries(NUM_SETTINGS_QUERIES):
        assert member_client.get(reverse("forum:settings")).status_code == 200


# The session, and the account with its member (as before the avatar part: it costs nothing).
NUM_SETTINGS_QUERIES = 4  # with the linked accounts (tests/forum/test_social_login.py)


SAMPLES = [
    image_bytes((24, 16)),
    image_bytes((24, 16), fmt="JPEG"),
    image_bytes((24, 16), fmt="WEBP"),
    animated_gif([(1, 2, 3), (4, 5, 6)], (24, 16)),
    jpeg_with_orientation(6),
]


@given(
    sample=st.sampled_from(SAMPLES),
    changes=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
    cut=st.integers(0, 10_000) | st.none(),
)
def test_damaged_images_are_an_avatar_or_a_refusal_never_an_error(sample, changes, cut):
    data = bytearray(sample)
    for position, value in changes:
        data[position % len(data)] = value
    data = bytes(data[:cut] if cut is not None else data)
    try:
        encoded = images.avatar_encode(data)
    except ValidationError as error:
        assert error.code in {"not_an_image", "too_many_pixels"}
    else:
        assert encoded.data.startswith(b"RIFF") and encoded.extension == "webp"
