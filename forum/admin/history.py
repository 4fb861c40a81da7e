"""Likes and edit history in full: a comment's page shows only the latest of them and links here."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from forum.admin.comments import comment_change_url, shorten
from forum.admin.view_only import ViewOnlyAdmin
from forum.models import CommentLike, CommentRevision


class CommentRowAdmin(ViewOnlyAdmin):
    """Reached filtered to one comment (`?comment__id__exact=`). No count of the whole table:
    it holds every like on the site."""

    list_select_related = ["comment"]
    show_full_result_count = False
    actions = None

    @admin.display(description=_("comment"), ordering="comment")
    def comment_link(self, row: CommentLike | CommentRevision) -> SafeString:
        return format_html(
            '<a href="{}">{}</a>', comment_change_url(row.comment_id), shorten(row.comment.body)
        )


@admin.register(CommentLike)
class CommentLikeAdmin(CommentRowAdmin):
    list_display = ["created_at", "member", "comment_link"]
    list_select_related = ["comment", "member"]
    ordering = ["-created_at", "-pk"]


@admin.register(CommentRevision)
class CommentRevisionAdmin(CommentRowAdmin):
    list_display = ["replaced_at", "written_at", "excerpt", "comment_link"]
    ordering = ["-replaced_at", "-pk"]

    @admin.display(description=_("previous text"))
    def excerpt(self, revision: CommentRevision) -> str:
        return shorten(revision.body, 120)
