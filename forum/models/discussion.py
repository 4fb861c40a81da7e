from __future__ import annotations

import unicodedata
import zlib

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from forum.identity import stored_skeleton
from lessons.models import Course, Lesson


class MemberQuerySet(models.QuerySet):
    def profiles(self) -> MemberQuerySet:
        """Members whose profile page shows: imported ones and active accounts; never a member
        who deleted their account (their comments stay, under 已注销用户, with no page)."""
        return self.filter(Q(user=None) | Q(user__is_active=True), left_at__isnull=True)


class Member(models.Model):
    """A forum identity: who wrote a comment.

    Imported commenters and teachers are members without an account until an admin
    links them to one; a site account gets its member on first use.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="member",
        verbose_name=_("account"),
    )
    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    # Where the profile lives, /members/<slug>/: an account's user name; for an imported
    # commenter "~" and their name ("~" is never in a user name, so the two never meet).
    # Set by save() and by the importer's bulk insert; NULL only while a migration fills it.
    slug = models.CharField(  # noqa: DJ001
        _("profile address"), max_length=160, unique=True, null=True
    )
    bio = models.CharField(_("bio"), max_length=280, blank=True)
    avatar = models.FileField(
        _("avatar"),
        upload_to="avatars/",
        max_length=200,
        blank=True,
        help_text=_("Uploaded here: a square 256 px image, named by its content."),
    )
    avatar_url = models.URLField(_("avatar URL"), max_length=500, blank=True)
    # The Unicode TS #39 skeletons of the display name and of the account's user name
    # (forum.identity): two names that look alike have the same skeleton.
    name_skeleton = models.CharField(_("name skeleton"), max_length=600, blank=True, db_index=True)
    account_skeleton = models.CharField(
        _("user name skeleton"), max_length=600, blank=True, db_index=True
    )
    import_key = models.CharField(
        _("import key"),
        max_length=64,
        blank=True,
        help_text=_("Identifies an imported commenter across imports."),
    )
    courses_taught = models.ManyToManyField(
        Course, blank=True, related_name="teachers", verbose_name=_("teaches")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    suspended_until = models.DateTimeField(
        _("suspended until"), null=True, blank=True, help_text=_("Can read but not take part.")
    )
    is_banned = models.BooleanField(_("banned"), default=False)
    suspension_reason = models.CharField(_("reason for suspension"), max_length=500, blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Of the pages and the emails; empty: the site's."),
    )
    # Kept by every write that adds or reads a notification (forum.notifications), so that the
    # header's bell costs no query: the member is loaded with the account.
    unread_notifications = models.PositiveIntegerField(_("unread notifications"), default=0)
    notification_settings = models.JSONField(
        _("notification settings"),
        default=dict,
        blank=True,
        help_text=_("How each kind of notification reaches them; a kind not set has its default."),
    )
    # Set when the member deleted their account (forum.leaving): the row stays as the author of
    # their comments (kept, or placeholders), emptied of everything that said who they were.
    left_at = models.DateTimeField(_("account deleted at"), null=True, blank=True)

    objects = MemberQuerySet.as_manager()

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.UniqueConstraint(
                fields=["import_key"], condition=~Q(import_key=""), name="member_unique_import_key"
            )
        ]

    def __str__(self) -> str:
        if self.left_at is not None:
            return self.shown_name
        return self.display_name or gettext("(no name)")  # str() refuses a lazy string

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        if not self.slug:
            self.slug = free_slug(self)
            if update_fields is not None:
                kwargs["update_fields"] = update_fields = {*update_fields, "slug"}
        # The skeletons follow the names wherever they are written (a bulk insert sets them too).
        if update_fields is None or {"display_name", "user", "user_id"} & set(update_fields):
            self.skeletons_set()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "name_skeleton", "account_skeleton"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("forum:member", args=[self.slug])

    def skeletons_set(self) -> None:
        """The skeletons of the display name and of the account's user name ("" without one)."""
        self.name_skeleton = stored_skeleton(self.display_name)
        self.account_skeleton = stored_skeleton(self.user.get_username()) if self.user_id else ""

    @property
    def is_imported(self) -> bool:
        """A commenter or teacher brought by an import, whom no account has claimed yet."""
        return self.user_id is None and bool(self.import_key) and self.left_at is None

    @property
    def avatar_src(self) -> str:
        """The uploaded avatar's URL, else the imported one's, else "" (the letter avatar)."""
        return self.avatar.url if self.avatar else self.avatar_url

    @property
    def is_suspended(self) -> bool:
        """Banned, or suspended until a time still to come."""
        return self.is_banned or (
            self.suspended_until is not None and self.suspended_until > timezone.now()
        )

    @property
    def shown_name(self) -> str:
        """The name, or "" when it holds nothing visible (only bidi or format characters);
        已注销用户 once the member deleted their account."""
        if self.left_at is not None:
            return gettext("Deleted member")
        visible = any(unicodedata.category(char)[0] in "LNSP" for char in self.display_name)
        return self.display_name if visible else ""

    @property
    def initial(self) -> str:
        """The letter of the generated avatar: the name's first letter or digit."""
        for char in self.display_name:
            if unicodedata.category(char)[0] in "LN":
                return char.upper()
        return "?"

    @property
    def avatar_hue(self) -> int:
        """One of eight avatar colours, stable for a name."""
        return zlib.crc32(self.display_name.encode()) % 8


def slug_base(member: Member) -> str:
    """The slug a member would have if no one else held it."""
    if member.user is not None:
        return member.user.get_username()
    return "~" + (slugify(member.display_name, allow_unicode=True)[:140] or "member")


def free_slug(member: Member) -> str:
    """The slug for a new member: see `slugs_assign`."""
    if member.user is not None:
        return slug_base(member)
    slugs_assign([member])
    return member.slug


def slugs_assign(members: list[Member]) -> None:
    """Give each imported member without a slug `slug_base`, or the first of -2 … -99 (else a
    short digest) that no other member holds: one query per 200 members."""
    members = [m for m in members if not m.slug]
    bases = [slug_base(m) for m in members]
    taken: set[str] = set()
    distinct = sorted(set(bases))
    for start in range(0, len(distinct), 200):
        near = Q()
        for base in distinct[start : start + 200]:
            near |= Q(slug=base) | Q(slug__startswith=f"{base}-")
        taken.update(Member.objects.filter(near).values_list("slug", flat=True))
    for member, base in zip(members, bases, strict=True):
        suffixes = ("", *(f"-{n}" for n in range(2, 100)))
        free = (base + suffix for suffix in suffixes if base + suffix not in taken)
        digest = f"{base}-{zlib.crc32((member.import_key or base).encode()):08x}"
        member.slug = next(free, digest)
        taken.add(member.slug)


# The columns besides status that decide whether a comment is listed (CommentQuerySet.visible_to).
VISIBILITY = ["deleted_at", "reply_count"]

FEATURED_ORDER = (
    "-is_pinned",
    "-is_featured",
    F("source_position").asc(nulls_last=True),
    "-created_at",
    "-pk",
)


class AnchorState(models.TextChoices):
    """Where a comment on a block stands after the lesson changed (empty: on its own block)."""

    MODIFIED = "modified", _("block edited")
    ORPHANED = "orphaned", _("block deleted")


class CommentQuerySet(models.QuerySet):
    def published(self) -> CommentQuerySet:
        return self.filter(status=Comment.Status.PUBLISHED)

    def counted(self) -> CommentQuerySet:
        """What the comment and reply counters count: published and not deleted."""
        return self.published().filter(deleted_at__isnull=True)

    def listed(self) -> CommentQuerySet:
        """Published and either not deleted or still holding replies (shown as a placeholder)."""
        return self.published().filter(Q(deleted_at__isnull=True) | Q(reply_count__gt=0))

    def visible_to(self, member: Member | None) -> CommentQuerySet:
        """What `member` sees: the listed comments, and their own comments awaiting review."""
        listed = Q(status=Comment.Status.PUBLISHED) & (
            Q(deleted_at__isnull=True) | Q(reply_count__gt=0)
        )
        if member is None:
            return self.filter(listed)
        own_pending = Q(status=Comment.Status.PENDING, member=member, deleted_at__isnull=True)
        return self.filter(listed | own_pending)

    def for_lesson(self, lesson: Lesson) -> CommentQuerySet:
        return self.filter(lesson=lesson)

    def top_level(self) -> CommentQuerySet:
        return self.filter(parent__isnull=True)

    def in_featured_order(self) -> CommentQuerySet:
        """精选 order: pinned, then featured in source order, then the rest, newest first."""
        return self.order_by(*FEATURED_ORDER)


class Comment(models.Model):
    class Status(models.TextChoices):
        PUBLISHED = "published", _("published")
        PENDING = "pending", _("pending review")
        HIDDEN = "hidden", _("hidden")
        SPAM = "spam", _("spam")
        REMOVED = "removed", _("removed")

    lesson = models.ForeignKey(
        Lesson, on_delete=models.CASCADE, related_name="comments", verbose_name=_("lesson")
    )
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="comments", verbose_name=_("author")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name=_("in reply to"),
    )
    root = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="thread",
        verbose_name=_("thread"),
        help_text=_("The top-level comment of this reply's thread, to fetch a thread at once."),
    )
    body = models.TextField(_("body"))
    body_html = models.TextField(_("body (rendered)"), editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PUBLISHED
    )
    depth = models.PositiveSmallIntegerField(
        _("depth"), default=0, editable=False, help_text=_("0 for a top-level comment.")
    )
    is_featured = models.BooleanField(_("featured"), default=False)
    featured_at = models.DateTimeField(_("featured at"), null=True, blank=True)
    is_pinned = models.BooleanField(_("pinned"), default=False)
    pinned_at = models.DateTimeField(_("pinned at"), null=True, blank=True)
    is_author_reply = models.BooleanField(_("author reply"), default=False)
    author_reply_label = models.CharField(
        _("reply label"),
        max_length=20,
        blank=True,
        help_text=_("How an imported staff reply was labelled, e.g. 编辑回复."),
    )
    source_position = models.PositiveIntegerField(
        _("source position"), null=True, blank=True, help_text=_("Order on the source page.")
    )
    source_key = models.CharField(_("source key"), max_length=64, blank=True, editable=False)
    like_count = models.PositiveIntegerField(
        _("likes"), default=0, help_text=_("Imported likes plus likes given here.")
    )
    imported_like_count = models.PositiveIntegerField(_("imported likes"), default=0)
    reply_count = models.PositiveIntegerField(_("replies here"), default=0)
    imported_reply_count = models.IntegerField(
        _("imported reply count"),
        null=True,
        blank=True,
        help_text=_("The source page's 💬 count; the replies themselves were not on the page."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_date_only = models.BooleanField(
        _("date only"), default=False, help_text=_("The source gave a date without a time.")
    )
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True)
    deleted_at = models.DateTimeField(
        _("deleted by its author at"),
        null=True,
        blank=True,
        help_text=_("A deleted comment with replies stays as a placeholder so they read on."),
    )
    # A comment on one block of the lesson (lessons.anchors): its anchor, what the block said when
    # the comment was written, and, once the lesson was revised, whether the block was edited
    # (the comment is on the most similar block of the new revision) or is gone (forum.anchoring).
    block_id = models.CharField(_("block"), max_length=24, blank=True)
    block_quote = models.TextField(
        _("quoted block"), blank=True, help_text=_("The block's text when the comment was written.")
    )
    anchor_state = models.CharField(
        _("block state"), max_length=10, choices=AnchorState.choices, blank=True
    )
    revision_number = models.PositiveIntegerField(
        _("written on revision"),
        null=True,
        blank=True,
        help_text=_("The lesson's revision the comment was written (or imported) on."),
    )
    submission_key = models.CharField(
        _("submission key"),
        max_length=64,
        blank=True,
        editable=False,
        help_text=_("Identifies the form submission that posted it: a form sent twice posts once."),
    )

    objects = CommentQuerySet.as_manager()

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        permissions = [
            ("moderate_comment", _("Can feature, pin and moderate any comment")),
            ("curate_own_lessons", _("Can feature, pin and reply as author on own lessons")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["lesson", "source_key"],
                condition=~Q(source_key=""),
                name="comment_unique_source_key",
            ),
            models.UniqueConstraint(
                fields=["member", "submission_key"],
                condition=~Q(submission_key=""),
                name="comment_unique_submission",
            ),
        ]
        # One index per sort of a lesson's top-level comments (forum.selectors.SORTS), so a
        # page is read in index order however many comments the lesson holds; with what
        # `visible_to` asks of a row included, a page's ids come from the index alone
        # (PostgreSQL; elsewhere `include` is left out).
        indexes = [
            models.Index(
                "lesson",
                F("is_pinned").desc(),
                F("is_featured").desc(),
                F("source_position").asc(),  # ascending puts NULLs last on PostgreSQL
                F("created_at").desc(),
                F("id").desc(),
                condition=Q(parent__isnull=True, status="published"),
                include=VISIBILITY,
                name="comment_top_featured",
            ),
            models.Index(
                "lesson",
                F("like_count").desc(),
                F("created_at").desc(),
                F("id").desc(),
                condition=Q(parent__isnull=True, status="published"),
                include=VISIBILITY,
                name="comment_top_hot",
            ),
            models.Index(
                fields=["lesson", "created_at", "id"],
                condition=Q(parent__isnull=True, status="published"),
                include=VISIBILITY,
                name="comment_top_created",
            ),
            models.Index(fields=["lesson", "created_at"], name="comment_lesson_created"),
            # The lesson page counts the comments on each block; a block's comments are listed.
            models.Index(
                fields=["lesson", "block_id"],
                condition=~Q(block_id=""),
                name="comment_lesson_block",
            ),
            # A profile lists the member's comments newest first, a page at a time.
            models.Index(
                "member", F("created_at").desc(), F("id").desc(), name="comment_member_newest"
            ),
        ]

    def __str__(self) -> str:
        return self.body[:40]

    def get_absolute_url(self) -> str:
        return f"{self.url}#comment-{self.pk}"

    @cached_property
    def url(self) -> str:
        """The permalink, `/comments/<id>/`; the comment's actions live below it (`reply/`,
        `like/`, …), which templates append instead of reversing each URL per comment."""
        return reverse("forum:comment", args=[self.pk])

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_counted(self) -> bool:
        """What `CommentQuerySet.counted` selects: published and not deleted, shown to all."""
        return self.status == Comment.Status.PUBLISHED and self.deleted_at is None

    @property
    def shown_reply_count(self) -> int:
        """Replies as the reader sees the number: the source's count plus replies made here."""
        return max(self.imported_reply_count or 0, 0) + self.reply_count


class CommentRevision(models.Model):
    """A comment's text before an edit, kept for moderators."""

    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("comment")
    )
    body = models.TextField(_("previous text"))
    written_at = models.DateTimeField(_("written at"))
    replaced_at = models.DateTimeField(_("replaced at"), default=timezone.now)

    class Meta:
        ordering = ["-replaced_at"]
        verbose_name = _("comment revision")
        verbose_name_plural = _("comment revisions")

    def __str__(self) -> str:
        return self.body[:40]

    def get_absolute_url(self) -> str:
        """The admin's "view on site" of an old version: the comment as it stands."""
        return self.comment.get_absolute_url()


class CommentLike(models.Model):
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="comment_likes", verbose_name=_("member")
    )
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, related_name="likes", verbose_name=_("comment")
    )
    created_at = models.DateTimeField(_("liked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("comment like")
        verbose_name_plural = _("comment likes")
        constraints = [
            models.UniqueConstraint(fields=["comment", "member"], name="comment_like_once")
        ]
        indexes = [
            models.Index(fields=["member", "comment"], name="comment_like_member"),
            # The likers list and the admin read a comment's likes newest first, a page at a
            # time: without it each page sorted all of them (100 k likes: 0.2 s a page).
            models.Index(fields=["comment", "created_at", "id"], name="comment_like_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.member} → {self.comment_id}"


class LessonLike(models.Model):
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="lesson_likes", verbose_name=_("member")
    )
    lesson = models.ForeignKey(
        Lesson, on_delete=models.CASCADE, related_name="likes", verbose_name=_("lesson")
    )
    created_at = models.DateTimeField(_("liked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("lesson like")
        verbose_name_plural = _("lesson likes")
        constraints = [
            models.UniqueConstraint(fields=["lesson", "member"], name="lesson_like_once")
        ]

    def __str__(self) -> str:
        return f"{self.member} → {self.lesson_id}"
