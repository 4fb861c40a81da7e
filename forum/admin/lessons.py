"""The lessons' admin (lessons.admin), which knows nothing of the forum, with the forum's part:
a lesson saved there is searched as it now reads, and the comments on its blocks follow an
edited body as they follow an import (forum.anchoring)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from forum.anchoring import comments_reattach
from forum.models import Comment
from forum.search.sync import comments_reindex, lesson_reindex
from lessons.admin import LessonAdmin
from lessons.models import Lesson

admin.site.unregister(Lesson)


@admin.register(Lesson)
class SearchedLessonAdmin(LessonAdmin):
    def save_model(self, request: HttpRequest, obj: Lesson, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        lesson_reindex(obj)  # in the admin's transaction
        if change and "course" in form.changed_data:  # its comments are searched in the new one
            comments_reindex(Comment.objects.filter(lesson=obj).values_list("pk", flat=True))

    def blocks_changed(self, lesson: Lesson, *, old_blocks: dict[str, str]) -> None:
        comments_reattach(lesson=lesson, old_blocks=old_blocks)
