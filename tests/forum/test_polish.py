"""Issue 17, what a newcomer tripped on: one comment count everywhere, the teacher's answer shown
once, the 精选 badge only where it distinguishes, reply counts that exist here, invisible control
characters, editor replies, same-title imports and markup that needs no emoji font."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from django.test import override_settings

from forum import services
from forum.models import Comment
from lessons.models import Lesson
from lessons.rendering import render_comment_markdown, render_lesson_body, render_plain_text
from tests.factories import CommentFactory, LessonFactory, MemberFactory, teacher_of
from tests.forum.import_helpers import SEED, SEED_COURSE, run_import

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# Pictographs and the symbol blocks a browser draws from an emoji font (👍 💬 ✅ ⭐ …).
EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\ufe0f\U0001f1e6-\U0001f1ff]"
)


@pytest.fixture
def lesson() -> Lesson:
    return LessonFactory()


def post(lesson: Lesson, body: str, *, parent: Comment | None = None, author=None) -> Comment:
    return services.comment_post(
        author=author or MemberFactory(), lesson=lesson, parent=parent, body=body
    )


def card_of(html: str, comment: Comment) -> str:
    start = html.index(f'id="comment-{comment.pk}"')
    end = html.index("</footer>", start)
    return html[start:end]


def test_home_course_and_lesson_pages_give_the_same_comment_count(client):
    lesson = LessonFactory()
    first = post(lesson, "一")
    post(lesson, "二")
    post(lesson, "回复", parent=first)
    lesson.refresh_from_db()
    assert lesson.comment_count == 3
    home = client.get("/").content.decode()
    course = client.get(lesson.course.get_absolute_url()).content.decode()
    page = client.get(lesson.get_absolute_url()).content.decode()
    assert "3 条留言" in home
    assert "3 条留言" in course
    assert "留言（3）" in page and "3 条留言" in page
    assert "2 条留言" not in home + course + page


def test_the_teachers_answer_shows_once_in_the_commenters_card(client, lesson):
    parent = post(lesson, "问题")
    answer = post(lesson, "回答一次", parent=parent, author=teacher_of(lesson.course))
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert html.count("回答一次") == 1
    assert f'id="comment-{answer.pk}"' not in html
    block = card_of(html, parent)
    assert "data-author-reply" in block and "回答一次" in block
    assert f'href="{answer.url}#comment-{answer.pk}"' in block  # its thread is a link away


def test_replies_to_the_answer_work_and_are_reachable_from_its_block(client, lesson, member):
    parent = post(lesson, "问题")
    answer = post(lesson, "回答", parent=parent, author=teacher_of(lesson.course))
    client.force_login(member)
    response = client.post(f"{answer.url}reply/", {"body": "追问一句"})
    assert response.status_code == 302
    follow_up = Comment.objects.get(body="追问一句")
    assert follow_up.parent_id == answer.pk
    block = card_of(client.get(lesson.get_absolute_url()).content.decode(), parent)
    assert "1 条追问" in block
    thread = client.get(answer.url).content.decode()
    assert "追问一句" in thread and "回答" in thread


def test_the_featured_badge_marks_only_what_was_featured_here(client, lesson):
    imported = CommentFactory(lesson=lesson, is_featured=True, source_position=1)
    local = CommentFactory(lesson=lesson, is_featured=True)
    plain = CommentFactory(lesson=lesson)
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert 'data-badge="featured"' in card_of(html, local)
    assert 'data-badge="featured"' not in card_of(html, imported)
    assert 'data-badge="featured"' not in card_of(html, plain)


def test_the_reply_count_is_what_exists_here_and_the_sources_a_quiet_note(client, lesson):
    imported = CommentFactory(lesson=lesson, imported_reply_count=6, source_position=1)
    post(lesson, "这里的回复", parent=imported)
    html = client.get(lesson.get_absolute_url()).content.decode()
    card = card_of(html, imported)
    count = re.search(r'<span data-reply-count id="reply-count-\d+">(\d+)</span>', card)
    assert count and count.group(1) == "1"
    assert "原站 6 条回复" in card


def test_editor_replies_show_in_the_commenters_card_with_their_own_label(client, lesson):
    parent = CommentFactory(lesson=lesson, source_position=1)
    editor = CommentFactory(
        lesson=lesson, parent=parent, depth=1, author_reply_label="编辑回复", body="每周一三五更新"
    )
    html = client.get(lesson.get_absolute_url()).content.decode()
    block = card_of(html, parent)
    assert "data-editor-reply" in block and "每周一三五更新" in block
    assert "编辑回复" in block and "data-author-reply" not in block
    assert f'id="comment-{editor.pk}"' not in html


@pytest.mark.parametrize("render", [render_comment_markdown, render_lesson_body, render_plain_text])
def test_invisible_control_characters_are_dropped_not_shown(render):
    html = render("交易列表，\x08并生成\x1b\x7f\x85")
    assert "交易列表，并生成" in html
    assert not re.search(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f?\ufffd]", html)


def test_the_importer_stores_no_invisible_control_characters(tmp_path):
    text = SEED.read_text(encoding="utf-8")
    body_end = text.index("<div><strong>精选留言")
    first_comment = text.index("<div>", body_end + 40) + len("<div>")
    text = text[:20] + "\x08" + text[20:first_comment] + "\x08" + text[first_comment:]
    path = tmp_path / SEED_COURSE / SEED.name
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    assert run_import(path).error is None
    lesson = Lesson.objects.get()
    assert "\x08" not in lesson.body_markdown
    assert not Comment.objects.filter(body__contains="\x08").exists()


def test_a_lesson_imported_again_under_another_name_is_updated_in_place(tmp_path):
    title = "洞察本质：从工程学角度看ChatGPT为什么会崛起"
    plain = tmp_path / "plain.md"
    shutil.copy(SEED, plain)
    assert run_import(plain, "--course", SEED_COURSE, "--title", title).error is None
    first = Lesson.objects.get()
    assert first.number is None
    assert run_import(SEED, "--course", SEED_COURSE).error is None
    lesson = Lesson.objects.get()
    assert (lesson.pk, lesson.number, lesson.slug) == (first.pk, 1, first.slug)


def test_titles_match_across_widths_and_the_archives_bar_but_keep_their_symbols(tmp_path):
    course = "编程"
    for title in ["C++入门", "C#入门", "Ｃ＋＋入门", "数据 | 结构", "数据 _ 结构"]:
        path = tmp_path / "page.md"
        shutil.copy(SEED, path)
        assert run_import(path, "--course", course, "--title", title).error is None
    # The same page again is left as it was (title included): one lesson per title.
    assert sorted(Lesson.objects.values_list("title", flat=True)) == [
        "C#入门",
        "C++入门",
        "数据 | 结构",
    ]


def test_templates_use_no_emoji_the_icons_are_inline_svg():
    found = {
        f"{path.relative_to(TEMPLATES)}: {match.group()!r}"
        for path in TEMPLATES.rglob("*.html")
        for match in EMOJI.finditer(path.read_text(encoding="utf-8"))
    }
    assert not found
    icons = (TEMPLATES / "includes" / "icon.html").read_text(encoding="utf-8")
    assert 'stroke="currentColor"' in icons and "style=" not in icons


def test_the_liked_state_shows_on_the_icon(client, lesson, member):
    comment = CommentFactory(lesson=lesson)
    client.force_login(member)
    client.post(f"{comment.url}like/")
    html = client.get(lesson.get_absolute_url()).content.decode()
    button = re.search(rf'<button[^>]*id="like-{comment.pk}"[^>]*>.*?</button>', html, re.S)
    assert button and 'aria-pressed="true"' in button.group()
    assert 'class="icon icon--like"' in button.group()
    css = (TEMPLATES.parent / "static" / "css" / "site.css").read_text(encoding="utf-8")
    assert '.like-button[aria-pressed="true"] .icon--like' in css


def test_templates_spell_htmx_attributes_as_valid_data_attributes():
    bare = {
        f"{path.relative_to(TEMPLATES)}: {match.group()}"
        for path in TEMPLATES.rglob("*.html")
        for match in re.finditer(r"(?<![\w-])hx-[a-z-]+=", path.read_text(encoding="utf-8"))
    }
    assert not bare


def test_times_carry_no_microseconds(client, lesson):
    CommentFactory(lesson=lesson)
    html = client.get(lesson.get_absolute_url()).content.decode()
    stamps = re.findall(r'<time datetime="([^"]+)"', html)
    assert stamps
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d[+-]\d{4})?", s) for s in stamps)


def test_reply_and_report_forms_have_cancel(client, lesson, member):
    comment = CommentFactory(lesson=lesson)
    client.force_login(member)
    for form in ("reply", "report"):
        html = client.get(f"{comment.url}{form}/", headers={"HX-Request": "true"}).content.decode()
        assert 'data-action="cancel"' in html, form


@override_settings(LANGUAGE_CODE="en")
def test_chinese_content_is_marked_as_chinese_in_english_mode(client, lesson):
    CommentFactory(lesson=lesson, source_position=1, source_key="k1")
    client.cookies["django_language"] = "en"
    html = client.get(lesson.get_absolute_url(), headers={"Accept-Language": "en"}).content
    html = html.decode()
    assert '<html lang="en">' in html
    assert 'class="prose lesson__body" lang="zh"' in html
    assert 'data-comment-body lang="zh"' in html
    assert "Most liked" in html and "Hottest" not in html


def test_lesson_header_gives_date_reading_time_and_count(client):
    lesson = LessonFactory(body_markdown="字" * 1200)
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert "data-lesson-date" in html
    assert "约 3 分钟读完" in html


def test_the_teachers_htmx_answer_lands_in_the_card_only(client, lesson):
    parent = CommentFactory(lesson=lesson)
    client.force_login(teacher_of(lesson.course).user)
    response = client.post(f"{parent.url}reply/", {"body": "只出现一次"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.count("只出现一次") == 1
    assert "<article" not in html and "data-author-reply" in html


def test_signing_up_from_a_lesson_returns_to_the_lesson(client, lesson):
    page = client.get(lesson.get_absolute_url()).content.decode()
    link = re.search(r'href="(/accounts/signup/\?next=[^"]+)"', page)
    assert link, "the header's sign-up link carries the page"
    signup = client.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert f'name="next" value="{lesson.get_absolute_url()}"' in signup
    response = client.post(
        "/accounts/signup/",
        {
            "username": "newcomer",
            "email": "newcomer@example.com",
            "password1": "a long enough secret 42",
            "password2": "a long enough secret 42",
            "next": lesson.get_absolute_url(),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == lesson.get_absolute_url()


@pytest.mark.parametrize(
    "url", ["/accounts/signup/", "/accounts/login/", "/accounts/password/reset/"]
)
def test_entrance_pages_label_fields_once_and_say_ni(client, url):
    html = client.get(url).content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    assert "placeholder=" not in main
    assert not re.search(r"<p[^>]*>(?:(?!</p>).)*<ul", main, re.S), "a list inside a paragraph"
    assert "您" not in html
    assert not re.search(r"<label[^>]*>[^<]*:</label>", main), "a label ending in a colon"


def test_home_lists_courses_with_activity_and_the_latest_comments(
    client, django_assert_num_queries
):
    older = LessonFactory(course__title="旧课", course__teacher="甲")
    newer = LessonFactory(course__title="新课", course__teacher="乙")
    post(older, "旧课的留言")
    post(newer, "新课的留言")
    with django_assert_num_queries(2):  # the courses with their counts, the latest comments
        html = client.get("/").content.decode()
    assert html.index("新课") < html.index("旧课")  # the most recently active first
    assert "讲师： <bdi" in html and "最近活动" in html
    recent = html[html.index('id="activity-title"') :]
    assert recent.index("新课的留言") < recent.index("旧课的留言")


def test_course_page_lists_lessons_with_counts_and_activity(client, django_assert_num_queries):
    lesson = LessonFactory(course__teacher="独行")
    LessonFactory(course=lesson.course)
    post(lesson, "有人留言")
    with django_assert_num_queries(3):  # the course, its lessons, its teacher's profile
        html = client.get(lesson.course.get_absolute_url()).content.decode()
    assert "独行" in html and "2 讲" in html
    row = html[html.index(lesson.title) :]
    assert re.search(r"1 条留言.*最近活动 <time", row, re.S)


def test_admin_index_counts_what_waits_for_a_moderator(client, lesson):
    from forum.models import Report
    from tests.factories import moderator

    reported = CommentFactory(lesson=lesson)
    Report.objects.create(comment=reported, reporter=MemberFactory(), reason="spam")
    CommentFactory(lesson=lesson, status=Comment.Status.PENDING)
    client.force_login(moderator(username="banzhu"))
    html = client.get("/admin/").content.decode()
    assert "1 条待处理举报" in html and "1 条留言待审核" in html
    assert 'rel="icon"' in html  # no /favicon.ico request from the admin's pages
    icon = client.get("/favicon.ico")  # and whatever asks for it anyway gets the icon
    assert icon.status_code == 302 and icon["Location"].endswith(".svg")
    changelist = client.get("/admin/forum/comment/").content.decode()
    assert "— 请选择 —" in changelist and "Select an option" not in changelist


def test_the_commenters_permalink_shows_the_answer_once_and_its_own_in_full(client, lesson):
    parent = post(lesson, "问题")
    answer = post(lesson, "只答一次", parent=parent, author=teacher_of(lesson.course))
    html = client.get(parent.url).content.decode()
    assert html.count("只答一次") == 1 and "data-author-reply" in html
    own = client.get(answer.url).content.decode()
    assert f'id="comment-{answer.pk}"' in own  # the answer's own page lists it, to reply to
