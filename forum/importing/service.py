"""Write one parsed source page into the database: course, lesson, members, comments.

Rendering (the article's Markdown, every comment's text) is most of an import's time, so it is
done first, outside any transaction (`page_render`); `lesson_import` then writes the page in one
short transaction. Importing the same page twice changes nothing; a newer revision
updates the body and the counts of the comments it recognizes and adds the new ones. Comments,
likes and replies made on the forum are never touched.
"""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, Q

from forum.anchoring import comments_reattach
from forum.caching import stamps
from forum.importing.source import MAX_NAME, SourceComment, SourceError, SourcePage
from forum.models import Comment, Member
from forum.models.discussion import slugs_assign
from forum.search.sync import comments_reindex, lesson_reindex
from lessons.models import Course, Lesson, unicode_slug
from lessons.rendering import drop_invisible_controls, lesson_blocks, render_plain_text
from lessons.revisions import revision_record

_TEACHER_GREETING = re.compile(r"你好，我是([^，。,.\s]{1,20})[，。,.]")
AUTHOR_NAME = "作者"
EDITOR_NAME = "编辑"
UNNUMBERED_FIRST = ("开篇词", "导读", "课前")
UNNUMBERED_POSITION = 10_000


@dataclass(frozen=True)
class RenderedPage:
    """A page's rows, unsaved, with their HTML rendered before its transaction: the lesson's
    body, and each comment and author reply by source key (its lesson, member and parent are
    set when it is written)."""

    lesson: Lesson
    comments: dict[str, Comment]


@dataclass
class ImportResult:
    lesson: Lesson
    lesson_outcome: str  # "created", "updated" or "unchanged"
    comments: Counter = field(default_factory=Counter)  # created / updated / unchanged
    warnings: list[str] = field(default_factory=list)
    revision: int | None = None  # the revision stored, when the body changed
    # Comments on blocks after a new revision: unchanged / modified / orphaned (forum.anchoring).
    anchors: Counter = field(default_factory=Counter)


def teacher_from_body(body: str) -> str:
    """The teacher's name from the opening `你好，我是X。`, or ""."""
    match = _TEACHER_GREETING.search(body[:300])
    return match[1] if match else ""


def lesson_position(number: int | None, title: str) -> int:
    if number is not None:
        return number
    return 0 if title.startswith(UNNUMBERED_FIRST) else UNNUMBERED_POSITION


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _comment_keys(comments: tuple[SourceComment, ...]) -> list[str]:
    """A key per comment that survives re-imports; identical repeats get their occurrence. Of
    the text as stored (invisible controls dropped), so that a lesson exported and imported
    again keeps its keys."""
    seen: Counter = Counter()
    keys = []
    for comment in comments:
        base = (comment.name, comment.created_at.isoformat(), drop_invisible_controls(comment.body))
        seen[base] += 1
        keys.append(_digest(*base, str(seen[base])))
    return keys


def _reply_key(comment_key: str) -> str:
    # A digest, not comment_key + a suffix: source_key holds at most 64 characters.
    return _digest(comment_key, "author reply")


def _member_key(name: str, avatar_url: str) -> str:
    return _digest("commenter", name, avatar_url)


def teacher_key(name: str) -> str:
    return _digest("teacher", name)


def _members_for(comments: list[SourceComment]) -> dict[str, Member]:
    wanted = {_member_key(c.name, c.avatar_url): c for c in comments}
    existing = {m.import_key: m for m in Member.objects.filter(import_key__in=wanted)}
    missing = [
        # The parser warned about a longer name; the key keeps the whole of it.
        Member(import_key=key, display_name=c.name[:MAX_NAME], avatar_url=c.avatar_url)
        for key, c in wanted.items()
        if key not in existing
    ]
    slugs_assign(missing)
    for member in missing:  # bulk_create skips save(), which sets them
        member.skeletons_set()
    Member.objects.bulk_create(missing)
    existing.update({m.import_key: m for m in missing})
    return existing


# How the source archives write a title's "|" in a file name (forum.importing.filenames).
_ARCHIVE_BAR = re.compile(r"\s*(?:\s_\s|[|丨])\s*")


def normalized_title(title: str) -> str:
    """What makes two titles the same lesson or course: compatibility forms, case, runs of
    whitespace and the archives' spellings of "|" aside (`⼯` and `工`, `AI` and `ai`,
    `a _ b` and `a｜b`); letters, digits and symbols stay (`C++入门` is not `C#入门`)."""
    text = " ".join(unicodedata.normalize("NFKC", title).lower().split())
    return _ARCHIVE_BAR.sub("|", text)


def _readable_slug(text: str, *, fallback: str) -> str:
    # slugify drops "+" and "#": "C++入门" and "C#入门" would both be "c入门".
    spelled = text.replace("+", " plus ").replace("#", " sharp ")
    return unicode_slug(spelled, fallback=fallback)


def _free_slug(text: str, *, fallback: str, taken: Callable[[str], bool]) -> str:
    """A slug for a new course or lesson that no other one holds: the readable slug of `text`,
    else with -2 … -9, else with a short digest of the text."""
    base = _readable_slug(text, fallback=fallback)
    for suffix in ("", *(f"-{n}" for n in range(2, 10)), "-" + _digest(text)[:8]):
        slug = base[: 200 - len(suffix)].strip("-") + suffix
        if not taken(slug):
            return slug
    raise ValueError(f"no free slug for {text!r}")


def _fit(value: str, limit: int, what: str, warnings: list[str]) -> str:
    """`value` cut to the column's length, with a warning: the same on every database."""
    if len(value) <= limit:
        return value
    warnings.append(f"{what} {value[:40]!r}… cut to {limit} characters")
    return value[:limit]


def _staff_member(course: Course, name: str) -> Member:
    member, _ = Member.objects.get_or_create(
        import_key=teacher_key(name), defaults={"display_name": name}
    )
    member.courses_taught.add(course)
    return member


def _find_course(title: str) -> Course | None:
    """The course titled `title` (normalized). Its slug alone never decides: "C++" and "C#"
    have different courses whatever their slugs."""
    plain = unicode_slug(title, fallback="course")
    readable = _readable_slug(title, fallback="course")
    wanted = normalized_title(title)
    candidates = Course.objects.filter(
        Q(title=title) | Q(slug__in=[plain, readable]) | Q(slug__startswith=f"{readable}-")
    ).order_by("pk")
    return next((c for c in candidates if normalized_title(c.title) == wanted), None)


def _course(title: str, teacher: str) -> Course:
    course = _find_course(title)
    if course is None:
        slug = _free_slug(
            title, fallback="course", taken=lambda s: Course.objects.filter(slug=s).exists()
        )
        return Course.objects.create(slug=slug, title=title, teacher=teacher)
    if teacher and not course.teacher:
        course.teacher = teacher
        course.save(update_fields=["teacher", "updated_at"])
    return course


def page_render(page: SourcePage, *, seconds: float | None = None) -> RenderedPage:
    """Render the article and every comment and reply of `page`, touching no database.

    With `seconds`, a page that takes longer is refused (SourceError) between two comments: one
    text's rendering is bounded by the renderer, a page's by this.
    """
    deadline = None if seconds is None else time.monotonic() + seconds

    def in_time() -> None:
        if deadline is not None and time.monotonic() > deadline:
            raise SourceError(f"took longer than {seconds:g} s to render, the limit for a page")

    # The parser keeps the page's text as it was; what is stored drops the control characters
    # the source page does not display (a backspace in six real comments).
    lesson = Lesson(body_markdown=drop_invisible_controls(page.body_markdown))
    lesson.render_body()
    comments = {}
    for key, source in zip(_comment_keys(page.comments), page.comments, strict=True):
        in_time()
        comments[key] = Comment(
            body=drop_invisible_controls(source.body),
            body_html=render_plain_text(source.body),
            source_key=key,
            source_position=source.position,
            is_featured=True,
            imported_like_count=source.likes or 0,
            like_count=source.likes or 0,
            imported_reply_count=source.reply_count,
            created_at=source.created_at,
            created_date_only=not source.has_time,
        )
        if source.author_reply:
            comments[_reply_key(key)] = Comment(
                depth=1,
                body=drop_invisible_controls(source.author_reply),
                body_html=render_plain_text(source.author_reply),
                source_key=_reply_key(key),
                is_author_reply=source.author_reply_label != "编辑回复",
                author_reply_label=source.author_reply_label,
                created_at=source.created_at,
                created_date_only=not source.has_time,
            )
    in_time()
    return RenderedPage(lesson, comments)


def lesson_is_current(
    *, course_title: str, title: str, number: int | None, source_digest: str, keep_existing: bool
) -> bool:
    """Whether `lesson_import` would leave the lesson as it is (so nothing need be rendered).
    A read outside the transaction: `lesson_import` checks again."""
    course = _find_course(course_title)
    lesson = _lesson(course, number, title) if course else None
    return lesson is not None and (
        keep_existing or (lesson.source_digest == source_digest and lesson.number == number)
    )


def _lesson(course: Course, number: int | None, title: str) -> Lesson | None:
    """The lesson of `course` with this title (normalized), whatever its number or file name:
    a new number for the same title is an update (one with this number first, if several)."""
    wanted = normalized_title(title)
    candidates = Lesson.objects.filter(course=course).defer(
        "body_markdown", "body_html", "body_blocks"
    )
    same = [x for x in candidates.order_by("pk") if normalized_title(x.title) == wanted]
    return min(same, key=lambda x: x.number != number, default=None)


@transaction.atomic
def lesson_import(
    *,
    page: SourcePage,
    course_title: str,
    title: str,
    number: int | None,
    teacher: str = "",
    source_ref: str,
    source_digest: str,
    keep_existing: bool = False,
    rendered: RenderedPage | None = None,
) -> ImportResult:
    """Create or update the lesson of `page` and its imported comments.

    With `keep_existing` a lesson that is already here is left as it is, whatever its revision.
    `rendered` is `page_render(page)`, done before the transaction; without it the page is
    rendered here, inside it.
    """
    warnings = list(page.warnings)
    course_title = _fit(
        course_title, Course._meta.get_field("title").max_length, "course title", warnings
    )
    title = _fit(title, Lesson._meta.get_field("title").max_length, "lesson title", warnings)
    teacher = _fit(
        teacher or teacher_from_body(page.body_markdown),
        Course._meta.get_field("teacher").max_length,
        "teacher's name",
        warnings,
    )
    course = _course(course_title, teacher)
    teacher = teacher or course.teacher
    if teacher:
        # The teacher line's member: their profile, and the identity an account can be linked to.
        _staff_member(course, teacher)
    lesson = _lesson(course, number, title)
    if lesson is not None and (
        keep_existing or (lesson.source_digest == source_digest and lesson.number == number)
    ):
        return ImportResult(lesson, "unchanged", Counter(unchanged=len(page.comments)), warnings)

    rendered = rendered or page_render(page)
    # The rendered lesson becomes the row: its body is not rendered again inside the transaction.
    update_fields = None
    if lesson is None:
        slug = _free_slug(
            f"{number:02d}-{title}" if number is not None else title,
            fallback="lesson",
            taken=lambda s: Lesson.objects.filter(course=course, slug=s).exists(),
        )
        outcome = "created"
    else:
        slug = lesson.slug
        outcome = "updated"
        update_fields = ["title", "number", "position", "body_markdown", "body_html", "body_blocks"]
        update_fields += ["source_ref", "source_digest", "is_preview", "updated_at"]
    # The body before: a revision is stored if it changes, and comments on its blocks follow.
    before = None
    if existing := lesson:
        before = Lesson.objects.values_list("body_markdown", "body_blocks").get(pk=existing.pk)
    lesson = rendered.lesson
    lesson.pk = existing.pk if existing else None
    lesson.course, lesson.slug, lesson.title, lesson.number = course, slug, title, number
    lesson.position = lesson_position(number, title)
    lesson.source_ref = source_ref[:1000]
    lesson.source_digest = source_digest
    lesson.is_preview = page.is_preview
    lesson.save(update_fields=update_fields)

    result = ImportResult(lesson, outcome, warnings=warnings)
    lesson.revision_number = existing.revision_number if existing else 0
    if before is None or before[0] != lesson.body_markdown:
        result.revision = revision_record(lesson=lesson, source_ref=source_ref).number
        if before is not None:
            result.anchors = comments_reattach(lesson=lesson, old_blocks=lesson_blocks(before[1]))
    _import_comments(lesson, page, teacher, rendered, result)
    counted = Comment.objects.for_lesson(lesson).counted()
    # Not lesson.save(): that renders the article again, which is most of an import's time.
    Lesson.objects.filter(pk=lesson.pk).update(
        comment_count=counted.count(), thread_count=counted.top_level().count()
    )
    lesson_reindex(lesson)
    comments_reindex(Comment.objects.for_lesson(lesson).values_list("pk", flat=True))
    stamps.pages_changed(lesson_ids=[lesson.pk])
    return result


def _import_comments(
    lesson: Lesson, page: SourcePage, teacher: str, rendered: RenderedPage, result: ImportResult
) -> None:
    keys = _comment_keys(page.comments)
    existing = {
        c.source_key: c
        for c in Comment.objects.filter(
            lesson=lesson, source_key__in=keys + [_reply_key(k) for k in keys]
        )
    }
    members = _members_for(
        [s for k, s in zip(keys, page.comments, strict=True) if k not in existing]
    )
    new_comments: list[Comment] = []
    for key, source in zip(keys, page.comments, strict=True):
        comment = existing.get(key)
        if comment is None:
            comment = rendered.comments[key]
            comment.lesson = lesson
            comment.member = members[_member_key(source.name, source.avatar_url)]
            comment.revision_number = lesson.revision_number
            new_comments.append(comment)
            continue
        changes = {}
        if comment.source_position != source.position:
            changes["source_position"] = source.position
        if source.likes is not None and comment.imported_like_count != source.likes:
            changes["imported_like_count"] = source.likes
            changes["like_count"] = F("like_count") + (source.likes - comment.imported_like_count)
        if source.reply_count is not None and comment.imported_reply_count != source.reply_count:
            changes["imported_reply_count"] = source.reply_count
        if changes:
            Comment.objects.filter(pk=comment.pk).update(**changes)
            result.comments["updated"] += 1
        else:
            result.comments["unchanged"] += 1
    Comment.objects.bulk_create(new_comments)
    result.comments["created"] += len(new_comments)

    replies = [k for k, s in zip(keys, page.comments, strict=True) if s.author_reply]
    if not replies:
        return
    parents = {
        c.source_key: c for c in Comment.objects.filter(lesson=lesson, source_key__in=replies)
    }
    new_replies = []
    for key in replies:
        if _reply_key(key) in existing:
            continue
        reply = rendered.comments[_reply_key(key)]
        name = (teacher or AUTHOR_NAME) if reply.is_author_reply else EDITOR_NAME
        reply.lesson = lesson
        reply.revision_number = lesson.revision_number
        reply.member = _staff_member(lesson.course, name)
        reply.parent = reply.root = parents[key]
        new_replies.append(reply)
    Comment.objects.bulk_create(new_replies)
    result.comments["created"] += len(new_replies)
    # Each parent gets at most one imported reply, so one UPDATE counts them all.
    Comment.objects.filter(pk__in=[r.parent_id for r in new_replies]).update(
        reply_count=F("reply_count") + 1
    )
