"""The lessons' admin (lessons.admin), which knows nothing of the forum, with the forum's part:
a lesson saved there is searched as it now reads."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from forum.search.sync import lesson_reindex
from lessons.admin import LessonAdmin
from lessons.models import Lesson

admin.site.unregister(Lesson)


@admin.register(Lesson)
class SearchedLessonAdmin(LessonAdmin):
    def save_model(self, request: HttpRequest, obj: Lesson, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        lesson_reindex(obj)  # in the admin's transaction
