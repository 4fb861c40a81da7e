"""Keeping the search documents equal to what readers see, inside each write's transaction.

Every write that changes a comment's text or whether it is listed calls one of these with the
comments it changed: posting (`comment_added`), editing (`comment_text_changed`), deleting
(`comment_removed`), moderation and account deletion (`comments_reindex`); an import calls
`lesson_reindex` and `comments_reindex`. A comment has a document exactly while it is
published and not deleted, so a hidden one stops being found on the next request. Merging two
members needs nothing: a document names no author, results read it from the comment.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F

from forum.models import Comment, SearchDocument
from forum.search.documents import comment_document, lesson_documents
from lessons.models import Lesson

BATCH = 500


def comments_reindex(comment_ids: Iterable[int]) -> None:
    """Write the documents of these comments again: for each one readers see, its text now;
    none for the others. Three queries per 500 comments."""
    ids = sorted(set(comment_ids))
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        SearchDocument.objects.filter(comment_id__in=batch).delete()
        visible = (
            Comment.objects.counted()
            .filter(pk__in=batch)
            .only("lesson_id", "body", "created_at")
            .annotate(course_id=F("lesson__course_id"))
        )
        SearchDocument.objects.bulk_create(
            comment_document(comment, comment.course_id) for comment in visible
        )


def comment_added(comment: Comment) -> None:
    """A comment readers see from now on (with its lesson at hand): one query."""
    comment_document(comment, comment.lesson.course_id).save(force_insert=True)


def comment_text_changed(comment: Comment) -> None:
    """A comment's new text: one query; a comment without a document (not listed) keeps none."""
    SearchDocument.objects.filter(comment=comment).update(
        text=comment.body, tokens=comment_document(comment, 0).tokens
    )


def comment_removed(comment: Comment) -> None:
    """A comment readers no longer see: one query."""
    SearchDocument.objects.filter(comment=comment).delete()


def lesson_reindex(lesson: Lesson) -> None:
    """Write a lesson's own documents (its sections) again."""
    if lesson.created_at is None:  # an importer's row saved with update_fields
        lesson.created_at = Lesson.objects.values_list("created_at", flat=True).get(pk=lesson.pk)
    SearchDocument.objects.filter(kind=SearchDocument.Kind.LESSON, lesson=lesson).delete()
    SearchDocument.objects.bulk_create(lesson_documents(lesson))
