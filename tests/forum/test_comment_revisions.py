"""Earlier versions of an edited comment, as moderators reach them from the admin."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from forum.models import CommentRevision
from forum.services import comment_edit
from tests.factories import CommentFactory, moderator

pytestmark = pytest.mark.django_db


def test_view_on_site_of_an_earlier_version_opens_the_comment(client) -> None:
    comment = CommentFactory(body="first words")
    comment_edit(member=comment.member, comment=comment, body="second words")
    revision = CommentRevision.objects.get(comment=comment)
    client.force_login(moderator())
    content_type = ContentType.objects.get_for_model(CommentRevision)
    response = client.get(reverse("admin:view_on_site", args=[content_type.pk, revision.pk]))
    assert response.status_code == 302
    assert response["Location"].endswith(f"/comments/{comment.pk}/#comment-{comment.pk}")
