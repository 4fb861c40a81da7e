"""Members' profiles: where a name leads, what a profile shows and what it costs."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from forum import linking, services
from forum.models import Comment, Member
from forum.models.discussion import slug_base
from tests.factories import (
    CommentFactory,
    CourseFactory,
    LessonFactory,
    MemberFactory,
    UserFactory,
    moderator,
    teacher_of,
)
from tests.forum.import_helpers import SEED

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def comment_ids(html: str) -> list[str]:
    return re.findall(r'data-comment-id="(\d+)"', html)


def author_links(html: str) -> list[str]:
    return re.findall(r'<a [^>]*href="([^"]+)"[^>]*data-author-link', html)


# Where names lead -------------------------------------------------------------------------------


def test_slugs_are_user_names_for_accounts_and_marked_names_for_imported_members():
    account = services.member_for(UserFactory(username="xiaoming"))
    imported = MemberFactory(display_name="风轻扬", import_key="a")
    namesake = MemberFactory(display_name="风轻扬", import_key="b")
    blank = MemberFactory(display_name="", import_key="c")
    assert account.slug == "xiaoming"
    assert (imported.slug, namesake.slug) == ("~风轻扬", "~风轻扬-2")
    assert blank.slug == "~member"


def test_an_account_takes_its_user_name_even_when_an_imported_member_has_the_same_name():
    MemberFactory(display_name="eric", import_key="x")
    assert services.member_for(UserFactory(username="eric")).slug == "eric"


@settings(max_examples=60, deadline=None)
@given(name=st.text(max_size=40))
def test_any_imported_name_gives_an_address_that_leads_back_to_it(name):
    member = Member(display_name=name, import_key="k")
    url = reverse("forum:member", args=[slug_base(member)])
    assert url.startswith("/members/~")
    assert "/" not in url.removeprefix("/members/").removesuffix("/")


def test_names_on_cards_in_author_replies_and_the_teacher_line_lead_to_profiles(client):
    call_command("import_lesson", str(SEED), verbosity=0)
    geek = Member.objects.get(display_name="Geek_e9e5f5")
    teacher = Member.objects.get(courses_taught__isnull=False)
    comment = Comment.objects.filter(is_author_reply=False, member=geek).first()
    html = client.get(comment.lesson.get_absolute_url()).content.decode()
    links = author_links(html)
    assert geek.get_absolute_url() in links
    assert links[0] == teacher.get_absolute_url() == "/members/~%E7%8B%AC%E8%A1%8C/"
    answered = Comment.objects.filter(is_author_reply=True).count()
    assert links.count(teacher.get_absolute_url()) >= 1 + min(answered, 1)
    profile = client.get(geek.get_absolute_url())
    assert profile.status_code == 200
    assert comment.pk in [int(pk) for pk in comment_ids(profile.content.decode())]
    for page in ("/", comment.lesson.course.get_absolute_url()):  # and so does it elsewhere
        assert author_links(client.get(page).content.decode())[0] == teacher.get_absolute_url()
    latest = Comment.objects.counted().order_by("-created_at", "-pk").first()
    assert latest.member.get_absolute_url() in author_links(client.get("/").content.decode())


def test_imported_names_carry_the_source_mark_and_accounts_do_not(client):
    lesson = LessonFactory()
    CommentFactory(lesson=lesson, member=MemberFactory(display_name="Eric", import_key="e"))
    CommentFactory(lesson=lesson, member=services.member_for(UserFactory(username="Eric2")))
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert html.count('data-badge="imported"') == 1


def test_the_header_leads_a_member_to_their_own_profile(client):
    user = UserFactory(username="xiaoming")
    member = services.member_for(user)
    member.display_name = "小明"
    member.save()
    client.force_login(user)
    html = client.get("/").content.decode()
    assert 'href="/members/xiaoming/"' in html
    assert "data-member-name>小明<" in html


# What a profile shows ---------------------------------------------------------------------------


def test_a_teacher_finds_their_workspace_from_their_own_profile_only(client):
    teacher = teacher_of(CourseFactory(), username="duxing")
    teach = 'href="/teach/"'
    assert teach not in client.get(teacher.get_absolute_url()).content.decode()
    client.force_login(teacher.user)
    assert teach in client.get(teacher.get_absolute_url()).content.decode()


def test_a_profile_shows_the_member_and_only_their_visible_comments(client):
    course = CourseFactory(title="AI 大模型实战")
    teacher = teacher_of(course, username="duxing")
    teacher.bio = "<b>十年</b>一线经验"
    teacher.save()
    lesson = LessonFactory(course=course)
    now = timezone.now()
    old = CommentFactory(lesson=lesson, member=teacher, created_at=now - timedelta(days=1))
    new = CommentFactory(
        lesson=lesson, member=teacher, is_author_reply=True, parent=old, like_count=3
    )
    for hidden in (
        {"status": Comment.Status.PENDING},
        {"status": Comment.Status.HIDDEN},
        {"deleted_at": now},
    ):
        CommentFactory(lesson=lesson, member=teacher, **hidden)
    html = client.get(teacher.get_absolute_url()).content.decode()
    assert comment_ids(html) == [str(new.pk), str(old.pk)]
    assert f'href="/comments/{new.pk}/#comment-{new.pk}"' in html
    assert 'data-count="comments">2<' in html
    assert 'data-count="likes">3<' in html
    assert 'data-count="answers">1<' in html
    assert 'data-badge="teacher"' in html
    assert course.title in html
    assert "&lt;b&gt;十年&lt;/b&gt;一线经验" in html
    assert "@<bdi>duxing</bdi>" in html


def test_an_imported_profile_says_where_it_comes_from(client):
    member = MemberFactory(display_name="风轻扬", import_key="f")
    CommentFactory(member=member)
    html = client.get(member.get_absolute_url()).content.decode()
    assert 'data-badge="imported"' in html
    assert "@<bdi>" not in html


def test_unknown_and_inactive_profiles_are_404_and_a_quiet_account_has_an_empty_one(client):
    gone = UserFactory(username="gone", is_active=False)
    services.member_for(gone)
    UserFactory(username="quiet")
    assert client.get("/members/nobody/").status_code == 404
    assert client.get("/members/gone/").status_code == 404
    quiet = client.get("/members/quiet/")
    assert quiet.status_code == 200
    assert comment_ids(quiet.content.decode()) == []


# Paging, and what it costs ----------------------------------------------------------------------


@pytest.fixture
def busy():
    member = services.member_for(UserFactory(username="busy"))
    CommentFactory.create_batch(25, member=member)
    return member


def test_later_pages_come_with_and_without_javascript(client, busy):
    url = busy.get_absolute_url()
    first = client.get(url).content.decode()
    second = client.get(url + "?page=2").content.decode()
    assert len(comment_ids(first)) == 20
    assert len(comment_ids(second)) == 5
    assert set(comment_ids(first)).isdisjoint(comment_ids(second))
    assert 'href="?page=2" rel="next"' in first
    assert 'rel="prev"' in second and 'rel="next"' not in second
    more = client.get(url + "?page=2", **HTMX).content.decode()
    assert comment_ids(more) == comment_ids(second)
    assert "<html" not in more
    assert 'id="member-pager" data-hx-swap-oob="true" hidden' in more
    assert client.get(url + "?page=3").status_code == 404


def many_comments(member: Member, count: int) -> None:
    lesson = LessonFactory()
    now = timezone.now()
    Comment.objects.bulk_create(
        Comment(
            lesson=lesson,
            member=member,
            body=f"第{n}条",
            body_html=f"<p>第{n}条</p>",
            created_at=now - timedelta(seconds=n),
        )
        for n in range(count)
    )


@pytest.mark.parametrize("count", [10, 10_000])
def test_a_profile_costs_the_same_queries_at_10_and_10000_comments(
    client, django_assert_num_queries, count
):
    member = services.member_for(UserFactory(username="writer"))
    teacher_course = CourseFactory()
    member.courses_taught.add(teacher_course)
    many_comments(member, count)
    url = member.get_absolute_url()
    # The member with the account, the counts, the courses taught, a page of comments.
    with django_assert_num_queries(4):
        html = client.get(url).content.decode()
    assert len(comment_ids(html)) == min(count, 20)
    assert f'data-count="comments">{count}<' in html
    if count > 20:
        with django_assert_num_queries(2):  # the member, a page of comments
            more = client.get(url + "?page=3", **HTMX).content.decode()
        assert len(comment_ids(more)) == 20


def test_linking_the_teacher_moves_the_teacher_line_of_every_cached_lesson_page(client):
    call_command("import_lesson", str(SEED), verbosity=0)
    lesson = Comment.objects.first().lesson
    teacher = Member.objects.get(courses_taught=lesson.course)
    url = lesson.get_absolute_url()
    assert author_links(client.get(url).content.decode())[0] == teacher.get_absolute_url()
    account = UserFactory(username="duxing_teacher")
    linking.member_link_account(moderator=moderator(), member=teacher, user=account)
    assert author_links(client.get(url).content.decode())[0] == "/members/duxing_teacher/"
