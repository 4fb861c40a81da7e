from django.urls import path

from lessons import views

app_name = "lessons"
urlpatterns = [
    path("", views.home, name="home"),
    path("courses/<str:course_slug>/", views.course_detail, name="course"),
]
