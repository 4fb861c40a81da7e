"""The one Markdown → safe HTML pipeline.

Every piece of user- or author-supplied text reaches a page through one of the
``render_*`` functions below, and all of them end in :func:`sanitize_html`, so
the allowlist lives in exactly one place.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from html import escape, unescape
from typing import Any
from xml.etree.ElementTree import Element

import bleach
from bleach.html5lib_shim import convert_entities, getTreeWalker
from bleach.sanitizer import BleachSanitizerFilter
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import find_lexer_class_by_name
from pygments.token import STANDARD_TYPES

from lessons.anchors import BLOCK_ATTRIBUTE, BLOCK_ID, block_ids

ALLOWED_TAGS = frozenset(
    {"h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "strong", "b", "em", "i"}
    | {"del", "s", "sub", "sup", "code", "pre", "kbd", "blockquote", "ul", "ol", "li"}
    | {"table", "thead", "tbody", "tr", "th", "td", "a", "img", "span", "div"}
    | {"details", "summary"}
)
# Parsed as elements (so their raw-text content is known) and then dropped whole:
# bleach alone would strip the tags but keep e.g. a script's source as text.
_DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "template", "noscript", "textarea", "title", "xmp", "noembed", "noframes"}
)
# Embedded players become a plain link to their http(s) source, or nothing.
_EMBEDS = frozenset({"iframe", "video", "audio", "embed", "object"})

ANCHOR_REL = "nofollow noopener ugc"
_CLASSES = {
    "span": frozenset(STANDARD_TYPES.values()) - {""} | {"math", "math-inline", "math-display"},
    "div": frozenset({"highlight", "math", "math-display"}),
    **dict.fromkeys(("td", "th"), frozenset({"align-left", "align-center", "align-right"})),
    "a": frozenset({"mention"}),
}
# The blocks of a lesson that get an anchor (lessons.anchors): these elements at the top of the
# document, and each item of a list there. What one of them holds (a nested list, a quote's
# paragraphs) is part of its block.
BLOCK_TAGS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "table", "div", "details"}
)
LIST_TAGS = frozenset({"ul", "ol"})
_ATTRIBUTES = {
    "a": {"href", "title", "rel", "class"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    **{tag: {"class"} for tag in _CLASSES if tag != "a"},
}
for _tag in BLOCK_TAGS | {"li"}:
    _ATTRIBUTES[_tag] = _ATTRIBUTES.get(_tag, set()) | {BLOCK_ATTRIBUTE}
_NUMERIC = {name: re.compile(r"\d{1,5}") for name in ("width", "height")}
_NUMERIC["start"] = re.compile(r"-?\d{1,9}")
_NUMERIC[BLOCK_ATTRIBUTE] = BLOCK_ID
_HTTP_URL = re.compile(r"https?://", re.IGNORECASE)
_URI_NOISE = re.compile(r"[`\x00-\x20\x7f-\xa0\s]+|[^\x00-\x7f]")
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name not in _ATTRIBUTES.get(tag, ()):
        return False
    pattern = _NUMERIC.get(name)
    return pattern is None or pattern.fullmatch(value) is not None


def _attr(token: dict[str, Any], name: str) -> str | None:
    return token.get("data", {}).get((None, name))


def _link_tokens(url: str) -> list[dict[str, Any]]:
    return [
        {"type": "StartTag", "name": "a", "namespace": None, "data": {(None, "href"): url}},
        {"type": "Characters", "data": url},
        {"type": "EndTag", "name": "a", "namespace": None},
    ]


class _Sanitizer(BleachSanitizerFilter):
    def sanitize_stream(self, token_iterator: Any) -> Iterator[dict[str, Any]]:
        return super().sanitize_stream(self._drop_and_unembed(token_iterator))

    def _drop_and_unembed(self, tokens: Any) -> Iterator[dict[str, Any]]:
        skipping, depth, embed_url, open_links = None, 0, None, 0
        for token in tokens:
            kind, name = token["type"], token.get("name")
            if skipping is None:
                if kind == "StartTag" and name in _DROPPED_WITH_CONTENT | _EMBEDS:
                    skipping, depth = token, 1
                    embed_url = _attr(token, "src") or _attr(token, "data")
                elif kind == "EmptyTag" and name in _EMBEDS:
                    url = _attr(token, "src")
                    if url and _HTTP_URL.match(url.strip()) and not open_links:
                        yield from _link_tokens(url.strip())
                else:
                    if name == "a" and kind in ("StartTag", "EndTag"):
                        open_links += 1 if kind == "StartTag" else -1
                    yield token
                continue
            if kind == "StartTag":
                depth += 1
            elif kind == "EndTag":
                depth -= 1
            elif kind == "EmptyTag" and name == "source" and not embed_url:
                embed_url = _attr(token, "src")
            if depth == 0:
                url = (embed_url or "").strip()
                if skipping["name"] in _EMBEDS and _HTTP_URL.match(url) and not open_links:
                    yield from _link_tokens(url)
                skipping, embed_url = None, None

    def sanitize_uri_value(self, value: str, allowed_protocols: Any) -> str | None:
        # bleach's urlparse reads "javascript:123" as host:port and lets it through.
        normalized = _URI_NOISE.sub("", convert_entities(value)).lower()
        scheme = _SCHEME.match(normalized)
        if scheme and scheme.group(1) not in allowed_protocols:
            return None
        return super().sanitize_uri_value(value, allowed_protocols)

    def allow_token(self, token: dict[str, Any]) -> dict[str, Any]:
        token = super().allow_token(token)
        name, attrs = token["name"], token.get("data")
        if attrs is None or token["type"] == "EndTag":
            return token
        if name in _CLASSES and (None, "class") in attrs:
            kept = [c for c in attrs[(None, "class")].split() if c in _CLASSES[name]]
            if kept:
                attrs[(None, "class")] = " ".join(kept)
            else:
                del attrs[(None, "class")]
        if name == "a":
            attrs[(None, "rel")] = ANCHOR_REL
        elif name == "img":
            src = attrs.get((None, "src"))
            if src is not None and self.sanitize_uri_value(src, {"http", "https"}) is None:
                del attrs[(None, "src")]
            attrs[(None, "loading")] = "lazy"
            attrs[(None, "referrerpolicy")] = "no-referrer"
        return token


class _TreeWalker(getTreeWalker("etree")):
    """html5lib's etree walker, which finds an element's place in its parent in constant time.

    html5lib's own searches the parent's children (list.count, list.index) each time it leaves
    an element: quadratic in the width of the tree (40,000 table rows took minutes).
    """

    def __init__(self, tree: Any) -> None:
        super().__init__(tree)
        self._keys: list[int | None] = []  # the index of each open ancestor in its own parent

    def getFirstChild(self, node: Any) -> Any:
        child = super().getFirstChild(node)
        if child is not None and child[3] is None:  # went down into an element
            self._keys.append(node[1] if isinstance(node, tuple) else None)
        return child

    def getNextSibling(self, node: Any) -> Any:
        sibling = super().getNextSibling(node)
        if sibling is not None and node[3] == "text":  # from an element's text to its first child
            self._keys.append(node[1])
        return sibling

    def getParentNode(self, node: Any) -> Any:
        if not isinstance(node, tuple) or node[3] == "text":
            return super().getParentNode(node)
        parents = node[2]
        parent, parent_key = parents.pop(), self._keys.pop()
        return (parent, parent_key, parents, None) if parents else parent


def _block_positions(fragment: Any) -> list[Any]:
    """The elements of a parsed document that are its blocks, in order."""
    positions = []
    for child in fragment:
        if child.tag in LIST_TAGS:
            positions += [item for item in child if item.tag == "li"]
        elif child.tag in BLOCK_TAGS:
            positions.append(child)
    return positions


def block_text(element: Any) -> str:
    """What identifies a block: its text (runs of whitespace one space; lessons.anchors
    normalizes it further), with the alternative text of each picture
    in it (a figure has no text of its own). Not a picture's address: `import_lesson
    --fetch-media` rewrites it to the stored copy's, and the figure stays the same block."""
    pictures = [f" [{img.get('alt', '')}]" for img in element.iter("img")]
    # bleach's parser leaves character references in the text as written ("&lt;").
    return " ".join(unescape("".join(element.itertext()) + "".join(pictures)).split())


def _anchor(fragment: Any, *, every_block: bool) -> None:
    """Set the anchor of each block of a parsed document from its own text (every block's, or
    only those that hold the attribute already), and remove the attribute from every other
    element. So whatever a page's HTML says, an anchor is the one its text makes."""
    positions = _block_positions(fragment)
    anchors = block_ids(block_text(element) for element in positions)
    blocks = {id(element): anchor for element, anchor in zip(positions, anchors, strict=True)}
    for element in fragment.iter():
        if not isinstance(element.tag, str):  # a comment node
            continue
        anchor = blocks.get(id(element))
        if anchor is not None and (every_block or BLOCK_ATTRIBUTE in element.attrib):
            element.set(BLOCK_ATTRIBUTE, anchor)
        else:
            element.attrib.pop(BLOCK_ATTRIBUTE, None)


class _Cleaner(bleach.Cleaner):
    def clean(self, text: str, *, anchor_blocks: bool = False) -> str:
        if not text:
            return ""
        fragment = self.parser.parseFragment(text)
        _anchor(fragment, every_block=anchor_blocks)
        return self._render(fragment)

    def _render(self, fragment: Any) -> str:
        stream = _Sanitizer(
            source=_TreeWalker(fragment),
            allowed_tags=ALLOWED_TAGS,
            attributes=_allowed_attribute,
            allowed_protocols=self.protocols,
            strip_disallowed_tags=True,
            strip_html_comments=True,
        )
        return self.serializer.render(stream)


# bleach's parser keeps state between calls, so each thread gets its own.
_local = threading.local()
_MAX_PASSES = 4


def _cleaner() -> _Cleaner:
    cleaner = getattr(_local, "cleaner", None)
    if cleaner is None:
        cleaner = _local.cleaner = _Cleaner(
            tags=ALLOWED_TAGS | _DROPPED_WITH_CONTENT | _EMBEDS | {"source"},
            protocols={"http", "https", "mailto"},
            strip=True,
        )
    return cleaner


def sanitize_html(html: str, *, anchor_blocks: bool = False) -> str:
    """Reduce HTML to the site's allowlist. Idempotent.

    Cleaning repeats until the output parses back to itself: markup that a second
    parse would restructure (mutation XSS) is exactly what the browser would see
    differently from what was sanitized.

    `data-block-id` is kept only on a block of the document (lessons.anchors), with the value
    its text makes, whatever the HTML said; `anchor_blocks` gives every block its anchor (the
    lesson renderer's). Other elements never keep one, so no text can forge an anchor.
    """
    cleaner = _cleaner()
    current = html
    for _ in range(_MAX_PASSES):
        cleaned = cleaner.clean(current, anchor_blocks=anchor_blocks)
        if cleaned == current:
            return cleaned
        current = cleaned
    return cleaner.clean(escape(html))


def _inner(element: Any) -> Any:
    """A document holding what `element` holds (not the element itself)."""
    fragment = Element("DOCUMENT_FRAGMENT")
    fragment.text = element.text
    fragment.extend(list(element))
    return fragment


def _alone(element: Any) -> Any:
    fragment = Element("DOCUMENT_FRAGMENT")
    element.tail = None
    fragment.append(element)
    return fragment


def _text_alone(text: str) -> Any:
    # bleach's parser keeps character references as written: the sanitizer serializes them.
    fragment = Element("DOCUMENT_FRAGMENT")
    fragment.text = text
    return fragment


def lesson_units(html: str) -> list[dict[str, Any]]:
    """A rendered lesson (`render_lesson_body`'s HTML) cut at its blocks, for a page that shows
    something beside each block: in order, each block ({"id", "tag", "text", "block_html"}: its
    anchor, element, text and HTML), each list whose items are blocks ({"list": "ul" or "ol",
    "start", "items": [{"id", "text", "block_html"}]}, an item's HTML without its <li>), and
    anything else ({"block_html"}). Every HTML piece is serialized by the sanitizer from the parsed
    document, not cut out of the text."""
    if _over_budget(html):  # a document shown as its source: one piece, not parsed again
        return [{"block_html": html}]
    cleaner = _cleaner()
    fragment = cleaner.parser.parseFragment(html)
    units: list[dict[str, Any]] = []
    if fragment.text and fragment.text.strip():
        units.append({"block_html": cleaner._render(_text_alone(fragment.text))})
    for child in list(fragment):
        tail = child.tail
        if not isinstance(child.tag, str):  # a comment node: the sanitizer drops it
            pass
        elif child.tag in LIST_TAGS and any(i.get(BLOCK_ATTRIBUTE) for i in child):
            items = [
                {
                    "id": item.get(BLOCK_ATTRIBUTE),
                    "text": block_text(item),
                    "block_html": cleaner._render(_inner(item)),
                }
                for item in child
                if item.tag == "li"
            ]
            units.append({"list": child.tag, "start": child.get("start", ""), "items": items})
        elif child.get(BLOCK_ATTRIBUTE):
            anchor, text = child.get(BLOCK_ATTRIBUTE), block_text(child)
            html_piece = cleaner._render(_alone(child))
            units.append({"id": anchor, "tag": child.tag, "text": text, "block_html": html_piece})
        else:
            units.append({"block_html": cleaner._render(_alone(child))})
        if tail and tail.strip():
            units.append({"block_html": cleaner._render(_text_alone(tail))})
    return units


def lesson_blocks(units: list[dict[str, Any]]) -> dict[str, str]:
    """Anchor → text of every block of `lesson_units`, in document order."""
    blocks = {}
    for unit in units:
        for block in unit.get("items", [unit]):
            if block.get("id"):
                blocks[block["id"]] = block["text"]
    return blocks


_FORMATTER = HtmlFormatter(nowrap=True)

# Fences are highlighted only in these languages (any Pygments alias of theirs, e.g. "py", "c++",
# "sh"); any other name is plain escaped code. Pygments lexers are regular expressions, and many
# backtrack on hostile text: easytrieve is cubic on tabs (a 5,000-character comment took minutes),
# systemd and autohotkey likewise. Left off as well, because they stay quadratic inside a block the
# bounds below admit: java and csharp (a run of words with no "(" is rescanned from each word:
# "a a …" in short lines costs java 100 ms at 2,000 characters, 410 ms at 4,000; csharp 36 ms,
# 122 ms), html and xml (each unclosed "<!--" scans to the block's end: 10 ms at 2,000, 71 ms at
# 8,000) and markdown (short lines of "[": 2 ms, 23 ms).
HIGHLIGHTED_LANGUAGES = (
    "python", "javascript", "typescript", "go", "rust", "c", "cpp", "kotlin", "swift", "php",
    "ruby", "sql", "bash", "json", "yaml", "toml", "ini", "docker", "css", "diff", "text",
)  # fmt: skip
# A block is highlighted only within all of these; each bounds how far one regular expression of
# the lexers above can scan, so a block costs linearly in its length (tests/security/
# test_renderer_dos.py times every lexer on hostile blocks of n and 8n characters):
# - a line (HIGHLIGHT_MAX_LINE): most patterns scan to the line's end, so one 2,000-character line
#   cost up to 120 ms (typescript on "a.a.…"); 8 of the corpus's 443 highlighted blocks have a
#   longer line;
# - a run of whitespace, blank lines included (HIGHLIGHT_MAX_BLANK): Python's, C's and C++'s
#   `^(\s*)` cross lines, so 2,000 characters of " \n" cost 57–125 ms; 3 of those 443 blocks
#   have a longer run;
# - a block's length, by who may write it: comments are short and anyone may write them; lessons
#   hold real code (80% of the corpus's blocks are under 500 characters, 98% under 2,000) and are
#   written by teachers or imported by an operator.
# The costliest block they admit renders in ~150 ms at the lesson cap, ~40 ms at the comment cap
# (yaml, lines of "a\t": 3 ms of it lexing, the rest sanitizing its many tokens); a document of
# many blocks costs linearly too.
HIGHLIGHT_MAX_LINE = 200
HIGHLIGHT_MAX_BLANK = 64
COMMENT_HIGHLIGHT_MAX_CHARS = 500
LESSON_HIGHLIGHT_MAX_CHARS = 2_000
_LONG_LINE_OR_BLANK = re.compile(
    rf"[^\n]{{{HIGHLIGHT_MAX_LINE + 1}}}|\s{{{HIGHLIGHT_MAX_BLANK + 1}}}"
)
_LEXERS: dict[str, type[Lexer]] = {
    alias: lexer
    for language in HIGHLIGHTED_LANGUAGES
    for lexer in [find_lexer_class_by_name(language)]
    for alias in lexer.aliases
}


def highlight_lexer(language: str) -> Lexer | None:
    """The lexer a fence naming `language` is highlighted with, or None for plain code."""
    lexer = _LEXERS.get(language.lower())
    return None if lexer is None else lexer()


def fence_lexer(language: str, code: str, *, max_chars: int) -> Lexer | None:
    """The lexer a fence of `code` is highlighted with, or None for plain escaped code."""
    if len(code) > max_chars or _LONG_LINE_OR_BLANK.search(code):
        return None
    return highlight_lexer(language)


def _fence_renderer(max_chars: int) -> Any:
    def render(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        code = tokens[idx].content
        lexer = fence_lexer((tokens[idx].info.split() or [""])[0], code, max_chars=max_chars)
        if lexer is None:
            return f"<pre><code>{escape(code, quote=False)}</code></pre>\n"
        html = highlight(code, lexer, _FORMATTER)
        return f'<div class="highlight"><pre><code>{html}</code></pre></div>\n'

    return render


def _render_math(element: str, kind: str) -> Any:
    def render(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        tex = escape(tokens[idx].content.strip(), quote=False)
        return f'<{element} class="math math-{kind}">{tex}</{element}>'

    return render


def _presanitize(state: Any) -> None:
    """Emit the attributes sanitize_html() would, so its checking pass is usually its only one."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open"):
            style = token.attrs.pop("style", None)
            if isinstance(style, str) and style.startswith("text-align:"):
                token.attrSet("class", "align-" + style.removeprefix("text-align:"))
        for child in token.children or ():
            if child.type == "link_open":
                child.attrSet("rel", ANCHOR_REL)
            elif child.type == "image":
                child.attrSet("loading", "lazy")
                child.attrSet("referrerpolicy", "no-referrer")


def _lesson_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "xhtmlOut": False, "maxNesting": 20})
    md.enable(["table", "strikethrough"])
    # No digits next to the dollars, no space inside: "$5 and $6" stays prose.
    math = {"allow_labels": False, "allow_space": False, "allow_digits": False}
    md.use(dollarmath_plugin, **math, double_inline=True)
    md.add_render_rule("fence", _fence_renderer(LESSON_HIGHLIGHT_MAX_CHARS))
    md.add_render_rule("math_inline", _render_math("span", "inline"))
    # $$…$$ inside a paragraph must stay phrasing content: a <div> would split the <p>.
    md.add_render_rule("math_inline_double", _render_math("span", "display"))
    md.add_render_rule("math_block", _render_math("div", "display"))
    md.core.ruler.push("presanitize", _presanitize)
    return md


# What may follow an "@" in a user name (Django's: letters, digits and . + - _), at most as
# long as a name is worth looking up; a letter, digit or one of "_.+-" before it makes it part
# of an email address instead.
_MENTION_RUN = re.compile(r"[\w.+-]{1,50}")
_BEFORE_MENTION = re.compile(r"[A-Za-z0-9_.+-]")


def _mention(state: Any, silent: bool) -> bool:
    """`@name`: recorded in `env["mention_runs"]` (the text after the "@"), and, where
    `env["mentions"]` maps the longest name the text starts with to a URL, a link to it. Not in
    code (no inline rule runs there) nor in a link's text."""
    src, pos = state.src, state.pos
    if src[pos] != "@" or state.linkLevel > 0:
        return False
    if pos > 0 and _BEFORE_MENTION.match(src[pos - 1]):
        return False
    run = _MENTION_RUN.match(src, pos + 1, state.posMax)
    if run is None:
        return False
    if silent:
        return False  # lookahead: the "@" is read as text, as the link below would be
    env = state.env
    if "mention_runs" in env:
        env["mention_runs"].append(run[0])
    links = env.get("mentions") or {}
    name = next((run[0][:n] for n in range(len(run[0]), 0, -1) if run[0][:n] in links), None)
    if name is None:
        return False
    token = state.push("link_open", "a", 1)
    token.attrs = {"href": links[name], "class": "mention"}
    state.push("text", "", 0).content = f"@{name}"
    state.push("link_close", "a", -1)
    state.pos = pos + 1 + len(name)
    return True


def _comment_parser() -> MarkdownIt:
    md = MarkdownIt(
        "commonmark", {"html": False, "xhtmlOut": False, "breaks": True, "maxNesting": 20}
    )
    # An image becomes "!" followed by a plain link; "# x" and "---" stay text.
    md.disable(["heading", "lheading", "hr", "image", "html_block", "html_inline"])
    md.add_render_rule("fence", _fence_renderer(COMMENT_HIGHLIGHT_MAX_CHARS))
    md.inline.ruler.before("link", "mention", _mention)
    md.core.ruler.push("presanitize", _presanitize)
    return md


_LESSON_MD = _lesson_parser()
_COMMENT_MD = _comment_parser()


# Deeper than any real article (Markdown itself stops at 20): html5lib scans the open-element
# stack for each start tag, so raw HTML nested thousands deep would cost O(depth²).
MAX_HTML_DEPTH = 100
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^>]*>")
# Void elements never open a level; these close themselves when a sibling starts.
_NOT_NESTING = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    | {"track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "rb", "rt", "rp"}
)


def cap_html_nesting(html: str, limit: int = MAX_HTML_DEPTH) -> str:
    """Drop the tags (and their end tags) that would open a level deeper than `limit`.

    The count is approximate (it reads tags, not the HTML tree), which is enough: it only has to
    bound the parser's work, and what remains is sanitized all the same.
    """
    if html.count("<") <= limit:
        return html
    depth = 0
    dropped: dict[str, int] = {}

    def keep_or_drop(tag: re.Match[str]) -> str:
        nonlocal depth
        closing, name = tag[1], tag[2].lower()
        if name in _NOT_NESTING or (not closing and tag[0].endswith("/>")):
            return tag[0]
        if closing:
            if dropped.get(name):
                dropped[name] -= 1
                return ""
            depth = max(depth - 1, 0)
            return tag[0]
        if depth >= limit:
            dropped[name] = dropped.get(name, 0) + 1
            return ""
        depth += 1
        return tag[0]

    return _TAG.sub(keep_or_drop, html)


# html5lib spends tens of microseconds on each tag and entity ("<" or "&"), and more as a text
# node grows (it appends each entity to the node's text: 400,000 escaped "<" took 20 s). The
# busiest lesson of the corpus holds ~6,200 of them (0.7 s); a comment of the maximum length, a
# few thousand. A document with more is shown as its source, escaped, which needs no sanitizing.
MAX_MARKUP = 20_000


def _over_budget(html: str) -> bool:
    return html.count("<") + html.count("&") > MAX_MARKUP


def _as_source(text: str) -> str:
    """`text` shown as written: escaped (NUL as the parser would show it) in a <pre>."""
    return f"<pre>{escape(text.replace(chr(0), chr(0xFFFD)), quote=False)}</pre>\n"


# C0 and C1 control characters but tab, line feed and carriage return (and NUL, which Markdown
# makes U+FFFD and the importer refuses or removes): the source pages do not display them (six
# real comments hold a backspace), and a browser would show "?" or a box for some.
_INVISIBLE_CONTROLS = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def drop_invisible_controls(text: str) -> str:
    """`text` without the control characters no page displays (the importer and every render
    call it, so text stored before still renders without them)."""
    return _INVISIBLE_CONTROLS.sub("", text)


def render_lesson_body(markdown: str) -> str:
    """Render a lesson article: CommonMark + tables, strikethrough, math, raw HTML; each block
    with its anchor (`data-block-id`, lessons.anchors)."""
    markdown = drop_invisible_controls(markdown)
    html = _LESSON_MD.render(markdown)
    if _over_budget(html):
        return _as_source(markdown)
    return sanitize_html(cap_html_nesting(html), anchor_blocks=True)


def render_comment_markdown(text: str, mentions: Mapping[str, str] | None = None) -> str:
    """Render a forum comment: a small Markdown subset, no raw HTML or images. `mentions` maps
    user names to the URL an `@name` of them links to (`mention_runs` says what to look up)."""
    text = drop_invisible_controls(text)
    html = _COMMENT_MD.render(text, {"mentions": mentions} if mentions else None)
    return _as_source(text) if _over_budget(html) else sanitize_html(html)


def mention_runs(text: str) -> list[str]:
    """The text after each "@" of a comment that may begin a user name, in order (outside code
    and links, as `render_comment_markdown` reads it): the longest name each starts with is the
    one it mentions."""
    if "@" not in text:
        return []  # no second parse of the comment (posting and editing call this)
    env: dict[str, Any] = {"mention_runs": []}
    _COMMENT_MD.parse(text, env)
    return env["mention_runs"]


_URL = re.compile(r"https?://[A-Za-z0-9\[][A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*", re.IGNORECASE)
_TRAILING = ".,;:!?'\"*"


def _trim_url(url: str) -> str:
    """Keep trailing punctuation and unbalanced ")" out of a bare URL (in one pass from the end)."""
    unbalanced = url.count(")") - url.count("(")
    end = len(url)
    while end:
        last = url[end - 1]
        if last in _TRAILING or (last == ")" and unbalanced > 0):
            unbalanced -= last == ")"
            end -= 1
        else:
            break
    return url[:end]


def render_plain_text(text: str) -> str:
    """Render imported plain text: escaped, line breaks kept, bare URLs linked.

    Never interpreted as Markdown, so "1." or "#" at a line start stays as written.
    """
    text = drop_invisible_controls(text)
    parts: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url = _trim_url(match.group())
        parts.append(escape(text[position : match.start()]))
        href = escape(url)
        parts.append(f'<a href="{href}" rel="{ANCHOR_REL}">{href}</a>')
        position = match.start() + len(url)
    parts.append(escape(text[position:]))
    escaped = "".join(parts).replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")
    return _as_source(text) if _over_budget(escaped) else sanitize_html(escaped)


def _highlight_rules(style: str) -> list[str]:
    formatter = HtmlFormatter(style=style)
    background = formatter.get_background_style_defs(".highlight")
    return background + formatter.get_token_style_defs(".highlight")


def pygments_css() -> str:
    """CSS for highlighted code (light, and dark via prefers-color-scheme) and math."""
    return "\n".join(
        [
            *_highlight_rules("default"),
            ".math { font-family: ui-monospace, monospace; font-style: italic; }",
            ".math-display { display: block; overflow-x: auto; margin: 1em 0; }",
            "@media (prefers-color-scheme: dark) {",
            *_highlight_rules("github-dark"),
            "}",
            "",
        ]
    )
