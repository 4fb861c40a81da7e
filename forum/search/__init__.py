"""Search of lessons and comments, exact for Chinese: the tokenizer, the two database backends,
index sync and the search page. `search()` is what the rest of the code calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from django.utils.safestring import SafeString

from forum.models import SearchDocument
from forum.search.backends import backend
from forum.search.snippets import highlighted, matches, snippet
from forum.search.tokenizer import MAX_QUERY_LENGTH, Term, query_terms
from lessons.models import Course, Lesson

KINDS = {"lessons": SearchDocument.Kind.LESSON, "comments": SearchDocument.Kind.COMMENT}
ORDERS = ("best", "newest")
PER_PAGE = 20


@dataclass
class Hit:
    document: SearchDocument
    snippet: SafeString
    heading: SafeString | str = ""
    title: SafeString | str = ""
    url: str = ""

    @property
    def kind(self) -> str:
        return self.document.kind


@dataclass
class Results:
    terms: list[Term]
    hits: list[Hit] = field(default_factory=list)
    page: int = 1
    has_next: bool = False
    truncated: bool = False  # the query was longer than MAX_QUERY_LENGTH


def _hit(document: SearchDocument, terms: list[Term]) -> Hit:
    if document.kind == SearchDocument.Kind.COMMENT:
        return Hit(document, snippet(document.text, terms), url=document.comment.get_absolute_url())
    lesson = document.lesson
    url = lesson.get_absolute_url()
    found = matches(document.text, terms)
    if found:  # the browser scrolls to the passage and marks it (a text fragment)
        start, end = found[0]
        # "-" and "," are the fragment's own syntax: encoded, as every other character.
        url += "#:~:text=" + quote(document.text[start:end], safe="").replace("-", "%2D")
    return Hit(
        document,
        snippet(document.text, terms),
        heading=highlighted(document.heading, terms),
        title=highlighted(lesson.title, terms),
        url=url,
    )


def search(
    query: str,
    *,
    kind: str = "",
    course: Course | None = None,
    lesson: Lesson | None = None,
    order: str = "best",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Results:
    """A page of what readers may see that contains every term of `query`: lessons (`kind`
    "lessons"), comments ("comments") or both (""), in `course` or `lesson` if given, best
    match (title hits, then phrase density, then recency) or newest first. Two queries: the
    page's ids from the full-text index, then their documents with lesson and author."""
    terms = query_terms(query)
    results = Results(terms, page=page, truncated=len(query) > MAX_QUERY_LENGTH)
    if not terms:
        return results
    ids = backend().ids(
        terms,
        kind=KINDS.get(kind, ""),
        course_id=course.pk if course else None,
        lesson_id=lesson.pk if lesson else None,
        order=order if order in ORDERS else "best",
        limit=per_page + 1,
        offset=(page - 1) * per_page,
    )
    results.has_next = len(ids) > per_page
    ids = ids[:per_page]
    documents = (
        SearchDocument.objects.filter(pk__in=ids)
        .select_related("lesson__course", "comment__member")
        .defer(
            "lesson__body_markdown",
            "lesson__body_html",
            "lesson__body_blocks",
            "comment__body_html",
        )
        .in_bulk()
    )
    results.hits = [_hit(documents[pk], terms) for pk in ids if pk in documents]
    return results
