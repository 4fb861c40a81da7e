"""Search: the same cases on SQLite and PostgreSQL (the suite runs on each), the index kept in
step by every write, the page, and input that must never break it."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from forum import linking, moderation, services
from forum.leaving.deletion import account_delete
from forum.models import Comment, Member, ModerationAction, SearchDocument
from forum.search import search
from forum.search.documents import lesson_sections
from forum.search.sync import comments_reindex, lesson_reindex
from forum.search.tokenizer import document_tokens, query_terms
from tests.factories import (
    CommentFactory,
    LessonFactory,
    MemberFactory,
    UserFactory,
    moderator,
)
from tests.forum.search_truth import contains_all

pytestmark = pytest.mark.django_db

URL = reverse("forum:search")

TEXTS = [
    "缓存穿透是指查询一个不存在的数据，请求直达数据库。",
    "用布隆过滤器挡住缓存穿透",
    "Redis 做缓存，MySQL 做数据库",
    "Kafka 的消费者用了线程池",
    "线程池太大时 kafka 延迟上升",
    "只有Kafka，没有别的",
    "线程池调优",
    "写时复制（copy-on-write）是 Linux fork 的关键",
    "写时，复制是两回事",
    "MySQL 的索引用 B+树，不是B树",
    "死锁和活锁都是锁的问题",
    "加锁",
    "全角ＲＥＤＩＳ也可以",
    "REDIS集群",
    "redisson 是一个客户端",
    "存储穿越不算",
    "C++ 和 C# 的区别",
    "数据 库存",
]
HIDDEN = "被隐藏的缓存穿透和 redis 评论"
LESSON_TITLE = "缓存与数据库"
LESSON_BODY = "开场白。\n\n## 写时复制\n\nfork 之后父子进程共享内存页。\n\n## 小结\n\n线程池和锁。"

QUERIES = [
    "缓存",
    "数据库",
    "缓存穿透",
    "写时复制",
    "存穿",
    "redis",
    "Kafka 线程池",
    "B+树",
    "锁",
    "ＲＥＤＩＳ",
    "c++",
    "C#",
    "线程池 锁",
]


def found(query: str, **filters) -> set[tuple[str, int]]:
    results = search(query, per_page=1000, **filters)
    assert not results.has_next
    return {
        ("comment", hit.document.comment_id)
        if hit.kind == "comment"
        else ("lesson", hit.document.lesson_id)
        for hit in results.hits
    }


@pytest.fixture
def fixture_comments():
    lesson = LessonFactory(title=LESSON_TITLE, body_markdown=LESSON_BODY)
    comments = [CommentFactory(lesson=lesson, body=text) for text in TEXTS]
    hidden = CommentFactory(lesson=lesson, body=HIDDEN, status=Comment.Status.HIDDEN)
    comments_reindex([c.pk for c in [*comments, hidden]])
    lesson_reindex(lesson)
    return lesson, comments


@pytest.mark.parametrize("query", QUERIES)
def test_results_equal_the_substring_truth(fixture_comments, query: str) -> None:
    lesson, comments = fixture_comments
    expected = {("comment", c.pk) for c in comments if contains_all(c.body, query)}
    if contains_all(f"{lesson.title}\n{LESSON_BODY}", query):
        expected.add(("lesson", lesson.pk))

    assert found(query) == expected
    assert expected, "every case of the table finds something"


def test_the_table_finds_what_it_should(fixture_comments) -> None:
    """The truth itself, spelled out for the cases the issue names."""
    _lesson, comments = fixture_comments
    ids = {text: c.pk for text, c in zip(TEXTS, comments, strict=True)}
    assert found("存穿") == {("comment", ids[TEXTS[0]]), ("comment", ids[TEXTS[1]])}
    assert found("写时复制") == {("comment", ids[TEXTS[7]]), ("lesson", _lesson.pk)}
    assert ("comment", ids["redisson 是一个客户端"]) not in found("redis")
    assert ("comment", ids["全角ＲＥＤＩＳ也可以"]) in found("redis")
    assert found("B+树") == {("comment", ids[TEXTS[9]])}
    assert found("Kafka 线程池") == {("comment", ids[TEXTS[3]]), ("comment", ids[TEXTS[4]])}
    assert ("comment", ids["数据 库存"]) not in found("数据库")


def test_hidden_comments_are_not_found(fixture_comments) -> None:
    assert all(hit.document.comment.body != HIDDEN for hit in search("被隐藏").hits)
    assert found("被隐藏") == set()


def test_filters_by_kind_course_and_lesson(fixture_comments) -> None:
    lesson, _comments = fixture_comments
    other = LessonFactory(title="另一讲", body_markdown="数据库")
    lesson_reindex(other)
    assert {kind for kind, _ in found("数据库", kind="lessons")} == {"lesson"}
    assert {kind for kind, _ in found("数据库", kind="comments")} == {"comment"}
    assert ("lesson", other.pk) not in found("数据库", course=lesson.course)
    assert found("数据库", lesson=other) == {("lesson", other.pk)}


def test_best_match_puts_title_hits_first_and_newest_orders_by_date(fixture_comments) -> None:
    lesson, _comments = fixture_comments
    best = search("数据库").hits
    assert best[0].kind == "lesson" and best[0].document.lesson_id == lesson.pk
    newest = [hit.document.created_at for hit in search("数据库", order="newest").hits]
    assert newest == sorted(newest, reverse=True)


def test_pages_follow_each_other_without_gaps(fixture_comments) -> None:
    everything = [hit.document.pk for hit in search("锁", per_page=100).hits]
    paged = []
    for page in range(1, 10):
        results = search("锁", per_page=1, page=page)
        paged += [hit.document.pk for hit in results.hits]
        if not results.has_next:
            break
    assert paged == everything and len(paged) >= 3


def test_tokens_of_chinese_latin_and_symbols() -> None:
    assert document_tokens("缓存穿透") == ["缓存", "存穿", "穿透", "透"]
    assert document_tokens("用B+树，C++和C#") == ["用", "b+", "树", "c++", "和", "c#"]
    assert document_tokens("ＲＥＤＩＳ GPT-4") == ["redis", "gpt", "4"]
    assert [t.text for t in query_terms("缓存穿透")[0].tokens] == ["缓存", "存穿", "穿透"]
    assert [(t.text, t.prefix) for t in query_terms("锁")[0].tokens] == [("锁", True)]


def test_a_long_lesson_is_indexed_in_parts_below_the_tsvector_position_limit() -> None:
    body = "# 开头\n\n" + "\n\n".join("这是很长的一段话，讲缓存和数据库。" * 40 for _ in range(60))
    lesson = LessonFactory(body_markdown=body + "\n\n## 结尾\n\n最后一句写时复制。")
    lesson_reindex(lesson)
    parts = SearchDocument.objects.filter(lesson=lesson, kind="lesson")
    assert parts.count() > 10
    assert max(len(p.tokens.split()) + len(p.title_tokens.split()) for p in parts) < 16383
    assert found("写时复制", lesson=lesson) == {("lesson", lesson.pk)}
    assert [s.heading for s in lesson_sections(body)] == ["开头"]


# The index follows every write, in the write's transaction.


@pytest.fixture
def author():
    return services.member_for(UserFactory())


def test_a_posted_comment_is_found_at_once(author) -> None:
    lesson = LessonFactory()
    comment = services.comment_post(author=author, lesson=lesson, body="温度参数怎么调")
    assert found("温度参数") == {("comment", comment.pk)}


def test_a_hidden_comment_stops_appearing_on_the_next_request(author, client) -> None:
    comment = services.comment_post(author=author, lesson=LessonFactory(), body="温度参数怎么调")
    assertContains(client.get(URL, {"q": "温度参数"}), f'data-comment-id="{comment.pk}"')

    moderation.comment_moderate(
        moderator=moderator(), comment=comment, action=ModerationAction.Kind.HIDE
    )

    assertNotContains(client.get(URL, {"q": "温度参数"}), f'data-comment-id="{comment.pk}"')
    moderation.comment_moderate(
        moderator=moderator(username="mod2"), comment=comment, action=ModerationAction.Kind.RESTORE
    )
    assert found("温度参数") == {("comment", comment.pk)}


def test_an_edit_that_removes_a_word_removes_the_hit(author) -> None:
    comment = services.comment_post(author=author, lesson=LessonFactory(), body="向量数据库很好用")
    services.comment_edit(member=author, comment=comment, body="关系数据库很好用")
    assert found("向量") == set()
    assert found("关系数据库") == {("comment", comment.pk)}


def test_a_deleted_comment_is_not_found(author) -> None:
    comment = services.comment_post(author=author, lesson=LessonFactory(), body="向量数据库")
    services.comment_delete(member=author, comment=comment)
    assert found("向量数据库") == set()


def test_a_comment_in_review_is_found_once_approved(author, settings) -> None:
    settings.FORUM_PREMODERATION = "new-members"
    settings.FORUM_TRUSTED_AFTER = 1
    comment = services.comment_post(author=author, lesson=LessonFactory(), body="等待审核的向量")
    assert comment.status == Comment.Status.PENDING
    assert found("向量") == set()
    moderation.comment_moderate(
        moderator=moderator(), comment=comment, action=ModerationAction.Kind.PUBLISH
    )
    assert found("向量") == {("comment", comment.pk)}


def test_a_merged_members_comments_are_found_under_the_identity(author) -> None:
    comment = services.comment_post(author=author, lesson=LessonFactory(), body="合并之前的留言")
    imported = MemberFactory(display_name="极客", import_key="k1")
    linking.member_link_account(moderator=moderator(), member=imported, user=author.user)

    (hit,) = search("合并之前").hits
    assert hit.document.comment_id == comment.pk
    assert hit.document.comment.member_id == imported.pk


def test_account_deletion_without_its_comments_takes_them_out(author) -> None:
    services.comment_post(author=author, lesson=LessonFactory(), body="注销以后就没有了")
    account_delete(user=author.user, keep_comments=False)
    assert found("注销以后") == set()


def test_account_deletion_keeping_comments_keeps_them_found(author, client) -> None:
    comment = services.comment_post(author=author, lesson=LessonFactory(), body="留下的评论")
    account_delete(user=author.user, keep_comments=True)
    response = client.get(URL, {"q": "留下的评论"})
    assertContains(response, f'data-comment-id="{comment.pk}"')
    assertContains(response, "已注销用户")


def test_an_import_indexes_the_lesson_and_its_comments() -> None:
    from tests.forum.import_helpers import SEED, run_import

    assert run_import(SEED).error is None
    assert {kind for kind, _ in found("ChatGPT")} == {"lesson", "comment"}
    assert Member.objects.exists()


# The search page.


def test_the_page_marks_the_match_in_an_escaped_snippet(client) -> None:
    lesson = LessonFactory()
    comment = CommentFactory(lesson=lesson, body='<script>alert(1)</script> 缓存"穿透" & more')
    comments_reindex([comment.pk])

    response = client.get(URL, {"q": "缓存"})

    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    snippet = "&lt;script&gt;alert(1)&lt;/script&gt; <mark>缓存</mark>&quot;穿透&quot; &amp; more"
    assert snippet in html
    assert 'data-search-hit data-kind="comment"' in html


def test_the_page_costs_three_queries_for_a_visitor(client, django_assert_num_queries) -> None:
    lesson = LessonFactory()
    comments_reindex([CommentFactory(lesson=lesson, body=f"缓存第{n}条").pk for n in range(30)])
    lesson_reindex(lesson)
    with django_assert_num_queries(3):  # courses, the page's ids, their documents
        response = client.get(URL, {"q": "缓存"})
    assert response.status_code == 200
    assertContains(response, 'rel="next"')
    assertContains(response, "data-search-hit", count=20)


def test_htmx_requests_get_the_part_they_replace(client) -> None:
    comments_reindex([CommentFactory(body="缓存").pk])
    htmx = {"HX-Request": "true"}
    results = client.get(URL, {"q": "缓存"}, headers={**htmx, "HX-Target": "search-results"})
    main = client.get(URL, {"q": "缓存"}, headers={**htmx, "HX-Target": "main"})
    assert b"<html" not in results.content and b"data-search-hit" in results.content
    assert b"data-search-form" not in results.content
    assert b"<html" not in main.content and b"data-search-form" in main.content


def test_the_header_has_a_search_box_and_the_lesson_page_searches_within(client) -> None:
    lesson = LessonFactory()
    response = client.get(lesson.get_absolute_url())
    html = response.content.decode()
    assert re.search(r'<form class="site-search" role="search"[^>]*action="/search/"', html)
    assert f'<input type="hidden" name="lesson" value="{lesson.pk}">' in html


def test_searching_within_a_lesson_says_so(client) -> None:
    lesson = LessonFactory(title="第一讲")
    response = client.get(URL, {"q": "你好", "lesson": lesson.pk})
    assertContains(response, "data-search-scope")


BAD_INPUT = [
    "",
    "   ",
    "\t\n",
    "缓" * 101,
    '"',
    "*",
    "NEAR(",
    "NEAR(缓存 数据库, 2)",
    "AND",
    "缓存 AND OR NOT",
    "-",
    "-缓存",
    ":",
    "tokens:缓存",
    "{title_tokens}:x",
    "\\",
    "\\\\'",
    "'; DROP TABLE forum_searchdocument; --",
    "' OR 1=1 --",
    "缓存 <-> 穿透",
    "a & b | !c",
    "'redis':*A",
    "^",
    "()",
    "𠀀𠀁",
    "ﬁ",
]


@pytest.mark.parametrize("query", BAD_INPUT)
def test_bad_input_is_text_and_never_an_error(client, fixture_comments, query: str) -> None:
    for kind in ("", "lessons", "comments", "nonsense"):
        params = {"q": query, "kind": kind, "order": "x", "course": "?", "lesson": "1e9"}
        response = client.get(URL, params)
        assert response.status_code == 200


def test_a_query_with_a_nul_is_refused_by_the_site_wide_input_guard(client) -> None:
    assert client.get(URL, {"q": "缓存\x00"}).status_code == 400


def test_a_query_with_nothing_to_search_for_says_so(client) -> None:
    assertContains(client.get(URL, {"q": '"*:-'}), "data-search-message")


def test_an_over_long_query_is_searched_by_its_start_and_says_so(client) -> None:
    comments_reindex([CommentFactory(body="缓存" * 60).pk])
    response = client.get(URL, {"q": "缓存" * 60})
    assertContains(response, "data-search-message")
    assertContains(response, "data-search-hit")


def test_search_has_its_own_rate_limit(client, settings) -> None:
    settings.FORUM_RATE_LIMIT_SCALE = 1
    settings.FORUM_RATE_LIMITS = {**settings.FORUM_RATE_LIMITS, "search": [(2, 60, "ip")]}
    assert client.get(URL, {"q": "缓存"}).status_code == 200
    assert client.get(URL, {"q": "缓存"}).status_code == 200
    assert client.get(URL, {"q": "缓存"}).status_code == 429
    assert client.get(URL).status_code == 200  # the empty page asks nothing of the index


def test_a_snippet_is_cut_around_the_first_match_and_marks_whole_words_only() -> None:
    from forum.search.snippets import snippet

    text = "开头" * 100 + "Redis 和 redisson 都用 ＲＥＤＩＳ。" + "结尾" * 100
    marked = snippet(text, query_terms("redis"))
    assert marked.startswith("…") and marked.endswith("…")
    assert marked.count("<mark>") == 2
    assert "<mark>Redis</mark> 和 redisson 都用 <mark>ＲＥＤＩＳ</mark>" in marked
    assert len(snippet("短", query_terms("redis"))) == 1
