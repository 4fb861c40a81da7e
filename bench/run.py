"""`make bench`: how fast Lesson Forum serves, side by side with what it should be compared with.

Starts the site under gunicorn (forum/gunicorn.conf.py, production settings) on a fresh PostgreSQL
database and once on SQLite, seeds the seed lesson and a generated 10,000-comment lesson
(bench/seed.py), and loads each target in turn from 127.0.0.1 — A B A B, several rounds — with
wrk (bench/wrk.lua) or, without wrk, a bounded Python client (bench/loadgen.py). References in
the same rounds: nginx serving a saved copy of the rendered seed page (this machine's limit), a
Django view returning "ok" through the same gunicorn (the framework's floor,
bench/floor_wsgi.py), and django-comments-xtd rendering the same comments in a throwaway
project with its own virtualenv (bench/xtd.py, bench/peer/). Prints medians and per-round
ratios, checks the targets of issue 8, times `import_lesson` of the shared corpus, and writes
the report: docs/performance.md for a full run, bench/out/performance-quick.md for --quick.

Everything it starts listens on 127.0.0.1 and is stopped at the end; its databases are dropped
and its temporary directory removed, also after an error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import highlighting
import loadgen
import report
import servers
import sites
import targets
import xtd
from servers import PYTHON, ROOT, command
from targets import LIKERS, REPLIERS, Target

DATABASE = "lessonforum_bench"
IMPORT_DATABASE = "lessonforum_bench_import"
TEACH_DATABASE = "lessonforum_bench_teach"
ANCHORS_DATABASE = "lessonforum_bench_anchors"
REDIS_URL = "redis://127.0.0.1:6379/0"
STARTED = time.monotonic()


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="A short check: 2 rounds of 1 s.")
    parser.add_argument("--rounds", type=int, help="Rounds of every target (full: 5).")
    parser.add_argument("--seconds", type=float, help="Seconds per target per round (full: 6).")
    parser.add_argument("--python-client", action="store_true", help="Do not use wrk.")
    parser.add_argument("--no-peer", action="store_true", help="Skip django-comments-xtd.")
    parser.add_argument("--no-sqlite", action="store_true", help="Skip the SQLite site.")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--output", type=Path, help="Where the report goes.")
    options = parser.parse_args()
    options.rounds = options.rounds or (2 if options.quick else 5)
    options.seconds = options.seconds or (1.0 if options.quick else 6.0)
    options.warm_up = 0.3 if options.quick else 1.5
    if options.output is None:
        quick = ROOT / "bench" / "out" / "performance-quick.md"
        options.output = quick if options.quick else ROOT / "docs" / "performance.md"
    return options


def say(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:4.0f} s] {message}", flush=True)


class Bench:
    def __init__(self, options: argparse.Namespace, work: Path) -> None:
        self.options = options
        self.work = work
        self.processes = servers.Processes(work)
        self.secret = secrets.token_urlsafe(50)
        self.targets: dict[str, Target] = {}
        self.notes: list[str] = []
        self.versions: dict[str, str] = {}
        self.databases: list[str] = []  # named before they exist: dropped even after a failure
        self.cache_prefixes: list[str] = []
        self.highlighted: list[tuple[str, str, float]] = []
        self.searched: dict[str, dict] = {}
        self.peer_ready = None  # waits for django-comments-xtd's set-up in the background
        self.redis = self._redis_version() is not None
        self.postgres = servers.postgres_available()

    def _redis_version(self) -> str | None:
        try:
            import redis

            client = redis.Redis.from_url(REDIS_URL, socket_timeout=3)
            self.versions["Redis"] = client.info("server")["redis_version"]
        except Exception:  # any failure means: no Redis
            return None
        return self.versions["Redis"]

    def site_env(self, name: str, database_url: str) -> dict[str, str]:
        prefix = f"lessonforum-bench-{os.getpid()}-{name}"  # its Redis keys are deleted at the end
        self.cache_prefixes.append(prefix)
        return sites.environment(
            work=self.work,
            secret=self.secret,
            database_url=database_url,
            cache_prefix=prefix,
            redis_url=REDIS_URL if self.redis else None,
        )

    # -- setting up ------------------------------------------------------------------------

    def prepare(self) -> None:
        """Install what is missing, set up and start everything, and define the targets."""
        import django
        import gunicorn

        self.versions.update(Django=django.get_version(), gunicorn=gunicorn.__version__)
        if not self.options.no_peer:  # its pip install runs while the sites are seeded
            self.peer_ready = servers.in_background(self.peer_install)
        if servers.nginx_path() is None and servers.apt_install("nginx"):
            self.notes.append("Installed nginx with apt-get.")
        self.use_wrk = self.load_generator()
        say("Setting up the sites (migrate, seed lesson, 10,000 generated comments)…")
        self.seeds = self.seed_sites()
        self.main = "pg" if "pg" in self.seeds else "sqlite"
        ports = {name: self.serve(name, seed) for name, seed in self.seeds.items()}
        seed = self.seeds[self.main]
        say(f"Site on 127.0.0.1:{ports[self.main]} ({self.main}); counting queries per page…")
        seed_file = str(self.work / f"seed-{self.main}.json")
        checked = json.loads(
            command([PYTHON, "bench/checks.py", "queries", seed_file], env=seed["env"])
        )
        self.queries, self.plans = checked["counts"], checked["plans"]
        say("Starting the references: nginx, django-comments-xtd…")
        self.references(ports[self.main], seed)
        for name, seed in self.seeds.items():
            self.site_targets(name, ports[name], seed, every=name == self.main)

    def load_generator(self) -> bool:
        """True for wrk, installed when possible (root with apt); else the Python client."""
        if self.options.python_client:
            self.notes.append("Load generator: the Python client (--python-client).")
            return False
        if loadgen.wrk_path() is None and servers.apt_install("wrk"):
            self.notes.append("Installed wrk with apt-get.")
        if loadgen.wrk_path() is None:
            self.notes.append("wrk is not installed and could not be: the Python client measured.")
            return False
        version = subprocess.run(  # noqa: S603
            [loadgen.wrk_path(), "-v"], capture_output=True, text=True, check=False
        )
        self.versions["wrk"] = version.stdout.split(" Copyright")[0].removeprefix("wrk ")
        return True

    def seed_sites(self) -> dict[str, dict]:
        """PostgreSQL (the main one) and SQLite, seeded side by side."""
        seeding = {}
        if self.postgres:
            self.databases.append(DATABASE)
            pg_url = servers.database_create(DATABASE)
            seeding["pg"] = servers.in_background(lambda: self.site("pg", pg_url))
            self.versions["PostgreSQL"] = servers.postgres("SHOW server_version")[0][0]
        else:
            self.notes.append("PostgreSQL does not answer at 127.0.0.1:5432: SQLite only.")
        if not self.options.no_sqlite or not self.postgres:
            sqlite_url = f"sqlite:///{self.work / 'bench.sqlite3'}"
            seeding["sqlite"] = servers.in_background(lambda: self.site("sqlite", sqlite_url))
            self.versions["SQLite"] = sqlite3.sqlite_version
        sites.manage(self.site_env("static", "sqlite:///:memory:"), "collectstatic", "--no-input")
        return {name: wait() for name, wait in seeding.items()}

    def site(self, name: str, database_url: str) -> dict:
        env = self.site_env(name, database_url)
        seed = {**sites.seeded(env), "env": env}
        (self.work / f"seed-{name}.json").write_text(json.dumps(seed))
        return seed

    def serve(self, name: str, seed: dict) -> int:
        port = servers.gunicorn(self.processes, name, seed["env"], app="bench.floor_wsgi")
        self.processes.wait_http(name, port, "/bench-floor/")
        return port

    def peer_install(self) -> tuple[str, dict]:
        if self.postgres:
            self.databases.append(xtd.DATABASE)
        python, env, version = xtd.install(self.work, secret=self.secret, postgres=self.postgres)
        self.versions["peer"] = version
        return python, env

    def references(self, port: int, seed: dict) -> None:
        self.add(
            targets.page(
                "floor",
                "Framework floor: Django view → “ok”",
                port,
                "/bench-floor/",
                reference=True,
            )
        )
        if self.main == "pg":
            self.add(
                targets.likes(
                    "lean-likes",
                    f"Django's leanest like (one SQL statement), {LIKERS} members",
                    port,
                    seed,
                    lean=True,
                )
            )
        nginx_port = servers.nginx(
            self.processes, self.work, servers.http_get(port, seed["seed_url"]).body
        )
        if nginx_port:
            self.versions["nginx"] = servers.nginx_version()
            self.add(
                targets.page(
                    "nginx",
                    "nginx: saved copy of the seed page",
                    nginx_port,
                    "/lesson.html",
                    reference=True,
                )
            )
        else:
            self.notes.append("nginx is not installed and could not be: no nginx reference.")
        if self.peer_ready is None:
            return
        try:
            python, env = self.peer_ready()
            xtd_port, loaded = xtd.start(
                self.processes, self.work, python, env, seed["seed_export"]
            )
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
            self.notes.append(f"django-comments-xtd could not be set up: {error}"[:500])
            return
        url, label = loaded["url"], f"django-comments-xtd, {loaded['comments']} comments"
        cookie, _token = targets.browser(
            xtd_port, url, f"{loaded['session_cookie']}={loaded['session']}"
        )
        self.add(targets.page("xtd-anon", f"{label}, anonymous", xtd_port, url, reference=True))
        self.add(
            targets.page("xtd-signed", f"{label}, signed in", xtd_port, url, cookie, reference=True)
        )

    def site_targets(self, name: str, port: int, seed: dict, *, every: bool) -> None:
        """Every target on the main database; --quick keeps two on the other."""
        where = "PostgreSQL" if name == "pg" else "SQLite"
        reader, _token = targets.browser(
            port, seed["seed_url"], f"{seed['session_cookie']}={seed['reader']['session']}"
        )
        seed_url, big_url = seed["seed_url"], seed["big_url"]
        lesson = f"{where}: seed lesson ({len(seed['seed_comment_ids'])})"
        self.add(
            targets.page(
                f"{name}-seed-anon", f"{lesson}, anonymous", port, seed_url, peer="xtd-anon"
            )
        )
        if every or not self.options.quick:
            self.add(
                targets.page(
                    f"{name}-seed-signed",
                    f"{lesson}, signed in",
                    port,
                    seed_url,
                    reader,
                    peer="xtd-signed",
                )
            )
            self.add(
                targets.page(
                    f"{name}-big-anon", f"{where}: 10k lesson page 1, anonymous", port, big_url
                )
            )
        if every and f"{name}-big-anon" in self.targets:
            # The same gunicorn sending just as many bytes and nothing else: what the sizes cost.
            for which, page in (("seed", "seed lesson"), ("big", "10k lesson page 1")):
                size = self.targets[f"{name}-{which}-anon"].size
                self.add(
                    targets.page(
                        f"bytes-{which}",
                        f"Fixed response as long as the {page}",
                        port,
                        f"/bench-bytes/{size}/",
                        reference=True,
                    )
                )
        if every:
            self.add(
                targets.page(
                    f"{name}-big-signed",
                    f"{where}: 10k lesson page 1, signed in",
                    port,
                    big_url,
                    reader,
                )
            )
        self.add(
            targets.likes(f"{name}-likes", f"{where}: like/unlike, {LIKERS} members", port, seed)
        )
        if every:
            self.add(
                targets.replies(
                    f"{name}-replies", f"{where}: reply, {REPLIERS} members", port, seed
                )
            )

    def add(self, target: Target) -> None:
        self.targets[target.key] = target

    # -- measuring -------------------------------------------------------------------------

    def measure(self) -> None:
        options, plan = self.options, list(self.targets.values())
        client = "wrk" if self.use_wrk else "the Python client"
        say(
            f"Warming up, then {options.rounds} rounds × {len(plan)} targets × "
            f"{options.seconds:g} s with {client}…"
        )
        for target in plan:
            self.run_target(target, options.warm_up, measured=False)
        self.load_averages = []
        for number in range(options.rounds):
            self.load_averages.append(os.getloadavg()[0])
            # A B A B, and every other round backwards, so that drift evens out.
            for target in plan if number % 2 == 0 else reversed(plan):
                result = self.run_target(target, options.seconds, measured=True)
                errors = f"  errors {result.errors}" if result.errors else ""
                say(
                    f"  round {number + 1}  {target.label:<52} {result.rps:8.1f} req/s  "
                    f"p50 {result.p50_ms:7.1f} ms  p99 {result.p99_ms:7.1f} ms{errors}"
                )
        self.load_averages.append(os.getloadavg()[0])

    def run_target(self, target: Target, seconds: float, *, measured: bool) -> loadgen.Result:
        result = loadgen.run(
            target.port, target.connections, seconds, use_wrk=self.use_wrk, filler=target.filler
        )
        target.record(result, measured=measured)
        return result

    def verify(self) -> dict[str, dict]:
        """The rows the writes left against what the answers said; the counters against rows."""
        verified = {}
        for name, seed in self.seeds.items():
            likes, replies = self.targets.get(f"{name}-likes"), self.targets.get(f"{name}-replies")
            expected = {
                "likes": targets.expected_likes(likes, seed) if likes else [],
                "replies": replies.ok["reply"] if replies else 0,
            }
            path = self.work / f"expected-{name}.json"
            path.write_text(json.dumps(expected))
            seed_file = str(self.work / f"seed-{name}.json")
            rows = json.loads(
                command([PYTHON, "bench/checks.py", "rows", seed_file, str(path)], env=seed["env"])
            )
            rows["responses_like_minus_unlike"] = (
                likes.ok["like"] - likes.ok["unlike"] if likes else 0
            )
            rows["recount_ok"], rows["recount"] = sites.recount_check(seed["env"])
            verified[name] = rows
        return verified

    def import_speed(self) -> dict | None:
        """`import_lesson` of the shared corpus into a fresh PostgreSQL database, timed."""
        corpus = self.options.corpus
        if not corpus.is_dir() or not self.postgres:
            why = f"no corpus at {corpus}" if not corpus.is_dir() else "no PostgreSQL"
            self.notes.append(f"Import at speed not measured: {why}.")
            return None
        source = corpus / "ai-course" if self.options.quick else corpus
        self.databases.append(IMPORT_DATABASE)
        env = self.site_env("import", servers.database_create(IMPORT_DATABASE))
        say(f"Timing import_lesson of {source}…")
        return sites.import_timed(env, source)

    def time_search(self) -> dict[str, dict]:
        searched = {}
        for name, seed in self.seeds.items():
            say(f"Timing search on {name} at 100,000 generated comments…")
            searched[name] = sites.search_timed(seed["env"])
            short = searched[name]["search_short"]
            say(f"  2 characters: {short['median_ms']:.1f} ms median, {short['p99_ms']:.1f} ms p99")
        return searched

    def in_own_database(self, name: str, database: str, script: str, what: str) -> dict | None:
        """Run `script` (it prints JSON) on a migrated PostgreSQL database of its own; None,
        with a note, where there is no PostgreSQL."""
        if not self.postgres:
            self.notes.append(f"Not timed ({what}): no PostgreSQL.")
            return None
        self.databases.append(database)
        env = self.site_env(name, servers.database_create(database))
        say(f"Timing {what}…")
        sites.manage(env, "migrate", "--no-input", "-v0")
        return json.loads(command([PYTHON, script], env=env, timeout=1800))

    def teach_speed(self) -> None:
        """The teacher's workspace on a course of 100,000 comments (bench/teach.py); the times
        go into the notes."""
        what = "the teacher's workspace on 100,000 comments"
        found = self.in_own_database("teach", TEACH_DATABASE, "bench/teach.py", what)
        if found is None:
            return
        pages = ", ".join(
            f"{name} {found[name]['median_ms']:.0f} ms (best {found[name]['best_ms']:.0f})"
            for name in ("queue", "questions", "glance")
        )
        note = f"Teacher's workspace, {found['comments']:,} comments in one course, in-process: "
        self.notes.append(note + pages + ".")
        say(f"  {pages}")

    def anchors_speed(self) -> None:
        """The lesson page with its blocks' comment counts beside the same page without
        anchors, at 10,000 comments (bench/anchors.py); the times go into the notes."""
        what = "the lesson page with and without block anchors at 10,000 comments"
        found = self.in_own_database("anchors", ANCHORS_DATABASE, "bench/anchors.py", what)
        if found is None:
            return
        with_anchors, without = found["with_anchors"], found["without_anchors"]
        line = (
            f"Lesson page of {found['blocks']} blocks and {found['comments']:,} comments, "
            f"uncached, in-process: with block anchors and counts {with_anchors['median_ms']:.0f} "
            f"ms (best {with_anchors['best_ms']:.0f}, {with_anchors['bytes']:,} bytes), without "
            f"{without['median_ms']:.0f} ms (best {without['best_ms']:.0f}, "
            f"{without['bytes']:,} bytes): {found['ratio']:.2f}×."
        )
        self.notes.append(line)
        say(f"  {line}")

    def time_highlighting(self) -> list[tuple[str, str, float]]:
        say("Timing the slowest comment with highlighted code, per language…")
        rows = highlighting.measure()
        for language, unit, cost in rows[:3]:
            say(f"  {language}: {cost:.3f} s ({unit!r})")
        return rows

    def write(self, verified: dict, imported: dict | None) -> str:
        options = self.options
        client = "wrk" if self.use_wrk else "a bounded Python client (threads, http.client)"
        mode = "a quick run (--quick)" if options.quick else "a full run"
        text = report.markdown(
            run=f"{mode}, {options.rounds} rounds × {options.seconds:g} s per target, load from "
            f"{client} on 127.0.0.1",
            versions=self.versions,
            load_averages=self.load_averages,
            targets=self.targets,
            found=report.checks(self.targets, self.main, verified),
            verified=verified,
            queries=self.queries,
            plans=self.plans,
            imported=imported,
            highlighted=highlighting.markdown(self.highlighted),
            notes=self.notes,
            searched=self.searched,
        )
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text(text)
        return text

    def clean_up(self) -> None:
        if self.peer_ready is not None:
            with contextlib.suppress(Exception):  # reported already, or moot now
                self.peer_ready()  # its pip and migrate must not outlive the run
        self.processes.stop_all()
        for name in self.databases:
            try:
                servers.database_drop(name)
            except Exception as error:  # clean up the rest anyway
                say(f"warning: could not drop database {name}: {error}")
        if self.redis and self.cache_prefixes:
            import redis

            client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
            for prefix in self.cache_prefixes:
                for key in client.scan_iter(match=f"{prefix}:*", count=1000):
                    client.delete(key)


def stopped(signum: int, frame: object) -> None:
    """make, CI or a terminal stop with SIGTERM: clean up as after Ctrl-C."""
    raise KeyboardInterrupt


def main() -> int:
    options = arguments()
    work = Path(tempfile.mkdtemp(prefix="lessonforum-bench-"))
    bench = Bench(options, work)
    signal.signal(signal.SIGTERM, stopped)
    try:
        bench.highlighted = bench.time_highlighting()  # in-process, before any server starts
        bench.prepare()
        bench.measure()
        verified = bench.verify()
        imported = bench.import_speed()
        bench.searched = bench.time_search()  # after the checks: it adds 100,000 comments
        bench.teach_speed()
        bench.anchors_speed()
        text = bench.write(verified, imported)
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        say(f"error: {error}")
        return 1
    except KeyboardInterrupt:
        say("Interrupted.")
        return 130
    finally:
        say("Stopping the servers, dropping the bench databases…")
        bench.clean_up()
        shutil.rmtree(work, ignore_errors=True)
    print("\n" + text[text.index("## Results") : text.index("## How it was measured")].rstrip())
    output = options.output
    shown = output.relative_to(ROOT) if output.is_relative_to(ROOT) else output
    print(f"\nWritten to {shown} in {time.monotonic() - STARTED:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
