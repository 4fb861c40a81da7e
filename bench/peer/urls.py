from django.contrib.flatpages.models import FlatPage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import include, path


def lesson(request: HttpRequest) -> HttpResponse:
    """The lesson and its comments, threaded by django-comments-xtd's own template tag."""
    page = get_object_or_404(FlatPage, url="/lesson/")
    return render(request, "peer/lesson.html", {"page": page})


urlpatterns = [
    path("lesson/", lesson),
    path("comments/", include("django_comments_xtd.urls")),
]
