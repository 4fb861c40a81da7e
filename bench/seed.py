"""Seed a bench database: a 10,000-comment lesson, a scratch lesson for replies, and members
with sessions, on top of the imported seed lesson. Prints what the load generator needs as JSON.

Run by bench/run.py as `python bench/seed.py` with the site's environment (DATABASE_URL,
REDIS_URL…), on a fresh database holding only the imported seed lesson. Deterministic: the same
random seed, so every run measures the same data.
"""

# Django is set up before the models are imported.
# ruff: noqa: E402
from __future__ import annotations

import json
import math
import os
import random
import re
import sys
from datetime import timedelta
from importlib import import_module
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forum.settings")

import django

django.setup()

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from forum.models import Comment, CommentLike, Member
from lessons.models import Course, Lesson
from lessons.rendering import render_comment_markdown

RANDOM_SEED = 20261129
TOP_LEVEL = 2_000
TOTAL = 10_000
MAX_DEPTH = 6
THREAD_CAP = 80  # the longest thread: a hot question, not a chat room
COMMENTERS = 1_500
TEXTS = 2_500  # distinct comment texts
FEATURED = 40
LIKERS = 32
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志斌文博宇浩然子轩晨阳欣怡思雨"
HANDLES = ["同学", "", "", "老师", "_dev", "2024", "爱学习", "Coder", "", "小白"]


def sentences_from(lesson: Lesson) -> list[str]:
    """The seed lesson's own sentences: its article and its comments, split at 。！？ and lines."""
    texts = [lesson.body_markdown, *lesson.comments.values_list("body", flat=True)]
    found = []
    for text in texts:
        for piece in re.split(r"(?<=[。！？!?])|\n+", text):
            piece = re.sub(r"[#>*`|\[\]()!_-]+|https?://\S+", "", piece).strip()
            if sum("\u4e00" <= char <= "\u9fff" for char in piece) >= 6:
                found.append(piece)
    return found


def comment_text(rng: random.Random, sentences: list[str]) -> str:
    """20–400 characters, most of them short, as in real course discussions."""
    length = int(min(400, max(20, rng.lognormvariate(math.log(70), 0.75))))
    parts: list[str] = []
    size = 0
    while size < length:
        sentence = rng.choice(sentences)
        parts.append(sentence + ("\n\n" if rng.random() < 0.12 else ""))
        size += len(sentence)
    return "".join(parts)[:length].strip()


def long_tail_likes(rng: random.Random, scale: float) -> int:
    """Pareto: most comments have no or a few likes, a handful have thousands."""
    return min(5_000, int(scale * (rng.paretovariate(1.1) - 1)))


def members_for_commenters(rng: random.Random) -> list[Member]:
    members = [
        Member(
            display_name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(HANDLES),
            import_key=f"bench-commenter-{n}",
        )
        for n in range(COMMENTERS)
    ]
    return Member.objects.bulk_create(members)


def thread_sizes(rng: random.Random) -> list[int]:
    """How many replies each of the top-level comments gets: long-tailed, capped."""
    weights = [rng.paretovariate(1.3) for _ in range(TOP_LEVEL)]
    sizes = [0] * TOP_LEVEL
    remaining = TOTAL - TOP_LEVEL
    while remaining:
        for index in rng.choices(range(TOP_LEVEL), weights=weights, k=remaining):
            if sizes[index] < THREAD_CAP and remaining:
                sizes[index] += 1
                remaining -= 1
    return sizes


def big_lesson(rng: random.Random, course: Course, seed: Lesson, sentences: list[str]) -> Lesson:
    """The seed lesson's article with 2,000 top-level comments and 8,000 replies nested up to
    six deep: the same page as the seed's, only with more discussion."""
    lesson = Lesson.objects.create(
        course=course, number=2, position=2, title="一万条留言", body_markdown=seed.body_markdown
    )
    commenters = members_for_commenters(rng)
    author_weights = list(accumulate(1 / (rank + 1) ** 1.1 for rank in range(len(commenters))))
    now = timezone.now()
    start = now - timedelta(days=700)

    # Rendering is most of the seeding time: draw the texts from a pool of distinct ones.
    texts = [comment_text(rng, sentences) for _ in range(TEXTS)]
    rendered = {text: render_comment_markdown(text) for text in texts}

    def new_comment(**fields) -> Comment:
        body = rng.choice(texts)
        return Comment(
            lesson=lesson,
            member=rng.choices(commenters, cum_weights=author_weights)[0],
            body=body,
            body_html=rendered[body],
            **fields,
        )

    featured = {
        index: position
        for position, index in enumerate(sorted(rng.sample(range(TOP_LEVEL), FEATURED)))
    }
    roots = []
    for index in range(TOP_LEVEL):
        likes = long_tail_likes(rng, 3.0)
        roots.append(
            new_comment(
                created_at=start + timedelta(seconds=rng.uniform(0, 690 * 86400)),
                is_featured=index in featured,
                source_position=featured.get(index),
                imported_like_count=likes,
                like_count=likes,
            )
        )
    roots = Comment.objects.bulk_create(roots, batch_size=500)

    # Lay the replies out in memory first, then insert them level by level: every parent has
    # its primary key by the time its children are written.
    levels: list[list[Comment]] = [[] for _ in range(MAX_DEPTH + 1)]
    for root, size in zip(roots, thread_sizes(rng), strict=True):
        thread = [root]
        for _ in range(size):
            open_parents = [c for c in thread if c.depth < MAX_DEPTH]
            parent = root if rng.random() < 0.4 else rng.choice(open_parents[-12:])
            likes = long_tail_likes(rng, 0.8)
            reply = new_comment(
                parent=parent,
                root=root,
                depth=parent.depth + 1,
                created_at=min(now, parent.created_at + timedelta(minutes=rng.uniform(1, 7200))),
                imported_like_count=likes,
                like_count=likes,
            )
            parent.reply_count += 1
            thread.append(reply)
            levels[reply.depth].append(reply)
    for level in levels[1:]:
        Comment.objects.bulk_create(level, batch_size=500)
    # Replies got their reply_count before they were inserted; the roots were inserted first.
    Comment.objects.bulk_update([r for r in roots if r.reply_count], ["reply_count"], 500)
    total = len(roots) + sum(len(level) for level in levels)
    Lesson.objects.filter(pk=lesson.pk).update(comment_count=total)
    return lesson


def scratch_lesson(course: Course, seed: Lesson) -> Lesson:
    """Where the reply benchmark writes, so that the measured lessons never grow."""
    lesson = Lesson.objects.create(course=course, number=3, position=3, title="回复压测")
    copies = [
        Comment(lesson=lesson, member=c.member, body=c.body, body_html=c.body_html)
        for c in seed.comments.filter(parent__isnull=True).order_by("pk")
    ]
    Comment.objects.bulk_create(copies)
    Lesson.objects.filter(pk=lesson.pk).update(comment_count=len(copies))
    return lesson


def session_for(user: AbstractBaseUser) -> str:
    """A logged-in session, as django.contrib.auth.login() would store it."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def bench_members(count: int, prefix: str) -> list[tuple[Member, str]]:
    """Accounts with members and logged-in sessions (no login round trip per worker)."""
    user_model = get_user_model()
    password = make_password(None)
    users = user_model.objects.bulk_create(
        [
            user_model(
                username=f"{prefix}{n:02d}",
                email=f"{prefix}{n:02d}@bench.invalid",
                password=password,
            )
            for n in range(count)
        ]
    )
    members = Member.objects.bulk_create(
        [Member(user=user, display_name=f"压测{prefix}{n:02d}") for n, user in enumerate(users)]
    )
    return [(member, session_for(user)) for member, user in zip(members, users, strict=True)]


def like(member: Member, comments: list[Comment]) -> None:
    CommentLike.objects.bulk_create([CommentLike(member=member, comment=c) for c in comments])
    for comment in comments:
        Comment.objects.filter(pk=comment.pk).update(like_count=F("like_count") + 1)


def seed_export(lesson: Lesson) -> dict:
    """The seed lesson as the peer project loads it: title, article and threaded comments."""
    comments = lesson.comments.select_related("member").order_by("depth", "created_at", "pk")
    return {
        "title": lesson.title,
        "html": lesson.body_html,
        "comments": [
            {
                "id": c.pk,
                "parent": c.parent_id,
                "name": c.member.display_name,
                "body": c.body,
                "created_at": c.created_at.isoformat(),
            }
            for c in comments
        ],
    }


@transaction.atomic
def main() -> dict:
    rng = random.Random(RANDOM_SEED)  # noqa: S311 (reproducible data, not secrets)
    seed = Lesson.objects.select_related("course").get()  # the only lesson so far
    sentences = sentences_from(seed)
    course = Course.objects.create(slug="bench", title="性能测试")
    big = big_lesson(rng, course, seed, sentences)
    scratch = scratch_lesson(course, seed)

    (reader, reader_session), *_ = bench_members(1, "reader")
    likers = bench_members(LIKERS, "liker")
    seed_comments = list(seed.comments.filter(parent__isnull=True).order_by("pk"))
    # Likes of the accounts on what the first pages show: rows the signed-in pages look up.
    featured = list(Comment.objects.filter(lesson=big, is_featured=True).order_by("pk"))
    like(reader, seed_comments[:4] + featured[:8])
    for member, _session in likers:
        like(member, rng.sample(featured, 6))

    return {
        "seed_export": seed_export(seed),
        "seed_url": seed.get_absolute_url(),
        "seed_lesson_id": seed.pk,
        "seed_comment_ids": [c.pk for c in seed_comments],
        "big_url": big.get_absolute_url(),
        "big_lesson_id": big.pk,
        "big_thread_id": Comment.objects.filter(lesson=big, depth=0)
        .order_by("-reply_count")
        .values_list("pk", flat=True)[0],
        "scratch_comment_ids": list(
            Comment.objects.filter(lesson=scratch).order_by("pk").values_list("pk", flat=True)
        ),
        "scratch_lesson_id": scratch.pk,
        "reader": {"member_id": reader.pk, "session": reader_session},
        "likers": [{"member_id": m.pk, "session": s} for m, s in likers],
        "session_cookie": settings.SESSION_COOKIE_NAME,
    }


def analyze() -> None:
    """What autovacuum does soon after a bulk load; without it the planner believes the new
    tables are nearly empty and PostgreSQL picks plans no running site would get."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


if __name__ == "__main__":
    print(json.dumps(main()))
    analyze()
