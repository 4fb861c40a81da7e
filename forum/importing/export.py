"""Write a lesson back in the source page format that `import_lesson` reads.

Lessons whose comments carry an author reply are written as GeekTime HTML (the only source
format with a place for the reply); the others as a Markdown page of the seed revision, which
keeps avatars and like counts.
"""

from __future__ import annotations

import html
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from forum.importing.source import SHANGHAI
from forum.models import Comment
from lessons.models import Lesson


def _when(comment: Comment) -> str:
    local: datetime = timezone.localtime(comment.created_at, SHANGHAI)
    return local.strftime("%Y-%m-%d" if comment.created_date_only else "%Y-%m-%d %H:%M:%S")


def _text(value: str) -> str:
    return html.escape(value, quote=True)


def _exported_comments(lesson: Lesson) -> list[Comment]:
    comments = list(
        Comment.objects.for_lesson(lesson)
        .counted()
        .top_level()
        .in_featured_order()
        .select_related("member")
    )
    replies = (
        Comment.objects.for_lesson(lesson)
        .counted()
        .filter(parent__in=comments)
        .filter(Q(is_author_reply=True) | ~Q(author_reply_label=""))
        .order_by("created_at", "pk")
    )
    first_reply: dict[int, Comment] = {}
    for reply in replies:
        first_reply.setdefault(reply.parent_id, reply)
    for comment in comments:
        comment.staff_reply = first_reply.get(comment.pk)
    return comments


def lesson_file_name(lesson: Lesson) -> str:
    """`01-title.md` / `title.md`, with the archives' ` _ ` for `|` and no path separators."""
    title = lesson.title.replace(" | ", " _ ").replace("|", "_").replace("/", "∕")
    return f"{lesson.number:02d}-{title}.md" if lesson.number is not None else f"{title}.md"


def lesson_to_source(lesson: Lesson) -> str:
    comments = _exported_comments(lesson)
    if any(c.staff_reply for c in comments):
        return _geektime_html(lesson, comments)
    return _markdown_page(lesson, comments)


def _markdown_page(lesson: Lesson, comments: list[Comment]) -> str:
    if not comments:
        return lesson.body_markdown + "\n"
    items = "".join(
        f'<li><img src="{_text(c.member.avatar_url)}" width="30px">'
        f"<span>{_text(c.member.display_name)}</span> "
        f"👍（{c.imported_like_count}） 💬（{c.imported_reply_count or 0}）"
        f"<div>{_text(c.body)}</div>{_when(c)}</li><br/>"
        for c in comments
    )
    return (
        f"{lesson.body_markdown}\n"
        f"<div><strong>精选留言（{len(comments)}）</strong></div><ul>\n{items}</ul>"
    )


def _html_text(value: str) -> str:
    return _text(value).replace("\n", "<br>")


def _geektime_html(lesson: Lesson, comments: list[Comment]) -> str:
    title = lesson.title.replace(" | ", " _ ")
    if lesson.number is not None:
        title = f"{lesson.number:02d} _ {title}"
    items = []
    for c in comments:
        reply = ""
        if c.staff_reply:
            label = c.staff_reply.author_reply_label or "作者回复"
            reply = (
                f'<div class="_10o3OAxT_0"><p class="_3KxQPN3V_0">'
                f"{label}: {_html_text(c.staff_reply.body)}</p></div>"
            )
        items.append(
            f'<li><div class="_2sjJGcOH_0"><img src="{_text(c.member.avatar_url)}" '
            f'class="_3FLYR4bF_0"><div class="_36ChpWj4_0">'
            f'<div class="_2zFoi7sd_0"><span>{_text(c.member.display_name)}</span></div>'
            f'<div class="_2_QraFYR_0">{_html_text(c.body)}</div>{reply}'
            f'<div class="_3klNVc4Z_0"><div class="_3Hkula0k_0">{_when(c)}</div></div>'
            f"</div></div></li>"
        )
    return (
        f'<audio title="{_text(title)}" src=""></audio>\n'
        f"{lesson.body_markdown}\n<ul>{''.join(items)}</ul>\n"
    )
