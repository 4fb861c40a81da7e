"""Notification emails: the task that sends one (once, whatever happens), what it says, the
one-click unsubscribe, and the daily digest."""

from __future__ import annotations

import email
import email.policy
import io
import smtplib
from datetime import timedelta
from unittest import mock
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from forum.models import Comment, Member, Notification
from forum.notifications import tasks
from forum.notifications.digest import send_digests
from forum.notifications.tasks import send_notification_email, sweep_lost_emails
from forum.notifications.unsubscribe import unsubscribe_token
from tests.factories import CommentFactory, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert(1)</script> & "x"'
LONG_HOST = "notifications." + "a" * 40 + ".example"  # 60 characters
Kind = Notification.Kind
Email = Notification.Email


def reader(name: str = "", *, verified: bool = True, **fields) -> Member:
    """A member with an account and, unless told otherwise, a verified primary address."""
    user = UserFactory(**({"username": name} if name else {}))
    EmailAddress.objects.create(user=user, email=user.email, verified=verified, primary=True)
    return MemberFactory(user=user, display_name=user.username, **fields)


def notification(
    recipient: Member, *, kind: str = Kind.REPLY, body: str = HOSTILE, **fields
) -> Notification:
    replier = MemberFactory(display_name="回复者")
    parent = CommentFactory(member=recipient)
    reply = CommentFactory(lesson=parent.lesson, parent=parent, member=replier, body=body)
    return Notification.objects.create(
        recipient=recipient,
        kind=kind,
        actor=replier,
        comment=reply,
        email=fields.pop("email", Email.PENDING),
        **fields,
    )


def raw(message) -> email.message.EmailMessage:
    """The message as SMTP sends it, parsed back."""
    data = message.message(policy=email.policy.SMTP).as_bytes()
    return email.message_from_bytes(data, policy=email.policy.default), data


def html_of(message) -> str:
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


def test_the_task_sends_one_email_with_the_text_escaped_and_the_links(settings):
    settings.FORUM_SITE_URL = f"https://{LONG_HOST}"
    recipient = reader()
    told = notification(recipient)
    assert send_notification_email.call(told.pk) == "sent"
    (message,) = mail.outbox
    assert message.to == [recipient.user.email]
    assert message.subject.startswith("回复者 回复了你的留言")
    link = f"https://{LONG_HOST}/comments/{told.comment.pk}/#comment-{told.comment.pk}"
    html = html_of(message)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;" in html
    assert "<script>" not in html
    assert f'href="{link}"' in html
    assert HOSTILE in message.body and link in message.body
    assert "/settings/" in message.body
    told.refresh_from_db()
    assert (told.email, told.email_attempts) == (Email.SENT, 1)
    assert told.emailed_at is not None


def test_the_unsubscribe_headers_are_one_unfolded_line_with_a_long_host(settings):
    settings.FORUM_SITE_URL = f"https://{LONG_HOST}"
    told = notification(reader())
    send_notification_email.call(told.pk)
    parsed, data = raw(mail.outbox[0])
    token = unsubscribe_token(told.recipient, Kind.REPLY)
    url = f"https://{LONG_HOST}/unsubscribe/{token}/"
    assert f"\r\nList-Unsubscribe: <{url}>\r\n".encode() in data
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in data
    assert parsed["List-Unsubscribe"] == f"<{url}>"
    assert parsed["Message-ID"] == f"<notification-{told.pk}@{LONG_HOST}>"
    # The rest of the message is folded as usual (a Message-ID cannot be).
    lines = data.split(b"\r\n")
    assert max(len(line) for line in lines if not line.startswith((b"List-", b"Message-ID"))) <= 78


def test_an_english_member_gets_the_email_in_english():
    told = notification(reader(language="en"))
    send_notification_email.call(told.pk)
    (message,) = mail.outbox
    assert message.subject.startswith("回复者 replied to your comment")
    assert "Read it on Lesson Forum" in html_of(message)


def test_the_teachers_answer_is_marked_as_an_author_reply():
    told = notification(reader(), kind=Kind.AUTHOR_REPLY)
    send_notification_email.call(told.pk)
    (message,) = mail.outbox
    assert "作者回复" in message.subject
    assert "作者回复" in html_of(message)


def test_a_hidden_comments_author_is_told_with_the_reason():
    recipient = reader()
    comment = CommentFactory(member=recipient, status=Comment.Status.HIDDEN)
    told = Notification.objects.create(
        recipient=recipient,
        kind=Kind.MODERATION,
        comment=comment,
        action="hide",
        reason="<b>广告</b>",
        email=Email.PENDING,
    )
    assert send_notification_email.call(told.pk) == "sent"
    html = html_of(mail.outbox[0])
    assert "版主隐藏了你的留言" in mail.outbox[0].subject
    assert "&lt;b&gt;广告&lt;/b&gt;" in html


def test_running_the_task_twice_sends_once():
    told = notification(reader())
    send_notification_email.call(told.pk)
    assert send_notification_email.call(told.pk) == "not claimed"
    assert len(mail.outbox) == 1


def test_a_row_being_sent_is_not_claimed_again_until_its_claim_expires():
    told = notification(reader(), email=Email.SENDING, email_claimed_at=timezone.now())
    assert send_notification_email.call(told.pk) == "not claimed"
    Notification.objects.filter(pk=told.pk).update(
        email_claimed_at=timezone.now() - timedelta(minutes=11)
    )
    assert send_notification_email.call(told.pk) == "sent"
    assert len(mail.outbox) == 1


def test_an_smtp_failure_retries_later_and_the_later_run_sends_exactly_once():
    told = notification(reader())
    refused = smtplib.SMTPServerDisconnected("gone")
    with mock.patch.object(EmailBackend, "send_messages", side_effect=refused):
        assert send_notification_email.call(told.pk) == "retry"
    told.refresh_from_db()
    assert (told.email, told.email_attempts) == (Email.PENDING, 1)
    (queued,) = DBTaskResult.objects.all()
    assert queued.args_kwargs["args"] == [told.pk, 1]
    assert queued.run_after > timezone.now()
    # The first task, run again by mistake, is not the one the row waits for.
    assert send_notification_email.call(told.pk) == "not claimed"
    assert send_notification_email.call(*queued.args_kwargs["args"]) == "sent"
    assert send_notification_email.call(*queued.args_kwargs["args"]) == "not claimed"
    assert len(mail.outbox) == 1


def test_a_refused_connection_retries_with_a_growing_delay(settings):
    settings.FORUM_EMAIL_RETRY_BASE, settings.FORUM_EMAIL_RETRY_MAX = 5, 3600
    told = notification(reader())
    with mock.patch.object(EmailBackend, "send_messages", side_effect=ConnectionRefusedError):
        for attempt in range(3):
            send_notification_email.call(told.pk, attempt)
    delays = [
        (task.run_after - task.enqueued_at).total_seconds()
        for task in DBTaskResult.objects.order_by("enqueued_at")
    ]
    assert [round(delay) for delay in delays] == [5, 10, 20]
    assert tasks.retry_delay(30) == timedelta(hours=1)


def test_after_the_last_try_the_email_is_marked_failed():
    told = notification(reader(), email_attempts=tasks.MAX_ATTEMPTS - 1)
    with mock.patch.object(EmailBackend, "send_messages", side_effect=TimeoutError):
        assert send_notification_email.call(told.pk, tasks.MAX_ATTEMPTS - 1) == "failed"
    told.refresh_from_db()
    assert told.email == Email.FAILED
    assert not DBTaskResult.objects.exists()


@pytest.mark.parametrize(
    "change",
    ["comment deleted", "comment hidden", "notification deleted", "member's account deleted"],
)
def test_nothing_is_sent_for_what_is_gone(change):
    told = notification(reader())
    if change == "comment deleted":
        Comment.objects.filter(pk=told.comment_id).update(deleted_at=timezone.now())
    elif change == "comment hidden":
        Comment.objects.filter(pk=told.comment_id).update(status=Comment.Status.HIDDEN)
    elif change == "notification deleted":
        told.delete()
    else:
        told.recipient.user.delete()
    assert send_notification_email.call(told.pk) in {
        "comment not shown",
        "not claimed",
        "no account",
    }
    assert mail.outbox == []
    assert not Notification.objects.filter(email__in=[Email.PENDING, Email.SENDING]).exists()


def test_nothing_is_sent_to_an_unverified_address():
    recipient = reader(verified=False)
    told = notification(recipient)
    assert send_notification_email.call(told.pk) == "no verified address"
    assert mail.outbox == []
    told.refresh_from_db()
    assert told.email == Email.NONE


def test_the_verified_address_is_used_not_the_accounts_unverified_one():
    recipient = reader(verified=False)
    EmailAddress.objects.create(user=recipient.user, email="mine@example.com", verified=True)
    send_notification_email.call(notification(recipient).pk)
    assert mail.outbox[0].to == ["mine@example.com"]


@pytest.mark.parametrize("choice", ["off", "page"])
def test_nothing_is_sent_once_the_member_turned_the_kind_off(choice):
    recipient = reader()
    told = notification(recipient)
    Member.objects.filter(pk=recipient.pk).update(notification_settings={"reply": choice})
    assert send_notification_email.call(told.pk) == "not wanted"
    assert mail.outbox == []


# One-click unsubscribe.


def unsubscribe_url(member: Member, kind: str = Kind.REPLY, token: str = "") -> str:
    return reverse("forum:unsubscribe", args=[token or unsubscribe_token(member, kind)])


def test_one_click_turns_off_only_that_kind_for_that_member(client):
    member, other = reader(), reader()
    response = client.post(unsubscribe_url(member), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    member.refresh_from_db()
    other.refresh_from_db()
    assert member.notification_settings == {"reply": "off"}
    assert other.notification_settings == {}


def test_one_click_needs_no_csrf_token():
    from django.test import Client

    member = reader()
    response = Client(enforce_csrf_checks=True).post(
        unsubscribe_url(member, Kind.MENTION),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.notification_settings == {"mention": "off"}


def test_opening_the_link_changes_nothing_and_offers_a_button(client):
    member = reader()
    response = client.get(unsubscribe_url(member))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'method="post"' in html and 'name="List-Unsubscribe" value="One-Click"' in html
    member.refresh_from_db()
    assert member.notification_settings == {}


def test_tampered_and_other_members_tokens_are_refused(client):
    member, other = reader(), reader()
    token = unsubscribe_token(member, Kind.REPLY)
    signature = token.rsplit(".", 1)[1]
    forged = [
        f"{other.pk}.reply.{signature}",  # another member's id with this member's signature
        f"{member.pk}.mention.{signature}",  # another kind
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        "not-a-token",
    ]
    for bad in forged:
        response = client.post(
            unsubscribe_url(member, token=bad), {"List-Unsubscribe": "One-Click"}
        )
        assert response.status_code in {400, 404}, bad
    for who in (member, other):
        who.refresh_from_db()
        assert who.notification_settings == {}


def test_a_post_without_the_one_click_body_changes_nothing(client):
    member = reader()
    assert client.post(unsubscribe_url(member)).status_code == 400
    member.refresh_from_db()
    assert member.notification_settings == {}


# The daily digest and the sweep.


def digest_row(recipient: Member, *, days_ago: int = 1) -> Notification:
    return notification(
        recipient, email=Email.DIGEST, created_at=timezone.now() - timedelta(days=days_ago)
    )


def test_send_digests_twice_sends_one_digest():
    recipient = reader(notification_settings={"reply": "digest"})
    rows = [digest_row(recipient), digest_row(recipient), digest_row(recipient, days_ago=0)]
    for _ in range(2):
        call_command("send_digests", stdout=io.StringIO())
    (message,) = mail.outbox
    assert message.body.count(HOSTILE) == 2
    assert "&lt;script&gt;" in html_of(message)
    assert "List-Unsubscribe" in message.extra_headers
    states = [Notification.objects.get(pk=row.pk).email for row in rows]
    assert states == [Email.SENT, Email.SENT, Email.DIGEST]  # today's waits for tomorrow


def test_a_digest_smtp_refused_is_sent_on_the_next_run():
    recipient = reader(notification_settings={"reply": "digest"})
    row = digest_row(recipient)
    with mock.patch.object(EmailBackend, "send_messages", side_effect=ConnectionRefusedError):
        assert send_digests().failed == [recipient.pk]
    row.refresh_from_db()
    assert row.email == Email.DIGEST
    send_digests()
    send_digests()
    assert len(mail.outbox) == 1


def test_the_dry_run_mails_nothing():
    recipient = reader(notification_settings={"reply": "digest"})
    digest_row(recipient)
    assert send_digests(dry_run=True).sent == [(recipient.pk, 1)]
    assert mail.outbox == []


def test_the_digests_unsubscribe_link_stops_every_kind_it_gathers(client):
    recipient = reader(notification_settings={"reply": "digest", "like": "digest"})
    digest_row(recipient)
    send_digests()
    parsed, _data = raw(mail.outbox[0])
    url = parsed["List-Unsubscribe"].strip("<>")
    client.post(urlsplit(url).path, {"List-Unsubscribe": "One-Click"})
    recipient.refresh_from_db()
    assert recipient.notification_settings == {"reply": "off", "like": "off"}


def test_the_sweep_enqueues_only_the_emails_whose_task_was_lost():
    recipient = reader()
    long_ago = timezone.now() - timedelta(minutes=20)
    lost = notification(recipient, created_at=long_ago)
    notification(recipient)  # its task is queued and due
    crashed = notification(recipient, email=Email.SENDING, email_claimed_at=long_ago)
    waiting_retry = notification(
        recipient, email_attempts=tasks.MAX_ATTEMPTS - 1, email_claimed_at=long_ago
    )  # its retry is due in an hour
    assert sweep_lost_emails() == 2
    queued = {tuple(task.args_kwargs["args"]) for task in DBTaskResult.objects.all()}
    assert queued == {(lost.pk, 0), (crashed.pk, 0)}
    for args in queued:
        send_notification_email.call(*args)
    assert len(mail.outbox) == 2
    waiting_retry.refresh_from_db()
    assert waiting_retry.email == Email.PENDING
