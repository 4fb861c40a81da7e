from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lessons import rendering
from lessons.anchors import BLOCK_ID
from lessons.rendering import (
    ALLOWED_TAGS,
    BLOCK_TAGS,
    pygments_css,
    render_comment_markdown,
    render_plain_text,
    sanitize_html,
)
from tests.forum.corpus_reader import corpus_dir
from tests.security.corpus import SECURITY

CORPUS = corpus_dir()
REL = 'rel="nofollow noopener ugc"'

ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "rel"},
    "img": {"src", "alt", "title", "width", "height", "loading", "referrerpolicy"},
    "ol": {"start"},
    "span": {"class"},
    "div": {"class"},
    "td": {"class"},
    "th": {"class"},
}
URL_NOISE = re.compile(r"[\x00-\x20\x7f-\xa0\s]+")
SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
TAG = re.compile(r"""<[a-z](?:"[^"]*"|'[^']*'|[^'">])*>""", re.IGNORECASE)
QUOTED = re.compile(r""""[^"]*"|'[^']*'""")
EVENT_HANDLER = re.compile(r"\son\w+\s*=", re.IGNORECASE)
RENDERERS = [rendering.render_lesson_body, render_comment_markdown, render_plain_text]
ANCHOR = re.compile(r' data-block-id="[^"]*"')


def render_lesson_body(markdown: str) -> str:
    """The lesson's HTML without its blocks' anchors (tests/lessons/test_anchors.py tests
    those; the audits below read the renderer's own output, anchors and all)."""
    return ANCHOR.sub("", rendering.render_lesson_body(markdown))


class _AllowlistAudit(HTMLParser):
    """Collects everything in rendered HTML that the allowlist should have removed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name == "data-block-id":
                if tag not in BLOCK_TAGS | {"li"} or not BLOCK_ID.fullmatch(value or ""):
                    self.problems.append(f"anchor {value!r} on <{tag}>")
            elif name not in ALLOWED_ATTRIBUTES.get(tag, ()):
                self.problems.append(f"attribute {name} on <{tag}>")
            if name in ("href", "src"):
                scheme = SCHEME.match(URL_NOISE.sub("", value or "").lower())
                allowed = {"http", "https"} | ({"mailto"} if tag == "a" else set())
                if scheme and scheme.group(1) not in allowed:
                    self.problems.append(f"{name}={value!r} on <{tag}>")
        if tag == "a" and ("rel", "nofollow noopener ugc") not in attrs:
            self.problems.append("<a> without rel")

    handle_startendtag = handle_starttag


def unsafe_constructs(html: str) -> list[str]:
    audit = _AllowlistAudit()
    audit.feed(html)
    audit.close()
    problems = audit.problems
    if "<script" in html.lower():
        problems.append("<script")
    # Text is escaped, so every "<" left in the output opens a real tag.
    for tag in TAG.findall(html):
        if EVENT_HANDLER.search(QUOTED.sub("", tag)):
            problems.append(f"event handler in {tag}")
    if sanitize_html(html) != html:
        problems.append("not idempotent")
    return problems


def _read(name: str) -> str:
    path = SECURITY / name
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path.read_text(encoding="utf-8")


def xss_vectors() -> list[str]:
    vectors = _read("xss-payloads.txt").split("\n")
    vectors += _read("xss-payloads-multiline.txt").split("\n----\n")
    vectors += json.loads(_read("xss-payloads-special.json"))
    vectors += _read("markdown-xss.txt").split("\n----\n")
    return [vector for vector in vectors if vector]


def corpus_lesson(prefix: str) -> str:
    matches = sorted(CORPUS.glob(prefix + "*.md")) if CORPUS else []
    if not matches:
        pytest.skip(f"no corpus file {prefix}* under {CORPUS or '../shared/corpus'}")
    page = matches[0].read_text(encoding="utf-8")
    header = page.rfind("<div><strong>精选留言（")
    return page if header < 0 else page[:header]


def test_headings_render_as_heading_elements() -> None:
    assert render_lesson_body("# Title\n\n### Sub") == "<h1>Title</h1>\n<h3>Sub</h3>\n"


def test_table_alignment_is_a_class_not_a_style() -> None:
    html = render_lesson_body("| a | b | c |\n|:-|:-:|-:|\n| 1 | 2 | 3 |")
    assert '<th class="align-left">a</th>' in html
    assert '<td class="align-center">2</td>' in html
    assert '<td class="align-right">3</td>' in html
    assert "style" not in html


def test_strikethrough_renders_as_s() -> None:
    assert render_lesson_body("~~gone~~") == "<p><s>gone</s></p>\n"


def test_fenced_code_with_known_language_gets_pygments_classes() -> None:
    html = render_lesson_body("```python\ndef f():\n    return 1\n```")
    assert html.startswith('<div class="highlight"><pre><code>')
    assert '<span class="k">def</span>' in html
    assert '<span class="nf">f</span>' in html
    assert "style=" not in html


def test_fenced_code_with_unknown_language_is_plain_escaped() -> None:
    html = render_lesson_body("```no-such-language\n<b>x</b> & y\n```")
    assert html == "<pre><code>&lt;b&gt;x&lt;/b&gt; &amp; y\n</code></pre>\n"


def test_code_fence_with_script_shows_it_as_code() -> None:
    html = render_lesson_body("```html\n<script>alert(1)</script>\n```")
    assert "<script" not in html
    assert "script" in html


def test_inline_math_is_escaped_tex_in_a_span() -> None:
    html = render_lesson_body("area $a<b^2$ here")
    assert html == '<p>area <span class="math math-inline">a&lt;b^2</span> here</p>\n'


def test_display_math_is_escaped_tex_in_a_div() -> None:
    html = render_lesson_body("$$\n\\frac{1}{2} < x\n$$")
    assert html == '<div class="math math-display">\\frac{1}{2} &lt; x</div>'


def test_double_dollar_math_inside_a_paragraph_keeps_the_paragraph() -> None:
    html = render_lesson_body("so $$x$$ holds")
    assert html == '<p>so <span class="math math-display">x</span> holds</p>\n'


def test_dollar_amounts_in_prose_stay_text() -> None:
    assert render_lesson_body("It costs $5 and $6.") == "<p>It costs $5 and $6.</p>\n"


def test_lesson_image_is_lazy_and_sends_no_referrer() -> None:
    html = render_lesson_body('![示意图](https://img.example/a.png "标题")')
    assert html == (
        '<p><img src="https://img.example/a.png" alt="示意图" title="标题" '
        'loading="lazy" referrerpolicy="no-referrer"></p>\n'
    )


def test_image_with_non_http_source_loses_its_src() -> None:
    html = sanitize_html('<img src="mailto:a@b.c"><img src="data:image/png;base64,AAAA">')
    assert "src" not in html


def test_links_get_nofollow_noopener_ugc() -> None:
    html = render_lesson_body('[docs](https://docs.example/ "Docs")')
    assert html == f'<p><a href="https://docs.example/" title="Docs" {REL}>docs</a></p>\n'


def test_author_supplied_rel_and_target_are_replaced() -> None:
    html = sanitize_html('<a href="/x" rel="opener" target="_blank">x</a>')
    assert html == f'<a href="/x" {REL}>x</a>'


def test_mailto_links_are_kept() -> None:
    assert sanitize_html('<a href="mailto:a@b.c">m</a>') == f'<a href="mailto:a@b.c" {REL}>m</a>'


def test_lesson_raw_script_is_dropped_with_its_content() -> None:
    html = render_lesson_body("before\n\n<script>alert(1)</script>\n\nafter")
    assert html == "<p>before</p>\n\n<p>after</p>\n"


def test_lesson_raw_style_is_dropped_with_its_content() -> None:
    assert render_lesson_body("<style>p { color: red }</style>\n\ntext") == "\n<p>text</p>\n"


def test_lesson_iframe_becomes_a_link_to_its_http_source() -> None:
    html = render_lesson_body('<iframe src="https://player.example/v/1"></iframe>')
    assert html == f'<a href="https://player.example/v/1" {REL}>https://player.example/v/1</a>'


def test_lesson_video_becomes_a_link_to_its_first_source() -> None:
    html = sanitize_html(
        '<video controls poster="p.jpg"><source src="https://cdn.example/m.mp4">fallback</video>'
    )
    assert html == f'<a href="https://cdn.example/m.mp4" {REL}>https://cdn.example/m.mp4</a>'


def test_embed_with_javascript_source_disappears() -> None:
    html = sanitize_html(
        '<iframe src="javascript:alert(1)"></iframe><iframe srcdoc="<script>x</script>">'
        '</iframe><embed src="data:text/html,x">'
    )
    assert html == ""


def test_iframe_inside_a_link_does_not_nest_links() -> None:
    html = sanitize_html('<a href="/a"><iframe src="https://b.example/"></iframe></a>')
    assert html == f'<a href="/a" {REL}></a>'


@pytest.mark.parametrize(
    "markup",
    [
        "<svg onload=alert(1)><circle/></svg>",
        "<math><mi>x</mi></math>",
        '<form action="/x"><input name="a"></form>',
        '<base href="https://evil.example/">',
        '<object data="https://x.example/a.swf"><param name="a"></object>',
        "<audio><source src=x></audio>",
        '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
        '<link rel="stylesheet" href="https://x.example/a.css">',
    ],
)
def test_forbidden_elements_never_survive(markup: str) -> None:
    html = sanitize_html(markup)
    assert unsafe_constructs(html) == []
    for tag in ("svg", "math", "form", "input", "base", "object", "param", "audio", "meta"):
        assert f"<{tag}" not in html


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "java\x00script:alert(1)",
        "\x01javascript:alert(1)",
        "&#106;avascript:alert(1)",
        "&#x6A;avascript:alert(1)",
        "&#0000106&#0000097vascript:alert(1)",
        "javascript&colon;alert(1)",
        "javascript&#58;alert(1)",
        "jav&#x09;ascript:alert(1)",
        "javascript:123",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "DATA:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
    ],
)
def test_dangerous_urls_are_removed_however_obfuscated(href: str) -> None:
    html = sanitize_html(f'<a href="{href}">a</a><img src="{href}">')
    assert unsafe_constructs(html) == []
    as_browser_reads_it = URL_NOISE.sub("", unescape(html)).lower()
    assert not re.search(r"(javascript|vbscript|data|file):", as_browser_reads_it)


@pytest.mark.parametrize(
    "markdown",
    [
        "[a](javascript:alert(1))",
        "[a](JAVASCRIPT:alert(1))",
        "[a](&#x6A;avascript:alert(1))",
        "![a](javascript:alert(1))",
        "<javascript:alert(1)>",
        "[a]: javascript:alert(1)\n\n[a]",
    ],
)
def test_markdown_links_with_javascript_are_not_links(markdown: str) -> None:
    html = render_lesson_body(markdown)
    assert "href" not in html
    assert "src" not in html


def test_htmx_and_data_attributes_are_removed() -> None:
    html = sanitize_html(
        '<p hx-get="/x" hx-trigger="load" data-hx-post="/y" data-x="1" hx-on:click="alert(1)">t</p>'
    )
    assert html == "<p>t</p>"


def test_style_and_event_attributes_are_removed() -> None:
    html = sanitize_html('<p style="color:red" onclick="alert(1)" onmouseover=x>t</p>')
    assert html == "<p>t</p>"


def test_only_known_classes_survive_on_span_and_div() -> None:
    html = sanitize_html(
        '<span class="k evil">a</span><div class="highlight hidden">b</div><p class="x">c</p>'
    )
    assert html == '<span class="k">a</span><div class="highlight">b</div><p>c</p>'


def test_non_numeric_image_size_and_list_start_are_dropped() -> None:
    html = sanitize_html('<ol start="3"><li>x</li></ol><img width="100" height="1e9px">')
    assert html == (
        '<ol start="3"><li>x</li></ol><img width="100" loading="lazy" referrerpolicy="no-referrer">'
    )


def test_comment_renders_an_image_as_a_plain_link() -> None:
    html = render_comment_markdown("![截图](https://img.example/a.png)")
    assert "<img" not in html
    assert f'<a href="https://img.example/a.png" {REL}>截图</a>' in html


def test_comment_shows_raw_html_as_text() -> None:
    html = render_comment_markdown('<b>bold</b> <img src=x onerror="alert(1)">')
    assert html == (
        "<p>&lt;b&gt;bold&lt;/b&gt; &lt;img src=x onerror=&quot;alert(1)&quot;&gt;</p>\n"
    )


def test_comment_heading_syntax_stays_paragraph_text() -> None:
    assert render_comment_markdown("# 不是标题") == "<p># 不是标题</p>\n"


def test_comment_has_no_tables() -> None:
    assert "<table" not in render_comment_markdown("| a | b |\n|---|---|\n| 1 | 2 |")


def test_comment_single_newline_is_a_line_break() -> None:
    assert render_comment_markdown("第一行\n第二行") == "<p>第一行<br>\n第二行</p>\n"


def test_comment_supports_its_markdown_subset() -> None:
    html = render_comment_markdown(
        "**粗** *斜* `code` [链接](https://a.example/)\n\n> 引用\n\n- 一\n- 二\n\n1. 甲"
    )
    for fragment in (
        "<strong>粗</strong>",
        "<em>斜</em>",
        "<code>code</code>",
        f'<a href="https://a.example/" {REL}>链接</a>',
        "<blockquote>",
        "<ul>",
        "<ol>",
    ):
        assert fragment in html


def test_comment_fenced_code_is_highlighted() -> None:
    html = render_comment_markdown("```go\nfunc main() {}\n```")
    assert '<div class="highlight">' in html
    assert '<span class="kd">func</span>' in html


def test_plain_text_keeps_numbered_and_hash_lines_as_written() -> None:
    assert render_plain_text("1. 第一\n# 第二\n- 第三") == "1. 第一<br># 第二<br>- 第三"


def test_plain_text_shows_script_as_text() -> None:
    html = render_plain_text("<script>alert(1)</script>")
    assert html == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_plain_text_never_interprets_markdown() -> None:
    html = render_plain_text("**a** [b](https://x.example/) `c`")
    assert "<strong>" not in html
    assert "<code>" not in html
    assert "**a** [b](" in html


def test_plain_text_normalises_crlf_and_lone_cr_to_breaks() -> None:
    assert render_plain_text("a\r\nb\rc\nd") == "a<br>b<br>c<br>d"


def test_plain_text_links_bare_urls() -> None:
    html = render_plain_text("见 https://example.com/a?b=1&c=2 。")
    assert html == (
        f'见 <a href="https://example.com/a?b=1&amp;c=2" {REL}>'
        "https://example.com/a?b=1&amp;c=2</a> 。"
    )


def test_plain_text_url_stops_at_punctuation_and_chinese_text() -> None:
    html = render_plain_text("(see http://a.example/x_(1)). 地址http://b.example/y，好")
    assert f'<a href="http://a.example/x_(1)" {REL}>http://a.example/x_(1)</a>). ' in html
    assert f'<a href="http://b.example/y" {REL}>http://b.example/y</a>，好' in html


def test_plain_text_does_not_link_javascript() -> None:
    assert "<a" not in render_plain_text("javascript:alert(1) and java script://x")


@settings(deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "<a href='/x'>",
                    "</a>",
                    "<p>",
                    "</p>",
                    "<h1>",
                    "<h6>",
                    "<table>",
                    "<td>",
                    "<img src=x>",
                    "<iframe src='https://a/'>",
                    "<script>",
                    "</script>",
                    "<svg>",
                    "<math>",
                    "<style>",
                    "&amp;",
                    "&lt;",
                    "&#x6a;",
                    '"',
                    "'",
                    "<!--",
                    "-->",
                    "<![CDATA[",
                    "\n",
                    "`",
                    "**",
                    "[",
                    "](",
                    ")",
                    "$",
                    "> ",
                ]
            ),
            st.text(max_size=8),
        ),
        max_size=25,
    ).map("".join)
)
def test_sanitize_is_idempotent(markup: str) -> None:
    once = sanitize_html(markup)
    assert sanitize_html(once) == once
    for render in RENDERERS:
        rendered = render(markup)
        assert sanitize_html(rendered) == rendered


def test_markup_that_grows_on_every_clean_still_comes_out_stable() -> None:
    # bleach adds one "&amp;" per pass to this attribute; sanitize_html escapes it instead.
    vector = (
        '<img/id="alert&lpar;&#x27;XSS&#x27;&#x29;\\"/alt=\\"/\\"src=\\"/\\"onerror=eval(id&#x29;>'
    )
    assert unsafe_constructs(sanitize_html(vector)) == []


@pytest.mark.parametrize(
    "vector",
    [
        '<img src=x onerror="alert(1)">',
        "<scr<script>ipt>alert(1)</scr</script>ipt>",
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
        "<form><button formaction=javascript:alert(1)>x</button></form>",
    ],
)
def test_well_known_vectors_leave_nothing_unsafe(vector: str) -> None:
    for render in RENDERERS:
        assert unsafe_constructs(render(vector)) == []


@pytest.mark.parametrize("render", RENDERERS, ids=lambda render: render.__name__)
def test_whole_xss_corpora_leave_nothing_unsafe(render: Callable[[str], str]) -> None:
    failures = {}
    for vector in xss_vectors():
        problems = unsafe_constructs(render(vector))
        if problems:
            failures[vector] = problems
    assert failures == {}


def test_real_lesson_with_script_in_a_code_fence_shows_it_as_code() -> None:
    html = render_lesson_body(corpus_lesson("ai-course/07-"))
    assert "<script" not in html
    assert "<pre><code>&lt;script&gt;\n" in html  # java: shown as plain escaped code
    assert unsafe_constructs(html) == []


def test_real_lesson_mentioning_iframe_shows_it_as_text() -> None:
    html = render_lesson_body(corpus_lesson("sample/fe008__加餐-"))
    assert "<iframe" not in html
    assert "<code>&lt;iframe&gt;</code>" in html


def test_real_html_lesson_videos_become_links() -> None:
    html = render_lesson_body(corpus_lesson("with-replies/gb06__08"))
    assert "<video" not in html
    assert "<style" not in html
    assert '<a href="https://media001.geekbang.org/customerTrans/' in html
    assert unsafe_constructs(html) == []


def test_pygments_css_covers_light_and_dark_schemes() -> None:
    css = pygments_css()
    assert ".highlight .k {" in css
    assert "@media (prefers-color-scheme: dark) {" in css
    dark = css.split("@media (prefers-color-scheme: dark) {", 1)[1]
    assert ".highlight .k {" in dark
    assert ".math" in css
