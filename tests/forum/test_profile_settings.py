"""Names on sign-up and the profile part of /settings/ (display name and bio): look-alikes of a
reserved word, a teacher or another account are refused with a message and change nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import translation

from forum import services
from forum.identity import skeleton
from forum.models import LessonStamp, Member
from forum.notifications.preferences import DEFAULTS
from forum.profiles import profile_save
from tests.factories import PASSWORD, CommentFactory, CourseFactory, UserFactory

pytestmark = pytest.mark.django_db

RESERVED = "This name is reserved."
TOO_CLOSE = "This name is too close to another member's name."
TEACHER = "This name belongs to a teacher."

# Done means 3: each refused with its reason, on sign-up and in the settings.
REFUSED = [
    pytest.param("ａｄｍｉｎ", RESERVED, id="fullwidth-admin"),
    pytest.param("аdmin", RESERVED, id="cyrillic-a-admin"),
    pytest.param("独\u200d行", TEACHER, id="teacher-with-zwj"),
    pytest.param("独行", TEACHER, id="teacher"),
    pytest.param("作者回复", RESERVED, id="author-reply"),
    pytest.param("XIAOMING", TOO_CLOSE, id="another-account-case-folded"),
]


def shown(message: str) -> str:
    """The message as the page shows it: in the site's language, escaped."""
    with translation.override("zh-hans"):
        return translation.gettext(message).replace("'", "&#x27;")


@pytest.fixture
def others(db) -> None:
    """独行 teaches a course; xiaoming has an account."""
    CourseFactory(teacher="独行")
    services.member_for(UserFactory(username="xiaoming"))


def sign_up(username: str):
    data = {
        "username": username,
        "email": "newcomer@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    return Client().post(reverse("account_signup"), data)


@pytest.mark.parametrize(("name", "message"), REFUSED)
def test_sign_up_refuses_a_look_alike_name_and_makes_nothing(others, name, message):
    accounts, members = get_user_model().objects.count(), Member.objects.count()
    response = sign_up(name)
    assert response.status_code == 200
    assert response.context["form"].errors["username"] == [translation.gettext(message)]
    assert shown(message) in response.content.decode()
    assert get_user_model().objects.count() == accounts
    assert Member.objects.count() == members


def test_sign_up_keeps_a_free_fullwidth_name_in_its_plain_form_with_its_member(others):
    assert sign_up("ｘｉａｏｈｏｎｇ").status_code == 302
    user = get_user_model().objects.get(email="newcomer@example.com")
    assert user.username == "xiaohong"
    assert user.member.account_skeleton == skeleton("xiaohong")


def test_sign_up_refuses_a_name_its_plain_form_makes_too_long(others):
    response = sign_up("㍿" * 40)  # 40 characters typed, 160 as 株式会社…
    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert not get_user_model().objects.filter(email="newcomer@example.com").exists()


def test_a_name_only_imported_commenters_hold_is_free_to_sign_up_with(others):
    Member.objects.create(display_name="Eric", import_key="a")
    Member.objects.create(display_name="Eric", import_key="b")
    assert sign_up("eric").status_code == 302


# Settings.


@pytest.fixture
def me(others) -> Member:
    member = services.member_for(UserFactory(username="newcomer"))
    member.language = "zh-hans"
    member.save(update_fields=["language"])
    return member


def client_of(member: Member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def form(**profile: str) -> dict[str, str]:
    """The settings form as the page sends it, with the profile fields given."""
    return {"display_name": "", "bio": "", "language": "zh-hans", **DEFAULTS, **profile}


@pytest.mark.parametrize(("name", "message"), REFUSED)
def test_settings_refuse_a_look_alike_display_name_and_change_nothing(me, name, message):
    before = Member.objects.values().get(pk=me.pk)
    response = client_of(me).post(
        reverse("forum:settings"), form(display_name=name, bio="新简介", language="en")
    )
    assert response.status_code == 400
    assert response.context["form"].errors["display_name"] == [translation.gettext(message)]
    assert shown(message) in response.content.decode()
    assert Member.objects.values().get(pk=me.pk) == before


def test_settings_save_a_display_name_and_a_bio(me):
    response = client_of(me).post(
        reverse("forum:settings"), form(display_name="  小红 ", bio="爱学习。\r\n<b>不是粗体</b>")
    )
    assert response.status_code == 302
    me.refresh_from_db()
    assert (me.display_name, me.bio) == ("小红", "爱学习。\n<b>不是粗体</b>")
    assert me.name_skeleton == skeleton("小红")
    page = client_of(me).get(reverse("forum:settings")).content.decode()
    assert 'value="小红"' in page
    assert "&lt;b&gt;不是粗体&lt;/b&gt;" in page and "<b>不是粗体" not in page


def test_a_display_name_equal_to_ones_own_user_name_is_fine(me):
    me.display_name = "小红"
    me.save(update_fields=["display_name"])
    response = client_of(me).post(reverse("forum:settings"), form(display_name="NEWCOMER"))
    assert response.status_code == 302
    me.refresh_from_db()
    assert me.display_name == "NEWCOMER"


def test_a_blank_display_name_shows_the_user_name(me):
    me.display_name = "小红"
    me.save(update_fields=["display_name"])
    client_of(me).post(reverse("forum:settings"), form(display_name="   "))
    me.refresh_from_db()
    assert me.display_name == "newcomer"
    page = client_of(me).get(reverse("forum:settings")).content.decode()
    assert 'value=""' in page and 'placeholder="newcomer"' in page


def test_a_name_moderators_gave_is_kept_when_the_rest_is_saved(me):
    """The rule binds what a member chooses, not the name they already have."""
    Member.objects.filter(pk=me.pk).update(display_name="独行")
    response = client_of(me).post(reverse("forum:settings"), form(display_name="独行", bio="新"))
    assert response.status_code == 302
    me.refresh_from_db()
    assert (me.display_name, me.bio) == ("独行", "新")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("display_name", "a" * 51),
        ("display_name", "小\x07红"),
        ("display_name", "小\u202e红"),
        ("display_name", "小\n红"),
        ("bio", "长" * 281),
        ("bio", "铃\x1b[31m"),
    ],
)
def test_settings_refuse_overlong_or_control_text_and_change_nothing(me, field, value):
    before = Member.objects.values().get(pk=me.pk)
    response = client_of(me).post(reverse("forum:settings"), form(**{field: value}))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert Member.objects.values().get(pk=me.pk) == before


def test_a_bio_of_280_characters_with_line_breaks_fits(me):
    bio = ("八" * 139 + "\r\n") * 2  # 280 characters once each line break is one
    response = client_of(me).post(reverse("forum:settings"), form(bio=bio))
    assert response.status_code == 302
    me.refresh_from_db()
    assert len(me.bio) == 279  # the last line break trimmed


def test_a_new_name_moves_the_pages_it_shows_on_and_an_unchanged_one_does_not(me):
    comment = CommentFactory(member=me)
    profile_save(member=me, display_name="小红", bio="")
    stamp = LessonStamp.objects.get(lesson=comment.lesson).value
    profile_save(member=me, display_name="小红", bio="只改简介")
    assert LessonStamp.objects.get(lesson=comment.lesson).value == stamp
    profile_save(member=me, display_name="小蓝", bio="只改简介")
    assert LessonStamp.objects.get(lesson=comment.lesson).value != stamp


def test_the_settings_page_with_the_profile_costs_a_fixed_number_of_queries(
    me, django_assert_num_queries
):
    client = client_of(me)
    client.get(reverse("forum:settings"))
    with django_assert_num_queries(QUERIES):
        assert client.get(reverse("forum:settings")).status_code == 200


QUERIES = 4  # the session and account; the linked accounts and whether an email exists
