"""What `make bench` checks inside Django: SQL queries per page, and the rows after the load.

`python bench/checks.py queries SEED_JSON` runs each page twice through Django's test client
and counts the queries (first request, then warm), with `EXPLAIN ANALYZE` of the first one's
SELECTs on PostgreSQL; `python bench/checks.py rows SEED_JSON
EXPECTED_JSON` compares the like and reply rows the load left with what its responses said.
Both print JSON. Run by bench/run.py with the site's environment.
"""

# Django is set up before the models are imported.
# ruff: noqa: E402
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forum.settings")

import django

django.setup()

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from forum.models import Comment, CommentLike


def count(client: Client, method: str, path: str, **extra) -> tuple[int, int, list[str]]:
    """Queries of the first and of a second, identical request, and the first one's SQL;
    fails on an error status."""
    counts, first = [], []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, method)(path, **extra)
        if response.status_code >= 400:
            raise SystemExit(f"{method.upper()} {path} answered {response.status_code}")
        counts.append(len(queries))
        first = first or [query["sql"] for query in queries.captured_queries]
    return counts[0], counts[1], first


def plan(sql: str) -> dict:
    """What PostgreSQL does for a SELECT: each table's scan (and index), and the time taken."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        (explained,) = cursor.fetchone()
    if isinstance(explained, str):
        explained = json.loads(explained)
    scans, nodes = [], [explained[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        nodes.extend(node.get("Plans", []))
        if "Relation Name" in node:
            index = f" using {node['Index Name']}" if node.get("Index Name") else ""
            scans.append(f"{node['Relation Name']}: {node['Node Type']}{index}")
    return {"scans": sorted(scans), "ms": explained[0]["Execution Time"]}


def queries(seed: dict) -> dict:
    anonymous = Client(HTTP_HOST="127.0.0.1")
    reader = Client(HTTP_HOST="127.0.0.1")
    user = get_user_model().objects.get(member__pk=seed["reader"]["member_id"])
    reader.force_login(user)
    htmx = {"headers": {"HX-Request": "true"}}
    liked = seed["seed_comment_ids"][-1]  # not one the reader already likes
    thread = f"/comments/{seed['big_thread_id']}/"
    pages = {
        "seed lesson, anonymous": (anonymous, "get", seed["seed_url"], {}),
        "seed lesson, signed in": (reader, "get", seed["seed_url"], {}),
        "10k lesson page 1, anonymous": (anonymous, "get", seed["big_url"], {}),
        "10k lesson page 1, signed in": (reader, "get", seed["big_url"], {}),
        "10k lesson page 50, anonymous": (anonymous, "get", seed["big_url"] + "?page=50", {}),
        "10k lesson sorted by hot, signed in": (reader, "get", seed["big_url"] + "?sort=hot", {}),
        "10k lesson's longest thread (permalink)": (reader, "get", thread, {}),
        "like (htmx POST)": (reader, "post", f"/comments/{liked}/like/", htmx),
        "unlike (htmx POST)": (reader, "post", f"/comments/{liked}/unlike/", htmx),
    }
    result, plans = {}, {}
    for name, (client, method, path, extra) in pages.items():
        first, again, sql = count(client, method, path, **extra)
        result[name] = (first, again)
        if connection.vendor == "postgresql" and method == "get":
            plans[name] = [plan(q) for q in sql if q.lstrip().upper().startswith("SELECT")]
    # A reply is not idempotent: one request, on the scratch lesson.
    with CaptureQueriesContext(connection) as captured:
        response = reader.post(
            f"/comments/{seed['scratch_comment_ids'][0]}/reply/", {"body": "查询计数"}, **htmx
        )
    if response.status_code >= 400:
        raise SystemExit(f"reply answered {response.status_code}")
    result["reply (htmx POST)"] = (len(captured), None)
    return {"counts": result, "plans": plans}


def rows(seed: dict, expected: dict) -> dict:
    """The likers' like rows on the seed lesson and their replies on the scratch lesson."""
    liker_ids = [liker["member_id"] for liker in seed["likers"]]
    likes = sorted(
        CommentLike.objects.filter(
            member_id__in=liker_ids, comment__lesson_id=seed["seed_lesson_id"]
        ).values_list("member_id", "comment_id")
    )
    replies = Comment.objects.filter(
        member_id__in=liker_ids, lesson_id=seed["scratch_lesson_id"]
    ).count()
    want = sorted(tuple(pair) for pair in expected["likes"])
    return {
        "like_rows": len(likes),
        "like_rows_expected": len(want),
        "likes_match": [list(pair) for pair in likes] == [list(pair) for pair in want],
        "reply_rows": replies,
        "reply_rows_expected": expected["replies"],
    }


if __name__ == "__main__":
    seed_data = json.loads(Path(sys.argv[2]).read_text())
    if sys.argv[1] == "queries":
        print(json.dumps(queries(seed_data)))
    else:
        print(json.dumps(rows(seed_data, json.loads(Path(sys.argv[3]).read_text()))))
