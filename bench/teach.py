"""Time the teacher's workspace on a course of 100,000 comments: /teach/ and /teach/glance/.

Run by bench/run.py as `python bench/teach.py` with the site's environment, on a fresh migrated
database (its own, so the page benchmarks' data stay as they are). Seeds one course of 100
lessons and COMMENTS comments over twelve weeks (a quarter of the top-level ones answered by the
teacher, a few replies naming them), then requests each page in-process through the whole
middleware stack, as the teacher, and prints the best and median times as JSON.
"""

# Django is set up before the models are imported.
# ruff: noqa: E402
from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forum.settings")

import django

django.setup()

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from forum.models import Comment, Member
from lessons.models import Course, Lesson

RANDOM_SEED = 20261207
COMMENTS = 100_000
LESSONS = 100
READERS = 2_000
ROUNDS = 7
PAGES = {"queue": "/teach/", "questions": "/teach/?questions=1", "glance": "/teach/glance/"}


@transaction.atomic
def seed() -> Member:
    rng = random.Random(RANDOM_SEED)  # noqa: S311 (reproducible data, not secrets)
    course = Course.objects.create(slug="teach-bench", title="教学压测")
    lessons = Lesson.objects.bulk_create(
        Lesson(course=course, number=n, position=n, slug=f"lesson-{n}", title=f"第{n}讲")
        for n in range(1, LESSONS + 1)
    )
    user = get_user_model().objects.create_user(username="teacher", password=None)
    user.groups.add(Group.objects.get(name="Teachers"))
    teacher = Member.objects.create(user=user, display_name="老师")
    teacher.courses_taught.add(course)
    readers = Member.objects.bulk_create(Member(display_name=f"读者{n}") for n in range(READERS))
    now = timezone.now()
    top_level = Comment.objects.bulk_create(
        Comment(
            lesson=rng.choice(lessons),
            member=rng.choice(readers),
            body=rng.choice(
                ["这里为什么要这样设计？", "学到了，谢谢老师", "请问第二段怎么理解", "打卡"]
            ),
            body_html="<p>…</p>",
            created_at=now - timedelta(minutes=rng.randrange(12 * 7 * 24 * 60)),
        )
        for _ in range(COMMENTS * 3 // 4)
    )
    replies = []
    for parent in top_level[: len(top_level) // 4]:
        replies.append(
            Comment(
                lesson=parent.lesson,
                member=teacher,
                parent=parent,
                root=parent,
                depth=1,
                body="好问题，见下一讲。",
                body_html="<p>…</p>",
                is_author_reply=True,
                created_at=parent.created_at + timedelta(hours=rng.randrange(1, 200)),
            )
        )
    while len(top_level) + len(replies) < COMMENTS:
        parent = rng.choice(top_level)
        replies.append(
            Comment(
                lesson=parent.lesson,
                member=rng.choice(readers),
                parent=parent,
                root=parent,
                depth=1,
                body=rng.choice(["同问", "@teacher 老师看一下", "我也是这么想的"]),
                body_html="<p>…</p>",
                created_at=parent.created_at + timedelta(hours=rng.randrange(1, 100)),
            )
        )
    Comment.objects.bulk_create(replies)
    return teacher


def timed(client: Client, url: str) -> dict:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        response = client.get(url, HTTP_HOST="127.0.0.1")
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return {
        "best_ms": round(min(times) * 1000, 1),
        "median_ms": round(statistics.median(times) * 1000, 1),
    }


def main() -> dict:
    teacher = seed()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    client = Client()
    client.force_login(teacher.user)
    client.get("/teach/", HTTP_HOST="127.0.0.1")  # warm: templates, translations, the plans
    return {
        "comments": Comment.objects.count(),
        "database": connection.vendor,
        **{name: timed(client, url) for name, url in PAGES.items()},
    }


if __name__ == "__main__":
    print(json.dumps(main()))
