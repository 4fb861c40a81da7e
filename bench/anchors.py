"""Time the lesson page with its blocks' comment counts beside the same page without anchors.

Run by bench/run.py as `python bench/anchors.py` with the site's environment, on a fresh
migrated database of its own. Two lessons hold the same article (the seed's newer revision from
the shared corpus when it is there, else the seed) and COMMENTS comments each; on the first a
third of them are on its blocks. The second is shown as the page was before anchors: its body in
one piece (no block's controls) and no count query. Each page is requested in-process through the
whole middleware stack by a reader who is not signed in, the page cache emptied before every
request (so each is a full render: what the first reader after a write waits for); prints the
best and median times as JSON.
"""

# Django is set up before the models are imported.
# ruff: noqa: E402
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forum.settings")

import django

django.setup()

from django.conf import settings
from django.db import connection, transaction
from django.test import Client

from forum.caching import pages
from forum.importing.source import parse_page
from forum.models import Comment, Member
from forum.views import discussion
from lessons.models import Course, Lesson

COMMENTS = 10_000
ROUNDS = 15
SEED = ROOT / "forum/seed/AI大模型实战高手课/01-洞察本质：从工程学角度看ChatGPT为什么会崛起.md"
NEWER = "ai-course/01-洞察本质：从工程学角度看ChatGPT为什么会崛起.md"


def article() -> str:
    corpus = Path(os.environ.get("LESSON_FORUM_CORPUS", ROOT.parent / "shared" / "corpus"))
    page = corpus / NEWER if (corpus / NEWER).is_file() else SEED
    return parse_page(page.read_bytes()).body_markdown


@transaction.atomic
def seed() -> tuple[Lesson, Lesson]:
    course = Course.objects.create(slug="anchors-bench", title="锚点压测")
    body = article()
    anchored, plain = (
        Lesson.objects.create(
            course=course, number=n, slug=f"lesson-{n}", title=f"第{n}讲", body_markdown=body
        )
        for n in (1, 2)
    )
    # Before anchors the page showed the body in one piece.
    Lesson.objects.filter(pk=plain.pk).update(body_blocks=[{"block_html": plain.body_html}])
    readers = Member.objects.bulk_create(Member(display_name=f"读者{n}") for n in range(200))
    anchors = list(anchored.blocks)
    for lesson in (anchored, plain):
        Comment.objects.bulk_create(
            Comment(
                lesson=lesson,
                member=readers[i % len(readers)],
                body="这一段怎么理解？",
                body_html="<p>这一段怎么理解？</p>",
                block_id=anchors[i % len(anchors)] if lesson is anchored and i % 3 == 0 else "",
                block_quote=anchored.blocks[anchors[i % len(anchors)]][:500] if i % 3 == 0 else "",
            )
            for i in range(COMMENTS)
        )
        counted = Comment.objects.filter(lesson=lesson)
        Lesson.objects.filter(pk=lesson.pk).update(
            comment_count=counted.count(), thread_count=counted.count()
        )
    return anchored, plain


def timed(client: Client, url: str) -> dict:
    times = []
    for _ in range(ROUNDS):
        # Neither this process's copies nor, where Redis is configured, the shared ones.
        pages.local_pages.clear()
        started = time.perf_counter()
        response = client.get(url, HTTP_HOST="127.0.0.1")
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return {
        "best_ms": round(min(times) * 1000, 1),
        "median_ms": round(statistics.median(times) * 1000, 1),
        "bytes": len(response.content),
    }


def main() -> dict:
    anchored, plain = seed()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    settings.FORUM_PAGE_CACHE_SHARED = False  # every request a full render (see timed)
    client = Client()
    client.get(anchored.get_absolute_url(), HTTP_HOST="127.0.0.1")  # warm: templates, plans
    with_anchors = timed(client, anchored.get_absolute_url())
    counts = discussion.block_counts
    discussion.block_counts = lambda lesson: {}  # the page before anchors: no count query
    try:
        without = timed(client, plain.get_absolute_url())
    finally:
        discussion.block_counts = counts
    return {
        "comments": COMMENTS,
        "blocks": len(anchored.blocks),
        "database": connection.vendor,
        "with_anchors": with_anchors,
        "without_anchors": without,
        "ratio": round(with_anchors["median_ms"] / without["median_ms"], 2),
    }


if __name__ == "__main__":
    print(json.dumps(main()))
