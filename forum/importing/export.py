"""Write a lesson back in the source page format that `import_lesson` reads.

Lessons whose comments carry an author reply are written as GeekTime HTML (the only source
format with a place for the reply), and so are lessons imported from it (their comments have no
counts, which the Markdown page cannot leave out); the others as a Markdown page of the seed
revision, which keeps avatars and like counts.

What is written imports back as it was (tests/forum/test_export_round_trip.py): the importer
takes a page's *last* 精选留言 header as the start of the comments, so a Markdown page always
ends with one, even for no comments, and article text that looks like a comment block stays
article text.

A comment on a block of the lesson (forum.anchoring) is exported as a comment on the lesson: the
source format has no place for a comment's anchor or the revision it was written on (an item is
the name, the counts, the text and the date, as the source site writes it, and any other markup
in an item would be read as the comment's text by the importer and by every other reader of the
format). So the anchor is left out, and a comment imported from an export is on the whole lesson.
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


def lesson_to_source(lesson: Lesson) -> str:
    comments = _exported_comments(lesson)
    if any(c.staff_reply for c in comments) or (
        comments
        and all(c.imported_reply_count is None and not c.imported_like_count for c in comments)
    ):
        return _geektime_html(lesson, comments)
    return _markdown_page(lesson, comments)


def _markdown_page(lesson: Lesson, comments: list[Comment]) -> str:
    # The comment text's element is what tells a preview from a whole article on import
    # (forum/importing/source.py, SourcePage.is_preview).
    tag = "div" if lesson.is_preview else "p"
    items = "".join(
        f'<li><img src="{_text(c.member.avatar_url)}" width="30px">'
        f"<span>{_text(c.member.display_name)}</span> "
        f"👍（{c.imported_like_count}） 💬（{c.imported_reply_count or 0}）"
        f"<{tag}>{_text(c.body)}</{tag}>{_when(c)}</li><br/>"
        for c in comments
    )
    return (
        f"{lesson.body_markdown}\n"
        f"<div><strong>精选留言（{len(comments)}）</strong></div><ul>\n{items}</ul>\n"
    )


def _html_text(value: str) -> str:
    return _text(value).replace("\n", "<br>")


# What would make a GeekTime page's article read as comments: a Markdown comment header (the
# importer looks for one before anything else) or GeekTime comment markup.
_HEADER_WORD = "精选留言（"
_ITEM_CLASS = 'class="_2sjJGcOH_0"'


def _geektime_article(body: str) -> str:
    """The article, with what would read as comments broken up in a way that renders the same.

    An empty HTML comment inside the header's words, a character reference in the class name:
    the sanitizer drops the one and decodes the other, so the lesson's HTML is unchanged (inside
    a code block they would show). Only for the rare article that has them and a reply.
    """
    body = body.replace(_HEADER_WORD, "精选留言<!-- -->（")
    return body.replace(_ITEM_CLASS, 'class="&#95;2sjJGcOH_0"')


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
    # The importer drops the one <style> block that ends a GeekTime article (the page's CSS);
    # an empty one here keeps a style the article itself ends with.
    return (
        f'<audio title="{_text(title)}" src=""></audio>\n'
        f"{_geektime_article(lesson.body_markdown)}\n<style></style>\n<ul>{''.join(items)}</ul>\n"
    )
