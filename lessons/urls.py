from django.urls import path

from lessons import views

app_name = "lessons"
urlpatterns = [
    path("", views.home, name="home"),
    path("courses/<str:course_slug>/", views.course_detail, name="course"),
    path("lessons/<int:lesson_id>/revisions/", views.revision_list, name="revisions"),
    path(
        "lessons/<int:lesson_id>/revisions/<int:number>/",
        views.revision_detail,
        name="revision",
    ),
]
