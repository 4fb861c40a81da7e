from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from forum.notifications import views as notifications
from forum.search import views as search
from forum.views import (
    claims,
    discussion,
    language,
    leaving,
    likes,
    media,
    members,
    reports,
    teach,
    unsubscribe,
)
from forum.views import settings as member_settings

admin.site.site_header = _("Lesson Forum moderation")
admin.site.site_title = _("Lesson Forum")
admin.site.index_title = _("Moderation")
# The moderation lists (comments, reports) need the page's width at 1280 px; the index, which
# counts what waits, and the breadcrumbs lead between them.
admin.site.enable_nav_sidebar = False
# The admin logs in through allauth's login page, and so under its rate limits.
admin.site.login = secure_admin_login(admin.site.login)


def actions(route: str, view, names: tuple[str, ...], prefix: str) -> list:
    """One URL per action (`…/pin/`, `…/unpin/`): each is its own idempotent request."""
    return [
        path(f"{route}{name}/", view, {"action": name}, name=f"{prefix}-{name}") for name in names
    ]


forum_patterns = [
    path("courses/<str:course_slug>/<str:lesson_slug>/", discussion.lesson_page, name="lesson"),
    path("lessons/<int:lesson_id>/comments/", discussion.comment_create, name="comment-create"),
    path(
        "lessons/<int:lesson_id>/blocks/<str:block>/",
        discussion.block_comments,
        name="block-comments",
    ),
    *actions("lessons/<int:lesson_id>/", likes.lesson_like, ("like", "unlike"), "lesson"),
    path("comments/<int:comment_id>/", discussion.comment_detail, name="comment"),
    path("comments/<int:comment_id>/reply/", discussion.comment_reply, name="comment-reply"),
    path("comments/<int:comment_id>/edit/", discussion.comment_edit, name="comment-edit"),
    path("comments/<int:comment_id>/delete/", discussion.comment_delete, name="comment-delete"),
    path("comments/<int:comment_id>/likes/", likes.comment_likers, name="comment-likers"),
    path("comments/<int:comment_id>/report/", reports.comment_report, name="comment-report"),
    *actions("comments/<int:comment_id>/", likes.comment_like, ("like", "unlike"), "comment"),
    path("unsubscribe/<str:token>/", unsubscribe.email_unsubscribe, name="unsubscribe"),
    *actions(
        "comments/<int:comment_id>/",
        discussion.comment_curate,
        ("feature", "unfeature", "pin", "unpin"),
        "comment",
    ),
    path("notifications/", notifications.notification_list, name="notifications"),
    path(
        "notifications/<int:notification_id>/",
        notifications.notification_detail,
        name="notification",
    ),
    path("notifications/read/", notifications.notifications_mark_read, name="notifications-read"),
    path("settings/", member_settings.settings_page, name="settings"),
    # <path:…>: a slug is whatever an account's user name is, and the page must never fail to
    # be reversed for one; the claim comes first so that "…/claim/" is never read as a slug.
    path("members/<path:slug>/claim/", claims.member_claim, name="member-claim"),
    path("members/<path:slug>/", members.member_page, name="member"),
    path("settings/export/", leaving.data_export, name="settings-export"),
    path("settings/delete/", leaving.account_delete_page, name="settings-delete"),
    path("settings/avatar/", member_settings.avatar_upload, name="settings-avatar"),
    path("settings/avatar/remove/", member_settings.avatar_delete, name="settings-avatar-remove"),
    path("search/", search.search_page, name="search"),
    # The teacher's workspace (forum.teaching).
    path("teach/", teach.teach_queue, name="teach"),
    path("teach/glance/", teach.teach_glance, name="teach-glance"),
    path("teach/queue.csv", teach.queue_csv, name="teach-queue-csv"),
    path("teach/weekly.csv", teach.weekly_csv, name="teach-weekly-csv"),
    path("teach/comments/<int:comment_id>/answer/", teach.comment_answer, name="teach-answer"),
    *actions(
        "teach/comments/<int:comment_id>/", teach.comment_dismiss, ("dismiss", "undismiss"), "teach"
    ),
]

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("language/", language.language_choose, name="language"),
    path("favicon.ico", media.favicon, name="favicon"),
    path("", include("lessons.urls")),
    path("", include((forum_patterns, "forum"))),
]
# Uploaded and downloaded images, when no web server or object store serves them (forum.images).
if settings.FORUM_SERVE_MEDIA and settings.MEDIA_URL.startswith("/"):
    urlpatterns.append(
        path(f"{settings.MEDIA_URL.strip('/')}/<path:name>", media.media_file, name="media")
    )
