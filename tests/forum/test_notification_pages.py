"""The pages of notifications: the header's bell, the list, opening one, marking all read, the
settings page, the admin's list and the member page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from forum import services
from forum.models import Comment, Member, Notification
from forum.notifications.member_settings import member_settings_save
from forum.notifications.preferences import DEFAULTS, deliveries
from tests.factories import CommentFactory, LessonFactory, MemberFactory, UserFactory, moderator

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
Kind = Notification.Kind


def told(recipient: Member, kind: str = Kind.REPLY, *, comment=None, actor=None, **fields):
    """A notification as the notify_* services make one, with the unread count moved."""
    notification = Notification.objects.create(
        recipient=recipient,
        kind=kind,
        comment=comment or CommentFactory(),
        actor=actor,
        **fields,
    )
    if notification.read_at is None:
        Member.objects.filter(pk=recipient.pk).update(
            unread_notifications=F("unread_notifications") + 1
        )
    return notification


def signed_in(user) -> tuple[Client, Member]:
    client = Client()
    client.force_login(user)
    return client, services.member_for(user)


def bell_count(html: str) -> str | None:
    found = re.search(r"data-notification-count>([^<]*)<", html)
    return found[1] if found else None


def items(html: str) -> list[tuple[str, str]]:
    """Each item's kind and the id its link opens, in page order."""
    kinds = re.findall(r'data-notification data-kind="([a-z-]+)"', html)
    links = re.findall(r'href="/notifications/(\d+)/" data-notification-link', html)
    return list(zip(kinds, links, strict=True))


# The bell --------------------------------------------------------------------------------------


def test_bell_shows_the_unread_count_with_an_accessible_name(member):
    client, me = signed_in(member)
    for _ in range(3):
        told(me)
    html = client.get("/").content.decode()
    assert bell_count(html) == "3"
    assert 'aria-label="通知，3 条未读"' in html
    assert 'href="/notifications/"' in html


def test_bell_without_unread_shows_no_count(member_client):
    html = member_client.get("/").content.decode()
    assert "data-notification-bell" in html
    assert bell_count(html) is None
    assert 'aria-label="通知"' in html


def test_readers_not_signed_in_have_no_bell(client):
    assert "data-notification-bell" not in client.get("/").content.decode()


def test_each_member_sees_their_own_count_on_a_cached_lesson_page():
    lesson = LessonFactory()
    CommentFactory(lesson=lesson)
    first, first_member = signed_in(UserFactory())
    second, second_member = signed_in(UserFactory())
    told(second_member)
    told(second_member)
    url = lesson.get_absolute_url()
    assert bell_count(first.get(url).content.decode()) is None  # renders the shared copy
    assert bell_count(second.get(url).content.decode()) == "2"  # from the copy
    told(first_member)
    assert bell_count(first.get(url).content.decode()) == "1"
    assert bell_count(second.get(url).content.decode()) == "2"


@pytest.mark.parametrize("signed_in_reader", [False, True])
def test_the_bell_costs_the_lesson_page_no_query(
    client, django_assert_num_queries, signed_in_reader
):
    """The same numbers as tests/forum/test_likes.py and test_caching.py assert for readers
    without notifications: rendered (7 and 10), then from the copy (1 and 3)."""
    lesson = LessonFactory()
    CommentFactory.create_batch(3, lesson=lesson)
    if signed_in_reader:
        user = UserFactory()
        for _ in range(4):
            told(services.member_for(user))
        client.force_login(user)
    url = lesson.get_absolute_url()
    with django_assert_num_queries(11 if signed_in_reader else 8):  # with the blocks' counts
        first = client.get(url).content.decode()
    with django_assert_num_queries(3 if signed_in_reader else 1):
        again = client.get(url).content.decode()
    assert bell_count(first) == bell_count(again) == ("4" if signed_in_reader else None)


# The list --------------------------------------------------------------------------------------


def test_list_is_the_members_own_newest_first(member):
    client, me = signed_in(member)
    now = timezone.now()
    old = told(me, created_at=now - timedelta(days=2))
    new = told(me, Kind.MENTION, created_at=now)
    told(MemberFactory())  # someone else's
    html = client.get(reverse("forum:notifications")).content.decode()
    assert items(html) == [("mention", str(new.pk)), ("reply", str(old.pk))]


def test_every_kind_says_what_happened(member):
    client, me = signed_in(member)
    actor = MemberFactory(display_name="小明")
    mine = CommentFactory(member=me)
    told(me, Kind.REPLY, actor=actor)
    told(me, Kind.AUTHOR_REPLY, actor=actor)
    told(me, Kind.MENTION, actor=actor)
    told(me, Kind.LIKE, actor=actor, comment=mine, others=9)
    told(me, Kind.LIKE, actor=actor, comment=CommentFactory(member=me))
    told(me, Kind.FEATURED, comment=mine, action="pin")
    told(me, Kind.MODERATION, comment=mine, action="hide", reason="离题")
    told(me, Kind.REPORT, action="dismissed", created_at=timezone.now() - timedelta(days=1))
    html = client.get(reverse("forum:notifications")).content.decode()
    for text in [
        "回复了你的留言",
        "老师回复了你的留言",
        "作者回复",
        "在留言中提到了你",
        "和另外 9 人赞了你的留言",
        "赞了你的留言",
        "置顶了你的留言",
        "你的留言被隐藏",
        "原因：离题",
        "你的举报已处理：未成立",
        "管理员",
        "小明",
        "未读",
        "刚刚",
        "1\xa0日前",  # Django's timesince, with its no-break space
    ]:
        assert text in html, text


def test_the_quote_is_escaped_and_shortened(member):
    client, me = signed_in(member)
    told(me, comment=CommentFactory(body="<script>alert(1)</script>" + "长" * 200))
    html = client.get(reverse("forum:notifications")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "长" * 50 in html and "长" * 60 not in html


def test_notifications_of_comments_no_longer_shown_are_left_out(member):
    client, me = signed_in(member)
    told(me, comment=CommentFactory(status=Comment.Status.HIDDEN))
    told(me, Kind.LIKE, comment=CommentFactory(member=me, deleted_at=timezone.now()))
    hidden_mine = CommentFactory(member=me, status=Comment.Status.HIDDEN, body="我的原话")
    told(me, Kind.MODERATION, comment=hidden_mine, action="hide")
    upheld = told(me, Kind.REPORT, comment=CommentFactory(status="hidden", body="别人的坏话"))
    html = client.get(reverse("forum:notifications")).content.decode()
    assert [kind for kind, _ in items(html)] == ["report", "moderation"]
    assert "我的原话" in html  # the member's own text, which the decision is about
    assert "别人的坏话" not in html  # a hidden comment of someone else's is not quoted
    response = client.get(reverse("forum:notification", args=[upheld.pk]))
    assert response.url == reverse("forum:notifications")


def test_empty_list_says_so(member_client):
    html = member_client.get(reverse("forum:notifications")).content.decode()
    assert "还没有通知" in html
    assert "data-notification " not in html


def test_list_pages_by_twenty_with_links(member):
    client, me = signed_in(member)
    comment = CommentFactory()
    now = timezone.now()
    made = [told(me, comment=comment, created_at=now - timedelta(minutes=n)) for n in range(45)]
    first = client.get(reverse("forum:notifications")).content.decode()
    third = client.get(reverse("forum:notifications") + "?page=3").content.decode()
    assert [int(pk) for _, pk in items(first)] == [n.pk for n in made[:20]]
    assert [int(pk) for _, pk in items(third)] == [n.pk for n in made[40:]]
    assert 'href="?page=2" rel="next"' in first and 'rel="prev"' not in first
    assert 'href="?page=2" rel="prev"' in third and 'rel="next"' not in third
    assert client.get(reverse("forum:notifications") + "?page=4").status_code == 404
    assert client.get(reverse("forum:notifications") + "?page=x").status_code == 404


def test_list_costs_the_same_queries_with_3_and_60_notifications(django_assert_num_queries):
    few_client, few = signed_in(UserFactory())
    many_client, many = signed_in(UserFactory())
    kinds = Kind.values
    for index in range(60):
        target = [few, many] if index < 3 else [many]
        for recipient in target:
            told(recipient, kinds[index % 7], actor=MemberFactory(), action="hide")
    # Session, account with member, the page of notifications with actors, comments, lessons.
    with django_assert_num_queries(3):
        few_client.get(reverse("forum:notifications"))
    with django_assert_num_queries(3):
        many_client.get(reverse("forum:notifications"))


def test_list_asks_readers_not_signed_in_to_log_in(client):
    response = client.get(reverse("forum:notifications"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


# Opening one -----------------------------------------------------------------------------------


def test_opening_marks_it_read_and_goes_to_the_comments_anchor(member):
    client, me = signed_in(member)
    notification = told(me)
    told(me)
    response = client.get(reverse("forum:notification", args=[notification.pk]))
    comment = notification.comment
    assert response.status_code == 302
    assert response.url == f"/comments/{comment.pk}/#comment-{comment.pk}"
    notification.refresh_from_db()
    me.refresh_from_db()
    assert notification.read_at is not None
    assert me.unread_notifications == 1
    client.get(reverse("forum:notification", args=[notification.pk]))  # again: no change
    me.refresh_from_db()
    assert me.unread_notifications == 1


def test_opening_another_members_notification_is_404(member_client):
    theirs = told(MemberFactory(user=UserFactory()))
    response = member_client.get(reverse("forum:notification", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_is_a_get_only(member):
    client, me = signed_in(member)
    notification = told(me)
    url = reverse("forum:notification", args=[notification.pk])
    assert client.post(url).status_code == 405


# Marking all read ------------------------------------------------------------------------------


def test_read_all_without_javascript_redirects_to_the_list(member):
    client, me = signed_in(member)
    for _ in range(3):
        told(me)
    response = client.post(reverse("forum:notifications-read"))
    assert response.status_code == 302 and response.url == reverse("forum:notifications")
    me.refresh_from_db()
    assert me.unread_notifications == 0
    assert not Notification.objects.filter(recipient=me, read_at__isnull=True).exists()
    html = client.get(response.url).content.decode()
    assert bell_count(html) is None and "notification--unread" not in html


def test_read_all_over_htmx_swaps_the_list_and_the_bell(member):
    client, me = signed_in(member)
    told(me)
    told(me)
    response = client.post(reverse("forum:notifications-read"), {"page": "1"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="notification-list"' in html
    assert re.search(r'id="notification-bell"[^>]* data-hx-swap-oob="true"', html)
    assert bell_count(html) is None and "notification--unread" not in html


def test_read_all_needs_a_post_and_a_member(client, member_client):
    assert member_client.get(reverse("forum:notifications-read")).status_code == 405
    response = client.post(reverse("forum:notifications-read"), **HTMX)
    assert response.status_code == 200 and response["HX-Redirect"].startswith("/accounts/login/")


def test_the_list_holds_a_real_read_all_form(member):
    client, me = signed_in(member)
    told(me)
    html = client.get(reverse("forum:notifications")).content.decode()
    form = re.search(r'<form method="post" action="/notifications/read/"[^>]*>', html)[0]
    assert 'data-hx-post="/notifications/read/"' in form
    assert "csrfmiddlewaretoken" in html


# Settings --------------------------------------------------------------------------------------


def test_settings_show_the_defaults(member_client):
    html = member_client.get(reverse("forum:settings")).content.decode()
    assert '<option value="email" selected>即时邮件</option>' in html
    assert '<option value="page" selected>仅站内</option>' in html
    assert "每日摘要" in html and "关闭" in html
    assert '<option value="zh-hans" selected>' in html


def test_settings_save_redirects_with_a_message_and_sets_the_language(member):
    client, me = signed_in(member)
    form = {kind: how for kind, how in DEFAULTS.items()} | {"like": "off", "reply": "digest"}
    response = client.post(reverse("forum:settings"), {"language": "en", **form})
    assert response.status_code == 302 and response.url == reverse("forum:settings")
    assert response.cookies["django_language"].value == "en"
    me.refresh_from_db()
    assert me.language == "en"
    assert me.notification_settings == {"like": "off", "reply": "digest"}
    page = client.get(response.url).content.decode()
    assert "Your settings were saved." in page
    assert '<html lang="en">' in page


def test_settings_refuse_an_unknown_choice(member):
    client, me = signed_in(member)
    response = client.post(
        reverse("forum:settings"), {"language": "fr", **DEFAULTS, "like": "pigeon"}
    )
    assert response.status_code == 400
    assert response.content.decode().count('aria-invalid="true"') == 2
    me.refresh_from_db()
    assert me.language == "" and me.notification_settings == {}


def test_settings_need_the_csrf_token(member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert client.post(reverse("forum:settings"), {"language": "en", **DEFAULTS}).status_code == 403


def test_member_settings_save_keeps_only_what_differs_from_the_defaults():
    member = MemberFactory()
    member_settings_save(member=member, language="zh-hans", deliveries={**DEFAULTS, "like": "off"})
    member.refresh_from_db()
    assert member.notification_settings == {"like": "off"}
    assert deliveries(member)["like"] == "off" and deliveries(member)["reply"] == "email"


# The admin -------------------------------------------------------------------------------------


def test_moderators_see_notifications_in_the_admin_and_change_nothing():
    user = moderator()
    assert user.has_perm("forum.view_notification")
    assert not user.has_perm("forum.change_notification")
    client = Client()
    client.force_login(user)
    told(MemberFactory(display_name="被通知的人", user=UserFactory()))
    url = reverse("admin:forum_notification_changelist")
    html = client.get(url + "?q=被通知").content.decode()
    assert "被通知的人" in html
    assert client.get(reverse("admin:forum_notification_add")).status_code == 403


def test_the_migration_grants_moderators_the_view_permission():
    from django.contrib.auth.models import Group

    group = Group.objects.filter(name="Moderators").first()
    if group is None:  # a transactional test emptied the tables: made again as the migration does
        group = moderator().groups.get()
    assert group.permissions.filter(pk=Permission.objects.get(codename="view_notification").pk)
