"""Comments on a block of a lesson, kept through the lesson's revisions (issue 20)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from forum import services
from forum.anchoring import MODIFIED, ORPHANED, UNCHANGED, block_moves
from forum.models import AnchorState, Comment
from lessons.anchors import SIMILAR_ENOUGH, similarity
from lessons.models import Lesson
from tests.factories import LessonFactory, MemberFactory
from tests.forum.import_helpers import SEED, SEED_COURSE, corpus_page, run_import

pytestmark = pytest.mark.django_db

NEWER = "ai-course/01-洞察本质：从工程学角度看ChatGPT为什么会崛起.md"
HEADING = "NLP技术突破：强势整合技术资源"
EDITED = (
    "我们最容易想到的原因是，OpenAI在自然语言处理（NLP）方面取得了突破性的进展，"
    "这是技术层面看到的。"
)
EDIT = "人们最先想到的原因是，OpenAI在自然语言处理（NLP）方面取得了突破，这是技术层面看到的。"
REMOVED = "那么ChatGPT具体是如何赢得这场胜利的呢？我们一一来看。"


def block_of(lesson: Lesson, starts: str) -> str:
    """The anchor of the lesson's block whose text starts with `starts` (NFKC-folded)."""
    return next(a for a, text in lesson.blocks.items() if text.startswith(starts[:8]))


def post_on(lesson: Lesson, block: str, body: str) -> Comment:
    return services.comment_post(author=MemberFactory(), lesson=lesson, body=body, block=block)


@pytest.fixture
def three_revisions(tmp_path: Path) -> dict:
    """The seed with comments on a heading and two paragraphs, the newer revision imported
    over it, then a third revision with one commented sentence edited and one commented
    paragraph removed."""
    newer = corpus_page(NEWER)
    assert run_import(SEED).error is None
    lesson = Lesson.objects.get()
    assert lesson.revision_number == 1
    comments = {
        "heading": post_on(lesson, block_of(lesson, HEADING), "标题问题"),
        "edited": post_on(lesson, block_of(lesson, EDITED), "这一句"),
        "removed": post_on(lesson, block_of(lesson, REMOVED), "这一段"),
    }
    anchors = {name: c.block_id for name, c in comments.items()}
    assert run_import(newer, "--course", SEED_COURSE).error is None
    second = {name: Comment.objects.get(pk=c.pk) for name, c in comments.items()}
    text = newer.read_text(encoding="utf-8")
    assert EDITED in text and REMOVED in text
    third = tmp_path / newer.name
    third.write_text(text.replace(EDITED, EDIT).replace(REMOVED + "\n\n", ""), encoding="utf-8")
    assert run_import(third, "--course", SEED_COURSE).error is None
    final = {name: Comment.objects.get(pk=c.pk) for name, c in comments.items()}
    return {"anchors": anchors, "second": second, "final": final, "lesson": Lesson.objects.get()}


def test_comments_on_the_seed_stay_on_their_blocks_in_the_newer_revision(three_revisions):
    second, anchors = three_revisions["second"], three_revisions["anchors"]
    for name, comment in second.items():
        assert comment.block_id == anchors[name]
        assert comment.anchor_state == ""
        assert comment.revision_number == 1


def test_an_edited_block_takes_its_comments_and_a_removed_one_keeps_them_with_its_quote(
    three_revisions,
):
    final, anchors, lesson = (
        three_revisions["final"],
        three_revisions["anchors"],
        three_revisions["lesson"],
    )
    assert lesson.revision_number == 3
    assert list(lesson.revisions.values_list("number", flat=True)) == [1, 2, 3]
    assert final["heading"].block_id == anchors["heading"] and final["heading"].anchor_state == ""
    edited = final["edited"]
    assert edited.anchor_state == AnchorState.MODIFIED
    assert edited.block_id != anchors["edited"]
    assert lesson.blocks[edited.block_id].startswith("人们最先想到的原因是")
    removed = final["removed"]
    assert removed.anchor_state == AnchorState.ORPHANED
    assert removed.block_id not in lesson.blocks
    assert removed.block_quote.startswith("那么ChatGPT具体是如何赢得这场胜利的呢")


def test_a_comment_on_a_block_not_in_the_lesson_is_refused():
    lesson = LessonFactory()
    with pytest.raises(ValidationError):
        post_on(lesson, "b0123456789", "不存在的段落")


def test_a_comment_records_the_revision_it_was_written_on():
    lesson = LessonFactory()
    Lesson.objects.filter(pk=lesson.pk).update(revision_number=4)
    lesson.refresh_from_db()
    comment = post_on(lesson, next(iter(lesson.blocks)), "好")
    assert comment.revision_number == 4
    assert comment.block_quote == next(iter(lesson.blocks.values()))


# The threshold, on both sides ------------------------------------------------------------------

SENTENCE = "实际上，ChatGPT背后包含了一系列的资源整合，包括技术、资金、大厂背书等等。"
CLOSE = "实际上，ChatGPT背后包含了一整套的资源整合，包括技术、资金和大厂背书等等。"
FAR = "Transformer 的自注意力机制让模型一次看到整个句子，从而并行训练。"


def test_similarity_threshold_separates_an_edit_from_another_text():
    assert similarity(SENTENCE, CLOSE) >= SIMILAR_ENOUGH
    assert similarity(SENTENCE, FAR) < SIMILAR_ENOUGH


def test_block_moves_follow_the_threshold():
    old = {"ba": SENTENCE, "bb": FAR, "bc": "保留的段落"}
    new = {"bc": "保留的段落", "bd": CLOSE}
    moves = block_moves(old, new, ["ba", "bb", "bc", "bgone"])
    assert moves["ba"].outcome == MODIFIED and moves["ba"].anchor == "bd"
    assert moves["bb"].outcome == ORPHANED
    assert moves["bc"].outcome == UNCHANGED
    assert moves["bgone"].outcome == ORPHANED


def test_an_edit_just_under_the_threshold_orphans_and_just_over_it_attaches():
    base = "一二三四五六七八九十"
    over = "一二三四五六七甲乙丙"  # 7 of 10 kept: 0.7
    under = "一二三四五甲乙丙丁戊"  # 5 of 10 kept: 0.5
    assert similarity(base, over) == pytest.approx(0.7)
    assert similarity(base, under) == pytest.approx(0.5)
    assert block_moves({"b1": base}, {"b2": over}, ["b1"])["b1"].outcome == MODIFIED
    assert block_moves({"b1": base}, {"b2": under}, ["b1"])["b1"].outcome == ORPHANED


def test_the_lesson_page_marks_each_comment_with_its_revision_and_its_blocks_fate(
    client, three_revisions
):
    final, lesson = three_revisions["final"], three_revisions["lesson"]
    # Newest first: the imported comments come first in the featured order.
    html = client.get(lesson.get_absolute_url() + "?sort=new").content.decode()

    def card(name: str) -> str:
        start = html.index(f'id="comment-{final[name].pk}"')
        return html[start : html.index("</article>", start)]

    for name in final:
        assert f'data-comment-block="{final[name].block_id}"' in card(name)
        assert 'data-comment-revision="1"' in card(name)
        assert "写于第 1 版" in card(name)
    assert "data-anchor-state" not in card("heading")
    assert 'data-anchor-state="modified">段落已修改<' in card("edited")
    assert 'data-anchor-state="orphaned">原段落已删除<' in card("removed")
    assert "那么ChatGPT具体是如何赢得这场胜利的呢" in card("removed")
    # The edited block's count holds the comment that moved to it; the removed block is gone.
    assert f'id="block-count-{final["edited"].block_id}" data-block-count>1<' in html
    assert f'data-block-id="{final["removed"].block_id}"' not in html
