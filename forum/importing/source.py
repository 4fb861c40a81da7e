"""Parse GeekTime lesson source pages into an article and its featured comments.

Two formats exist (see the corpus README): "markdown" pages end with a
``<div><strong>精选留言（N）</strong></div><ul>…</ul>`` block, "geektime-html" pages are
the raw lesson HTML whose comment list carries the teacher's replies.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
MARKDOWN = "markdown"
GEEKTIME_HTML = "geektime-html"
# Counts are stored in 32-bit integer columns (PostgreSQL's integer).
MAX_COUNT = 2_147_483_647
# Member.avatar_url's and Member.display_name's lengths: checked here, the same on every database
# (SQLite would store a longer value, PostgreSQL refuse the whole page).
MAX_AVATAR_URL = 500
MAX_NAME = 150
# The largest page read (a file or a download): the biggest real page is ~250 KB.
MAX_PAGE_BYTES = 5_000_000

_NEWLINES = re.compile(r"\r\n?")
_BINARY_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_NAME_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_INT = re.compile(r"-?[0-9]+")
_DATE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[ T]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)?"
)
_HTTP_URL = re.compile(r"(?i)https?://([^\s\"'<>\x00-\x1f\x7f]+)")

# Every pattern below is linear: no two quantifiers can share a stretch of text. The items
# themselves are read by small tokenizers (find, rfind and whitespace skips), not by one
# pattern with several `.*` and `\s*` in a row, which backtracked in cubic time.
_HEADER = re.compile(r"<div><strong>精选留言（([^）<\n]*)）</strong></div>")
_LIST_OPEN = re.compile(r"\s*<ul>")
_LIST_TOKEN = re.compile(r"\s*(?:<br\s*/?>\s*)*(<li>|</ul>)?")
_SPACE = re.compile(r"\s*")
_NAME_END = re.compile(r"</span>\s*👍（")
_MARKDOWN_ITEM_SHAPE = "<span>NAME</span> 👍（LIKES） 💬（REPLIES）<div>TEXT</div>YYYY-MM-DD"

_GEEKTIME_MARK = 'class="_2sjJGcOH_0"'
_AUDIO = re.compile(r"\s*<audio\b(?P<attrs>[^>]*)>\s*</audio>[^\S\n]*\n?")
_TITLE_ATTR = re.compile(r'\btitle="([^"]*)"')
_GEEKTIME_LIST = re.compile(r'<ul>(?=\s*<li>\s*<div class="_2sjJGcOH_0")')
_TRAILING_STYLE = re.compile(r"<style>[^<]*</style>\s*\Z")
_IMG = re.compile(r"<img\b")
_SRC = re.compile(r'\bsrc="')
# (field, markup named in the error, opening, closing): the field is the text from the first
# opening to the first closing after it.
_REQUIRED_FIELDS = (
    (
        "name",
        '<div class="_2zFoi7sd_0"><span>',
        re.compile(r'<div class="_2zFoi7sd_0">\s*<span>'),
        "</span>",
    ),
    ("text", '<div class="_2_QraFYR_0">', re.compile('<div class="_2_QraFYR_0">'), "</div>"),
    ("date", '<div class="_3Hkula0k_0">', re.compile('<div class="_3Hkula0k_0">'), "</div>"),
)
_REPLY = re.compile(r'<p class="_3KxQPN3V_0">')
_REPLY_LABEL = re.compile(r"\s*(作者回复|编辑回复)\s*[:：]\s*")
_BR = re.compile(r"<br\s*/?>", re.I)


class SourceError(ValueError):
    """A page that cannot be imported. str(err) is one line naming the place and the problem."""

    def __init__(
        self, reason: str, *, line: int | None = None, item: int | None = None, name: str = ""
    ) -> None:
        self.reason = reason
        self.line = line
        self.item = item
        self.name = name
        place = f"item {item}" if item is not None else ""
        if line is not None:
            place = f"{place} (line {line})" if place else f"line {line}"
        message = f"{place}: {reason}" if place else reason
        super().__init__(f"{name}: {message}" if name else message)


@dataclass(frozen=True)
class SourceComment:
    position: int
    name: str
    avatar_url: str
    likes: int | None
    reply_count: int | None
    body: str
    created_at: datetime
    has_time: bool
    author_reply: str = ""
    author_reply_label: str = ""


@dataclass(frozen=True)
class SourcePage:
    body_markdown: str
    comments: tuple[SourceComment, ...]
    declared_count: int | None
    title: str
    source_format: str
    warnings: tuple[str, ...]
    # The page holds only the free preview of a longer article. The archive's older revision
    # of the Markdown pages kept only that much of each article, and puts each comment's text
    # in a <div> where the newer, whole-article revision uses <p> (all 53 <div> pages of the
    # corpus hold 339–1,727 characters, the 181 <p> pages the whole article). Raw GeekTime
    # HTML holds the whole article: its read_end marker is where the free part ends, not the
    # page.
    is_preview: bool = False


def parse_page(data: bytes, *, name: str = "") -> SourcePage:
    """Parse one page; `name` (usually the file name) prefixes error messages."""
    if len(data) > MAX_PAGE_BYTES:
        raise SourceError(f"larger than {MAX_PAGE_BYTES:,} bytes, the limit for a page", name=name)
    return _Parser(_decode(data, name), name).parse()


def _decode(data: bytes, name: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        reason = f"not UTF-8 text (byte 0x{data[exc.start]:02x})"
        raise SourceError(reason, line=line, name=name) from None
    text = _NEWLINES.sub("\n", text.removeprefix("\ufeff"))
    if not text.strip():
        raise SourceError("empty page", name=name)
    controls = _BINARY_CONTROLS.findall(text)
    if len(controls) >= 4 and len(controls) * 20 > len(text):
        line = text.count("\n", 0, _BINARY_CONTROLS.search(text).start()) + 1
        raise SourceError("binary data, not a text page", line=line, name=name)
    return text


def clean_name(raw: str) -> str:
    """Decode entities once, drop control characters, strip (Unicode) whitespace."""
    return _NAME_CONTROLS.sub("", html.unescape(raw)).strip()


def strip_tags(raw: str) -> str:
    """`raw` without its tags: each `<` up to the first `>` after it. A `<` with no `>` after it
    ends the search (so does every later one), which keeps this linear."""
    kept = []
    pos = 0
    while (opening := raw.find("<", pos)) >= 0:
        closing = raw.find(">", opening + 1)
        if closing < 0:
            break
        kept.append(raw[pos:opening])
        pos = closing + 1
    kept.append(raw[pos:])
    return "".join(kept)


def _html_text(raw: str) -> str:
    return html.unescape(strip_tags(_BR.sub("\n", raw)))


def _between(raw: str, opening: re.Pattern[str], closing: str) -> str | None:
    """The text from the first `opening` to the first `closing` after it: what a lazy
    `opening(.*?)closing` search finds, without retrying from every later opening."""
    found = opening.search(raw)
    if not found:
        return None
    end = raw.find(closing, found.end())
    return None if end < 0 else raw[found.end() : end]


def _img_src(raw: str) -> str | None:
    """The src of the first `<img …>` that has one before its `>`. Each `<img` is searched
    only up to its own `>`, and the next search starts after it: linear on `<img <img <img`."""
    pos = 0
    while found := _IMG.search(raw, pos):
        end = raw.find(">", found.end())
        end = len(raw) if end < 0 else end
        src = _SRC.search(raw, found.end(), end)
        if src:
            quote = raw.find('"', src.end())
            return None if quote < 0 else raw[src.end() : quote]
        pos = end
    return None


def _skip_space(raw: str, pos: int) -> int:
    return _SPACE.match(raw, pos).end()


def _markdown_fields(raw: str) -> dict[str, str] | None:
    """The fields of a Markdown item, read left to right, or None if it has another shape:
    `[<img src="AVATAR"…>] <span>NAME</span> 👍（LIKES） 💬（REPLIES）<div|p>TEXT</div|p> DATE`
    (TEXT runs to the last closing tag; DATE holds no `<` or `>`)."""
    fields = {"avatar": ""}
    pos = _skip_space(raw, 0)
    if raw.startswith('<img src="', pos):
        quote = raw.find('"', pos + 10)
        end = raw.find(">", quote + 1) if quote >= 0 else -1
        if end < 0:
            return None
        fields["avatar"] = raw[pos + 10 : quote]
        pos = _skip_space(raw, end + 1)
    if not raw.startswith("<span>", pos):
        return None
    name_end = _NAME_END.search(raw, pos + 6)
    if not name_end:
        return None
    fields["name"] = raw[pos + 6 : name_end.start()]
    pos = name_end.end()
    for field, opening in (("likes", ""), ("replies", "💬（")):
        if not raw.startswith(opening, pos):
            return None
        end = raw.find("）", pos + len(opening))
        if end < 0:
            return None
        fields[field] = raw[pos + len(opening) : end]
        pos = _skip_space(raw, end + 1)
    tag = "div" if raw.startswith("<div>", pos) else "p" if raw.startswith("<p>", pos) else ""
    closing = raw.rfind(f"</{tag}>", pos + len(tag) + 2) if tag else -1
    if closing < 0:
        return None
    fields["tag"] = tag
    fields["body"] = raw[pos + len(tag) + 2 : closing]
    date = raw[closing + len(tag) + 3 :]
    if "<" in date or ">" in date:
        return None
    fields["date"] = date.strip()
    return fields


def _whole_number(raw: str) -> int | None:
    """`raw` as an int, or None if it is not a whole number."""
    text = raw.strip()
    if not _INT.fullmatch(text):
        return None
    # int() refuses over 4,300 digits; anything past 12 is out of every range here anyway.
    if len(text.lstrip("-").lstrip("0")) > 12:
        return -(10**12) if text.startswith("-") else 10**12
    return int(text)


def _snippet(raw: str) -> str:
    return repr(raw[:40] + ("…" if len(raw) > 40 else ""))


class _Parser:
    def __init__(self, text: str, name: str) -> None:
        self.text = text
        self.name = name
        self.warnings: list[str] = []
        self.counted = (0, 1)  # (a position, its line)

    def line(self, pos: int) -> int:
        # Counted on from the last position asked for: warnings come in page order, and a page
        # may have tens of thousands of them (counting from the start each time was quadratic).
        start, line = self.counted if pos >= self.counted[0] else (0, 1)
        line += self.text.count("\n", start, pos)
        self.counted = (pos, line)
        return line

    def error(self, reason: str, pos: int | None = None, item: int | None = None) -> SourceError:
        line = None if pos is None else self.line(pos)
        return SourceError(reason, line=line, item=item, name=self.name)

    def warn(self, reason: str, pos: int, item: int | None = None) -> None:
        self.warnings.append(str(SourceError(reason, line=self.line(pos), item=item)))

    def parse(self) -> SourcePage:
        headers = list(_HEADER.finditer(self.text))
        if headers:
            return self.markdown(headers[-1])
        if _AUDIO.match(self.text) or _GEEKTIME_MARK in self.text:
            return self.geektime()
        return self.page(self.article(0, len(self.text)).rstrip(), (), None, "", MARKDOWN)

    def page(
        self,
        body: str,
        comments: list[SourceComment] | tuple[()],
        declared: int | None,
        title: str,
        source_format: str,
        *,
        is_preview: bool = False,
    ) -> SourcePage:
        return SourcePage(
            body,
            tuple(comments),
            declared,
            title,
            source_format,
            tuple(self.warnings),
            is_preview=is_preview,
        )

    def article(self, start: int, end: int) -> str:
        nul = self.text.find("\x00", start, end)
        if nul >= 0:
            raise self.error("NUL byte outside the comments (binary data?)", nul)
        return self.text[start:end]

    def markdown(self, header: re.Match[str]) -> SourcePage:
        body = self.article(0, header.start()).rstrip()
        declared = _whole_number(header[1])
        if declared is None:
            reason = f"comment count {_snippet(header[1])} in the 精选留言 header is not a number"
            raise self.error(reason, header.start())
        if abs(declared) > MAX_COUNT:
            reason = f"comment count {_snippet(header[1])} in the 精选留言 header is out of range"
            raise self.error(reason, header.start())
        opening = _LIST_OPEN.match(self.text, header.end())
        if opening:
            items = self.list_items(opening.end(), declared)
        elif declared == 0 and not self.text[header.end() :].strip():
            items = []
        else:
            raise self.error("expected <ul> after the 精选留言 header", header.end())
        if len(items) != declared:
            reason = f"the header declares {declared} comments but the list holds {len(items)}"
            raise self.error(reason, header.start())
        comments, tags = [], set()
        for n, (pos, raw) in enumerate(items, 1):
            item = _markdown_fields(raw)
            if item is None:
                raise self.error(f"expected {_MARKDOWN_ITEM_SHAPE}", pos, n)
            tags.add(item["tag"])
            comments.append(self.markdown_comment(n, pos, item))
        return self.page(body, comments, declared, "", MARKDOWN, is_preview=tags == {"div"})

    def geektime(self) -> SourcePage:
        audio = _AUDIO.match(self.text)
        start = audio.end() if audio else 0
        title_attr = _TITLE_ATTR.search(audio["attrs"]) if audio else None
        title = clean_name(title_attr[1]) if title_attr else ""
        listing = _GEEKTIME_LIST.search(self.text, start)
        end = listing.start() if listing else len(self.text)
        style = _TRAILING_STYLE.search(self.text, start, end)
        body = self.article(start, style.start() if style else end)
        if _GEEKTIME_MARK in body:
            raise self.error(
                "comment markup outside a <ul> list", start + body.index(_GEEKTIME_MARK)
            )
        items = self.list_items(listing.end(), None) if listing else []
        comments = [self.geektime_comment(n, pos, raw) for n, (pos, raw) in enumerate(items, 1)]
        return self.page(body.strip(), comments, None, title, GEEKTIME_HTML)

    def list_items(self, pos: int, declared: int | None) -> list[tuple[int, str]]:
        """Split `<li>…</li>` items up to `</ul>`; returns (offset, inner text) pairs."""
        items: list[tuple[int, str]] = []
        while True:
            token = _LIST_TOKEN.match(self.text, pos)
            pos = token.end()
            if token[1] == "</ul>":
                rest = self.text[pos:]
                if rest.strip():
                    at = pos + len(rest) - len(rest.lstrip())
                    raise self.error("unexpected text after the comment list", at)
                return items
            if token[1] is None:
                if pos < len(self.text):
                    found = _snippet(self.text[pos:])
                    reason = f"expected <li> or </ul> after item {len(items)}, found {found}"
                    raise self.error(reason, pos)
                if declared is not None and len(items) < declared:
                    reason = f"comment list cut off after {len(items)} of {declared} items"
                    raise self.error(reason, pos)
                self.warn("comment list has no closing </ul>", pos)
                return items
            end = self.text.find("</li>", pos)
            following = self.text.find("<li>", pos)
            if end < 0 or 0 <= following < end:
                raise self.error("comment is cut off (<li> without </li>)", pos, len(items) + 1)
            items.append((pos, self.text[pos:end]))
            pos = end + len("</li>")

    def markdown_comment(self, n: int, pos: int, item: dict[str, str]) -> SourceComment:
        created_at, has_time = self.date(item["date"], n, pos)
        return SourceComment(
            position=n,
            name=self.commenter(item["name"], n, pos),
            avatar_url=self.avatar(item["avatar"], n, pos),
            likes=self.number(item["likes"], "likes", n, pos, minimum=0),
            reply_count=self.number(item["replies"], "reply count", n, pos),
            body=self.content(html.unescape(item["body"]), n, pos),
            created_at=created_at,
            has_time=has_time,
        )

    def geektime_comment(self, n: int, pos: int, raw: str) -> SourceComment:
        fields = {}
        for field, markup, opening, closing in _REQUIRED_FIELDS:
            found = _between(raw, opening, closing)
            if found is None:
                raise self.error(f"missing the comment {field} ({markup})", pos, n)
            fields[field] = found
        created_at, has_time = self.date(fields["date"], n, pos)
        reply = _between(raw, _REPLY, "</p>")
        reply_text = self.content(_html_text(reply), n, pos).strip() if reply is not None else ""
        label = _REPLY_LABEL.match(reply_text)
        if label:
            reply_text = reply_text[label.end() :].strip()
        elif reply_text:
            self.warn("reply without 作者回复/编辑回复 label, kept unlabelled", pos, n)
        return SourceComment(
            position=n,
            name=self.commenter(strip_tags(fields["name"]), n, pos),
            avatar_url=self.avatar(_img_src(raw) or "", n, pos),
            likes=None,
            reply_count=None,
            body=self.content(_html_text(fields["text"]), n, pos),
            created_at=created_at,
            has_time=has_time,
            author_reply=reply_text,
            author_reply_label=label[1] if label else "",
        )

    def content(self, text: str, n: int, pos: int) -> str:
        if "\x00" in text:
            self.warn("NUL byte removed from the comment text", pos, n)
            text = text.replace("\x00", "")
        return text

    def avatar(self, raw: str, n: int, pos: int) -> str:
        url = html.unescape(raw).strip()
        if not url:
            return ""
        found = _HTTP_URL.fullmatch(url)
        if not found:
            self.warn(f"avatar {_snippet(url)} dropped: not an http(s) URL", pos, n)
            return ""
        url = "https://" + found[1]
        if len(url) > MAX_AVATAR_URL:
            reason = f"avatar {_snippet(url)} dropped: longer than {MAX_AVATAR_URL} characters"
            self.warn(reason, pos, n)
            return ""
        return url

    def commenter(self, raw: str, n: int, pos: int) -> str:
        name = clean_name(raw)
        if len(name) > MAX_NAME:
            self.warn(f"name {_snippet(name)} cut to {MAX_NAME} characters", pos, n)
        return name

    def number(self, raw: str, what: str, n: int, pos: int, minimum: int = -1) -> int:
        value = _whole_number(raw)
        if value is None:
            raise self.error(f"{what} {_snippet(raw)} is not a whole number", pos, n)
        if value < minimum:
            raise self.error(f"{what} {_snippet(raw.strip())} is below {minimum}", pos, n)
        if value > MAX_COUNT:
            raise self.error(f"{what} {_snippet(raw.strip())} is too large", pos, n)
        return value

    def date(self, raw: str, n: int, pos: int) -> tuple[datetime, bool]:
        found = _DATE.fullmatch(raw.strip())
        if found:
            year, month, day, hour, minute, second = (int(g or 0) for g in found.groups())
            try:
                created = datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)
                # Stored in UTC: 0001-01-01 in Shanghai is before the first datetime.
                created.astimezone(UTC)
            except (ValueError, OverflowError):
                pass
            else:
                return created, found[4] is not None
        reason = f"bad date {_snippet(raw)} (expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)"
        raise self.error(reason, pos, n)
