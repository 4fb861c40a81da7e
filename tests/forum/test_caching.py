"""Cached pages and threads are never stale: every change shows on the next request."""

from __future__ import annotations

import io
import re

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client

from forum import activity, likes, moderation, page_cache, services
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


def test_second_anonymous_view_is_served_from_the_cache_without_a_query(
    client, thread, django_assert_num_queries
):
    lesson, _ = thread
    client.get(lesson.get_absolute_url())
    with django_assert_num_queries(0):  # the lesson's stamp, in the cache, says it is current
        client.get(lesson.get_absolute_url())


def test_a_cached_page_gets_a_fresh_nonce_and_no_csrf_token(thread):
    lesson, _ = thread
    first, second = Client(), Client()
    first.get(lesson.get_absolute_url())
    response = second.get(lesson.get_absolute_url())
    html = response.content.decode()
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])[1]
    assert f'nonce="{nonce}"' in html
    assert page_cache.TOKEN not in html and page_cache.NONCE not in html
    assert "csrfmiddlewaretoken" not in html and "X-CSRFToken" not in html
    assert "csrftoken" not in second.cookies


def test_a_cached_members_page_gets_the_members_own_csrf_token(thread):
    lesson, _ = thread
    first, second = Client(), Client()
    first.force_login(UserFactory())
    first.get(lesson.get_absolute_url())
    second.force_login(UserFactory())
    html = second.get(lesson.get_absolute_url()).content.decode()
    assert page_cache.TOKEN not in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
    assert _unmask_cipher_token(token) == second.cookies["csrftoken"].value


def test_a_page_cached_by_another_release_is_not_served(client, thread, monkeypatch):
    lesson, _ = thread
    client.get(lesson.get_absolute_url())
    monkeypatch.setattr(activity, "RELEASE", "another")
    key = page_cache.page_key(client.get(lesson.get_absolute_url()).wsgi_request, "anonymous")
    assert page_cache.cached_page(key).stamp.startswith("another.")


def test_threads_rendered_for_one_page_serve_another(client, thread, django_assert_num_queries):
    lesson, _ = thread
    client.get(lesson.get_absolute_url())
    with django_assert_num_queries(5):  # lesson id, lesson, lesson list, page ids, their rows
        client.get(lesson.get_absolute_url() + "?sort=new")


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
        expected = "改名的读者"
    assert expected not in before
    response = client.get(lesson.get_absolute_url(), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert expected in response.content.decode()


def test_a_stamp_the_cache_lost_is_made_anew_and_matches_no_kept_page(
    client, thread, django_assert_num_queries
):
    lesson, _ = thread
    client.get(lesson.get_absolute_url())
    cache.delete(f"forum:lesson-stamp:{lesson.pk}")
    with django_assert_num_queries(5):  # rendered again, its threads from the thread cache
        client.get(lesson.get_absolute_url())
    with django_assert_num_queries(0):
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


def test_signed_in_pages_show_the_members_own_likes_and_are_not_cached(client, thread):
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


TOKENS = re.compile(r'(name="csrfmiddlewaretoken" value=|"X-CSRFToken": |nonce=)"[^"]*"')


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


def rendered_for_them_alone(client, url, monkeypatch) -> str:
    with monkeypatch.context() as patched:
        patched.setattr("forum.page_cache.viewer_kind", lambda request, viewer: None)
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
    # the session, the account with its member, and their likes, roles and comments in review
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


def test_readers_without_a_session_get_the_page_the_view_gives_anyone_anonymous(
    thread, django_assert_num_queries
):
    """forum.middleware.CachedPageMiddleware answers them before the view runs."""
    lesson, _ = thread
    Client().get(lesson.get_absolute_url())
    with_session = Client()
    with_session.cookies["sessionid"] = "no-such-session"  # anonymous, but the view decides
    by_view = with_session.get(lesson.get_absolute_url())
    with django_assert_num_queries(0):
        early = Client().get(lesson.get_absolute_url())
    assert early.wsgi_request.resolver_match is None  # answered before URL resolving
    assert by_view.wsgi_request.resolver_match is not None
    for header in ("ETag", "Last-Modified", "Vary", "Cache-Control", "X-Frame-Options"):
        assert early[header] == by_view[header]
    assert normalized(early) == normalized(by_view)


CODE = "```python\ndef f():\n    if x:\n        return 1\n\n\n    return 2\n```"


def test_compacting_keeps_what_a_page_reads_and_every_code_block_as_written():
    html = (
        '<div class="a">\n    <p>一 <b>二</b> 三</p>\n\n    <pre><code>  a\n\n    b  </code>'
        '</pre>\n  <textarea name="body">\n  keep  \n</textarea>\n  <span>x</span> <span>y</span>'
        "\n</div>"
    )
    compacted = page_cache.compact(html)
    assert compacted == (
        '<div class="a">\n<p>一 <b>二</b> 三</p>\n<pre><code>  a\n\n    b  </code></pre>\n'
        '<textarea name="body">\n  keep  \n</textarea>\n<span>x</span> <span>y</span>\n</div>'
    )


def test_an_anonymous_page_is_compacted_and_its_code_blocks_are_kept(client):
    lesson = LessonFactory(body_markdown=f"正文\n\n{CODE}\n")
    root = services.comment_post(author=MemberFactory(), lesson=lesson, body=f"留言\n\n{CODE}")
    html = page(client, lesson)[1]
    blocks = re.findall(r"<pre\b.*?</pre>", html, re.S)
    assert blocks == [
        *re.findall(r"<pre\b.*?</pre>", lesson.body_html, re.S),
        *re.findall(r"<pre\b.*?</pre>", Comment.objects.get(pk=root.pk).body_html, re.S),
    ]
    # Between two tags, with line breaks: what compacting takes out anywhere else.
    assert all('</span>\n\n\n    <span class="k">return' in block for block in blocks)
    outside = re.sub(r"<pre\b.*?</pre>", "", html, flags=re.S)
    assert not re.search(r">[ \t]*\n\s*\n\s*<|>\n[ \t]+<", outside)


def test_a_process_knows_which_paths_it_holds_pages_of():
    pages = page_cache._LocalPages(2)
    for key, path in [("a", "/one/"), ("b", "/one/"), ("c", "/two/")]:
        pages.put(key, page_cache.CachedPage(key, 1, "s", "", 0, path=path))
    assert pages.holds("/one/") and pages.holds("/two/")  # "a" went, "b" keeps /one/
    pages.put("d", page_cache.CachedPage("d", 1, "s", "", 0, path="/two/"))
    assert not pages.holds("/one/") and pages.holds("/two/")


def test_readers_not_signed_in_get_no_empty_reply_hooks(client, thread):
    """The reply slot and an empty replies list are where a member's inline forms and new
    replies go: a reader who is not signed in gets neither."""
    lesson, root = thread
    html = page(client, lesson)[1]
    assert f'id="comment-{root.pk}"' in html
    assert "reply-slot" not in html and f'id="replies-{root.pk}"' not in html
