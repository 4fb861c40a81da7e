"""Write lessons back in the source page format, for backups and for moving lessons.

Importing an export into an empty database reproduces the same lessons and comments.
LESSON is `course-slug/lesson-slug` or a lesson's id; `--all` exports every lesson into
`--output DIR/<course title>/<NN-title>.md` (names made safe and unique by
forum.importing.export_files). A file that is already there with other content is kept unless
`--force`; a lesson that cannot be written is reported and the others are still exported.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from forum.importing.export import lesson_to_source
from forum.importing.export_files import ExportError, export_paths, write_file
from lessons.models import Lesson


def find_lesson(reference: str) -> Lesson:
    lessons = Lesson.objects.select_related("course")
    if reference.isdigit():
        found = lessons.filter(pk=int(reference)).first()
    else:
        course_slug, _, lesson_slug = reference.strip("/").rpartition("/")
        found = lessons.filter(course__slug=course_slug, slug=lesson_slug).first()
    if found is None:
        raise CommandError(f"no lesson {reference!r} (give course-slug/lesson-slug or an id)")
    return found


class Command(BaseCommand):
    help = "Export lessons with their comments in the source page format."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("lessons", nargs="*", metavar="LESSON")
        parser.add_argument("--all", action="store_true", help="Export every lesson.")
        parser.add_argument("--format", choices=["source"], default="source", help="Output format.")
        parser.add_argument("--output", "-o", help="Directory to write into (default: stdout).")
        parser.add_argument(
            "--force", action="store_true", help="Overwrite files that hold something else."
        )

    def handle(self, *args, lessons: list[str], output: str | None, force: bool, **options) -> None:
        if options["all"]:
            selected = list(Lesson.objects.select_related("course").order_by("course", "position"))
        elif lessons:
            # A lesson named twice (by slug and by id) is one lesson, exported once.
            selected = list(dict.fromkeys(find_lesson(reference) for reference in lessons))
        else:
            raise CommandError("name at least one LESSON, or use --all")
        if output is None:
            if len(selected) != 1:
                raise CommandError("several lessons need --output DIR")
            self.stdout.write(lesson_to_source(selected[0]), ending="")
            return
        root = Path(output)
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CommandError(f"{output}: {error.strerror or error}") from None
        written = unchanged = 0
        failures: list[str] = []
        for lesson, relative in zip(selected, export_paths(selected), strict=True):
            try:
                data = lesson_to_source(lesson).encode()
                if write_file(root, relative, data, force=force):
                    written += 1
                    self.stdout.write(str(root / relative))
                else:
                    unchanged += 1
            except ExportError as error:
                reason = str(error)
            except OSError as error:
                reason = f"{root / relative}: {error.strerror or error}"
            else:
                continue
            failures.append(reason)
            self.stderr.write(self.style.ERROR(f"error: {reason}"))
        self.stdout.write(
            f"{written + unchanged} lessons exported to {output}: {written} written, "
            f"{unchanged} unchanged, {len(failures)} failed"
        )
        if failures:
            raise CommandError(f"{len(failures)} of {len(selected)} lessons failed")
