from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from forum import likes, services
from forum.models import Comment, CommentLike, LessonLike, Member
from tests.factories import (
    CommentFactory,
    LessonFactory,
    MemberFactory,
    UserFactory,
    likes_in_bulk,
    members_in_bulk,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def comment() -> Comment:
    return CommentFactory(imported_like_count=6, like_count=6)


def test_like_adds_one_and_shows_the_pressed_button(member_client, comment):
    response = member_client.post(reverse("forum:comment-like", args=[comment.pk]), **HTMX)
    html = response.content.decode()
    comment.refresh_from_db()
    assert comment.like_count == 7
    assert 'data-action="like" aria-pressed="true"' in html
    assert "data-like-count>7<" in html
    assert reverse("forum:comment-unlike", args=[comment.pk]) in html


def test_liking_twice_leaves_one_like(member_client, comment):
    for _ in range(3):
        member_client.post(reverse("forum:comment-like", args=[comment.pk]))
    comment.refresh_from_db()
    assert comment.like_count == 7
    assert CommentLike.objects.count() == 1


def test_unlike_goes_back_to_the_imported_number(member_client, comment):
    member_client.post(reverse("forum:comment-like", args=[comment.pk]))
    response = member_client.post(reverse("forum:comment-unlike", args=[comment.pk]), **HTMX)
    comment.refresh_from_db()
    assert comment.like_count == 6
    assert 'aria-pressed="false"' in response.content.decode()


def test_unlike_without_a_like_changes_nothing(member_client, comment):
    member_client.post(reverse("forum:comment-unlike", args=[comment.pk]))
    comment.refresh_from_db()
    assert comment.like_count == 6


def test_like_without_javascript_redirects_back_to_the_comment(member_client, comment):
    page = f"http://testserver{comment.lesson.get_absolute_url()}?sort=hot"
    response = member_client.post(
        reverse("forum:comment-like", args=[comment.pk]), HTTP_REFERER=page
    )
    assert response.status_code == 302
    assert response["Location"] == f"{page}#comment-{comment.pk}"


def test_like_from_a_foreign_referer_redirects_to_the_lesson(member_client, comment):
    response = member_client.post(
        reverse("forum:comment-like", args=[comment.pk]), HTTP_REFERER="https://evil.example/"
    )
    assert response["Location"] == f"{comment.lesson.get_absolute_url()}#comment-{comment.pk}"


def test_liking_your_own_comment_is_refused(member_client, member):
    mine = CommentFactory(member=services.member_for(member))
    response = member_client.post(reverse("forum:comment-like", args=[mine.pk]))
    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.like_count == 0
    assert not CommentLike.objects.exists()


def test_own_comment_has_no_like_button(member_client, member):
    mine = CommentFactory(member=services.member_for(member))
    html = member_client.get(mine.lesson.get_absolute_url()).content.decode()
    card = html[html.index(f'id="comment-{mine.pk}"') :]
    assert 'data-action="like"' not in card.split("</article>")[0]


def test_like_refuses_a_get(member_client, comment):
    assert member_client.get(reverse("forum:comment-like", args=[comment.pk])).status_code == 405


def test_anonymous_like_is_a_login_link_back_to_the_comment(client, comment):
    html = client.get(comment.lesson.get_absolute_url()).content.decode()
    login = f"/accounts/login/?next=/comments/{comment.pk}/%23comment-{comment.pk}"
    # A link to log in, not a toggle: no aria-pressed (axe: not allowed on a link).
    assert f'data-action="like" href="{login}"' in html
    response = client.post(reverse("forum:comment-like", args=[comment.pk]))
    assert response["Location"].startswith(reverse("account_login"))


def test_page_shows_what_the_viewer_liked(member_client, member, comment):
    other = CommentFactory(lesson=comment.lesson)
    likes.like_add(member=services.member_for(member), comment=comment)
    html = member_client.get(comment.lesson.get_absolute_url()).content.decode()
    liked_card = html[html.index(f'id="comment-{comment.pk}"') :].split("</article>")[0]
    other_card = html[html.index(f'id="comment-{other.pk}"') :].split("</article>")[0]
    assert 'aria-pressed="true"' in liked_card
    assert 'aria-pressed="false"' in other_card


def test_lesson_like_and_unlike(member_client):
    lesson = LessonFactory()
    response = member_client.post(reverse("forum:lesson-like", args=[lesson.pk]), **HTMX)
    assert 'data-action="like-lesson" aria-pressed="true"' in response.content.decode()
    lesson.refresh_from_db()
    assert lesson.like_count == 1
    member_client.post(reverse("forum:lesson-unlike", args=[lesson.pk]))
    lesson.refresh_from_db()
    assert lesson.like_count == 0
    assert not LessonLike.objects.exists()


def test_lesson_page_shows_the_viewers_lesson_like(member_client, member):
    lesson = LessonFactory()
    likes.lesson_like_add(member=services.member_for(member), lesson=lesson)
    html = member_client.get(lesson.get_absolute_url()).content.decode()
    assert 'data-action="like-lesson" aria-pressed="true"' in html


def test_comment_author_sees_who_liked(client, comment):
    author = UserFactory()
    Comment.objects.filter(pk=comment.pk).update(member=services.member_for(author))
    fan = MemberFactory(display_name="小红")
    likes.like_add(member=fan, comment=comment)
    client.force_login(author)
    html = client.get(reverse("forum:comment-likers", args=[comment.pk])).content.decode()
    assert "小红" in html
    assert "另有 6 位读者在来源页面点赞" in html


def test_moderator_sees_who_liked(client, comment):
    moderator = UserFactory()
    moderator.user_permissions.add(Permission.objects.get(codename="moderate_comment"))
    client.force_login(moderator)
    assert client.get(reverse("forum:comment-likers", args=[comment.pk])).status_code == 200


def test_other_members_cannot_see_who_liked(member_client, comment):
    response = member_client.get(reverse("forum:comment-likers", args=[comment.pk]))
    assert response.status_code == 403


def likers_client(client, comment):
    author = UserFactory()
    Comment.objects.filter(pk=comment.pk).update(member=services.member_for(author))
    client.force_login(author)
    return client


def like_in_bulk(comment: Comment, n: int) -> None:
    """`n` likes, the later the newer (each member's name is its number)."""
    likes_in_bulk(comment, members_in_bulk(n))


@pytest.fixture
def per_page(monkeypatch) -> int:
    monkeypatch.setattr("forum.views.likes.LIKERS_PER_PAGE", 2)
    return 2


def test_likers_come_a_page_at_a_time_newest_first(client, comment, per_page):
    like_in_bulk(comment, 5)
    client = likers_client(client, comment)
    url = reverse("forum:comment-likers", args=[comment.pk])
    html = client.get(url).content.decode()
    assert html.index("fan4") < html.index("fan3")
    assert "fan2" not in html
    assert 'href="?page=2"' in html and 'data-action="load-more"' in html
    last = client.get(url, {"page": 3}).content.decode()
    assert "fan0" in last and "fan1" not in last
    assert 'data-action="load-more"' not in last


def test_load_more_likers_over_htmx_returns_only_the_next_items(client, comment, per_page):
    like_in_bulk(comment, 5)
    client = likers_client(client, comment)
    url = reverse("forum:comment-likers", args=[comment.pk])
    html = client.get(url, {"page": 2}, **HTMX).content.decode()
    assert "<html" not in html and "likers__quote" not in html
    assert html.count("<li>") == 2 and "fan2" in html and "fan1" in html
    assert 'id="likers-more"' in html and 'data-hx-get="?page=3"' in html


@pytest.mark.parametrize("page", ["2", "0", "x", "99999999999"])
def test_a_likers_page_past_the_end_is_not_found(client, comment, page):
    like_in_bulk(comment, 1)
    response = likers_client(client, comment).get(
        reverse("forum:comment-likers", args=[comment.pk]), {"page": page}
    )
    assert response.status_code == 404


def test_likers_of_100_000_likes_cost_what_one_like_costs(
    client, comment, django_assert_num_queries
):
    """Issue 21: the list of 100 k likes took 8.6–15.9 s and 12.9 MB."""
    few = CommentFactory()
    like_in_bulk(few, 1)
    like_in_bulk(comment, 100_000)
    client = likers_client(client, few)
    client.get(reverse("forum:comment-likers", args=[few.pk]))  # warm the session
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("forum:comment-likers", args=[few.pk]))
    client = likers_client(client, comment)
    url = reverse("forum:comment-likers", args=[comment.pk])
    for page in (1, 2000):
        with django_assert_num_queries(len(one)):
            response = client.get(url, {"page": page})
        assert response.content.decode().count("<li>") == 50
    assert len(one) == 4  # session, account, the comment with its author, the page


def test_hidden_comment_cannot_be_liked(member):
    hidden = CommentFactory(status=Comment.Status.HIDDEN)
    with pytest.raises(PermissionDenied):
        likes.like_add(member=services.member_for(member), comment=hidden)


def test_recount_finds_and_fixes_drift(comment):
    likes.like_add(member=MemberFactory(), comment=comment)
    Comment.objects.filter(pk=comment.pk).update(like_count=100, reply_count=3)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("recount", "--check", stdout=out)
    assert f"comment likes #{comment.pk}: stored 100, rows say 7" in out.getvalue()
    assert f"comment replies #{comment.pk}: stored 3, rows say 0" in out.getvalue()
    call_command("recount", stdout=io.StringIO())
    comment.refresh_from_db()
    assert (comment.like_count, comment.reply_count) == (7, 0)
    call_command("recount", "--check", stdout=io.StringIO())


def test_recount_counts_lesson_comments_without_deleted_ones():
    lesson = LessonFactory()
    author = MemberFactory()
    kept = services.comment_post(author=author, lesson=lesson, body="留")
    gone = services.comment_post(author=author, lesson=lesson, body="删")
    services.comment_delete(member=author, comment=gone)
    services.comment_post(author=MemberFactory(), lesson=lesson, parent=kept, body="回")
    out = io.StringIO()
    call_command("recount", "--check", stdout=out)
    assert "No drift" in out.getvalue()


def _lesson_of(size: int, liker: Member) -> str:
    """A lesson with `size` comments, half of them replies, a quarter liked by `liker` and by
    someone else; written in bulk (what the page reads is the rows, not how they came)."""
    lesson = LessonFactory()
    author, other = MemberFactory(), MemberFactory()
    tops = Comment.objects.bulk_create(
        CommentFactory.build_batch(size // 2, lesson=lesson, member=author)
    )
    Comment.objects.bulk_create(
        CommentFactory.build(lesson=lesson, member=author, parent=top, root=top, depth=1)
        for top in tops
    )
    CommentLike.objects.bulk_create(
        CommentLike(member=member, comment=top)
        for top in tops[: size // 4]
        for member in (liker, other)
    )
    call_command("recount", stdout=io.StringIO())
    return lesson.get_absolute_url()


def test_lesson_page_queries_do_not_grow_with_comments_or_likes(client, django_assert_num_queries):
    viewer = UserFactory()
    pages = [_lesson_of(size, services.member_for(viewer)) for size in (18, 10_000)]
    assert Comment.objects.count() == 10_018
    # The lesson's id and stamp, then the page's six reads (its blocks' comment counts one of
    # them). Signed in: session, account and member, the lesson's id, its stamp with the
    # member's standing on it and their likes on it, the page's six reads with the stand-in's
    # likes (the shared render's).
    for signed_in, expected in ((False, 8), (True, 11)):
        if signed_in:
            client.force_login(viewer)
        for url in pages:
            with django_assert_num_queries(expected):
                client.get(url)


@pytest.mark.parametrize(("action", "thread_start"), [("like", True), ("unlike", False)])
def test_a_like_is_a_fixed_number_of_queries(
    member_client, member, django_assert_num_queries, action, thread_start
):
    """Session, account and member, the comment; then, in one transaction (a savepoint in
    tests), the like row (a duplicate is an IntegrityError that rolls it all back), one
    UPDATE … RETURNING of the count, and the lesson's stamp; the count is not read again."""
    root = CommentFactory(like_count=0)
    comment = root if thread_start else CommentFactory(lesson=root.lesson, parent=root, root=root)
    liker = services.member_for(member)
    if action == "unlike":
        likes.like_add(member=liker, comment=comment)
    url = reverse(f"forum:comment-{action}", args=[comment.pk])
    with django_assert_num_queries(8) as queries:
        response = member_client.post(url, **HTMX)
    assert response.status_code == 200
    assert not any(q["sql"].startswith("SELECT") for q in queries.captured_queries[3:])
