"""Rebuild the search index, or check it against what readers see.

The write services keep the index in step (forum.search.sync); this is for the first run after
the search migration, after a restore or a bulk change made outside them (the admin's lesson
editor, SQL), and for monitoring: `--check` exits with status 1 when the index has drifted.
`--rebuild` writes every document again in batches, one transaction each; interrupted, it is
resumed with `--after` and the last id it reported.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import F

from forum.models import Comment, SearchDocument
from forum.search.documents import comment_document, lesson_documents
from forum.search.sync import comments_reindex, lesson_reindex
from lessons.models import Lesson

FIELDS = ("lesson_id", "course_id", "section", "heading", "text", "title_tokens", "tokens")


def _same(stored: SearchDocument, built: SearchDocument) -> bool:
    return all(getattr(stored, name) == getattr(built, name) for name in FIELDS)


class Command(BaseCommand):
    help = "Rebuild the search index (--rebuild) or report where it differs (--check)."

    def add_arguments(self, parser) -> None:
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--rebuild", action="store_true", help="Write every document again.")
        action.add_argument(
            "--check", action="store_true", help="Report missing, stale and extra documents."
        )
        parser.add_argument(
            "--after",
            type=int,
            default=0,
            metavar="ID",
            help="With --rebuild: resume after this comment id (lessons are skipped).",
        )
        parser.add_argument("--batch", type=int, default=1000, help="Comments per transaction.")

    def handle(self, *args, rebuild: bool, check: bool, after: int, batch: int, **options):
        if rebuild:
            self.rebuild_index(after=after, batch=max(1, batch))
        else:
            self.check_index(batch=max(1, batch))

    def progress(self, what: str, done: int, total: int, last_id: int) -> None:
        if self.stdout.isatty():
            width = 30
            filled = width * done // max(total, 1)
            bar = "#" * filled + "." * (width - filled)
            self.stdout.write(f"\r{what} [{bar}] {done}/{total}", ending="")
            self.stdout.flush()
        else:
            self.stdout.write(f"{what}: {done}/{total}, up to id {last_id}")

    def rebuild_index(self, *, after: int, batch: int) -> None:
        if not after:
            lessons = list(Lesson.objects.order_by("pk").values_list("pk", flat=True))
            for done, pk in enumerate(lessons, 1):
                with transaction.atomic():
                    lesson_reindex(Lesson.objects.get(pk=pk))
                if done % 50 == 0 or done == len(lessons):
                    self.progress("lessons", done, len(lessons), pk)
            if self.stdout.isatty() and lessons:
                self.stdout.write("")
        comments = Comment.objects.filter(pk__gt=after).order_by("pk")
        total, done, last = comments.count(), 0, after
        try:
            while True:
                ids = list(comments.filter(pk__gt=last).values_list("pk", flat=True)[:batch])
                if not ids:
                    break
                with transaction.atomic():
                    comments_reindex(ids)
                done, last = done + len(ids), ids[-1]
                self.progress("comments", done, total, last)
        except KeyboardInterrupt:
            raise CommandError(f"interrupted: resume with --rebuild --after {last}") from None
        if self.stdout.isatty():
            self.stdout.write("")
        if connection.vendor == "sqlite":  # merge the FTS5 segments the batches wrote
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO forum_search_fts(forum_search_fts) VALUES('optimize')")
        self.stdout.write(self.style.SUCCESS(f"search index rebuilt: {done} comments"))

    def check_index(self, *, batch: int) -> None:
        missing, stale, extra = [], [], []
        documents = SearchDocument.objects.filter(kind=SearchDocument.Kind.COMMENT)
        indexed = set(documents.values_list("comment_id", flat=True))
        visible = set(Comment.objects.counted().values_list("pk", flat=True))
        missing += [f"comment {pk}" for pk in sorted(visible - indexed)]
        extra += [f"comment {pk}" for pk in sorted(indexed - visible)]
        both = sorted(indexed & visible)
        for start in range(0, len(both), batch):
            ids = both[start : start + batch]
            stored = documents.filter(comment_id__in=ids).in_bulk(field_name="comment_id")
            comments = Comment.objects.filter(pk__in=ids).annotate(course_id=F("lesson__course_id"))
            for comment in comments.only("lesson_id", "body", "created_at"):
                if not _same(stored[comment.pk], comment_document(comment, comment.course_id)):
                    stale.append(f"comment {comment.pk}")
        for lesson in Lesson.objects.order_by("pk").iterator(chunk_size=100):
            stored = list(
                SearchDocument.objects.filter(
                    kind=SearchDocument.Kind.LESSON, lesson=lesson
                ).order_by("section")
            )
            built = lesson_documents(lesson)
            if not stored:
                missing.append(f"lesson {lesson.pk}")
            elif len(stored) != len(built) or not all(map(_same, stored, built)):
                stale.append(f"lesson {lesson.pk}")
        if connection.vendor == "sqlite":
            try:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "INSERT INTO forum_search_fts(forum_search_fts, rank)"
                        " VALUES('integrity-check', 1)"
                    )
            except Exception as error:  # the FTS5 index no longer matches its documents
                stale.append(f"the full-text index ({error})")
        for label, found in (("missing", missing), ("stale", stale), ("extra", extra)):
            self.stdout.write(f"{label}: {len(found)}")
            for item in found[:20]:
                self.stdout.write(f"  {item}")
            if len(found) > 20:
                self.stdout.write(f"  … and {len(found) - 20} more")
        if missing or stale or extra:
            raise CommandError("the search index has drifted: run search_index --rebuild")
        self.stdout.write(self.style.SUCCESS("the search index is in step"))
