from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from lessons.models import Course, Lesson

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
