from __future__ import annotations

import importlib
import re

import pytest
from django.conf import settings
from django.contrib import admin
from django.core.management import call_command
from django.urls import clear_url_caches, reverse

import forum.urls
from tests.factories import CourseFactory, LessonFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_home_page_is_chinese_with_header_and_account_menu(client):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert "课程社区" in html
    assert "data-account-menu" in html
    assert "登录" in html and "注册" in html


def test_home_page_explains_how_to_import_when_there_are_no_courses(client):
    html = client.get("/").content.decode()
    assert "manage.py import_lesson" in html


def test_home_page_lists_courses_with_counts(client):
    lesson = LessonFactory(course__title="AI大模型实战高手课", comment_count=18)
    LessonFactory(course=lesson.course, comment_count=2)
    html = client.get("/").content.decode()
    assert "AI大模型实战高手课" in html
    assert lesson.course.get_absolute_url() in html
    assert re.search(r"2\s*讲", html)
    assert re.search(r"20\s*条留言", html)


def test_language_link_switches_the_page_to_english(client):
    response = client.get(reverse("language"), {"language": "en", "next": "/courses/x/?sort=new"})
    assert response.status_code == 302
    assert response["Location"] == "/courses/x/?sort=new"
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Lesson Forum" in html
    assert "Log in" in html


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", ""])
def test_language_link_goes_back_only_to_this_site(client, next_url):
    response = client.get(reverse("language"), {"language": "en", "next": next_url})
    assert response["Location"] == "/"


def test_language_link_ignores_a_language_the_site_does_not_offer(client):
    response = client.get(reverse("language"), {"language": "fr", "next": "/"})
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_footer_offers_both_languages(client):
    html = client.get("/").content.decode()
    assert "?language=en&amp;next=/" in html
    assert "?language=zh-hans&amp;next=/" in html


def test_signed_in_member_sees_their_name_and_a_logout_form(member_client, member):
    html = member_client.get("/").content.decode()
    assert f"data-member-name>{member.username}<" in html
    assert f'action="{reverse("account_logout")}"' in html


def test_course_page_lists_lessons_in_order(client):
    course = CourseFactory(title="AI大模型实战高手课")
    second = LessonFactory(course=course, number=2, position=2, title="学好提示工程")
    first = LessonFactory(course=course, number=1, position=1, title="洞察本质")
    html = client.get(course.get_absolute_url()).content.decode()
    assert html.index(first.title) < html.index(second.title)


def test_unknown_course_is_404(client):
    assert client.get("/courses/no-such-course/").status_code == 404


def test_admin_is_served_at_admin(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def urlconf_reload() -> None:
    """Run forum/urls.py again, as a process starting with today's settings would."""
    # The URLconf wraps the admin's login in allauth's when it runs: unwrap it first.
    admin.site.login = admin.site.login.__wrapped__
    importlib.reload(forum.urls)
    clear_url_caches()


@pytest.fixture
def admin_at(settings):
    """Serve the admin at another ADMIN_URL; the URLconf reads the setting once, on import."""
    default = settings.ADMIN_URL

    def serve(url: str) -> None:
        settings.ADMIN_URL = url
        urlconf_reload()

    yield serve
    settings.ADMIN_URL = default
    urlconf_reload()


def test_admin_is_served_at_admin_url_and_not_at_admin(client, admin_at):
    admin_at("backstage-7f3a/")
    assert reverse("admin:index") == "/backstage-7f3a/"
    response = client.get("/backstage-7f3a/")
    assert response.status_code == 302
    assert response["Location"].startswith("/backstage-7f3a/login/")
    assert client.get("/admin/").status_code == 404
    assert client.get("/admin/login/").status_code == 404


def test_pages_carry_a_csp_without_inline_scripts(client):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "nonce" not in policy
    assert "unsafe-inline" not in policy
    html = response.content.decode()
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag and "nonce" not in tag
    assert "style=" not in html


def test_htmx_requests_of_members_send_the_csrf_token(client):
    client.force_login(UserFactory())
    html = client.get("/").content.decode()
    assert re.search(r"<body[^>]*data-hx-headers='\{\"X-CSRFToken\": \"[^\"]+\"\}'", html)


def test_pages_for_readers_not_signed_in_hold_no_csrf_token(client):
    html = client.get("/").content.decode()
    assert "X-CSRFToken" not in html and "csrfmiddlewaretoken" not in html
    assert "csrftoken" not in client.cookies


def test_ensure_admin_prints_a_fresh_password_once(capsys, django_user_model, settings):
    settings.DEBUG = True
    call_command("ensure_admin")
    first = capsys.readouterr().out
    password = re.search(r"password: (\S+)", first).group(1)
    assert django_user_model.objects.get(username="admin").check_password(password)
    call_command("ensure_admin")
    assert capsys.readouterr().out == ""


def test_ensure_admin_does_nothing_in_production(django_user_model, settings):
    settings.DEBUG = False
    call_command("ensure_admin")
    assert not django_user_model.objects.exists()
