"""The report of `make bench`: the table, the checks of issue 8, and docs/performance.md."""

from __future__ import annotations

import os
import platform
import statistics
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from targets import LIKERS, READERS, REPLIERS, Target


@dataclass
class Check:
    what: str
    needed: str
    measured: str
    passed: bool | None  # None: not measured in this run


def ratio_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def checks(targets: dict[str, Target], main: str, verified: dict) -> list[Check]:
    """Done means 8 of issue 13, as medians of per-round ratios, with their spread."""

    def ratio(what: str, key: str, other: str, needed: float) -> Check:
        rounds = targets[key].ratios(targets.get(other)) if key in targets else []
        value = statistics.median(rounds) if rounds else None
        passed = None if value is None else value >= needed
        measured = ratio_text(value)
        if len(rounds) > 1:  # the spread: the lowest and highest round
            measured += f" ({min(rounds):.2f}–{max(rounds):.2f})"
        return Check(what, f"≥ {needed:g}×", measured, passed)

    found = [
        ratio("anonymous seed lesson ÷ framework floor", f"{main}-seed-anon", "floor", 0.5),
        ratio(
            "signed-in seed lesson ÷ django-comments-xtd, signed in",
            f"{main}-seed-signed",
            "xtd-signed",
            5,
        ),
        ratio(
            "10k lesson page 1 ÷ seed lesson, anonymous",
            f"{main}-big-anon",
            f"{main}-seed-anon",
            0.6,
        ),
    ]
    if "bytes-big" in targets and found[2].measured != "—":
        sizes = targets["bytes-big"].ratio(targets.get("bytes-seed"))
        found[2].measured += f"; fixed responses of the same sizes: {ratio_text(sizes)}"
    likes = ratio(
        f"likes from {LIKERS} members on PostgreSQL ÷ Django's leanest like",
        "pg-likes",
        "lean-likes",
        0.5,
    )
    rows = verified.get("pg")
    if rows and "pg-likes" in targets:
        target = targets["pg-likes"]
        likes.measured += (
            f"; {target.errors} errors; {rows['like_rows']} like rows for "
            f"{rows['responses_like_minus_unlike']} likes − unlikes answered"
            f"{'' if rows['likes_match'] else ', NOT the expected rows'}; `recount --check` "
            f"{'clean' if rows['recount_ok'] else 'found drift'}"
        )
        # A reference that answers errors measures nothing: the check fails with it.
        lean_errors = targets["lean-likes"].errors if "lean-likes" in targets else 0
        if "lean-likes" in targets:
            lean = targets["lean-likes"].ratio(targets.get("floor"))
            likes.measured += (
                f"; Django's leanest like ÷ framework floor: {ratio_text(lean)}, "
                f"{lean_errors} errors"
            )
        exact = rows["likes_match"] and rows["recount_ok"] and target.complete
        likes.passed = bool(likes.passed) and exact and target.errors == 0 and lean_errors == 0
    return [*found, likes]


def _table(targets: dict[str, Target]) -> list[str]:
    floor, nginx = targets.get("floor"), targets.get("nginx")
    rows = [
        "| target | KB | req/s | p50 ms | p99 ms | errors | ÷ floor | ÷ nginx | ÷ xtd |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for target in targets.values():
        if not target.results:
            continue
        size = "—" if target.size is None else f"{target.size / 1024:.0f}"
        versus_floor = None if target is floor else target.ratio(floor)
        versus_nginx = None if target is nginx else target.ratio(nginx)
        versus_xtd = target.ratio(targets.get(target.peer)) if target.peer else None
        rows.append(
            f"| {target.label} | {size} | {target.median('rps'):.0f} "
            f"| {target.median('p50_ms'):.1f} | {target.median('p99_ms'):.1f} | {target.errors} "
            f"| {ratio_text(versus_floor)} | {ratio_text(versus_nginx)} "
            f"| {ratio_text(versus_xtd)} |"
        )
    return rows


def _checks_table(found: list[Check]) -> list[str]:
    rows = ["| Done means 8 | needed | measured (lowest–highest round) | |", "|---|---|---|---|"]
    for check in found:
        mark = {True: "✅ met", False: "❌ not met", None: "— not measured"}[check.passed]
        rows.append(f"| {check.what} | {check.needed} | {check.measured} | {mark} |")
    return rows


def _writes(verified: dict) -> list[str]:
    lines = []
    for name, rows in verified.items():
        where = "PostgreSQL" if name == "pg" else "SQLite"
        lines.append(
            f"- {where}: {rows['like_rows']} like rows left by the likers, "
            f"{rows['like_rows_expected']} expected from their answered like/unlike sequences "
            f"({rows['responses_like_minus_unlike']} likes − unlikes answered): "
            f"{'the same rows' if rows['likes_match'] else 'DIFFERENT rows'}; "
            f"{rows['reply_rows']} replies written, {rows['reply_rows_expected']} answered; "
            f"`recount --check`: {rows['recount']}"
        )
    return lines


def _plans(plans: dict) -> list[str]:
    """The pages' SELECTs as PostgreSQL ran them, on their first (uncached) request."""
    if not plans:
        return []
    rows = [
        "## Query plans (PostgreSQL)",
        "",
        "`EXPLAIN ANALYZE` of every SELECT of each page's first request, on the seeded data: "
        "how each table was read and how long the query took in the database.",
        "",
        "| page | query | tables read | ms |",
        "|---|---:|---|---:|",
    ]
    for page, queries in plans.items():
        for number, found in enumerate(queries, 1):
            scans = "; ".join(found["scans"]) or "no table"
            rows.append(f"| {page} | {number} | {scans} | {found['ms']:.2f} |")
    seq = sorted(
        {
            scan
            for queries in plans.values()
            for q in queries
            for scan in q["scans"]
            if "Seq" in scan
        }
    )
    rows += ["", f"Sequential scans: {'; '.join(seq) if seq else 'none'}.", ""]
    return rows


def _queries(queries: dict) -> list[str]:
    rows = ["| page (PostgreSQL) | queries, first request | again |", "|---|---:|---:|"]
    for page, (first, again) in queries.items():
        rows.append(f"| {page} | {first} | {'—' if again is None else again} |")
    return rows


def _import(imported: dict | None) -> list[str]:
    if not imported:
        return ["Not measured in this run (see the notes)."]
    return [
        f"`import_lesson {imported['source']}` into a fresh PostgreSQL database: "
        f"{imported['pages']} pages in {imported['seconds']:.1f} s, "
        f"**{imported['per_page']:.3f} s per page** after {imported['startup']:.1f} s of "
        f"start-up. {imported['summary']}",
        *[f"- {failure}" for failure in imported["failed"]],
    ]


def _load(load_averages: list[float]) -> str:
    """The 1-minute load averages; over the number of cores, what else ran competed for them
    (a run's own servers and load generator keep it near 2–3 on 2 cores)."""
    figures = ", ".join(f"{x:.2f}" for x in load_averages)
    cores = os.cpu_count() or 1
    if max(load_averages, default=0) > cores:
        return f"{figures} — above {cores} cores at times: processes competed for the CPU"
    return f"{figures} — at most {cores}, the number of cores"


def _machine(versions: dict[str, str], load_averages: list[float]) -> list[str]:
    info = {}
    for name in ("cpuinfo", "meminfo"):
        try:
            text = Path(f"/proc/{name}").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    memory = info.get("MemTotal", "0 kB").split()[0]
    facts = {
        "CPU": f"{info.get('model name', 'unknown')}, {os.cpu_count()} cores",
        "RAM": f"{int(memory) / 1024 / 1024:.1f} GiB",
        "kernel": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        **versions,
        "load average (1 min) at each round's start, and at the end": _load(load_averages),
    }
    return [f"- {name}: {value}" for name, value in facts.items()]


METHOD = [
    "- The site runs `gunicorn bench.floor_wsgi` — the site's own URLs and middleware plus "
    "`/bench-floor/`, a view returning “ok” (the framework's floor) — under the project's "
    "gunicorn settings (`forum/gunicorn.conf.py`: sync workers, two per core), as every other "
    "target is, and production settings: `DEBUG=0`, Redis as the cache when it answers, the "
    "HTTPS switches off for plain HTTP on 127.0.0.1, `FORUM_RATE_LIMIT_SCALE=0`.",
    f"- Pages: {READERS} connections. Anonymous requests send no cookies; signed-in ones send a "
    "session and a csrftoken cookie, as a browser does after its first visit.",
    f"- Likes: {LIKERS} members, each on its own connection with its own session and CSRF token, "
    "alternating idempotent like and unlike (htmx requests) over the seed lesson's comments. "
    f"Replies: {REPLIERS} members replying (htmx) on a scratch lesson, so that the measured "
    "lessons do not grow.",
    "- Two more references bound two of the bars: Django's leanest like "
    "(`/bench-like/…`: the session and account, then one SQL statement adding the row and moving "
    "the count — no cache stamps, checks or template; PostgreSQL only), over the scratch "
    "lesson's comments, by the same members; and fixed responses of `x` exactly as long as the "
    "seed page and the 10k page (`/bench-bytes/<size>/`): what sending those sizes costs here.",
    "- No measured request is cut off at the end of a run (bench/wrk.lua), so the like rows can "
    "be compared exactly with the answers. Latency runs from sending a request to its whole "
    "response; gunicorn's sync workers close every connection, so it leaves out the TCP "
    "connect, while nginx keeps its connections alive.",
    "- The 10,000-comment lesson (bench/seed.py, random seed 20261129): the seed lesson's article, "
    "2,000 top-level comments, 8,000 replies nested up to 6 deep in threads of up to 80, 20–400 "
    "characters made of the seed lesson's own sentences, likes on a Pareto tail, 40 featured "
    "comments, 1,500 commenters; then `VACUUM ANALYZE`, as autovacuum would do.",
    "- django-comments-xtd: a throwaway project (bench/peer/) in its own virtualenv, the seed "
    "lesson's article and comments rendered by `render_xtdcomment_tree` with feedback and "
    "flagging, plus `render_comment_form`, on the same PostgreSQL and the same gunicorn settings.",
]


SEARCH_ROWS = [
    ("results_short", "first page of results alone (`search()`), 2 characters"),
    ("results_long", "first page of results alone (`search()`), 6–10 characters or 2 terms"),
    ("search_short", "search, 2 characters, best match"),
    ("search_short_newest", "search, 2 characters, newest first"),
    ("search_long", "search, 6–10 characters or 2 terms, best match"),
    ("search_long_newest", "search, 6–10 characters or 2 terms, newest first"),
    ("lesson_page", "lesson page (5,000 comments), as served (the page cache)"),
]


def search_lines(searched: dict[str, dict]) -> list[str]:
    """bench/search.py's figures per database: a first page of results beside the lesson page."""
    if not searched:
        return ["Not measured."]
    names = list(searched)
    lines = [
        "Twenty generated lessons of 5,000 comments each (100,000, from the shared corpus's "
        "sentences, else the seed lesson's), indexed; each row is 200 in-process calls of "
        "`search()` or requests through the whole site (middleware, view, template) by Django's "
        "test client, one at a time: milliseconds, median / p99. The goal for search is a "
        "median under 15 ms.",
        "",
        "| request | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for key, label in SEARCH_ROWS:
        cells = [
            f"{searched[n][key]['median_ms']:.1f} / {searched[n][key]['p99_ms']:.1f}"
            if key in searched[n]
            else "—"
            for n in names
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def markdown(
    *,
    run: str,
    versions: dict[str, str],
    load_averages: list[float],
    targets: dict[str, Target],
    found: list[Check],
    verified: dict,
    queries: dict,
    plans: dict,
    imported: dict | None,
    highlighted: list[str],
    notes: list[str],
    searched: dict | None = None,
) -> str:
    now = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [
        "# Performance",
        "",
        f"Written by `make bench` (bench/run.py) on {now}: {run}. Measure again with "
        "`make bench`; `make bench-quick` (or `make bench -- --quick`) is the short check: "
        "2 rounds × 1 s.",
        "",
        "## Machine",
        "",
        *_machine(versions, load_averages),
        "",
        "## Results",
        "",
        "Medians over the rounds. Each round loads every target once, one after the other "
        "(A B A B…, every other round in reverse order); a ratio is the median of the per-round "
        "ratios of requests/s, so that the references share each round's conditions. Errors count "
        "every answer other than 2xx and every socket error, warm-up included.",
        "",
        *_table(targets),
        "",
        *_checks_table(found),
        "",
        "## Writes, checked afterwards",
        "",
        *_writes(verified),
        "",
        "## SQL queries per page",
        "",
        *_queries(queries),
        "",
        *_plans(plans),
        "## Import at speed",
        "",
        *_import(imported),
        "",
        "## The slowest comment with highlighted code",
        "",
        *highlighted,
        "",
        "## Search at 100,000 comments",
        "",
        *search_lines(searched or {}),
        "",
        "## How it was measured",
        "",
        *METHOD,
    ]
    if notes:
        lines += ["", "## Notes", "", *[f"- {note}" for note in notes]]
    return "\n".join(lines) + "\n"
