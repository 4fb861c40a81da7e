"""Write lessons back in the source page format, for backups and for moving lessons.

Importing an export into an empty database reproduces the same lessons and comments.
LESSON is `course-slug/lesson-slug` or a lesson's id; `--all` exports every lesson into
`--output DIR/<course title>/<NN-title>.md`.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from forum.importing.export import lesson_file_name, lesson_to_source
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

    def handle(self, *args, lessons: list[str], output: str | None, **options) -> None:
        if options["all"]:
            selected = list(Lesson.objects.select_related("course").order_by("course", "position"))
        elif lessons:
            selected = [find_lesson(reference) for reference in lessons]
        else:
            raise CommandError("name at least one LESSON, or use --all")
        if output is None:
            if len(selected) != 1:
                raise CommandError("several lessons need --output DIR")
            self.stdout.write(lesson_to_source(selected[0]), ending="")
            return
        for lesson in selected:
            folder = Path(output) / lesson.course.title.replace("/", "∕")
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / lesson_file_name(lesson)
            path.write_text(lesson_to_source(lesson), encoding="utf-8")
            self.stdout.write(str(path))
        self.stdout.write(f"{len(selected)} lessons exported to {output}")
