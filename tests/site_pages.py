"""Every page a reader, a teacher and a member see, on the seed lesson with a little discussion:
what the accessibility (axe) and HTML validity (Nu) checks and `make screenshots` go through."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from allauth.account.internal.flows.login import record_authentication
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse

from forum import services
from forum.models import Comment, Member
from lessons.models import Lesson
from lessons.revisions import revision_record
from tests.factories import UserFactory, teacher_of

SEED = next((Path(__file__).resolve().parents[1] / "forum" / "seed").rglob("*.md"))


@dataclass(frozen=True)
class SitePage:
    name: str  # also the screenshot's file name
    path: str
    who: str  # "anonymous", "member" or "teacher"


@dataclass(frozen=True)
class Scene:
    lesson: Lesson
    member: Member
    teacher: Member
    pages: list[SitePage]


def build_scene() -> Scene:
    """The seed lesson, a member who commented and was answered, its teacher."""
    call_command("import_lesson", str(SEED), stdout=io.StringIO())
    lesson = Lesson.objects.get()
    teacher = teacher_of(lesson.course, username="duxing")
    member = services.member_for(UserFactory(username="xiaoming"))
    asked = services.comment_post(
        author=member, lesson=lesson, body="请问**提示工程**和微调怎么选？\n\n- 成本\n- 效果"
    )
    services.comment_post(author=teacher, lesson=lesson, parent=asked, body="先试提示工程。")
    imported = Comment.objects.filter(lesson=lesson, source_position=1).get()
    services.comment_post(author=member, lesson=lesson, parent=imported, body="同感。")
    claimable = imported.member
    # A comment on a block of the lesson, and a second revision of it: the lesson's revision
    # history then has a diff, and the comment its quote.
    passage = list(lesson.blocks)[1]
    services.comment_post(author=member, lesson=lesson, body="这句话怎么理解？", block=passage)
    lesson.body_markdown += "\n\n补充：工程上的胜利同样重要。\n"
    lesson.save()
    revision_record(lesson=lesson, source_ref="补充")
    claimable = imported.member
    pages = [
        SitePage("home", "/", "anonymous"),
        SitePage("course", lesson.course.get_absolute_url(), "anonymous"),
        SitePage("lesson", lesson.get_absolute_url(), "anonymous"),
        SitePage("lesson-member", lesson.get_absolute_url(), "member"),
        SitePage("lesson-teacher", lesson.get_absolute_url(), "teacher"),
        SitePage("permalink", asked.url, "anonymous"),
        SitePage("passage", reverse("forum:block-comments", args=[lesson.pk, passage]), "member"),
        SitePage("revisions", reverse("lessons:revisions", args=[lesson.pk]), "anonymous"),
        SitePage("revision", reverse("lessons:revision", args=[lesson.pk, 1]), "anonymous"),
        SitePage("signup", "/accounts/signup/", "anonymous"),
        SitePage("login", "/accounts/login/", "anonymous"),
        SitePage("password-reset", "/accounts/password/reset/", "anonymous"),
        SitePage("not-found", "/no-such-page/", "anonymous"),
        SitePage("profile", member.get_absolute_url(), "anonymous"),
        SitePage("settings", "/settings/", "member"),
        SitePage("notifications", "/notifications/", "member"),
        SitePage("settings-export", "/settings/export/", "member"),
        SitePage("settings-delete", "/settings/delete/", "member"),
        SitePage("claim", f"{claimable.get_absolute_url()}claim/", "member"),
        SitePage("search", "/search/?q=%E5%A4%A7%E6%A8%A1%E5%9E%8B", "anonymous"),
        SitePage("teach", "/teach/", "teacher"),
        SitePage("teach-glance", "/teach/glance/", "teacher"),
    ]
    return Scene(lesson, member, teacher, pages)


def client_for(scene: Scene, who: str, language: str = "zh-hans") -> Client:
    """A client for `who`, in `language`; a signed-in one has just given its password again
    (as allauth's "confirm access" page records), so the account pages open."""
    client = Client()
    client.cookies["django_language"] = language
    user = {"anonymous": None, "member": scene.member.user, "teacher": scene.teacher.user}[who]
    if user is not None:
        client.force_login(user)
        request = RequestFactory().get("/")
        request.session = client.session
        record_authentication(request, user, method="password", reauthenticated=True)
        request.session.save()
    return client
