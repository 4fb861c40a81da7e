"""Seed the forum with lessons and their featured comments from source pages.

A SOURCE is a file, a directory (read recursively, in natural order) or an http(s) URL, in the
GeekTime page format (Markdown article + `精选留言（N）` block, or the raw lesson HTML that carries
the teacher's replies). Each page is one transaction: a page that fails leaves the database as it
was. Importing a page again changes nothing; a newer revision updates what it recognizes.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import URLValidator
from django.db import DatabaseError, transaction

from forum.importing.fetch import FetchError, fetch_url
from forum.importing.filenames import lesson_name_from_filename, natural_key
from forum.importing.media import Fetcher, lesson_media_fetch
from forum.importing.service import (
    ImportResult,
    RenderedPage,
    lesson_import,
    lesson_is_current,
    page_render,
)
from forum.importing.source import MAX_PAGE_BYTES, SourceError, parse_page

PAGE_SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm"}
# Any scheme, so that ftp://… or file://… is refused as a URL rather than looked up as a path.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_WEB_ADDRESS = URLValidator(schemes=["http", "https"])


@dataclass(frozen=True)
class Source:
    ref: str  # a path or a URL, as given
    name: str  # the file name the title is read from
    course: str  # default course title: the directory's (or URL folder's) name
    root: Path | None = None  # the folder given, which the file must stay inside
    refused: str = ""  # why the file is not read: reported as this page's failure


class DryRun(Exception):
    """Raised inside the page's transaction so that --dry-run writes nothing."""


def expand_sources(arguments: list[str], *, follow_symlinks: bool = False) -> list[Source]:
    sources = []
    for argument in arguments:
        if _URL.match(argument):
            segments = _url_segments(argument)
            name = segments[-1] if segments else ""
            sources.append(Source(argument, name, segments[-2] if len(segments) > 1 else ""))
            continue
        path = Path(argument)
        # A folder given may be a link (the operator named it); a file may not: a shell glob
        # over an untrusted folder (`dir/*.md`) gives its links as arguments.
        if path.is_symlink() and not follow_symlinks and not path.is_dir():
            raise CommandError(f"{argument}: a symbolic link, not read (see --follow-symlinks)")
        if path.is_dir():
            sources.extend(_folder_sources(path, follow_symlinks=follow_symlinks))
        elif path.is_file():
            sources.append(Source(str(path), path.name, path.resolve().parent.name))
        elif path.exists():
            raise CommandError(f"{argument}: not a regular file or a directory")
        else:
            raise CommandError(f"{argument}: no such file or directory")
    return sources


def _url_segments(url: str) -> list[str]:
    """The URL's path, decoded, a segment each, with `.` and `..` resolved as a browser resolves
    them (`%2e%2e` too): no course or lesson is named `..`."""
    segments: list[str] = []
    for segment in urlsplit(url).path.split("/"):
        segment = unquote(segment)
        if segment == "..":
            segments = segments[:-1]
        elif segment not in {"", "."}:
            segments.append(segment)
    return segments


def _folder_sources(folder: Path, *, follow_symlinks: bool) -> list[Source]:
    """The pages under `folder`, in natural order. A page is read only if it is a regular file
    whose real path is inside the folder: a symbolic link (to a file or a folder) is refused
    with a message unless `follow_symlinks`, and even then only if it stays inside."""
    root = folder.resolve()
    found: list[tuple[Path, str]] = []
    seen = {root}
    for directory, dirnames, filenames in os.walk(folder, followlinks=follow_symlinks):
        here = Path(directory)
        for dirname in list(dirnames):
            child = here / dirname
            if not child.is_symlink():
                continue
            target = child.resolve()
            if not follow_symlinks:
                found.append(
                    (child, "a symbolic link to a folder, not read (see --follow-symlinks)")
                )
            elif not target.is_relative_to(root) or target in seen:
                found.append((child, "a symbolic link out of the folder given, not read"))
            else:
                seen.add(target)
                continue
            dirnames.remove(dirname)
        for filename in filenames:
            file = here / filename
            if file.suffix.lower() not in PAGE_SUFFIXES:
                continue
            if file.is_symlink() and not follow_symlinks:
                found.append((file, "a symbolic link, not read (see --follow-symlinks)"))
            elif not file.resolve().is_relative_to(root):
                found.append((file, "a symbolic link out of the folder given, not read"))
            elif not file.is_file():
                found.append((file, "not a regular file, not read"))
            else:
                found.append((file, ""))
    found.sort(key=lambda pair: natural_key(str(pair[0].relative_to(folder))))
    return [
        Source(str(file), file.name, (root / file.parent.relative_to(folder)).name, root, refused)
        for file, refused in found
    ]


def read_page_file(source: Source, *, follow_symlinks: bool) -> bytes:
    """The bytes of a file page, checked again as it is opened (it may have changed since the
    folder was listed): a regular file, inside its folder, not a link unless allowed, at most
    MAX_PAGE_BYTES. O_NONBLOCK: opening a FIFO must not wait for a writer."""
    path = Path(source.ref)
    if source.refused:
        raise SourceError(source.refused, name=source.ref)
    if source.root is not None and not path.resolve().is_relative_to(source.root):
        raise SourceError("a symbolic link out of the folder given, not read", name=source.ref)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        if path.is_symlink():
            raise SourceError(
                "a symbolic link, not read (see --follow-symlinks)", name=source.ref
            ) from None
        raise error
    with os.fdopen(descriptor, "rb") as file:
        status = os.fstat(file.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise SourceError("not a regular file, not read", name=source.ref)
        if status.st_size > MAX_PAGE_BYTES:
            raise SourceError(
                f"larger than {MAX_PAGE_BYTES:,} bytes, the limit for a page", name=source.ref
            )
        return file.read(MAX_PAGE_BYTES + 1)


class Command(BaseCommand):
    help = "Import lesson pages (files, directories or URLs) with their featured comments."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("sources", nargs="+", metavar="SOURCE")
        parser.add_argument("--course", help="Course title (default: the directory's name).")
        parser.add_argument("--title", help="Lesson title, for one source whose name has none.")
        parser.add_argument("--number", type=int, help="Lesson number, with --title.")
        parser.add_argument(
            "--source-url",
            help="The original article's web address, for one source read from a file (an "
            "archived copy): the lesson links to it, e.g. where the copy is only a preview.",
        )
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
        parser.add_argument(
            "--fetch-media",
            action="store_true",
            help="Download the article's images and the commenters' avatars (each URL once, "
            "checked as uploads are) and serve them from this site; one that fails keeps its "
            "remote URL, with a warning.",
        )
        parser.add_argument(
            "--follow-symlinks",
            action="store_true",
            help="Read pages that are symbolic links, if they lead to a file inside the folder "
            "given (without it they are refused).",
        )
        parser.add_argument(
            "--page-seconds",
            type=float,
            default=120.0,
            help="Seconds allowed to render each page; a page that takes longer fails "
            "(with --keep-going the run goes on). Default: 120.",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=15.0,
            help="Seconds allowed to download each URL (connecting, redirects and body); "
            "reading files is not timed. Default: 15.",
        )

    def handle(self, *args, **options) -> None:
        sources = expand_sources(options["sources"], follow_symlinks=options["follow_symlinks"])
        if options["title"] and len(sources) != 1:
            raise CommandError("--title names one lesson: give exactly one source with it")
        if options["source_url"]:
            if len(sources) != 1:
                raise CommandError("--source-url is one lesson's: give exactly one source with it")
            try:
                _WEB_ADDRESS(options["source_url"])
            except ValidationError:
                raise CommandError("--source-url must be an http:// or https:// address") from None
        lessons: Counter = Counter()
        comments: Counter = Counter()
        anchors: Counter = Counter()  # comments on blocks of revised lessons (forum.anchoring)
        warnings: list[str] = []
        failures: list[str] = []
        paths: list[str] = []
        progress = len(sources) > 1 and self.stderr.isatty()
        fetcher = None
        if options["fetch_media"] and not options["dry_run"]:
            fetcher = Fetcher(allow_private=options["allow_private"], timeout=options["timeout"])
        media = Counter()
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
            if fetcher is not None:
                fetched = lesson_media_fetch(lesson=result.lesson, fetcher=fetcher)
                media.update(stored=fetched.stored, reused=fetched.reused)
                result.warnings.extend(fetched.warnings)
            lessons[result.lesson_outcome] += 1
            comments.update(result.comments)
            anchors.update(result.anchors)
            warnings.extend(f"{source.ref}: {w}" for w in result.warnings)
            paths.append(result.lesson.get_absolute_url())
        if progress:
            self.stderr.write("")
        self._summary(lessons, comments, warnings, failures, paths, dry_run=options["dry_run"])
        if anchors:
            self.stdout.write(
                f"comments on passages of revised lessons: {anchors['unchanged']} unchanged, "
                f"{anchors['modified']} on an edited passage, {anchors['orphaned']} on a "
                "deleted one"
            )
        if fetcher is not None:
            self.stdout.write(
                f"images: {media['stored']} downloaded, {media['reused']} already here"
            )
        if failures:
            raise CommandError(f"{len(failures)} of {len(sources)} pages failed")

    def _import(self, source: Source, options: dict) -> ImportResult:
        if _URL.match(source.ref):
            data = fetch_url(
                source.ref,
                timeout=options["timeout"],
                max_bytes=MAX_PAGE_BYTES,
                allow_private=options["allow_private"],
            )
        else:
            data = read_page_file(source, follow_symlinks=options["follow_symlinks"])
        page = parse_page(data, name=source.ref)
        warnings: list[str] = []
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
            if lesson_name and lesson_name.warning:
                warnings.append(lesson_name.warning)
        course = options["course"] or source.course
        if not course:
            raise SourceError("no course: give one with --course", name=source.ref)
        identity = {"course_title": course, "title": title, "number": number}
        digest = hashlib.sha256(data).hexdigest()
        current = lesson_is_current(
            **identity, source_digest=digest, keep_existing=options["keep_existing"]
        )
        # Rendered here, before the transaction: a page's writes then hold their locks briefly.
        rendered = None if current else page_render(page, seconds=options["page_seconds"])
        result = self._write(
            page=page,
            **identity,
            teacher=options["teacher"] or "",
            source_ref=options["source_url"] or source.ref,
            source_digest=digest,
            keep_existing=options["keep_existing"],
            rendered=rendered,
            dry_run=options["dry_run"],
        )
        result.warnings[:0] = warnings
        return result

    def _write(self, *, dry_run: bool, rendered: RenderedPage | None, **page) -> ImportResult:
        """The page's one transaction (rolled back by --dry-run)."""
        try:
            with transaction.atomic():
                result = lesson_import(rendered=rendered, **page)
                if dry_run:
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
