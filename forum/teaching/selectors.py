"""Reads of the teacher's workspace: who may use it, and the queue, at a fixed query cost."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse

from forum.models import Comment, Member, QueueDismissal
from forum.teaching.questions import question_filter
from lessons.models import Course

# Who teaches which course: a row of Member.courses_taught.
Teaching = Member.courses_taught.through

QUEUE_SORTS = {"old": ("created_at", "pk"), "new": ("-created_at", "-pk")}
QUEUE_PER_PAGE = 30


@dataclass
class Workspace:
    """Whom the workspace serves and what it covers."""

    member: Member
    is_moderator: bool
    courses: list[Course]  # the courses the queue covers, by title
    # (course id, user name) of every teacher with an account of those courses: an @ of one of
    # these names in a reply asks that teacher.
    teacher_names: list[tuple[int, str]] = field(default_factory=list)

    def teaches(self, course_id: int) -> bool:
        return any(course.pk == course_id for course in self.taught)

    @property
    def taught(self) -> list[Course]:
        return [course for course in self.courses if getattr(course, "taught", False)]


def workspace_for(user: AbstractBaseUser, member: Member) -> Workspace:
    """The workspace of a teacher (their courses) or a moderator (every course); anyone else is
    refused. Two queries: the courses, the teachers' names."""
    is_moderator = user.has_perm("forum.moderate_comment")
    courses = Course.objects.only("pk", "slug", "title").order_by("title", "pk")
    taught = Exists(Teaching.objects.filter(member=member, course=OuterRef("pk")))
    courses = courses.annotate(taught=taught)
    if not is_moderator:
        if not user.has_perm("forum.curate_own_lessons") or member.is_suspended:
            raise PermissionDenied
        courses = courses.filter(taught=True)
    courses = list(courses)
    if not courses and not is_moderator:
        raise PermissionDenied
    names = list(
        Teaching.objects.filter(course__in=[c.pk for c in courses], member__user__is_active=True)
        .values_list("course_id", "member__user__username")
        .distinct()
    )
    return Workspace(member, is_moderator, courses, names)


def waiting(workspace: Workspace) -> QuerySet[Comment]:
    """Comments of the workspace's courses that wait for a teacher's answer: visible to all
    (published, not deleted), not by a teacher of the course, either top-level or replying to
    a teacher's comment or naming a teacher of the course with @, with no 作者回复 yet
    (`forum.selectors.author_reply_of`), and not marked "不需要回复"."""
    teaches_course = Teaching.objects.filter(course=OuterRef("lesson__course"))
    answered = Comment.objects.counted().filter(parent=OuterRef("pk"), is_author_reply=True)
    asks_teacher = (
        Q(parent__isnull=True)
        | Q(parent__is_author_reply=True)
        | Exists(teaches_course.filter(member=OuterRef("parent__member")))
    )
    for course_id, username in workspace.teacher_names:
        asks_teacher |= Q(lesson__course_id=course_id, body__contains=f"@{username}")
    return (
        Comment.objects.counted()
        .filter(lesson__course__in=[c.pk for c in workspace.courses], is_author_reply=False)
        .filter(asks_teacher)
        .exclude(Exists(teaches_course.filter(member=OuterRef("member"))))
        .exclude(Exists(answered))
        .exclude(Exists(QueueDismissal.objects.filter(comment=OuterRef("pk"))))
    )


@dataclass(frozen=True)
class QueueFilter:
    course: Course | None = None
    lesson_id: int | None = None
    questions: bool = False
    sort: str = "old"
    page: int = 1

    def apply(self, comments: QuerySet[Comment], *, lesson: bool = True) -> QuerySet[Comment]:
        if self.course is not None:
            comments = comments.filter(lesson__course=self.course)
        if lesson and self.lesson_id is not None:
            comments = comments.filter(lesson_id=self.lesson_id)
        if self.questions:
            comments = comments.filter(question_filter())
        return comments


@dataclass(frozen=True)
class LessonCount:
    lesson_id: int
    title: str
    course_title: str
    url: str
    waiting: int


@dataclass
class Queue:
    comments: list[Comment]
    has_next: bool
    lessons: list[LessonCount]  # waiting per lesson under the filter (not the lesson's), most first

    @property
    def total(self) -> int:
        return sum(count.waiting for count in self.lessons)


def lesson_counts(comments: QuerySet[Comment]) -> list[LessonCount]:
    """How many of `comments` each lesson holds, most first: one query."""
    fields = ("lesson_id", "lesson__title", "lesson__slug", "lesson__course__title")
    rows = (
        comments.order_by()
        .values(*fields, "lesson__course__slug")
        .annotate(waiting=Count("pk"))
        .values_list(*fields, "lesson__course__slug", "waiting")
    )
    counts = [
        LessonCount(
            pk,
            title,
            course_title,
            reverse("forum:lesson", kwargs={"course_slug": course_slug, "lesson_slug": slug}),
            count,
        )
        for pk, title, slug, course_title, course_slug, count in rows
    ]
    return sorted(counts, key=lambda c: (-c.waiting, c.course_title, c.title, c.lesson_id))


def queue_for(
    workspace: Workspace, choice: QueueFilter, *, per_page: int = QUEUE_PER_PAGE
) -> Queue:
    """A page of the queue and the count per lesson: two queries."""
    pending = choice.apply(waiting(workspace))
    start = (choice.page - 1) * per_page
    rows = list(
        pending.select_related("member", "lesson__course", "parent__member")
        .defer(
            "lesson__body_markdown",
            "lesson__body_html",
            "lesson__body_blocks",
            "lesson__course__description",
        )
        .order_by(*QUEUE_SORTS[choice.sort])[start : start + per_page + 1]
    )
    counts = lesson_counts(choice.apply(waiting(workspace), lesson=False))
    return Queue(rows[:per_page], len(rows) > per_page, counts)


def dismissed_for(workspace: Workspace, choice: QueueFilter) -> list[QueueDismissal]:
    """Comments marked "不需要回复" in the workspace's courses, newest mark first: one query."""
    marks = QueueDismissal.objects.filter(
        comment__lesson__course__in=[c.pk for c in workspace.courses]
    )
    if choice.course is not None:
        marks = marks.filter(comment__lesson__course=choice.course)
    if choice.lesson_id is not None:
        marks = marks.filter(comment__lesson_id=choice.lesson_id)
    return list(
        marks.select_related("member", "comment__member", "comment__lesson__course")
        .defer(
            "comment__lesson__body_markdown",
            "comment__lesson__body_html",
            "comment__lesson__body_blocks",
            "comment__lesson__course__description",
        )
        .order_by("-created_at", "-pk")[:200]
    )
