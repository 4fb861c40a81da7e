"""What `make bench` loads: a target is a server, its connections and what each one sends."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import quote_plus

import servers
from loadgen import Connection, Request, Result

READERS = 4  # connections of a page target: two per gunicorn worker
LIKERS = 32
REPLIERS = 4
REPLY = "body=" + quote_plus("压测回复：这一讲的例子很清楚，我按步骤跑通了，谢谢老师！")


@dataclass
class Target:
    key: str
    label: str
    port: int
    connections: list[Connection]
    filler: str  # a harmless GET (bench/wrk.lua)
    reference: bool = False
    peer: str | None = None  # the xtd target showing the same comments the same way
    size: int | None = None  # bytes of a page
    results: list[Result] = field(default_factory=list)  # one per measured round
    ok: Counter = field(default_factory=Counter)  # 2xx by tag over every run, warm-up included
    errors: int = 0  # over every run, warm-up included
    complete: bool = True  # no request ever left unanswered

    def record(self, result: Result, *, measured: bool) -> None:
        self.ok.update(result.ok)
        self.errors += result.errors
        self.complete = self.complete and result.complete
        if measured:
            self.results.append(result)

    def median(self, attribute: str) -> float:
        return statistics.median(getattr(r, attribute) for r in self.results)

    def ratios(self, other: Target | None) -> list[float]:
        """The per-round ratios of requests/s: a round's targets share its conditions."""
        if other is None or not other.results or not self.results:
            return []
        return [
            mine.rps / theirs.rps
            for mine, theirs in zip(self.results, other.results, strict=True)
            if theirs.rps
        ]

    def ratio(self, other: Target | None) -> float | None:
        """Median of the per-round ratios of requests/s."""
        found = self.ratios(other)
        return statistics.median(found) if found else None


def browser(port: int, path: str, cookie: str = "") -> tuple[str, str]:
    """A browser after its first visit: its Cookie header (plus csrftoken) and the CSRF token."""
    response = servers.http_get(port, path, {"Cookie": cookie} if cookie else {})
    if response.status != 200:
        raise RuntimeError(f"GET {path} on :{port} answered {response.status}")
    jar = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    cookies = [cookie] if cookie else []
    cookies += [f"{name}={morsel.value}" for name, morsel in jar.items()]
    body = response.body.decode(errors="replace")
    marker = 'name="csrfmiddlewaretoken" value="'
    token = body.partition(marker)[2].partition('"')[0]
    return "; ".join(cookies), token


def page(key: str, label: str, port: int, path: str, cookie: str = "", **extra) -> Target:
    """GET `path` on READERS connections; checked once, and its size noted, before any load."""
    headers = {"Cookie": cookie} if cookie else {}
    response = servers.http_get(port, path, headers)
    if response.status != 200:
        raise RuntimeError(f"{label}: GET {path} answered {response.status}")
    connections = [Connection(dict(headers), [Request("get", "GET", path)]) for _ in range(READERS)]
    return Target(key, label, port, connections, path, size=len(response.body), **extra)


def _writers(port: int, seed: dict, members: list[dict]) -> list[dict[str, str]]:
    """Each member's headers for htmx POSTs: session and CSRF as their browser sends them."""
    headers = []
    for member in members:
        session = f"{seed['session_cookie']}={member['session']}"
        cookie, token = browser(port, seed["seed_url"], session)
        headers.append(
            {
                "Cookie": cookie,
                "X-CSRFToken": token,
                "HX-Request": "true",
                "Referer": f"http://127.0.0.1:{port}{seed['seed_url']}",
                "Content-Type": "application/x-www-form-urlencoded",
            }
        )
    return headers


def likes(key: str, label: str, port: int, seed: dict, *, lean: bool = False) -> Target:
    """LIKERS members, each alternating like and unlike over the seed lesson's comments,
    starting at a different comment. `lean`: the same through bench/floor_wsgi.py's leanest
    like, over the scratch lesson's comments (the seed lesson's like rows are checked after)."""
    ids = seed["scratch_comment_ids" if lean else "seed_comment_ids"]
    url = "/bench-like/{}/{}/" if lean else "/comments/{}/{}/"
    connections = []
    for number, headers in enumerate(_writers(port, seed, seed["likers"][:LIKERS])):
        cycle = []
        for step in range(len(ids)):
            comment = ids[(number + step) % len(ids)]
            cycle += [
                Request("like", "POST", url.format(comment, "like")),
                Request("unlike", "POST", url.format(comment, "unlike")),
            ]
        connections.append(Connection(headers, cycle))
    return Target(key, label, port, connections, "/bench-floor/", reference=lean)


def expected_likes(target: Target, seed: dict) -> list[tuple[int, int]]:
    """(member, comment) rows the likers' answered requests leave: each member's cycle has
    stopped after a like, leaving one row, or after an unlike, leaving none."""
    ids = seed["seed_comment_ids"]
    rows = []
    for number, connection in enumerate(target.connections):
        position = connection.offset % len(connection.requests)
        if position % 2:
            member = seed["likers"][number]["member_id"]
            rows.append((member, ids[(number + position // 2) % len(ids)]))
    return rows


def replies(key: str, label: str, port: int, seed: dict) -> Target:
    """REPLIERS members replying on the scratch lesson, so the measured lessons never grow."""
    paths = [f"/comments/{i}/reply/" for i in seed["scratch_comment_ids"]]
    connections = [
        Connection(headers, [Request("reply", "POST", path, REPLY) for path in paths])
        for headers in _writers(port, seed, seed["likers"][:REPLIERS])
    ]
    return Target(key, label, port, connections, "/bench-floor/")
