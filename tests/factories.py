from __future__ import annotations

import importlib
from datetime import timedelta

import factory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.models import F, Max
from django.utils import timezone

from forum.models import Comment, CommentLike, Member
from forum.moderation import counters_move
from lessons.models import Course, Lesson
from lessons.rendering import render_plain_text

PASSWORD = "correct-horse-battery-staple-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"reader{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password(PASSWORD)


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    title = factory.Sequence(lambda n: f"课程{n}")
    slug = factory.Sequence(lambda n: f"course-{n}")
    teacher = "独行"


class LessonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lesson

    course = factory.SubFactory(CourseFactory)
    number = factory.Sequence(lambda n: n + 1)
    position = factory.LazyAttribute(lambda lesson: lesson.number)
    title = factory.Sequence(lambda n: f"第{n + 1}讲")
    slug = factory.Sequence(lambda n: f"lesson-{n + 1}")
    body_markdown = "你好，我是独行。\n\n## 小结\n\n**重点**在这里。"


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    display_name = factory.Sequence(lambda n: f"读者{n}")
    avatar_url = ""


class CommentFactory(factory.django.DjangoModelFactory):
    """A comment, with the counters that count it moved as the services would."""

    class Meta:
        model = Comment

    @classmethod
    def _create(cls, model_class, *args, **kwargs) -> Comment:
        comment = super()._create(model_class, *args, **kwargs)
        if comment.status == Comment.Status.PUBLISHED and comment.deleted_at is None:
            counters_move(comment, +1)
        return comment

    lesson = factory.SubFactory(LessonFactory)
    member = factory.SubFactory(MemberFactory)
    body = factory.Sequence(lambda n: f"第{n}条留言：讲得很清楚，收获很大。")
    body_html = factory.LazyAttribute(lambda comment: render_plain_text(comment.body))
    parent = None
    root = factory.LazyAttribute(
        lambda comment: (comment.parent.root or comment.parent) if comment.parent else None
    )


def lesson_admin_form(lesson: Lesson, **changes) -> dict:
    """What the admin's lesson form posts for `lesson` as it is, with `changes`."""
    fields = ("title", "slug", "number", "position", "body_markdown")
    return {name: getattr(lesson, name) for name in fields} | {"course": lesson.course_id} | changes


def role(name: str) -> Group:
    """A role group as the data migration made it; re-made when a transactional test (which
    empties every table) has removed it."""
    group, created = Group.objects.get_or_create(name=name)
    if created:
        roles = importlib.import_module("forum.migrations.0005_roles").ROLES
        grants = [
            importlib.import_module(f"forum.migrations.{migration}").GRANTS.get(name, [])
            for migration in ("0016_moderators_view_notifications", "0019_member_claims")
        ]
        group.permissions.set(
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in [*roles[name], *(grant for more in grants for grant in more)]
        )
    return group


def teacher_of(course: Course, **user_fields) -> Member:
    """A site account in the Teachers role whose member teaches `course`."""
    user = UserFactory(**user_fields)
    user.groups.add(role("Teachers"))
    member, _ = Member.objects.get_or_create(user=user, defaults={"display_name": user.username})
    member.courses_taught.add(course)
    return member


def moderator(**user_fields):
    """A site account in the Moderators role, with admin access."""
    user = UserFactory(is_staff=True, **user_fields)
    user.groups.add(role("Moderators"))
    return user


def established_member(**user_fields) -> Member:
    """A member whose reports count (forum.trust): an account older than
    FORUM_REPORT_TRUSTED_AFTER_DAYS with FORUM_REPORT_TRUSTED_COMMENTS visible comments."""
    days = settings.FORUM_REPORT_TRUSTED_AFTER_DAYS + 1
    user = UserFactory(date_joined=timezone.now() - timedelta(days=days), **user_fields)
    member, _ = Member.objects.get_or_create(user=user, defaults={"display_name": user.username})
    CommentFactory.create_batch(settings.FORUM_REPORT_TRUSTED_COMMENTS, member=member)
    return member


def members_in_bulk(n: int, *, prefix: str = "fan") -> list[int]:
    """`n` members named `prefix`0 … `prefix`{n-1}, their ids in that order, in one
    INSERT … SELECT: `bulk_create` spends some 75 µs of Python a row (100,000 members and their
    likes took 15 s on SQLite, 6 s on PostgreSQL)."""
    template = Member(display_name="")
    columns, values, params = [], [], []
    for field in Member._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.attname == "display_name":
            values.append("CAST(%s AS VARCHAR(50)) || CAST(n.i AS VARCHAR(20))")
            params.append(prefix)
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.pre_save(template, add=True), connection))
    before = Member.objects.aggregate(last=Max("pk"))["last"] or 0
    with connection.cursor() as cursor:
        cursor.execute(
            # Table and column names from the model; every value is a parameter.
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < %s) "  # noqa: S608
            f"INSERT INTO {Member._meta.db_table} ({', '.join(columns)}) "
            f"SELECT {', '.join(values)} FROM n ORDER BY n.i",
            [n, *params],
        )
    return list(Member.objects.filter(pk__gt=before).order_by("pk").values_list("pk", flat=True))


def likes_in_bulk(comment: Comment, member_ids: list[int]) -> None:
    """A like of `comment` by each of `member_ids` (from `members_in_bulk`: consecutive), the
    later the newer, in one INSERT … SELECT; the comment's count moves with them."""
    first, last = member_ids[0], member_ids[-1]
    assert member_ids == list(range(first, last + 1))
    table, member = CommentLike._meta.db_table, Member._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (member_id, comment_id, created_at) "  # noqa: S608
            f"SELECT id, %s, %s FROM {member} WHERE id BETWEEN %s AND %s ORDER BY id",
            [comment.pk, timezone.now(), first, last],
        )
    Comment.objects.filter(pk=comment.pk).update(like_count=F("like_count") + len(member_ids))
