from __future__ import annotations

import html
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forum.importing.filenames import LessonName, lesson_name_from_filename, natural_key
from forum.importing.source import SHANGHAI, SourceComment, SourceError, SourcePage, parse_page
from tests.forum.corpus_reader import corpus_dir, corpus_files, read_page
from tests.forum.import_helpers import SEED

SEED_NAME = "000_bfb7c7fa6c8ee8de.txt"


def a_item(
    name: str = "Ann",
    likes: str = "3",
    replies: str = "1",
    body: str = "hello",
    date: str = "2024-06-07",
    avatar: str | None = None,
    tag: str = "div",
) -> str:
    image = f'<img src="{avatar}" width="30px">' if avatar is not None else ""
    counts = f"👍（{likes}） 💬（{replies}）"
    return f"<li>{image}<span>{name}</span> {counts}<{tag}>{body}</{tag}>{date}</li>"


def a_page(*items: str, article: str = "# Lesson\n\nText.\n", count: int | None = None) -> bytes:
    declared = len(items) if count is None else count
    listing = "<br/>".join(items) + ("<br/>" if items else "")
    header = f"<div><strong>精选留言（{declared}）</strong></div>"
    return f"{article}{header}<ul>\n{listing}\n</ul>".encode()


def b_item(
    name: str = "Ann",
    body: str = "hi",
    date: str = "2020-11-25 13:24:15",
    reply: str = "",
    avatar: str = "",
) -> str:
    answer = f'<p class="_3KxQPN3V_0">{reply}</p>' if reply else ""
    return (
        f'<li>\n<div class="_2sjJGcOH_0"><img src="{avatar}"\n  class="_3FLYR4bF_0">\n'
        f'<div class="_36ChpWj4_0">\n  <div class="_2zFoi7sd_0"><span>{name}</span>\n  </div>\n'
        f'  <div class="_2_QraFYR_0">{body}</div>\n'
        f'  <div class="_10o3OAxT_0">\n    {answer}\n  </div>\n'
        f'  <div class="_3klNVc4Z_0">\n    <div class="_3Hkula0k_0">{date}</div>\n  </div>\n'
        "</div>\n</div>\n</li>\n"
    )


def b_page(*items: str, title: str | None = "01 _ 开始", article: str = "<p>文章</p>") -> bytes:
    audio = f'<audio title="{title}" src="https://x/a.mp3" controls="controls"></audio> \n'
    style = "<style>\n    ._2sjJGcOH_0 { color: red; }\n</style>"
    listing = f"<ul>{''.join(items)}</ul>" if items else ""
    return f"{audio if title is not None else ''}{article}\n{style}{listing}".encode()


def only_comment(data: bytes) -> SourceComment:
    page = parse_page(data)
    assert len(page.comments) == 1
    return page.comments[0]


def parse_error(data: bytes, *fragments: str, name: str = "") -> SourceError:
    with pytest.raises(SourceError) as info:
        parse_page(data, name=name)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message
    return info.value


# --- Markdown pages ------------------------------------------------------------------


def test_markdown_comment_fields_are_read() -> None:
    page = parse_page(a_page(a_item(name="Ann", likes="12", replies="2", body="好文")))
    comment = page.comments[0]
    assert page.source_format == "markdown"
    assert page.declared_count == 1
    assert page.title == ""
    assert (comment.position, comment.name, comment.likes, comment.reply_count) == (1, "Ann", 12, 2)
    assert comment.body == "好文"
    assert comment.author_reply == comment.author_reply_label == ""


def test_markdown_date_only_is_midnight_shanghai_without_time() -> None:
    comment = only_comment(a_page(a_item(date="2024-08-04")))
    assert comment.created_at == datetime(2024, 8, 4, tzinfo=SHANGHAI)
    assert comment.created_at.utcoffset() == timedelta(hours=8)
    assert comment.has_time is False


def test_markdown_date_with_time_sets_has_time() -> None:
    comment = only_comment(a_page(a_item(date="2024-08-04 09:30:05")))
    assert comment.created_at == datetime(2024, 8, 4, 9, 30, 5, tzinfo=SHANGHAI)
    assert comment.has_time is True


def test_newer_revision_paragraph_content_is_read() -> None:
    assert only_comment(a_page(a_item(tag="p", body="段落"))).body == "段落"


def test_article_is_everything_before_the_last_header() -> None:
    article = (
        "正文提到精选留言（3）。\n```\n<div><strong>精选留言（1）</strong></div>\n"
        "还有一个没有闭合的代码块\n"
    )
    page = parse_page(a_page(a_item(), a_item(), article=article))
    assert page.body_markdown == article.rstrip()
    assert page.declared_count == 2
    assert len(page.comments) == 2


def test_page_without_comment_block_has_no_comments() -> None:
    page = parse_page("# 期末测试\n\n[点击这里](https://example.com)\n".encode())
    assert page.comments == ()
    assert page.declared_count is None
    assert page.body_markdown == "# 期末测试\n\n[点击这里](https://example.com)"
    assert page.source_format == "markdown"


def test_header_with_zero_comments_and_no_list_is_valid() -> None:
    page = parse_page("正文\n<div><strong>精选留言（0）</strong></div>\n".encode())
    assert (page.comments, page.declared_count, page.body_markdown) == ((), 0, "正文")


def test_empty_article_before_comments_is_allowed() -> None:
    page = parse_page(a_page(a_item(), article=""))
    assert page.body_markdown == ""
    assert len(page.comments) == 1


def test_entities_are_decoded_exactly_once() -> None:
    body = "a&#47;b &quot;q&quot; it&#39;s &amp;lt; &#xff0c;&gt;"
    assert only_comment(a_page(a_item(body=body))).body == 'a/b "q" it\'s &lt; ，>'


def test_decoded_markup_stays_plain_text() -> None:
    body = "&lt;script&gt;alert(1)&lt;&#47;script&gt;"
    assert only_comment(a_page(a_item(body=body))).body == "<script>alert(1)</script>"


def test_crlf_and_lone_cr_become_newlines() -> None:
    comment = only_comment(a_page(a_item(body="one\r\ntwo\rthree\nfour")))
    assert comment.body == "one\ntwo\nthree\nfour"


def test_other_unusual_characters_in_text_are_kept() -> None:
    body = "tab\there \x08 \u2028 \u2029 \ufffd \u200d \ue000 😀"
    assert only_comment(a_page(a_item(body=body))).body == body


def test_nul_in_comment_is_removed_with_a_warning() -> None:
    page = parse_page(a_page(a_item(), a_item(body="—\x00—")))
    assert page.comments[1].body == "——"
    assert len(page.warnings) == 1
    assert "item 2" in page.warnings[0]
    assert "NUL" in page.warnings[0]


def test_repeated_identical_comments_are_both_kept_in_source_order() -> None:
    items = [a_item(name="B", likes="1"), a_item(name="A", likes="9"), a_item(name="A", likes="9")]
    page = parse_page(a_page(*items))
    assert [(c.position, c.name, c.likes) for c in page.comments] == [
        (1, "B", 1),
        (2, "A", 9),
        (3, "A", 9),
    ]


def test_negative_reply_count_is_kept() -> None:
    assert only_comment(a_page(a_item(replies="-1"))).reply_count == -1


def test_name_entities_are_decoded_once() -> None:
    assert only_comment(a_page(a_item(name="scriptalert(1)&#47;script"))).name == (
        "scriptalert(1)/script"
    )
    assert only_comment(a_page(a_item(name="&amp;lt;b&amp;gt;"))).name == "&lt;b&gt;"


def test_name_loses_control_characters() -> None:
    assert only_comment(a_page(a_item(name="\x7f\x7f李\x01圣\x85悦\x1b"))).name == "李圣悦"


def test_name_keeps_bidi_controls_and_private_use_characters() -> None:
    name = "么春\u202e脸小的你\u202d\u2066x\u2069\ue052"
    assert only_comment(a_page(a_item(name=name))).name == name


def test_name_surrounding_whitespace_including_nbsp_and_ideographic_space_is_stripped() -> None:
    assert only_comment(a_page(a_item(name="\u3000\u3000鸟人 \xa0"))).name == "鸟人"
    assert only_comment(a_page(a_item(name="Monroe  He"))).name == "Monroe  He"


@pytest.mark.parametrize("name", ["", "\u3000\u3000\u3000", "\xa0", "\x7f\x7f\x7f\x7f"])
def test_name_may_end_up_empty(name: str) -> None:
    assert only_comment(a_page(a_item(name=name))).name == ""


def test_http_avatar_is_rewritten_to_https() -> None:
    comment = only_comment(a_page(a_item(avatar="http://thirdwx.qlogo.cn/mmopen/x/132")))
    assert comment.avatar_url == "https://thirdwx.qlogo.cn/mmopen/x/132"


def test_https_avatar_is_kept_and_entities_decoded() -> None:
    comment = only_comment(a_page(a_item(avatar="https://a.example/p.jpg?a=1&amp;b=2")))
    assert comment.avatar_url == "https://a.example/p.jpg?a=1&b=2"


@pytest.mark.parametrize("avatar", [None, ""])
def test_missing_or_empty_avatar_is_empty(avatar: str | None) -> None:
    page = parse_page(a_page(a_item(avatar=avatar)))
    assert page.comments[0].avatar_url == ""
    assert page.warnings == ()


@pytest.mark.parametrize("avatar", ["javascript:alert(1)", "data:image/png;base64,AA", "/a.jpg"])
def test_non_http_avatar_is_dropped_with_a_warning(avatar: str) -> None:
    page = parse_page(a_page(a_item(avatar=avatar)))
    assert page.comments[0].avatar_url == ""
    assert "item 1" in page.warnings[0]


# --- Markdown pages that cannot be imported -------------------------------------------


def test_declared_count_must_match_items() -> None:
    error = parse_error(a_page(a_item(), a_item(), count=3), "declares 3", "holds 2")
    assert error.line == 4


def test_unclosed_item_is_rejected_naming_the_item() -> None:
    data = a_page(a_item(), a_item()).replace(b"</li><br/>\n</ul>", b"")
    error = parse_error(data, "item 2", "cut off")
    assert error.item == 2


def test_comment_list_cut_off_without_closing_ul_is_rejected() -> None:
    data = a_page(a_item(), a_item(), count=3).removesuffix(b"\n</ul>")
    error = parse_error(data, "cut off after 2 of 3 items")
    assert error.line is not None


def test_header_without_list_is_rejected() -> None:
    parse_error("正文\n<div><strong>精选留言（2）</strong></div>\n".encode(), "line 2", "<ul>")


def test_missing_closing_ul_after_all_items_is_accepted_with_a_warning() -> None:
    page = parse_page(a_page(a_item(), a_item()).removesuffix(b"\n</ul>"))
    assert len(page.comments) == 2
    assert any("</ul>" in warning for warning in page.warnings)


@pytest.mark.parametrize(("likes", "replies"), [("abc", "1"), ("1.5", "1"), ("4,230", "1")])
def test_non_numeric_likes_are_rejected_naming_the_item(likes: str, replies: str) -> None:
    error = parse_error(a_page(a_item(), a_item(likes=likes)), "item 2", "likes", "number")
    assert (error.item, error.line) == (2, 5)


def test_non_numeric_reply_count_is_rejected_naming_the_item() -> None:
    error = parse_error(a_page(a_item(replies="x")), "item 1 (line 5)", "reply count")
    assert error.item == 1


@pytest.mark.parametrize("date", ["2024-02-30", "yesterday", "", "2024-6-7", "2024-06-07 25:00"])
def test_bad_date_is_rejected_naming_the_item(date: str) -> None:
    error = parse_error(a_page(a_item(), a_item(), a_item(date=date)), "item 3", "bad date")
    assert error.item == 3


def test_malformed_item_is_rejected_naming_the_item() -> None:
    parse_error(a_page(a_item(), "<li><b>who?</b></li>"), "item 2", "expected <span>NAME</span>")


def test_non_numeric_declared_count_is_rejected() -> None:
    data = "x\n<div><strong>精选留言（many）</strong></div><ul>\n</ul>".encode()
    parse_error(data, "line 2", "not a number")


def test_text_after_the_comment_list_is_rejected() -> None:
    parse_error(a_page(a_item()) + b"\nmore text", "line 7", "after the comment list")


def test_stray_text_between_items_is_rejected() -> None:
    parse_error(a_page(a_item(), a_item()).replace(b"<br/><li>", b"<br/>junk<li>"), "after item 1")


def test_error_message_names_the_file_when_given() -> None:
    error = parse_error(a_page(a_item(likes="x")), name="01-a.md")
    assert str(error).startswith("01-a.md: item 1 (line 5): ")
    assert error.reason.startswith("likes ")


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n", "\u3000\n".encode(), b"\xef\xbb\xbf\n"])
def test_empty_page_is_rejected(data: bytes) -> None:
    assert str(parse_error(data)) == "empty page"


def test_not_utf8_is_rejected_naming_the_line() -> None:
    error = parse_error("第一行\n第二行\n".encode() + "第三".encode("gbk"), "not UTF-8", "line 3")
    assert error.line == 3


def test_utf16_text_is_rejected() -> None:
    parse_error("正文".encode("utf-16"), "not UTF-8")


def test_utf8_bom_is_accepted() -> None:
    page = parse_page(b"\xef\xbb\xbf" + a_page(a_item(), article="# T\n"))
    assert page.body_markdown == "# T"


def test_nul_in_article_is_rejected() -> None:
    parse_error(a_page(a_item(), article="# T\n\nbin\x00ary\n"), "line 3", "NUL")


def test_binary_data_is_rejected() -> None:
    parse_error(bytes(range(1, 32)) * 20, "binary")


def test_few_control_characters_in_article_are_kept() -> None:
    page = parse_page(a_page(a_item(), article="# T\n\nback\x08space and \x1b[0m colour\n"))
    assert "\x08" in page.body_markdown
    assert "\x1b" in page.body_markdown


@given(
    st.text(
        st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from("\n\r\t"),
        max_size=200,
    )
)
def test_any_escaped_comment_text_round_trips(text: str) -> None:
    comment = only_comment(a_page(a_item(body=html.escape(text))))
    assert comment.body == text.replace("\r\n", "\n").replace("\r", "\n")


# --- GeekTime HTML pages ----------------------------------------------------------------


def test_geektime_comment_and_author_reply_are_read() -> None:
    page = parse_page(b_page(b_item(name="Kaito", body="问题", reply="作者回复: 答案")))
    comment = page.comments[0]
    assert page.source_format == "geektime-html"
    assert page.declared_count is None
    assert (comment.name, comment.body, comment.likes, comment.reply_count) == (
        "Kaito",
        "问题",
        None,
        None,
    )
    assert (comment.author_reply_label, comment.author_reply) == ("作者回复", "答案")
    assert comment.created_at == datetime(2020, 11, 25, 13, 24, 15, tzinfo=SHANGHAI)
    assert comment.has_time is True


def test_geektime_editor_reply_is_labelled() -> None:
    comment = only_comment(b_page(b_item(reply="编辑回复: 每周一三五更新哦。")))
    assert (comment.author_reply_label, comment.author_reply) == ("编辑回复", "每周一三五更新哦。")


def test_geektime_comment_without_reply_has_empty_reply() -> None:
    comment = only_comment(b_page(b_item()))
    assert comment.author_reply == comment.author_reply_label == ""


def test_geektime_reply_keeps_a_quoted_label_inside_its_text() -> None:
    comment = only_comment(b_page(b_item(reply="作者回复: 问：x<br><br>作者回复: y")))
    assert comment.author_reply == "问：x\n\n作者回复: y"


def test_geektime_reply_without_label_is_kept_with_a_warning() -> None:
    page = parse_page(b_page(b_item(reply="直接回答")))
    assert (page.comments[0].author_reply, page.comments[0].author_reply_label) == ("直接回答", "")
    assert "item 1" in page.warnings[0]


def test_geektime_br_becomes_newline_other_tags_are_stripped_entities_decoded_once() -> None:
    body = "a<br>b<br/>c<br />d <b>bold</b> 127.0.0.1:6379&gt; x &amp;lt; &#47;"
    assert (
        only_comment(b_page(b_item(body=body))).body == "a\nb\nc\nd bold 127.0.0.1:6379> x &lt; /"
    )


def test_geektime_name_entities_are_decoded_once() -> None:
    assert only_comment(b_page(b_item(name="~\\(≧▽≦)&#47;~"))).name == "~\\(≧▽≦)/~"


def test_geektime_empty_avatar_is_empty_and_http_becomes_https() -> None:
    page = parse_page(b_page(b_item(avatar=""), b_item(avatar="http://a.example/p.jpg")))
    assert [c.avatar_url for c in page.comments] == ["", "https://a.example/p.jpg"]


def test_geektime_title_comes_from_the_audio_line() -> None:
    page = parse_page(b_page(b_item(), title="37 _ CDN：加速我们的网络服务"))
    assert page.title == "37 _ CDN：加速我们的网络服务"


def test_geektime_page_without_audio_line_has_empty_title() -> None:
    page = parse_page(b_page(b_item(), title=None))
    assert (page.title, page.source_format, len(page.comments)) == ("", "geektime-html", 1)


def test_geektime_article_excludes_audio_style_and_comments() -> None:
    article = "<p>你好</p><!-- [[[read_end]]] --><ul><li>要点</li></ul>"
    page = parse_page(b_page(b_item(), b_item(), article=article))
    assert page.body_markdown == article
    assert len(page.comments) == 2


def test_geektime_page_without_comment_list_has_no_comments() -> None:
    page = parse_page(b_page(article="<p>只有正文</p>"))
    assert (page.body_markdown, page.comments) == ("<p>只有正文</p>", ())


def test_geektime_comment_missing_its_date_is_rejected_naming_the_item() -> None:
    broken = b_item().replace('<div class="_3Hkula0k_0">', '<div class="other">')
    error = parse_error(b_page(b_item(), broken), "item 2", "date")
    assert error.item == 2


def test_geektime_bad_time_is_rejected_naming_the_item() -> None:
    parse_error(b_page(b_item(date="2020-13-01 00:00:00")), "item 1", "bad date")


def test_geektime_cut_off_comment_is_rejected() -> None:
    data = b_page(b_item(), b_item()).rsplit(b"</li>", 1)[0]
    parse_error(data, "item 2", "cut off")


def test_geektime_nul_in_reply_is_removed_with_a_warning() -> None:
    page = parse_page(b_page(b_item(reply="作者回复: a\x00b")))
    assert page.comments[0].author_reply == "ab"
    assert "NUL" in page.warnings[0]


# --- file names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "number", "title"),
    [
        (
            "01-洞察本质：从工程学角度看ChatGPT为什么会崛起.md",
            1,
            "洞察本质：从工程学角度看ChatGPT为什么会崛起",
        ),
        ("40｜资源调度：深入内存管理与垃圾回收.md", 40, "资源调度：深入内存管理与垃圾回收"),
        (
            "39丨WebSQL：如何在H5中存储一个本地数据库？.md",
            39,
            "WebSQL：如何在H5中存储一个本地数据库？",
        ),
        ("17 _ 为什么CPU结构也会影响Redis的性能？.md", 17, "为什么CPU结构也会影响Redis的性能？"),
        (
            "19 -  精通产品体验设计：获得润物细无声的力量.md",
            19,
            "精通产品体验设计：获得润物细无声的力量",
        ),
        (
            "02  - 日志系统：一条SQL更新语句是如何执行的？.md",
            2,
            "日志系统：一条SQL更新语句是如何执行的？",
        ),
        ("13 -让AI帮你写测试，体验多步提示语.md", 13, "让AI帮你写测试，体验多步提示语"),
        ("第34讲 - 从业区块链需要了解什么？.md", 34, "从业区块链需要了解什么？"),
        (
            "第39讲 _ 知识串讲：用双十一的故事串起碎片的网络协议（下）.md",
            39,
            "知识串讲：用双十一的故事串起碎片的网络协议（下）",
        ),
        ("138 - 企业不上市为哪般.md", 138, "企业不上市为哪般"),
        (
            "开篇词-开发工程师如何进阶为AI应用型人才？.md",
            None,
            "开篇词 | 开发工程师如何进阶为AI应用型人才？",
        ),
        (
            "开篇词｜30-60K，转型云原生架构师和SRE需要哪些能力？.md",
            None,
            "开篇词 | 30-60K，转型云原生架构师和SRE需要哪些能力？",
        ),
        (
            "加餐-软件工程师在AIGC浪潮下的生存指南.md",
            None,
            "加餐 | 软件工程师在AIGC浪潮下的生存指南",
        ),
        ("结束语 _ 以终为始，闭环迭代，持续提高.md", None, "结束语 | 以终为始，闭环迭代，持续提高"),
        ("答疑（二）_ 第6~10讲思考题答案.md", None, "答疑（二） | 第6~10讲思考题答案"),
        (
            "复盘 7 - 一起来读人工智能国际顶级会议论文.md",
            None,
            "复盘 7 | 一起来读人工智能国际顶级会议论文",
        ),
        ("AI时代架构师的进化.md", None, "AI时代架构师的进化"),
        ("be023__08-Option<T>与Result<T, E>、迭代器.md", 8, "Option<T>与Result<T, E>、迭代器"),
        (
            "cs010__49 - 搜索：如何用A*搜索算法实现游戏中的寻路功能？.md",
            49,
            "搜索：如何用A*搜索算法实现游戏中的寻路功能？",
        ),
        (
            "pm012__33 - 产品案例分析：Arts & Culture 的架构之美.md",
            33,
            "产品案例分析：Arts & Culture 的架构之美",
        ),
        ("ai018__02-中国人⼯智能技术成熟度模型.md", 2, "中国人⼯智能技术成熟度模型"),
        (
            "sample/be013__02  - 日志系统：一条SQL更新语句是如何执行的？.md",
            2,
            "日志系统：一条SQL更新语句是如何执行的？",
        ),
    ],
)
def test_lesson_name_from_filename(filename: str, number: int | None, title: str) -> None:
    assert lesson_name_from_filename(filename) == LessonName(number=number, title=title)


@pytest.mark.parametrize("filename", [SEED_NAME, "01.md", "", ".md", "__.md"])
def test_lesson_name_is_none_without_a_title(filename: str) -> None:
    assert lesson_name_from_filename(filename) is None


def test_natural_key_sorts_numbers_numerically() -> None:
    names = ["10-十.md", "2-二.md", "1-一.md", "开篇词-零.md", "第34讲 - x.md", "第4讲 - y.md"]
    assert sorted(names, key=natural_key) == [
        "1-一.md",
        "2-二.md",
        "10-十.md",
        "开篇词-零.md",
        "第4讲 - y.md",
        "第34讲 - x.md",
    ]


# --- the seed page and the real corpus ----------------------------------------------------

CORPUS = corpus_dir()
NO_CORPUS = "the shared corpus (../shared/corpus or $LESSON_FORUM_CORPUS) is not available"
PAGES = [pytest.param(path, id=str(path.relative_to(CORPUS))) for path in corpus_files()] or [
    pytest.param(None, id="no-corpus", marks=pytest.mark.skip(reason=NO_CORPUS))
]


@pytest.fixture
def seed_page() -> SourcePage:
    return parse_page(SEED.read_bytes())


def test_seed_page_has_its_18_comments(seed_page: SourcePage) -> None:
    assert seed_page.declared_count == 18
    assert len(seed_page.comments) == 18
    assert seed_page.warnings == ()


def test_seed_page_first_comment(seed_page: SourcePage) -> None:
    first = seed_page.comments[0]
    assert (first.position, first.name, first.likes, first.reply_count) == (1, "wlih45", 0, 1)
    assert first.created_at == datetime(2024, 8, 4, tzinfo=SHANGHAI)
    assert first.avatar_url.startswith("https://thirdwx.qlogo.cn/")


def test_seed_page_multiline_comment(seed_page: SourcePage) -> None:
    comment = next(c for c in seed_page.comments if c.name == "干就完了")
    assert comment.likes == 6
    assert comment.body == (
        "老师你好，问个问题：\n有编程基础，没有深度学习和机器学习的基础，能看懂这门课吗？学完之后能达到什么程度？"
    )
    assert comment.avatar_url.startswith("https://thirdwx.qlogo.cn/")


def test_seed_page_empty_avatar(seed_page: SourcePage) -> None:
    comment = next(c for c in seed_page.comments if c.name == "Geek_e9e5f5")
    assert comment.avatar_url == ""


def test_seed_page_article_ends_before_the_comments(seed_page: SourcePage) -> None:
    assert seed_page.body_markdown.startswith("你好，我是独行。")
    assert seed_page.body_markdown.endswith("那么为了实现AGI，OpenAI在技术上到底做对了什么呢？")


@pytest.mark.parametrize("path", PAGES)
def test_corpus_page_agrees_with_an_independent_reading(path: Path) -> None:
    data = path.read_bytes()
    if not data:
        parse_error(data, "empty page")
        return
    page = parse_page(data, name=path.name)
    expected = read_page(data)
    expected_format = "geektime-html" if path.parent.name == "with-replies" else "markdown"
    assert page.source_format == expected.source_format == expected_format
    assert page.declared_count == expected.declared_count
    assert page.title == expected.title
    assert len(page.comments) == len(expected.comments)
    for position, (got, want) in enumerate(zip(page.comments, expected.comments, strict=True), 1):
        assert got.position == position
        assert (got.name, got.avatar_url) == (want.name, want.avatar_url)
        assert (got.likes, got.reply_count) == (want.likes, want.reply_count)
        assert got.body == want.body
        assert got.created_at == want.created.replace(tzinfo=SHANGHAI)
        assert got.has_time == want.has_time
        assert (got.author_reply, got.author_reply_label) == (
            want.author_reply,
            want.author_reply_label,
        )


@pytest.mark.parametrize("path", PAGES)
def test_corpus_article_holds_no_comment_markup(path: Path) -> None:
    if not path.stat().st_size:
        pytest.skip("0-byte page")
    body = parse_page(path.read_bytes()).body_markdown
    assert "</li><br/><li>" not in body
    assert "_2sjJGcOH_0" not in body
    assert not body.endswith("</style>")
    assert not body.startswith("<audio")
    assert "\x00" not in body


@pytest.mark.parametrize("path", PAGES)
def test_corpus_file_name_yields_a_title(path: Path) -> None:
    lesson = lesson_name_from_filename(path.name)
    assert lesson is not None
    assert lesson.title
    assert "__" not in lesson.title
    assert not lesson.title.endswith(".md")


def test_corpus_has_exactly_one_zero_byte_page() -> None:
    if CORPUS is None:
        pytest.skip(NO_CORPUS)
    assert [p.name for p in corpus_files() if not p.stat().st_size] == [
        "be042__直播加餐-如何设计面试连招？.md"
    ]


def test_corpus_replies_are_read_wherever_the_page_has_them() -> None:
    if CORPUS is None:
        pytest.skip(NO_CORPUS)
    files = sorted((CORPUS / "with-replies").glob("*.md"))
    comments = [c for path in files for c in parse_page(path.read_bytes()).comments]
    replies = [c for c in comments if c.author_reply]
    paragraphs = sum(path.read_text("utf-8").count('<p class="_3KxQPN3V_0">') for path in files)
    assert len(replies) == paragraphs > 0
    assert {c.author_reply_label for c in replies} == {"作者回复", "编辑回复"}
    assert not any(c.author_reply.startswith(("作者回复", "编辑回复")) for c in replies)
