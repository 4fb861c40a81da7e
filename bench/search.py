"""Search at 100,000 comments: the time of a first result page, beside the lesson page.

Run by bench/run.py as `python bench/search.py` with a seeded site's environment (after
bench/seed.py), once per database; prints JSON. It adds a course of 20 generated lessons with
5,000 comments each, drawn from real sentences like bench/seed.py's, indexes them in bulk
(forum.search.documents, as `search_index --rebuild` writes them), then times in-process
calls of `search()` and requests through the whole site (Django's test client: middleware,
view, template) — short queries (two characters), long ones (six to ten, and two terms) and
the generated lessons' pages — each `SAMPLES` times: median and p99 in milliseconds.
Deterministic.
"""

# Django is set up before the models are imported.
# ruff: noqa: E402
from __future__ import annotations

import json
import math
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forum.settings")

import django

django.setup()

from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from forum.models import Comment, Member, SearchDocument
from forum.search import search
from forum.search.documents import comment_document
from forum.search.tokenizer import CJK
from lessons.models import Course, Lesson

RANDOM_SEED = 20261207
LESSONS = 20
PER_LESSON = 5_000
SAMPLES = 200
BATCH = 2_000


def sentences() -> list[str]:
    """Real sentences, as bench/seed.py takes them: those of the shared corpus's pages
    (articles and comments, $LESSON_FORUM_CORPUS or ../shared/corpus) when it is there, so
    that words are as frequent as in real courses; else the seed lesson's few hundred, which
    make every query match thousands of comments."""
    corpus = Path(os.environ.get("LESSON_FORUM_CORPUS", ROOT.parent / "shared" / "corpus"))
    if corpus.is_dir():
        texts = [p.read_text(errors="replace") for p in sorted(corpus.rglob("*.md"))]
    else:
        seed = Lesson.objects.exclude(course__slug__in=["bench", "bench-search"]).order_by("pk")[0]
        texts = [seed.body_markdown, *seed.comments.values_list("body", flat=True)]
    found = []
    for text in texts:
        text = re.sub(r"<[^>]*>|&[#\w]+;|[\x00-\x08\x0b-\x1f]", " ", text)
        for piece in re.split(r"(?<=[。！？!?])|\n+", text):
            piece = re.sub(r"[#>*`|\[\]()!_-]+|https?://\S+", "", piece).strip()
            if sum("\u4e00" <= char <= "\u9fff" for char in piece) >= 6:
                found.append(piece)
    return sorted(set(found))


def comment_text(rng: random.Random, pool: list[str]) -> str:
    length = int(min(400, max(20, rng.lognormvariate(math.log(70), 0.75))))
    parts, size = [], 0
    while size < length:
        sentence = rng.choice(pool)
        parts.append(sentence)
        size += len(sentence)
    return "".join(parts)[:length].strip()


@transaction.atomic
def generate(rng: random.Random, pool: list[str]) -> list[Lesson]:
    course = Course.objects.create(slug="bench-search", title="搜索压测")
    members = Member.objects.bulk_create(
        Member(display_name=f"搜索读者{n}", slug=f"~bench-search-{n}") for n in range(1_000)
    )
    start = timezone.now() - timedelta(days=700)
    lessons = []
    for number in range(LESSONS):
        lesson = Lesson.objects.create(
            course=course, number=number + 1, position=number + 1, title=f"搜索压测第{number + 1}讲"
        )
        lessons.append(lesson)
        for first in range(0, PER_LESSON, BATCH):
            comments = []
            for _ in range(min(BATCH, PER_LESSON - first)):
                body = comment_text(rng, pool)
                comments.append(
                    Comment(
                        lesson=lesson,
                        member=rng.choice(members),
                        body=body,
                        body_html=f"<p>{escape(body)}</p>",
                        created_at=start + timedelta(seconds=rng.uniform(0, 690 * 86400)),
                    )
                )
            Comment.objects.bulk_create(comments)
            SearchDocument.objects.bulk_create(
                comment_document(comment, course.pk) for comment in comments
            )
        Lesson.objects.filter(pk=lesson.pk).update(
            comment_count=PER_LESSON, thread_count=PER_LESSON
        )
    return lessons


def queries(rng: random.Random, pool: list[str]) -> dict[str, list[str]]:
    runs = [run for s in pool for run in re.findall(f"[{CJK}]{{10,}}", s)]

    def cut(length: int) -> str:
        run = rng.choice(runs)
        start = rng.randrange(len(run) - length + 1)
        return run[start : start + length]

    return {
        "short": [cut(2) for _ in range(50)],
        "long": [cut(rng.randint(6, 10)) for _ in range(40)]
        + [f"{cut(2)} {cut(3)}" for _ in range(10)],
    }


def get(client: Client, path: str) -> None:
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")


def timed(ask: Callable[[str], object], asked: list[str]) -> dict[str, float]:
    for one in asked[:5]:  # warm: templates compiled, connection open
        ask(one)
    samples = []
    for number in range(SAMPLES):
        started = time.perf_counter()
        ask(asked[number % len(asked)])
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": statistics.median(samples),
        "p99_ms": samples[math.ceil(0.99 * len(samples)) - 1],
        "requests": len(samples),
    }


def main() -> dict:
    rng = random.Random(RANDOM_SEED)  # noqa: S311 (reproducible data, not secrets)
    pool = sentences()
    started = time.perf_counter()
    lessons = generate(rng, pool)
    generated = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE forum_searchdocument")
            cursor.execute("VACUUM ANALYZE forum_comment")
    asked = queries(rng, pool)
    client = Client(SERVER_NAME="127.0.0.1")
    hits = [
        len(re.findall("data-search-hit", client.get("/search/?" + urlencode({"q": q})).text))
        for q in asked["short"][:10]
    ]
    results = {
        "database": connection.vendor,
        "comments": Comment.objects.filter(lesson__in=lessons).count(),
        "documents": SearchDocument.objects.count(),
        "generate_seconds": generated,
        "first_page_hits_short": hits,
    }
    page = partial(get, client)
    for name, found in asked.items():
        # The first page of results alone (the index, the documents, the snippets), then the
        # whole page, best match and newest first.
        results[f"results_{name}"] = timed(search, found)
        results[f"search_{name}"] = timed(page, ["/search/?" + urlencode({"q": q}) for q in found])
        results[f"search_{name}_newest"] = timed(
            page, ["/search/?" + urlencode({"q": q, "order": "newest"}) for q in found]
        )
    results["lesson_page"] = timed(page, [lesson.get_absolute_url() for lesson in lessons])
    results["examples"] = {name: found[:5] for name, found in asked.items()}
    return results


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False))
