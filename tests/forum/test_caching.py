"""Cached pages and threads are never stale: every change shows on the next request."""

from __future__ import annotations

import io
import re

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client

from forum import likes, moderation, services
from forum.caching import pages, release
from forum.caching.slots import CLOSE, OPEN, Pieces, Recorder, Unrecordable
from forum.models import Comment
from tests.factories import LessonFactory, MemberFactory, UserFactory, moderator, teacher_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread():
    lesson = LessonFactory()
    root = services.comment_post(author=MemberFactory(), lesson=lesson, body="第一条")
    return lesson, root


def page(client, lesson, **headers) -> tuple[int, str]:
    response = client.get(lesson.get_absolute_url(), **headers)
    return response.status_code, response.content.decode()


def test_anonymous_page_answers_a_conditional_request_with_304(client, thread):
    lesson, _ = thread
    first = client.get(lesson.get_absolute_url())
    assert first["ETag"] and first["Last-Modified"]
    again = client.get(lesson.get_absolute_url(), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    since = client.get(lesson.get_absolute_url(), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304


def test_second_anonymous_view_is_served_from_the_cache_with_one_query(
    client, thread, django_assert_num_queries
):
    lesson, _ = thread
    client.get(lesson.get_absolute_url())
    with django_assert_num_queries(1):  # the lesson's stamp says the copy is current
        client.get(lesson.get_absolute_url())


def test_readers_not_signed_in_get_the_same_bytes_and_no_csrf_token(thread):
    lesson, _ = thread
    first, second = Client(), Client()
    rendered = first.get(lesson.get_absolute_url())
    response = second.get(lesson.get_absolute_url())
    assert response.content == rendered.content
    assert response["Cache-Control"] == "public, no-cache"
    html = response.content.decode()
    assert OPEN not in html and CLOSE not in html
    assert "csrfmiddlewaretoken" not in html and "X-CSRFToken" not in html
    assert "csrftoken" not in second.cookies


def test_a_cached_members_page_gets_the_members_own_csrf_token(thread):
    lesson, _ = thread
    first, second = Client(), Client()
    first.force_login(UserFactory())
    first.get(lesson.get_absolute_url())
    second.force_login(UserFactory())
    html = second.get(lesson.get_absolute_url()).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
    assert _unmask_cipher_token(token) == second.cookies["csrftoken"].value


def test_a_page_cached_by_another_release_is_not_served(
    client, thread, monkeypatch, django_assert_num_queries
):
    lesson, _ = thread
    client.get(lesson.get_absolute_url())
    monkeypatch.setattr(release, "RELEASE", "another")
    with django_assert_num_queries(8):  # rendered again
        client.get(lesson.get_absolute_url())


@pytest.mark.parametrize(
    "change",
    [
        "like",
        "reply",
        "edit",
        "hide",
        "feature",
        "delete",
        "lesson like",
        "rename author",
        "retitle lesson",
        "recount",
    ],
)
def test_cached_page_changes_on_the_next_request(client, thread, change):
    lesson, root = thread
    _, before = page(client, lesson)
    etag = client.get(lesson.get_absolute_url())["ETag"]
    if change == "like":
        likes.like_add(member=MemberFactory(), comment=root)
        expected = "data-like-count>1<"
    elif change == "reply":
        services.comment_post(author=MemberFactory(), lesson=lesson, parent=root, body="新回复")
        expected = "新回复"
    elif change == "edit":
        services.comment_edit(member=root.member, comment=root, body="改过了")
        expected = "改过了"
    elif change == "hide":
        moderation.comment_moderate(moderator=moderator(), comment=root, action="hide")
        expected = "还没有留言"
    elif change == "feature":
        moderation.comment_moderate(moderator=moderator(), comment=root, action="feature")
        expected = 'data-badge="featured"'
    elif change == "delete":
        services.comment_delete(member=root.member, comment=root)
        expected = "还没有留言"
    elif change == "lesson like":
        likes.lesson_like_add(member=MemberFactory(), lesson=lesson)
        expected = "有帮助 <span data-like-count>1</span>"
    elif change == "retitle lesson":
        lesson.title = "改过的标题"
        lesson.save()
        expected = "改过的标题"
    elif change == "recount":
        Comment.objects.filter(pk=root.pk).update(like_count=7)  # drifted behind the site's back
        likes.counters_recount(fix=True)
        expected = "data-like-count>0<"
        before = before.replace(expected, "")
    else:
        root.member.display_name = "改名的读者"
        root.member.save()
        changes = {"display_name": ("", "改名的读者")}
        moderation.member_edit_record(moderator=moderator(), member=root.member, changes=changes)
        expected = "改名的读者"
    assert expected not in before
    response = client.get(lesson.get_absolute_url(), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert expected in response.content.decode()


def test_a_page_the_caches_lost_is_rendered_again(client, thread, django_assert_num_queries):
    lesson, _ = thread
    client.get(lesson.get_absolute_url())
    cache.clear()
    pages.local_pages.clear()
    with django_assert_num_queries(8):
        client.get(lesson.get_absolute_url())
    with django_assert_num_queries(1):
        client.get(lesson.get_absolute_url())


def test_re_import_shows_on_the_next_request(client, tmp_path):
    seed = next(__import__("pathlib").Path("forum/seed").rglob("*.md"))
    call_command("import_lesson", str(seed), stdout=io.StringIO())
    comment = Comment.objects.get(source_position=2)
    lesson = comment.lesson
    client.get(lesson.get_absolute_url())
    newer = tmp_path / seed.parent.name / seed.name
    newer.parent.mkdir()
    newer.write_text(seed.read_text().replace("👍（6）", "👍（60）"), encoding="utf-8")
    call_command("import_lesson", str(newer), stdout=io.StringIO())
    html = client.get(lesson.get_absolute_url()).content.decode()
    card = html[html.index(f'id="comment-{comment.pk}"') :].split("</article>")[0]
    assert "data-like-count>60<" in card


def test_signed_in_pages_show_the_members_own_likes_and_have_no_etag(client, thread):
    lesson, root = thread
    client.get(lesson.get_absolute_url())
    user = UserFactory()
    likes.like_add(member=services.member_for(user), comment=root)
    client.force_login(user)
    response = client.get(lesson.get_absolute_url())
    assert "ETag" not in response
    card = response.content.decode().split(f'id="comment-{root.pk}"')[1].split("</article>")[0]
    assert 'aria-pressed="true"' in card


def test_language_has_its_own_cached_threads(client, thread):
    lesson, _ = thread
    assert "登录后回复" in page(client, lesson)[1]
    client.cookies["django_language"] = "en"
    assert "Log in to reply" in page(client, lesson)[1]


TOKENS = re.compile(
    r'(name="csrfmiddlewaretoken" value=|name="submission" value=|"X-CSRFToken": )"[^"]*"'
)
# Test code may search a page: it checks what the site made, and places nothing in it.


def normalized(response) -> str:
    return TOKENS.sub(r"\1TOKEN", response.content.decode())


@pytest.fixture
def busy_lesson():
    """A lesson where the member `xiaoming` wrote a comment and a reply, liked one comment of
    someone else's and the lesson; others wrote, replied and liked around them."""
    lesson = LessonFactory()
    xiaoming = services.member_for(UserFactory(username="xiaoming"))
    others = MemberFactory.create_batch(3)
    first = services.comment_post(author=others[0], lesson=lesson, body="第一条")
    own = services.comment_post(author=xiaoming, lesson=lesson, body="我的留言")
    services.comment_post(author=xiaoming, lesson=lesson, parent=first, body="我的回复")
    liked = services.comment_post(author=others[1], lesson=lesson, parent=first, body="好回复")
    likes.like_add(member=xiaoming, comment=liked)
    likes.like_add(member=others[2], comment=own)
    likes.lesson_like_add(member=xiaoming, lesson=lesson)
    return lesson, xiaoming.user


def test_what_a_member_liked_is_rendered_once_with_the_copy_not_per_response(
    client, busy_lesson, monkeypatch
):
    """The pressed like buttons many members share are variants stored with the copy: a member
    who liked a comment and the lesson has only what is theirs alone rendered per response (their
    own comments' controls, their name, and the bell: a like on their comment is unread)."""
    lesson, xiaoming = busy_lesson
    client.force_login(xiaoming)
    client.get(lesson.get_absolute_url())
    rendered = []
    render_region = pages.render_region
    monkeypatch.setattr(
        pages,
        "render_region",
        lambda kind, context: rendered.append(kind) or render_region(kind, context),
    )
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert sorted(rendered) == sorted(
        ["comment-like", "comment-actions"] * 2 + ["member-name", "notification-bell"]
    )  # their comment and their reply
    assert html.count('aria-pressed="true"') == 2  # the liked reply and the lesson


def rendered_for_them_alone(client, url, monkeypatch) -> str:
    with monkeypatch.context() as patched:
        patched.setattr(pages, "audience", lambda request: None)
        return normalized(client.get(url))


@pytest.mark.parametrize("who", ["xiaoming", "someone else"])
def test_a_members_copy_of_the_shared_page_is_the_page_rendered_for_them_alone(
    client, busy_lesson, monkeypatch, who
):
    lesson, xiaoming = busy_lesson
    client.force_login(xiaoming if who == "xiaoming" else UserFactory())
    url = lesson.get_absolute_url()
    first, again = normalized(client.get(url)), normalized(client.get(url))
    assert first == again == rendered_for_them_alone(client, url, monkeypatch)


def test_one_members_shared_copy_is_made_the_next_members_own(client, busy_lesson, monkeypatch):
    lesson, xiaoming = busy_lesson
    url = lesson.get_absolute_url()
    client.force_login(UserFactory())
    client.get(url)
    client.force_login(xiaoming)
    html = normalized(client.get(url))
    assert html == rendered_for_them_alone(client, url, monkeypatch)
    assert html.count('data-action="edit"') == 2
    assert html.count('aria-pressed="true"') == 2  # the comment and the lesson they liked
    assert "data-member-name>xiaoming<" in html


def test_a_plain_members_second_view_costs_three_queries(
    client, busy_lesson, django_assert_num_queries
):
    lesson, xiaoming = busy_lesson
    client.force_login(xiaoming)
    client.get(lesson.get_absolute_url())
    # the session, the account with its member, and the lesson's stamp with their standing on
    # it: their lesson like, roles, comments in review, and their likes on the lesson
    with django_assert_num_queries(3):
        client.get(lesson.get_absolute_url())


@pytest.mark.parametrize("who", ["teacher", "moderator", "has a comment in review"])
def test_who_sees_more_than_a_plain_member_gets_a_page_of_their_own(client, busy_lesson, who):
    lesson, _ = busy_lesson
    client.force_login(UserFactory())
    client.get(lesson.get_absolute_url())  # the members' copy is cached
    if who == "teacher":
        client.force_login(teacher_of(lesson.course).user)
        expected = 'data-action="feature"'
    elif who == "moderator":
        client.force_login(moderator())
        expected = 'data-action="feature"'
    else:
        author = UserFactory()
        comment = services.comment_post(
            author=services.member_for(author), lesson=lesson, body="等待审核"
        )
        Comment.objects.filter(pk=comment.pk).update(status=Comment.Status.PENDING)
        client.force_login(author)
        expected = "等待审核"
    assert expected in client.get(lesson.get_absolute_url()).content.decode()


def test_a_like_shows_pressed_on_the_members_next_view(client, busy_lesson):
    lesson, xiaoming = busy_lesson
    client.force_login(xiaoming)
    first = Comment.objects.get(body="第一条")
    client.get(lesson.get_absolute_url())
    client.post(f"/comments/{first.pk}/like/")
    html = client.get(lesson.get_absolute_url()).content.decode()
    card = html.split(f'id="comment-{first.pk}"')[1].split('class="comment__footer"')[1]
    assert 'aria-pressed="true"' in card.split("</footer>")[0]


def test_text_shaped_like_a_placeholder_is_shown_as_written(client, thread):
    lesson, root = thread
    guess = "<code>__lesson_forum_csrf_token__ __csrf_token__ __member_name__</code>"
    body = "`__lesson_forum_csrf_token__ __csrf_token__ __member_name__`"
    services.comment_post(author=MemberFactory(), lesson=lesson, parent=root, body=body)
    client.force_login(UserFactory(username="reader"))
    for _ in range(2):  # rendered, then from the cache
        assert guess in client.get(lesson.get_absolute_url()).content.decode()


def test_the_copies_a_process_keeps_are_bounded_in_bytes(settings):
    settings.FORUM_PAGE_CACHE_BYTES = 1000
    kept = pages._LocalPages()
    for index in range(10):
        kept.put(str(index), pages.Page(str(index), 1, (), Pieces(["x" * 300]), 0))
    assert len(kept) == 3 and kept.get("9") is not None and kept.get("0") is None
    kept.put("big", pages.Page("big", 1, (), Pieces(["x" * 1001]), 0))  # never kept
    assert kept.get("big") is None and len(kept) == 3


def test_readers_not_signed_in_get_no_empty_reply_hooks(client, thread):
    """The reply slot and an empty replies list are where a member's inline forms and new
    replies go: a reader who is not signed in gets neither."""
    lesson, root = thread
    html = page(client, lesson)[1]
    assert f'id="comment-{root.pk}"' in html
    assert "reply-slot" not in html and f'id="replies-{root.pk}"' not in html


def test_junk_query_parameters_add_no_cached_page(client, thread, settings):
    """Keys come from validated parameters alone: 1,000 requests with parameters the page does
    not know leave as many cached copies as there were, each answered with the canonical page."""
    settings.FORUM_PAGE_CACHE_SHARED = True  # the shared cache counts too
    lesson, _ = thread
    url = lesson.get_absolute_url()
    canonical = client.get(url).content
    kept, shared = len(pages.local_pages), len(cache._cache)
    for index in range(1000):
        junk = f"?z={index}&sort=nonsense-{index}&utm_source={index}"
        response = client.get(url + junk, HTTP_HX_TARGET=f"target-{index}")
        assert response.status_code == 200
        assert response.content == canonical
    assert (len(pages.local_pages), len(cache._cache)) == (kept, shared)


@pytest.mark.parametrize("query", ["?page=0", "?page=x", "?page=3", "?page=99999999999999999999"])
def test_a_page_that_does_not_exist_is_a_404_and_is_not_cached(client, thread, query):
    lesson, _ = thread
    kept = len(pages.local_pages)
    assert client.get(lesson.get_absolute_url() + query).status_code == 404
    assert len(pages.local_pages) == kept


def test_a_neighbouring_lessons_new_title_and_its_deletion_show_on_the_next_request(client):
    lesson = LessonFactory(number=1)
    following = LessonFactory(course=lesson.course, number=2, title="第二讲")
    assert "第二讲" in page(client, lesson)[1]
    following.title = "第二讲（修订）"
    following.save()
    assert "第二讲（修订）" in page(client, lesson)[1]
    following.delete()
    assert 'rel="next"' not in page(client, lesson)[1]


def test_text_holding_the_recorders_marks_cannot_be_stored():
    """What makes a mark unforgeable: no text the site keeps can hold a lone surrogate."""
    with pytest.raises(UnicodeEncodeError):
        f"评论{OPEN}<0{CLOSE}".encode()


def test_a_page_whose_marks_do_not_match_what_was_recorded_is_not_cut():
    recorder = Recorder(regions=True)
    for html in (f"a{OPEN}<0{CLOSE}b", f"a{OPEN}csrf", f"{OPEN}>0{CLOSE}", f"x{CLOSE}"):
        with pytest.raises(Unrecordable):
            Pieces.cut(html, recorder)
