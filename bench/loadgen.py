"""The load generator of `make bench`: wrk with bench/wrk.lua, or a bounded Python client.

A load is a list of connections, each with its own headers (a member's cookies) and its own
cycle of requests. Both clients keep one connection per member, start each cycle at the offset
where the member's last run stopped, and never cut a request off: a connection stops after a
response once its time is up. So every like the server wrote is a response counted here, and
the counts can be compared with the rows afterwards.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

WRK_SCRIPT = Path(__file__).with_name("wrk.lua")
SOCKET_TIMEOUT = 10.0


@dataclass
class Request:
    tag: str  # what the response counts as: get, like, unlike, reply
    method: str
    path: str
    body: str = ""


@dataclass
class Connection:
    headers: dict[str, str]
    requests: list[Request]
    offset: int = 0  # where in `requests` this connection's next run starts


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    responses: int
    errors: int  # socket errors plus responses that were not 2xx
    ok: Counter = field(default_factory=Counter)  # 2xx responses by tag
    statuses: Counter = field(default_factory=Counter)
    complete: bool = True  # every connection stopped by itself: no request left in flight


def wrk_path() -> str | None:
    return shutil.which("wrk")


def run(
    port: int, connections: list[Connection], seconds: float, *, use_wrk: bool, filler: str
) -> Result:
    """Load 127.0.0.1:`port` for `seconds`; `filler` is a harmless path (see bench/wrk.lua)."""
    if use_wrk:
        result, done = _run_wrk(port, connections, seconds, filler)
    else:
        result, done = _run_python(port, connections, seconds)
    for connection, count in zip(connections, done, strict=True):
        connection.offset += count
    return result


def _spec(connections: list[Connection], seconds: float, filler: str, prefix: str) -> str:
    lines = [f"D\t{seconds}", f"F\t{filler}", f"P\t{prefix}"]
    for connection in connections:
        lines += ["T", f"O\t{connection.offset}"]
        lines += [f"H\t{name}\t{value}" for name, value in connection.headers.items()]
        lines += [f"R\t{r.tag}\t{r.method}\t{r.path}\t{r.body}" for r in connection.requests]
    return "\n".join(lines) + "\n"


def _run_wrk(
    port: int, connections: list[Connection], seconds: float, filler: str
) -> tuple[Result, list[int]]:
    count = len(connections)
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as work:
        spec = Path(work, "spec.tsv")
        spec.write_text(_spec(connections, seconds, filler, f"{work}/thread-"))
        # wrk's own duration is only a backstop: the threads finish by themselves.
        command = [
            *(wrk_path(), f"-t{count}", f"-c{count}", f"-d{seconds + 30:.0f}s"),
            *(f"--timeout={SOCKET_TIMEOUT:.0f}s", f"-s{WRK_SCRIPT}", f"http://127.0.0.1:{port}/"),
        ]
        process = subprocess.Popen(  # noqa: S603
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "BENCH_WRK_SPEC": str(spec)},
        )
        finished, complaints = 0, []
        try:
            for line in process.stderr:
                if not line.startswith("bench-thread-finished"):
                    complaints.append(line.strip())
                    continue
                finished += 1
                if finished == count:
                    process.send_signal(signal.SIGINT)  # wrk stops and reports at once
                    break
            output, _ = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        threads = []
        for number in range(1, count + 1):
            path = Path(work, f"thread-{number}.json")
            threads.append(json.loads(path.read_text()) if path.exists() else None)
    socket_errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    if not any(threads):
        raise RuntimeError(f"wrk measured nothing: {' '.join(complaints)[:1000]}")
    missing = {"responses": 0, "sent": 0, "lost": 1, "elapsed": 0, "latencies": []}
    threads = [t or missing for t in threads]
    result = _result(threads, socket_errors)
    result.complete = result.complete and finished == count
    return result, [t["sent"] for t in threads]


def _result(threads: list[dict], socket_errors: int) -> Result:
    latencies = sorted(x for t in threads for x in t["latencies"])
    ok, bad, statuses = Counter(), Counter(), Counter()
    for thread in threads:
        ok.update(thread.get("ok", {}))
        bad.update(thread.get("bad", {}))
        statuses.update(thread.get("statuses", {}))
    return Result(
        rps=sum(t["responses"] / t["elapsed"] for t in threads if t["elapsed"]),
        p50_ms=1000 * statistics.median(latencies) if latencies else 0.0,
        p99_ms=1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else 0.0,
        responses=len(latencies),
        errors=socket_errors + sum(t["lost"] for t in threads) + sum(bad.values()),
        ok=ok,
        statuses=statuses,
        complete=not any(t["lost"] for t in threads),
    )


def _run_python(
    port: int, connections: list[Connection], seconds: float
) -> tuple[Result, list[int]]:
    """Threads with keep-alive http.client connections, by the rules of bench/wrk.lua."""
    results: list[dict | None] = [None] * len(connections)

    def worker(number: int, connection: Connection) -> None:
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=SOCKET_TIMEOUT)
        result = {"responses": 0, "sent": 0, "lost": 0, "latencies": []}
        ok, bad, statuses = Counter(), Counter(), Counter()
        started = time.monotonic()
        while time.monotonic() < started + seconds:
            request = connection.requests[
                (connection.offset + result["sent"]) % len(connection.requests)
            ]
            result["sent"] += 1
            sent_at = time.monotonic()
            try:
                client.request(
                    request.method,
                    request.path,
                    body=request.body.encode() or None,
                    headers=connection.headers,
                )
                response = client.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                result["lost"] += 1  # the server may or may not have done it
                client.close()
                continue
            result["latencies"].append(time.monotonic() - sent_at)
            result["responses"] += 1
            statuses[str(response.status)] += 1
            (ok if 200 <= response.status < 300 else bad)[request.tag] += 1
        client.close()
        result.update(elapsed=time.monotonic() - started, ok=ok, bad=bad, statuses=statuses)
        results[number] = result

    threads = [
        threading.Thread(target=worker, args=(n, c), daemon=True) for n, c in enumerate(connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 2 * SOCKET_TIMEOUT)
    missing = {"responses": 0, "sent": 0, "lost": 1, "elapsed": 0, "latencies": []}
    results = [r or missing for r in results]
    return _result(results, 0), [r["sent"] for r in results]
