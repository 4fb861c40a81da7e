"""The search documents of comments and lessons: their plain text and tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

from markdown_it import MarkdownIt
from markdown_it.token import Token as MarkdownToken

from forum.models import Comment, SearchDocument
from forum.search.tokenizer import document_tokens
from lessons.models import Lesson

# A lesson's part: at most this many characters, so that its tokens (one to two per character)
# stay far below the 16,383 positions a tsvector counts.
PART_LENGTH = 3000
# Consecutive parts of a paragraph longer than a part share this much text, so that any query
# (at most 100 characters) lies whole in one of them.
PART_OVERLAP = 100
SECTION_TAGS = {"h1", "h2", "h3"}

_markdown = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


class _TextOf(HTMLParser):
    """The text of a piece of HTML, without the contents of scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in {"script", "style"}:
            self._skipping += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def _inline_text(token: MarkdownToken) -> str:
    parts = []
    for child in token.children or ():
        if child.type in {"text", "code_inline"}:
            parts.append(child.content)
        elif child.type in {"softbreak", "hardbreak"}:
            parts.append("\n")
        elif child.type == "image":
            parts.append(_inline_text(child))
    return "".join(parts)


@dataclass
class Section:
    heading: str
    paragraphs: list[str]


def lesson_sections(markdown: str) -> list[Section]:
    """The lesson's text by section (a heading of level 1 to 3 starts one), as paragraphs of
    plain text: what a reader reads, without the Markdown and HTML around it."""
    sections = [Section("", [])]
    heading_level = None
    for token in _markdown.parse(markdown):
        if token.type == "heading_open":
            heading_level = token.tag
        elif token.type == "inline":
            text = _inline_text(token).strip()
            if heading_level in SECTION_TAGS:
                sections.append(Section(text, []))
            elif text:
                sections[-1].paragraphs.append(text)
        elif token.type == "heading_close":
            heading_level = None
        elif token.type in {"fence", "code_block"} and token.content.strip():
            sections[-1].paragraphs.append(token.content.strip("\n"))
        elif token.type == "html_block" and (text := html_text(token.content).strip()):
            sections[-1].paragraphs.append(text)
    return [s for s in sections if s.heading or s.paragraphs]


def _parts(paragraphs: list[str]) -> Iterator[str]:
    """The paragraphs joined into parts of at most PART_LENGTH characters."""
    part: list[str] = []
    length = 0
    for paragraph in paragraphs:
        while len(paragraph) > PART_LENGTH:
            if part:
                yield "\n".join(part)
                part, length = [], 0
            yield paragraph[:PART_LENGTH]
            paragraph = paragraph[PART_LENGTH - PART_OVERLAP :]
        if part and length + len(paragraph) + 1 > PART_LENGTH:
            yield "\n".join(part)
            part, length = [], 0
        part.append(paragraph)
        length += len(paragraph) + 1
    if part:
        yield "\n".join(part)


def lesson_documents(lesson: Lesson) -> list[SearchDocument]:
    """A lesson's documents: one per part of each section; the first carries the title."""
    documents = []
    for section in lesson_sections(lesson.body_markdown) or [Section("", [])]:
        texts = list(_parts(section.paragraphs)) or [""]
        for text in texts:
            documents.append(
                SearchDocument(
                    kind=SearchDocument.Kind.LESSON,
                    lesson_id=lesson.pk,
                    course_id=lesson.course_id,
                    section=len(documents),
                    heading=section.heading[:300],
                    text=text,
                    title_tokens="" if documents else " ".join(document_tokens(lesson.title)),
                    tokens=" ".join(document_tokens(f"{section.heading}\n{text}")),
                    created_at=lesson.created_at,
                )
            )
    return documents


def comment_document(comment: Comment, course_id: int) -> SearchDocument:
    return SearchDocument(
        kind=SearchDocument.Kind.COMMENT,
        lesson_id=comment.lesson_id,
        course_id=course_id,
        comment_id=comment.pk,
        text=comment.body,
        tokens=" ".join(document_tokens(comment.body)),
        created_at=comment.created_at,
    )
