"""Claiming an imported identity: the claim from its profile, the moderators' queue and decision,
the merge of the claimant's history into it, and linking the imported teacher to an account."""

from __future__ import annotations

import io
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from forum import avatars, claims, likes, linking, moderation, services
from forum.importing.service import _staff_member
from forum.models import (
    Comment,
    CommentLike,
    LessonLike,
    Member,
    MemberClaim,
    ModerationAction,
    Notification,
    Report,
)
from lessons.models import Lesson
from tests.factories import (
    CommentFactory,
    CourseFactory,
    LessonFactory,
    MemberFactory,
    UserFactory,
    moderator,
)
from tests.forum.image_files import image_bytes

pytestmark = pytest.mark.django_db

SEED = next((Path(__file__).resolve().parents[2] / "forum" / "seed").rglob("*.md"))
HTMX = {"HTTP_HX_REQUEST": "true"}


# ---------------------------------------------------------------------------------------------
# Helpers


class _Page(HTMLParser):
    """What the tests read of a page: each comment card's author and whether it is an author
    reply, the claim controls, the forms."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[str] = []  # the ids of the open comment cards, innermost last
        self.authors: dict[str, str] = {}
        self.author_replies: set[str] = set()
        self.claim_buttons: list[dict] = []
        self.links: list[str] = []
        self.forms: list[dict] = []
        self.claim_open = False
        self._in_author: str | None = None
        self._answer: str | None = None
        self._depth: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "article" and "data-comment-id" in attributes:
            self.cards.append(attributes["data-comment-id"])
            if "data-author-reply" in attributes:
                self.author_replies.add(attributes["data-comment-id"])
        if "data-author-reply" in attributes and "data-answer-id" in attributes:
            # The answer shown as the 作者回复 block of its parent's card: its first <bdi> is
            # its author's name.
            self.author_replies.add(attributes["data-answer-id"])
            self._answer = attributes["data-answer-id"]
        if tag == "bdi" and self._answer:
            self._in_author, self._answer = self._answer, None
            self.authors[self._in_author] = ""
        if tag == "bdi" and "data-author" in attributes and self.cards:
            self._in_author = self.cards[-1]
            self.authors[self._in_author] = ""
        if attributes.get("data-action") == "claim":
            self.claim_buttons.append(attributes)
        if attributes.get("data-claim") == "open":
            self.claim_open = True
        if tag == "a":
            self.links.append(attributes.get("href", ""))
        if tag == "form":
            self.forms.append(attributes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "bdi":
            self._in_author = None
        if tag == "article" and self.cards:
            self.cards.pop()

    def handle_data(self, data: str) -> None:
        if self._in_author is not None:
            self.authors[self._in_author] += data


def parsed(response) -> _Page:
    page = _Page()
    page.feed(response.content.decode())
    return page


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def claim_url(member: Member) -> str:
    return reverse("forum:member-claim", args=[member.slug])


def decide(client: Client, action: str, claim_ids: list[int], reason: str = ""):
    """A moderator picks Approve or Refuse in the claims queue, then confirms on the reason page."""
    url = reverse("admin:forum_memberclaim_changelist")
    asked = client.post(url, {"action": action, ACTION_CHECKBOX_NAME: claim_ids, "index": 0})
    assert asked.status_code == 200
    assert "reason" in asked.context["form"].fields
    data = {"action": action, ACTION_CHECKBOX_NAME: claim_ids, "post": "yes", "reason": reason}
    return client.post(url, data)


def drift() -> str:
    """What `recount --check` finds drifted, "" when every counter matches its rows."""
    out = io.StringIO()
    try:
        call_command("recount", "--check", stdout=out)
    except CommandError:
        return out.getvalue()
    return ""


def imported(name: str = "Geek_e9e5f5", **fields) -> Member:
    return MemberFactory(display_name=name, import_key=f"key-{name}", **fields)


def account(username: str, display_name: str = "", **fields) -> Member:
    user = UserFactory(username=username, **fields)
    member = services.member_for(user)
    if display_name:
        member.display_name = display_name
        member.save(update_fields=["display_name"])
    return member


@pytest.fixture
def seed_lesson() -> Lesson:
    call_command("import_lesson", str(SEED), stdout=io.StringIO())
    return Lesson.objects.get()


@pytest.fixture
def mod_client() -> Client:
    return client_for(moderator(username="banzhu"))


# ---------------------------------------------------------------------------------------------
# The flow end to end, on the seed lesson


def test_a_claim_approved_in_the_admin_makes_the_seed_comment_the_claimants(
    seed_lesson, mod_client
):
    geek = Member.objects.get(display_name="Geek_e9e5f5")
    (geeks_comment,) = geek.comments.all()
    xiaoming = account("xiaoming", "小明")
    avatars.avatar_set(
        member=xiaoming, upload=SimpleUploadedFile("me.png", image_bytes(), "image/png")
    )
    own_comment = CommentFactory(member=xiaoming)
    others = Comment.objects.filter(lesson=seed_lesson).exclude(member=geek).first()
    likes.like_add(member=xiaoming, comment=geeks_comment)  # their own, once merged: it goes
    likes.like_add(member=xiaoming, comment=others)
    rival = account("rival")
    claims.claim_create(claimant=rival, member=geek, reason="我才是 Geek_e9e5f5")

    before = parsed(Client().get(seed_lesson.get_absolute_url()))  # cached from now on
    assert before.authors[str(geeks_comment.pk)] == "Geek_e9e5f5"

    client = client_for(xiaoming.user)
    response = client.post(claim_url(geek), {"reason": "这是我在原站的账号，头像是默认的。"})
    assert response.status_code == 302
    assert response["Location"] == geek.get_absolute_url()
    claim = MemberClaim.objects.get(claimant=xiaoming)
    assert claim.status == MemberClaim.Status.OPEN

    response = decide(mod_client, "approve", [claim.pk], reason="头像和时间都对得上")
    assert response.status_code == 302

    geeks_comment.refresh_from_db()
    assert geeks_comment.member.user == xiaoming.user
    assert geeks_comment.member_id == geek.pk  # the identity stays, with its import key
    member = Member.objects.get(user=xiaoming.user)
    assert (member.pk, member.import_key, member.display_name) == (geek.pk, geek.import_key, "小明")
    assert member.slug == "xiaoming"
    assert not Member.objects.filter(pk=xiaoming.pk).exists()
    assert set(member.comments.values_list("pk", flat=True)) == {geeks_comment.pk, own_comment.pk}
    assert list(CommentLike.objects.filter(member=member).values_list("comment", flat=True)) == [
        others.pk
    ]
    response = Client().get(seed_lesson.get_absolute_url())
    html = response.content.decode()
    page = parsed(response)
    assert page.authors[str(geeks_comment.pk)] == "小明"
    # The card leads to the claimant's profile, with their avatar, and lost the 来自原站 mark.
    card = html.split(f'id="comment-{geeks_comment.pk}"', 1)[1].split("</article>", 1)[0]
    assert 'href="/members/xiaoming/" data-author-link' in card
    assert f'src="{member.avatar_src}"' in card and member.avatar_src.startswith("/media/")
    assert 'data-badge="imported"' not in card

    kinds = list(ModerationAction.objects.order_by("pk").values_list("kind", "member_name"))
    assert kinds == [
        ("claim-approved", "Geek_e9e5f5"),
        ("claim-refused", "Geek_e9e5f5"),
        ("link-account", "小明"),
    ]
    link = ModerationAction.objects.get(kind="link-account")
    assert link.actor.username == "banzhu"
    assert link.status_before.startswith("name=Geek_e9e5f5; no account; merged member #")
    assert link.status_after == "name=小明; account xiaoming"
    claim.refresh_from_db()
    assert (claim.status, claim.decision_note) == ("approved", "头像和时间都对得上")
    assert claim.claimant_id == member.pk
    rivals = MemberClaim.objects.get(claimant=rival)
    assert rivals.status == MemberClaim.Status.REFUSED
    assert rivals.decision_note
    assert drift() == ""

    told = Notification.objects.get(recipient=member)
    assert (told.kind, told.action, told.comment_id) == (
        "moderation",
        "claim-approved",
        geeks_comment.pk,
    )
    assert Notification.objects.get(recipient=rival).action == "claim-refused"
    member.refresh_from_db()
    rival.refresh_from_db()
    assert (member.unread_notifications, rival.unread_notifications) == (1, 1)


def test_the_claimant_then_sees_their_profile_and_no_claim_button(seed_lesson, mod_client):
    geek = Member.objects.get(display_name="Geek_e9e5f5")
    xiaoming = account("xiaoming")
    claim = claims.claim_create(claimant=xiaoming, member=geek, reason="是我")
    claims.claim_approve(moderator=moderator(), claim=claim)
    geek.refresh_from_db()
    assert not geek.is_imported
    assert client_for(xiaoming.user).get(claim_url(geek)).status_code == 404
    page = parsed(client_for(UserFactory()).get(geek.get_absolute_url()))
    assert page.claim_buttons == []


# ---------------------------------------------------------------------------------------------
# Refusals and limits


def test_refusing_a_claim_needs_a_reason_tells_the_claimant_and_links_nothing(mod_client):
    geek = imported()
    CommentFactory(member=geek)
    xiaoming = account("xiaoming")
    claim = claims.claim_create(claimant=xiaoming, member=geek, reason="是我")
    again = decide(mod_client, "refuse", [claim.pk], reason="")
    assert again.status_code == 200  # the reason page again: refusing says why
    assert again.context["form"].errors["reason"]
    assert MemberClaim.objects.get().status == MemberClaim.Status.OPEN

    decide(mod_client, "refuse", [claim.pk], reason="没有任何证据")
    claim.refresh_from_db()
    geek.refresh_from_db()
    assert (claim.status, claim.decision_note, claim.decided_by.username) == (
        "refused",
        "没有任何证据",
        "banzhu",
    )
    assert geek.user is None
    log = ModerationAction.objects.get()
    assert (log.kind, log.reason, log.member_id) == ("claim-refused", "没有任何证据", geek.pk)
    told = Notification.objects.get(recipient=xiaoming)
    assert (told.action, told.reason) == ("claim-refused", "没有任何证据")


def test_a_decided_claim_cannot_be_decided_again():
    claim = claims.claim_create(claimant=account("a"), member=imported(), reason="是我")
    claims.claim_refuse(moderator=moderator(), claim=claim, note="不像")
    with pytest.raises(ValidationError):
        claims.claim_approve(moderator=moderator(), claim=claim)
    assert Member.objects.get(pk=claim.member_id).user is None


def test_a_second_claim_of_the_same_identity_is_refused(member_client, member):
    geek = imported()
    member_client.post(claim_url(geek), {"reason": "是我"})
    response = member_client.post(claim_url(geek), {"reason": "真的是我"})
    assert response.status_code == 400
    assert response.context["form"]["errors"] == ["你已经申请认领这个身份，版主会尽快处理。"]
    assert MemberClaim.objects.count() == 1


def test_a_claim_needs_a_reason_of_at_most_1000_characters(member_client):
    geek = imported()
    for reason in ("   ", "我" * 1001):
        response = member_client.post(claim_url(geek), {"reason": reason})
        assert response.status_code == 400
        assert response.context["form"]["errors"]
    assert not MemberClaim.objects.exists()
    assert member_client.post(claim_url(geek), {"reason": "我" * 1000}).status_code == 302


def test_a_member_has_at_most_three_claims_waiting():
    claimant = account("many")
    for n in range(claims.OPEN_MAX):
        claims.claim_create(claimant=claimant, member=imported(f"name{n}"), reason="是我")
    with pytest.raises(ValidationError) as refused:
        claims.claim_create(claimant=claimant, member=imported("one-more"), reason="是我")
    assert refused.value.code == "too-many"


def test_suspended_members_cannot_claim(member_client, member):
    claimant = services.member_for(member)
    moderation.member_suspend(
        moderator=moderator(), member=claimant, until=timezone.now() + timedelta(days=1), reason="x"
    )
    geek = imported()
    assert member_client.post(claim_url(geek), {"reason": "是我"}).status_code == 403
    assert not MemberClaim.objects.exists()
    claimant.refresh_from_db()
    assert claims.claim_state(claimant, geek) is None


def test_an_identity_with_an_account_cannot_be_claimed(member_client):
    linked = MemberFactory(user=UserFactory(), import_key="linked-key")
    own_member = MemberFactory(user=UserFactory())  # a member of the site, never imported
    for member in (linked, own_member):
        assert member_client.get(claim_url(member)).status_code == 404
        assert member_client.post(claim_url(member), {"reason": "是我"}).status_code == 404
    with pytest.raises(ValidationError):
        claims.claim_create(claimant=account("x"), member=linked, reason="是我")
    assert not MemberClaim.objects.exists()


def test_an_account_holding_an_imported_identity_cannot_claim_a_second_one():
    holder = account("holder")
    first, second = imported("旧名字"), imported("另一个")
    claims.claim_approve(
        moderator=moderator(),
        claim=claims.claim_create(claimant=holder, member=first, reason="是我"),
    )
    holder = Member.objects.get(user__username="holder")
    with pytest.raises(ValidationError) as refused:
        claims.claim_create(claimant=holder, member=second, reason="这个也是我")
    assert refused.value.code == "holds"
    assert claims.claim_state(holder, second) is None
    with pytest.raises(ValidationError):  # nor can a moderator link it by hand
        linking.member_link_account(moderator=moderator(), member=second, user=holder.user)
    assert Member.objects.get(pk=second.pk).user is None


def test_approving_one_claim_refuses_the_claimants_other_waiting_claims():
    claimant = account("two-names")
    first, second = imported("旧名字"), imported("另一个")
    CommentFactory(member=second)
    claim = claims.claim_create(claimant=claimant, member=first, reason="是我")
    other = claims.claim_create(claimant=claimant, member=second, reason="也是我")
    claims.claim_approve(moderator=moderator(), claim=claim)
    other.refresh_from_db()
    assert other.status == MemberClaim.Status.REFUSED
    assert other.claimant_id == first.pk  # the claimant's member is the identity now
    assert Notification.objects.get(recipient=first).action == "claim-refused"


def test_claims_are_rate_limited(settings, member_client):
    settings.FORUM_RATE_LIMIT_SCALE = 1
    geek = imported()
    answers = [member_client.post(claim_url(geek), {"reason": ""}).status_code for _ in range(4)]
    assert answers == [400, 400, 400, 429]


# ---------------------------------------------------------------------------------------------
# The claim control and form: without JavaScript, with htmx, anonymous


def test_profile_of_an_imported_identity_shows_the_claim_button_to_members(member_client):
    geek = imported()
    page = parsed(member_client.get(geek.get_absolute_url()))
    (button,) = page.claim_buttons
    assert button["href"] == claim_url(geek)
    assert button["data-hx-get"] == claim_url(geek)


def test_anonymous_visitors_get_a_log_in_to_claim_link(client):
    geek = imported()
    page = parsed(client.get(geek.get_absolute_url()))
    assert page.claim_buttons == []
    login = reverse("account_login") + f"?next={geek.get_absolute_url()}"
    assert login in page.links


def test_a_member_whose_claim_waits_sees_it_pending(member_client, member):
    geek = imported()
    claims.claim_create(claimant=services.member_for(member), member=geek, reason="是我")
    page = parsed(member_client.get(geek.get_absolute_url()))
    assert page.claim_buttons == []
    assert page.claim_open


def test_profiles_of_accounts_show_no_claim_control(member_client):
    other = account("someone")
    page = parsed(member_client.get(other.get_absolute_url()))
    assert page.claim_buttons == [] and not page.claim_open


def test_without_javascript_the_form_has_a_page_and_the_claim_redirects(
    member_client, django_assert_num_queries
):
    geek = imported()
    member_client.get(claim_url(geek))  # the member is made on first use
    # The session, the account with its member, the identity, the claimant's open claim.
    with django_assert_num_queries(4):
        response = member_client.get(claim_url(geek))
    assert response.status_code == 200
    assert response.templates[0].name == "forum/claim.html"
    (form,) = [f for f in parsed(response).forms if f.get("action") == claim_url(geek)]
    assert form["method"] == "post"
    response = member_client.post(claim_url(geek), {"reason": "是我"}, follow=True)
    assert response.redirect_chain == [(geek.get_absolute_url(), 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "谢谢。版主会审核你的认领申请，结果会在这里通知你。"
    ]


def test_with_htmx_the_form_swaps_in_place_and_answers_with_the_done_message(member_client):
    geek = imported()
    response = member_client.get(claim_url(geek), **HTMX)
    assert response.status_code == 200
    assert "base.html" not in [t.name for t in response.templates]
    (form,) = parsed(response).forms
    assert (form["data-hx-post"], form["data-hx-target"], form["data-hx-swap"]) == (
        claim_url(geek),
        "this",
        "outerHTML",
    )
    invalid = member_client.post(claim_url(geek), {"reason": ""}, **HTMX)
    assert invalid.status_code == 200  # the form again, with its error, swapped in place
    assert invalid.context["form"]["errors"] == ["请说明为什么这个身份是你的。"]
    done = member_client.post(claim_url(geek), {"reason": "是我"}, **HTMX)
    assert done.status_code == 200
    assert parsed(done).claim_open
    assert MemberClaim.objects.get().reason == "是我"


def test_anonymous_claims_are_sent_to_log_in(client):
    geek = imported()
    response = client.post(claim_url(geek), {"reason": "是我"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login") + "?next=")
    response = client.post(claim_url(geek), {"reason": "是我"}, **HTMX)
    assert response["HX-Redirect"].startswith(reverse("account_login") + "?next=")
    assert client.get(claim_url(geek)).status_code == 302
    assert not MemberClaim.objects.exists()


def test_a_claims_reason_is_text_everywhere(mod_client, member_client):
    geek = imported()
    hostile = '<script>alert(1)</script><a href="/x">点我</a>'
    member_client.post(claim_url(geek), {"reason": hostile})
    html = mod_client.get(reverse("admin:forum_memberclaim_changelist")).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# ---------------------------------------------------------------------------------------------
# The admin queue


def test_the_queue_lists_open_claims_first_oldest_first(mod_client):
    earlier, later, decided = (
        claims.claim_create(claimant=account(name), member=imported(name), reason="是我")
        for name in ("a", "b", "c")
    )
    claims.claim_refuse(moderator=moderator(), claim=decided, note="不像")
    MemberClaim.objects.filter(pk=earlier.pk).update(created_at=timezone.now() - timedelta(days=2))
    response = mod_client.get(reverse("admin:forum_memberclaim_changelist"))
    assert [c.pk for c in response.context["cl"].result_list] == [earlier.pk, later.pk, decided.pk]


def test_the_queue_costs_the_same_queries_however_many_claims_wait(mod_client):
    url = reverse("admin:forum_memberclaim_changelist")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert mod_client.get(url).status_code == 200
        return len(captured)

    claims.claim_create(claimant=account("first"), member=imported("first"), reason="是我")
    few = queries()
    for n in range(5):
        identity = imported(f"旧名{n}")
        CommentFactory(member=identity)
        claims.claim_create(claimant=account(f"more{n}"), member=identity, reason="是我")
    assert queries() == few == 7


def test_moderators_can_see_and_decide_claims_and_members_cannot(mod_client, member_client):
    url = reverse("admin:forum_memberclaim_changelist")
    assert mod_client.get(url).status_code == 200
    assert member_client.get(url).status_code == 302  # to the admin's login
    claim = claims.claim_create(claimant=account("x"), member=imported(), reason="是我")
    change = mod_client.get(reverse("admin:forum_memberclaim_change", args=[claim.pk]))
    assert change.status_code == 200
    assert mod_client.get(reverse("admin:forum_memberclaim_add")).status_code == 403


# ---------------------------------------------------------------------------------------------
# The merge: everything of the account's member moves into the identity


def test_the_merge_moves_everything_and_keeps_counters_exact():
    geek = imported(avatar_url="https://example.com/a.png")
    geeks = CommentFactory(member=geek)
    claimant = account("xiaoming", "小明")
    Member.objects.filter(pk=claimant.pk).update(
        bio="写代码的", language="en", notification_settings={"like": "off"}
    )
    claimant.refresh_from_db()
    course = CourseFactory()
    claimant.courses_taught.add(course)
    liked = CommentFactory()
    likes.like_add(member=claimant, comment=liked)
    lesson = LessonFactory()
    likes.lesson_like_add(member=claimant, lesson=lesson)
    Report.objects.create(comment=liked, reporter=claimant, reason="spam")
    reply = CommentFactory(parent=CommentFactory(member=claimant))
    Notification.objects.create(recipient=claimant, kind="reply", comment=reply)
    Member.objects.filter(pk=claimant.pk).update(unread_notifications=1)
    by_them = Notification.objects.create(
        recipient=services.member_for(UserFactory()), kind="like", comment=liked, actor=claimant
    )
    Member.objects.filter(pk=by_them.recipient_id).update(unread_notifications=1)
    moderation.member_hide_all(moderator=moderator(), member=claimant)
    claim = claims.claim_create(claimant=claimant, member=geek, reason="是我")

    member = claims.claim_approve(moderator=moderator(), claim=claim)

    member.refresh_from_db()
    assert member.pk == geek.pk
    assert (member.display_name, member.bio, member.language) == ("小明", "写代码的", "en")
    assert member.notification_settings == {"like": "off"}
    assert member.avatar_url == "https://example.com/a.png"  # the imported avatar stays
    assert list(member.courses_taught.all()) == [course]
    assert member.comment_likes.get().comment == liked
    assert member.lesson_likes.get().lesson == lesson
    assert member.reports_made.get().comment == liked
    assert member.notifications.get(kind="reply").comment == reply
    assert member.unread_notifications == 1 + 1  # the reply, and the claim's approval
    by_them.refresh_from_db()
    assert by_them.actor_id == member.pk
    assert ModerationAction.objects.filter(kind="hide-all", member=member).exists()
    assert set(member.comments.values_list("pk", flat=True)) == {geeks.pk, reply.parent_id}
    assert drift() == ""


def test_a_comment_or_lesson_both_liked_keeps_one_like():
    geek = imported()
    comment, lesson = CommentFactory(), LessonFactory()
    # Imported likes are counts, but an identity whose account was deleted may hold rows.
    CommentLike.objects.create(member=geek, comment=comment)
    LessonLike.objects.create(member=geek, lesson=lesson)
    Comment.objects.filter(pk=comment.pk).update(like_count=1)
    Lesson.objects.filter(pk=lesson.pk).update(like_count=1)
    claimant = account("x")
    likes.like_add(member=claimant, comment=comment)
    likes.lesson_like_add(member=claimant, lesson=lesson)
    claims.claim_approve(
        moderator=moderator(),
        claim=claims.claim_create(claimant=claimant, member=geek, reason="是我"),
    )
    comment.refresh_from_db()
    lesson.refresh_from_db()
    assert (comment.like_count, lesson.like_count) == (1, 1)
    assert drift() == ""


def test_a_suspension_of_the_claimants_account_carries_over():
    claimant = account("x")
    until = timezone.now() + timedelta(days=3)
    moderation.member_suspend(moderator=moderator(), member=claimant, until=until, reason="刷屏")
    geek = imported()
    linking.member_link_account(moderator=moderator(), member=geek, user=claimant.user)
    geek.refresh_from_db()
    assert geek.is_suspended
    assert (geek.suspended_until, geek.suspension_reason) == (until, "刷屏")


def test_linking_by_hand_approves_the_accounts_own_claim():
    geek = imported()
    claimant = account("x")
    claim = claims.claim_create(claimant=claimant, member=geek, reason="是我")
    linking.member_link_account(moderator=moderator(), member=geek, user=claimant.user)
    claim.refresh_from_db()
    assert claim.status == MemberClaim.Status.APPROVED


# ---------------------------------------------------------------------------------------------
# The imported teacher, linked to an account


def test_linking_the_imported_teacher_makes_the_account_the_courses_teacher(
    seed_lesson, mod_client
):
    # The teacher as an import makes them when a page holds their 作者回复.
    teacher = _staff_member(seed_lesson.course, "独行")
    assert teacher.is_imported and list(teacher.courses_taught.all()) == [seed_lesson.course]
    asked = list(Comment.objects.filter(lesson=seed_lesson, parent=None).order_by("pk")[:2])
    earlier = CommentFactory(
        lesson=seed_lesson, parent=asked[0], member=teacher, is_author_reply=True
    )
    user = UserFactory(username="duxing")
    assert not user.has_perm("forum.curate_own_lessons")
    url = reverse("admin:forum_member_changelist")
    data = {"action": "link_account", ACTION_CHECKBOX_NAME: [teacher.pk], "post": "yes"}
    response = mod_client.post(url, {**data, "username": "duxing", "reason": "讲师本人"})
    assert response.status_code == 302

    user = type(user).objects.get(pk=user.pk)
    assert user.has_perm("forum.curate_own_lessons")
    teacher.refresh_from_db()
    assert teacher.user == user
    assert teacher.display_name == "独行"  # the account had no forum identity to bring a name
    link = ModerationAction.objects.get(kind="link-account")
    assert link.status_after == "name=独行; account duxing; added to Teachers"
    answer = services.comment_post(
        author=teacher, lesson=seed_lesson, parent=asked[1], body="好问题，下一讲细说。"
    )
    assert answer.is_author_reply
    page = parsed(Client().get(seed_lesson.get_absolute_url()))
    assert {str(earlier.pk), str(answer.pk)} <= page.author_replies
    assert page.authors[str(answer.pk)] == page.authors[str(earlier.pk)] == "独行"
    assert drift() == ""


def test_a_superuser_linked_to_a_teacher_is_given_no_role():
    course = CourseFactory()
    teacher = imported("独行")
    teacher.courses_taught.add(course)
    user = UserFactory(is_superuser=True)
    linking.member_link_account(moderator=moderator(), member=teacher, user=user)
    assert not user.groups.exists()
    assert "Teachers" not in ModerationAction.objects.get().status_after


def test_the_claim_state_says_what_a_profile_shows_to_whom(member):
    geek = imported()
    viewer = services.member_for(member)
    assert claims.claim_state(None, geek) == "login"
    assert claims.claim_state(viewer, geek) == "claim"
    assert claims.claim_state(viewer, account("someone")) is None


def test_banned_members_cannot_claim(member):
    banned = services.member_for(member)
    moderation.member_suspend(moderator=moderator(), member=banned, until=None, reason="广告")
    with pytest.raises(PermissionDenied):
        claims.claim_create(claimant=banned, member=imported(), reason="是我")
