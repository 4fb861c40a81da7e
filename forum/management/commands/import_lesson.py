"""Seed the forum with lessons and their featured comments from source pages.

A SOURCE is a file, a directory (read recursively, in natural order) or an http(s) URL, in the
GeekTime page format (Markdown article + `精选留言（N）` block, or the raw lesson HTML that carries
the teacher's replies). Each page is one transaction: a page that fails leaves the database as it
was. Importing a page again changes nothing; a newer revision updates what it recognizes.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, transaction

from forum.importing.fetch import FetchError, fetch_url
from forum.importing.filenames import lesson_name_from_filename, natural_key
from forum.importing.service import ImportResult, lesson_import
from forum.importing.source import SourceError, parse_page

PAGE_SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm"}
MAX_FILE_BYTES = 5_000_000
# Any scheme, so that ftp://… or file://… is refused as a URL rather than looked up as a path.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class Source:
    ref: str  # a path or a URL, as given
    name: str  # the file name the title is read from
    course: str  # default course title: the directory's (or URL folder's) name


class DryRun(Exception):
    """Raised inside the page's transaction so that --dry-run writes nothing."""


def expand_sources(arguments: list[str]) -> list[Source]:
    sources = []
    for argument in arguments:
        if _URL.match(argument):
            segments = [unquote(s) for s in urlsplit(argument).path.split("/") if s]
            name = segments[-1] if segments else ""
            sources.append(Source(argument, name, segments[-2] if len(segments) > 1 else ""))
            continue
        path = Path(argument)
        if path.is_dir():
            files = [
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in PAGE_SUFFIXES
            ]
            for file in sorted(files, key=lambda p: natural_key(str(p.relative_to(path)))):
                sources.append(Source(str(file), file.name, file.parent.resolve().name))
        elif path.is_file():
            sources.append(Source(str(path), path.name, path.resolve().parent.name))
        else:
            raise CommandError(f"{argument}: no such file or directory")
    return sources


class Command(BaseCommand):
    help = "Import lesson pages (files, directories or URLs) with their featured comments."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("sources", nargs="+", metavar="SOURCE")
        parser.add_argument("--course", help="Course title (default: the directory's name).")
        parser.add_argument("--title", help="Lesson title, for one source whose name has none.")
        parser.add_argument("--number", type=int, help="Lesson number, with --title.")
        parser.add_argument(
            "--teacher", help="Teacher's name (default: from 你好，我是X。, else the course's)."
        )
        parser.add_argument(
            "--keep-going", action="store_true", help="Import the other pages after a failure."
        )
        parser.add_argument("--dry-run", action="store_true", help="Parse and report only.")
        parser.add_argument(
            "--keep-existing",
            action="store_true",
            help="Leave lessons that are already here as they are (e.g. a newer revision).",
        )
        parser.add_argument(
            "--allow-private",
            action="store_true",
            help="Allow URLs on private, loopback or link-local addresses.",
        )
        parser.add_argument("--timeout", type=float, default=15.0, help="URL timeout, seconds.")

    def handle(self, *args, **options) -> None:
        sources = expand_sources(options["sources"])
        if options["title"] and len(sources) != 1:
            raise CommandError("--title names one lesson: give exactly one source with it")
        lessons: Counter = Counter()
        comments: Counter = Counter()
        warnings: list[str] = []
        failures: list[str] = []
        paths: list[str] = []
        progress = len(sources) > 1 and self.stderr.isatty()
        for index, source in enumerate(sources, 1):
            if progress:
                self._progress(index, len(sources), source.name)
            try:
                result = self._import(source, options)
            except (SourceError, FetchError, CommandError, OSError, DatabaseError) as error:
                # Database messages can span lines (PostgreSQL's DETAIL); the report is one line.
                reason = " ".join(str(error).splitlines()) or type(error).__name__
                message = reason if source.ref in reason else f"{source.ref}: {reason}"
                failures.append(message)
                if progress:
                    self.stderr.write("")
                self.stderr.write(self.style.ERROR(f"error: {message}"))
                if not options["keep_going"]:
                    raise CommandError(f"import stopped at {source.ref}") from None
                continue
            lessons[result.lesson_outcome] += 1
            comments.update(result.comments)
            warnings.extend(f"{source.ref}: {w}" for w in result.warnings)
            paths.append(result.lesson.get_absolute_url())
        if progress:
            self.stderr.write("")
        self._summary(lessons, comments, warnings, failures, paths, dry_run=options["dry_run"])
        if failures:
            raise CommandError(f"{len(failures)} of {len(sources)} pages failed")

    def _import(self, source: Source, options: dict) -> ImportResult:
        if _URL.match(source.ref):
            data = fetch_url(
                source.ref, timeout=options["timeout"], allow_private=options["allow_private"]
            )
        else:
            path = Path(source.ref)
            if path.stat().st_size > MAX_FILE_BYTES:
                raise SourceError(f"larger than {MAX_FILE_BYTES} bytes", name=source.ref)
            data = path.read_bytes()
        page = parse_page(data, name=source.ref)
        number = options["number"]
        title = options["title"]
        if not title:
            lesson_name = lesson_name_from_filename(source.name)
            if lesson_name is None and not page.title:
                raise SourceError(
                    "the file name carries no lesson title; give one with --title", name=source.ref
                )
            title = lesson_name.title if lesson_name else page.title
            number = lesson_name.number if lesson_name else number
        course = options["course"] or source.course
        if not course:
            raise SourceError("no course: give one with --course", name=source.ref)
        try:
            with transaction.atomic():
                result = lesson_import(
                    page=page,
                    course_title=course,
                    title=title,
                    number=number,
                    teacher=options["teacher"] or "",
                    source_ref=source.ref,
                    source_digest=hashlib.sha256(data).hexdigest(),
                    keep_existing=options["keep_existing"],
                )
                if options["dry_run"]:
                    raise DryRun
        except DryRun:
            pass
        return result

    def _progress(self, index: int, total: int, name: str) -> None:
        width = 30
        done = width * index // total
        bar = f"\r[{'#' * done}{'.' * (width - done)}] {index}/{total} {name[:40]:<40}"
        self.stderr.write(bar, ending="")
        self.stderr.flush()

    def _summary(
        self,
        lessons: Counter,
        comments: Counter,
        warnings: list[str],
        failures: list[str],
        paths: list[str],
        *,
        dry_run: bool,
    ) -> None:
        prefix = "Dry run, nothing written — would have: " if dry_run else ""
        self.stdout.write(
            f"{prefix}lessons: {lessons['created']} created, {lessons['updated']} updated, "
            f"{lessons['unchanged']} unchanged; comments: {comments['created']} created, "
            f"{comments['updated']} updated, {comments['unchanged']} unchanged; "
            f"{len(warnings)} warnings; {len(failures)} failed"
        )
        for warning in warnings:
            self.stdout.write(f"warning: {warning}")
        if not dry_run:
            for path in paths:
                self.stdout.write(f"  {unquote(path)}")
