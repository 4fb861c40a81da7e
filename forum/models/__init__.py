from forum.models.caching import LessonStamp
from forum.models.claims import MemberClaim
from forum.models.discussion import (
    AnchorState,
    Comment,
    CommentLike,
    CommentQuerySet,
    CommentRevision,
    LessonLike,
    Member,
)
from forum.models.media import MediaFile
from forum.models.moderation import CourseModeration, ModerationAction, Report
from forum.models.notifications import Notification
from forum.models.search import SearchDocument
from forum.models.teaching import QueueDismissal

__all__ = [
    "AnchorState",
    "Comment",
    "CommentLike",
    "CommentQuerySet",
    "CommentRevision",
    "CourseModeration",
    "LessonLike",
    "LessonStamp",
    "MediaFile",
    "Member",
    "MemberClaim",
    "ModerationAction",
    "Notification",
    "QueueDismissal",
    "Report",
    "SearchDocument",
]
