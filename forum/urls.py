from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from forum import views

admin.site.site_header = _("Lesson Forum moderation")
admin.site.site_title = _("Lesson Forum")
admin.site.index_title = _("Moderation")

forum_patterns = [
    path("courses/<str:course_slug>/<str:lesson_slug>/", views.lesson_page, name="lesson"),
]

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("lessons.urls")),
    path("", include((forum_patterns, "forum"))),
]
