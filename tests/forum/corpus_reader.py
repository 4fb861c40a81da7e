"""An independent reading of the real lesson pages in the shared corpus.

Written differently from forum.importing.source on purpose (string splitting for Markdown
pages, html.parser for GeekTime HTML) so that the two can check each other. It trusts the
page to be well formed and does no error reporting. Reuse it to check imported data.
"""

from __future__ import annotations

import html
import os
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

HEADER = "<div><strong>精选留言（"
SEPARATOR = "</li><br/><li>"
REPLY_LABELS = ("作者回复", "编辑回复")


def corpus_dir() -> Path | None:
    """$LESSON_FORUM_CORPUS, else ../shared/corpus next to the repository; None if absent."""
    configured = os.environ.get("LESSON_FORUM_CORPUS")
    path = (
        Path(configured) if configured else Path(__file__).resolve().parents[2] / "../shared/corpus"
    )
    path = path.resolve()
    return path if path.is_dir() else None


def corpus_files() -> list[Path]:
    """Every page of the corpus: the files in its folders (not README.md or SOURCES.tsv)."""
    root = corpus_dir()
    if root is None:
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and p.parent != root)


@dataclass
class ReadComment:
    name: str
    avatar_url: str
    likes: int | None
    reply_count: int | None
    body: str
    created: datetime  # naive wall-clock time in Asia/Shanghai
    has_time: bool
    author_reply: str = ""
    author_reply_label: str = ""


@dataclass
class ReadPage:
    source_format: str
    declared_count: int | None
    title: str
    comments: list[ReadComment] = field(default_factory=list)


def read_page(data: bytes) -> ReadPage:
    text = data.decode("utf-8").lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if HEADER in text:
        return _read_markdown(text)
    if text.lstrip().startswith("<audio") or "_2sjJGcOH_0" in text:
        return _read_geektime(text)
    return ReadPage("markdown", None, "")


def display_name(decoded: str) -> str:
    kept = (ch for ch in decoded if unicodedata.category(ch) != "Cc")
    return "".join(kept).strip()


def secure_avatar(decoded: str) -> str:
    url = decoded.strip()
    scheme, colon, rest = url.partition(":")
    if colon and scheme.lower() in ("http", "https") and rest.startswith("//") and len(rest) > 2:
        return "https:" + rest
    return ""


def _read_markdown(text: str) -> ReadPage:
    block = text.rsplit(HEADER, 1)[1]
    count, _, rest = block.partition("）</strong></div>")
    listing = rest.strip().removeprefix("<ul>").removesuffix("</ul>").strip()
    listing = listing.removeprefix("<li>").removesuffix("<br/>").removesuffix("</li>")
    raw_items = listing.split(SEPARATOR) if listing else []
    return ReadPage("markdown", int(count), "", [_read_markdown_item(raw) for raw in raw_items])


def _read_markdown_item(raw: str) -> ReadComment:
    avatar = ""
    if raw.startswith("<img "):
        tag, _, raw = raw.partition(">")
        avatar = tag.split('src="', 1)[1].split('"', 1)[0]
    name, _, raw = raw.removeprefix("<span>").partition("</span> 👍（")
    likes, _, raw = raw.partition("） 💬（")
    replies, _, raw = raw.partition("）")
    day, raw = raw[-10:], raw[:-10]
    opening = "<div>" if raw.startswith("<div>") else "<p>"
    content = raw.removeprefix(opening).removesuffix(opening.replace("<", "</"))
    return ReadComment(
        name=display_name(html.unescape(name)),
        avatar_url=secure_avatar(html.unescape(avatar)),
        likes=int(likes),
        reply_count=int(replies),
        body=html.unescape(content).replace("\x00", ""),
        created=datetime.combine(date.fromisoformat(day), datetime.min.time()),
        has_time=False,
    )


class _GeekTimeReader(HTMLParser):
    FIELDS = {
        ("div", "_2zFoi7sd_0"): "name",
        ("div", "_2_QraFYR_0"): "body",
        ("p", "_3KxQPN3V_0"): "reply",
        ("div", "_3Hkula0k_0"): "date",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.items: list[dict[str, str]] = []
        self.open_field: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        css = attributes.get("class", "")
        if tag == "audio" and not self.title:
            self.title = attributes.get("title", "")
        elif tag == "div" and css == "_2sjJGcOH_0":
            self.items.append(dict.fromkeys(("avatar", "name", "body", "reply", "date"), ""))
        elif tag == "img" and css == "_3FLYR4bF_0":
            self.items[-1]["avatar"] = attributes.get("src", "")
        elif (tag, css) in self.FIELDS and self.items:
            self.open_field = (tag, self.FIELDS[tag, css])
        elif tag == "br" and self.open_field:
            self.items[-1][self.open_field[1]] += "\n"

    def handle_endtag(self, tag: str) -> None:
        if self.open_field and self.open_field[0] == tag:
            self.open_field = None

    def handle_data(self, data: str) -> None:
        if self.open_field:
            self.items[-1][self.open_field[1]] += data


def _read_geektime(text: str) -> ReadPage:
    reader = _GeekTimeReader()
    reader.feed(text)
    reader.close()
    comments = []
    for item in reader.items:
        reply, label = item["reply"].strip(), ""
        head, colon, rest = reply.partition(":")
        if colon and head.strip() in REPLY_LABELS:
            reply, label = rest.strip(), head.strip()
        stamp = item["date"].strip()
        comments.append(
            ReadComment(
                name=display_name(item["name"]),
                avatar_url=secure_avatar(item["avatar"]),
                likes=None,
                reply_count=None,
                body=item["body"].replace("\x00", ""),
                created=datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S"),
                has_time=True,
                author_reply=reply.replace("\x00", ""),
                author_reply_label=label,
            )
        )
    return ReadPage("geektime-html", None, reader.title.strip(), comments)
