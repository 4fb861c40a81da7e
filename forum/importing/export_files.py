"""Where `export_lesson --output` puts each lesson, and how it writes there without harm.

Names are what `import_lesson` reads a course and a lesson from (the folder's name is the
course title, `NN-title.md` the lesson), so a name is kept readable and, when it can be, exact.
A name that cannot be exact (a character no file name should hold, `..`, more than 255 bytes)
or that another lesson already holds gets `~` and a short hash of the lesson's identity: every
lesson gets a file of its own, the same one on every export, and never outside the folder.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path

from forum.importing.filenames import LessonName, lesson_name_from_filename
from lessons.models import Course, Lesson

MAX_NAME_BYTES = 255  # ext4, XFS, Btrfs, APFS: a file name's length in bytes
EXTENSION = ".md"
_HASH_CHARS = 8
# The separators a path would split on get look-alikes, as the archives did; "|" becomes the
# archives' "_", which `import_lesson` reads back as "|" when spaced (" _ ").
_SEPARATORS = str.maketrans({"/": "∕", "\\": "∖", "|": "_"})


class ExportError(OSError):
    """A lesson file that was not written; str() says which and why."""


def _allowed(char: str) -> bool:
    # Letters, marks, digits, punctuation and symbols of any script, and the plain space: no
    # control or format characters (U+202E would reverse how a name reads), no other spaces
    # or line breaks, nothing private-use or unassigned.
    return char == " " or unicodedata.category(char)[0] in "LMNPS"


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text.replace(" | ", " _ ").translate(_SEPARATORS))
    text = "".join(char if _allowed(char) else "_" for char in text)
    # A leading dot hides a file (and makes "." and ".."), a leading "-" reads as an option.
    return text.lstrip(" .-").rstrip(" ")


def _short_hash(identity: str) -> str:
    return hashlib.sha256(identity.encode()).hexdigest()[:_HASH_CHARS]


def _key(name: str) -> str:
    """Names that one file system may hold as one file (macOS and Windows ignore case)."""
    return unicodedata.normalize("NFC", name).casefold()


def _cut(text: str, max_bytes: int) -> str:
    encoded = text.encode()
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode(errors="ignore").rstrip(" .")


@dataclass(frozen=True)
class _Wanted:
    identity: str  # what tells this lesson (or course) from every other, for the hash
    text: str  # the readable name, without extension
    exact: bool  # `import_lesson` reads the plain name back as what it names
    fallback: str  # the name when nothing of `text` is left

    def candidates(self, extension: str) -> Iterator[str]:
        """The plain name if it is exact and fits, then `~hash`, then `~hash-2`, …"""
        text = self.text or self.fallback
        if self.exact and len((text + extension).encode()) <= MAX_NAME_BYTES:
            yield text + extension
        for number in count(1):
            suffix = f"~{_short_hash(self.identity)}" + (f"-{number}" if number > 1 else "")
            room = MAX_NAME_BYTES - len((suffix + extension).encode())
            yield (_cut(text, room) or self.fallback) + suffix + extension


def _unique(wanted: list[_Wanted], extension: str) -> list[str]:
    """One name each: exact names first, each group in the order of its identities."""
    names: list[str] = [""] * len(wanted)
    taken: set[str] = set()
    order = sorted(range(len(wanted)), key=lambda i: (not wanted[i].exact, wanted[i].identity))
    for index in order:
        for name in wanted[index].candidates(extension):
            if _key(name) not in taken:
                taken.add(_key(name))
                names[index] = name
                break
    return names


def _lesson_wanted(lesson: Lesson) -> _Wanted:
    stem = f"{lesson.number:02d}-{lesson.title}" if lesson.number is not None else lesson.title
    text = _clean(stem)
    read_back = lesson_name_from_filename(text + EXTENSION)
    exact = read_back == LessonName(number=lesson.number, title=lesson.title)
    return _Wanted(f"{lesson.course.slug}/{lesson.slug}", text, exact, "lesson")


def _course_wanted(course: Course) -> _Wanted:
    text = _clean(course.title).rstrip(" .")  # Windows drops a folder name's trailing dots
    return _Wanted(course.slug, text, bool(text) and text == course.title, "course")


def export_paths(lessons: list[Lesson]) -> list[Path]:
    """The relative path `course folder/lesson file` of each lesson, in the same order."""
    courses = list({lesson.course_id: lesson.course for lesson in lessons}.values())
    folders = dict(
        zip(
            (course.pk for course in courses),
            _unique([_course_wanted(course) for course in courses], ""),
            strict=True,
        )
    )
    by_course: dict[int, list[int]] = defaultdict(list)
    for index, lesson in enumerate(lessons):
        by_course[lesson.course_id].append(index)
    paths: list[Path | None] = [None] * len(lessons)
    for course in courses:
        indexes = by_course[course.pk]
        names = _unique([_lesson_wanted(lessons[i]) for i in indexes], EXTENSION)
        for index, name in zip(indexes, names, strict=True):
            paths[index] = Path(folders[course.pk], name)
    return paths


def write_file(root: Path, relative: Path, data: bytes, *, force: bool = False) -> bool:
    """Write `data` at root/relative, True if written, False if it held exactly that already.

    The folder is made if needed and must be a real folder in `root` (a symbolic link there is
    refused, so nothing lands outside `root`). The file is written to a temporary file beside
    it and renamed, so a reader never sees half of it; a different file already there is kept
    unless `force`.
    """
    folder, name = relative.parts  # export_paths gives two plain names, neither "." nor ".."
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, dir_fd=root_fd)
        try:
            folder_fd = os.open(
                folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=root_fd
            )
        except OSError as error:
            if error.errno in (errno.ELOOP, errno.ENOTDIR):
                raise ExportError(
                    f"{root / folder}: not a folder (a link?); not followed"
                ) from None
            raise
    finally:
        os.close(root_fd)
    try:
        return _write_in(folder_fd, name, data, force=force, shown=root / relative)
    finally:
        os.close(folder_fd)


def _existing(folder_fd: int, name: str) -> bytes | None:
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=folder_fd)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno == errno.ELOOP:
            return b""  # a symbolic link: never equal to what we write, never followed
        raise
    with os.fdopen(fd, "rb") as file:
        return file.read()


def _write_in(folder_fd: int, name: str, data: bytes, *, force: bool, shown: Path) -> bool:
    existing = _existing(folder_fd, name)
    if existing == data:
        return False
    if existing is not None and not force:
        raise ExportError(f"{shown}: a different file is there; not overwritten without --force")
    temporary = f".{secrets.token_hex(8)}.export-tmp"
    fd = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666, dir_fd=folder_fd
    )
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if force:
            os.replace(temporary, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
        else:
            _link_new(folder_fd, temporary, name, shown=shown)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary, dir_fd=folder_fd)
    return True


def _link_new(folder_fd: int, temporary: str, name: str, *, shown: Path) -> None:
    """Give the written file its name unless that name was taken meanwhile."""
    appeared = ExportError(f"{shown}: a different file appeared; not overwritten without --force")
    # A link fails if the name is taken, where a rename would replace what is there.
    try:
        os.link(temporary, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
    except FileExistsError:
        raise appeared from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        # A file system without hard links (FAT, some network shares): look, then rename.
        if _existing(folder_fd, name) is not None:
            raise appeared from None
        os.replace(temporary, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
