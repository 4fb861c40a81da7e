"""Block anchors of a rendered lesson, and the diff between two revisions (no database)."""

from __future__ import annotations

import re

from lessons.anchors import BLOCK_ID, block_ids
from lessons.rendering import (
    lesson_blocks,
    lesson_units,
    render_comment_markdown,
    render_lesson_body,
    sanitize_html,
)
from lessons.revisions import folded, revision_diff, text_diff

ARTICLE = (
    "# 标题\n\n第一段。\n\n1. 甲\n2. 乙\n\n> 引用\n\n```\ncode\n```\n\n"
    "| a |\n|---|\n| 1 |\n\n第一段。\n"
)


def anchors(html: str) -> list[str]:
    return re.findall(r'data-block-id="([^"]*)"', html)


def test_each_block_gets_an_anchor_made_from_its_text():
    html = render_lesson_body(ARTICLE)
    found = anchors(html)
    # heading, paragraph, two items, quote, code, table, and the paragraph again
    assert len(found) == 8 and all(BLOCK_ID.fullmatch(a) for a in found)
    assert found[1] == block_ids(["第一段。"])[0]
    assert found[7] == found[1] + "-2"  # the same text again: its occurrence
    assert len(set(found)) == 8


def test_an_anchor_holds_across_renders_and_compatibility_forms_and_spacing():
    one = anchors(render_lesson_body("第一段，有  空格。\n"))
    two = anchors(render_lesson_body("第一段，有\n空格。\n"))  # soft break: one space
    three = anchors(render_lesson_body("第一段，有 空格。\n"))
    assert one == two == three
    assert anchors(render_lesson_body("ＡＢＣ\n")) == anchors(render_lesson_body("ABC\n"))


def test_inserting_a_block_moves_no_other_anchor():
    before = anchors(render_lesson_body("甲。\n\n乙。\n"))
    after = anchors(render_lesson_body("甲。\n\n新的。\n\n乙。\n"))
    assert after[0] == before[0] and after[2] == before[1]


def test_lesson_html_cannot_forge_an_anchor():
    real = anchors(render_lesson_body("真的段落。\n"))[0]
    hostile = (
        f'真的段落。\n\n<p data-block-id="{real}">伪造</p>\n\n'
        '<div><span data-block-id="b0123456789">里面</span></div>\n\n'
        "<p data-block-id='\"><script>alert(1)</script>'>注入</p>\n"
    )
    html = render_lesson_body(hostile)
    found = anchors(html)
    assert found.count(real) == 1  # the forged copy has its own text's anchor
    assert found[1] == block_ids(["真的段落。", "伪造"])[1]
    assert "b0123456789" not in html  # not a block: no anchor at all
    assert "<script" not in html
    assert all(BLOCK_ID.fullmatch(a) for a in found)
    assert sanitize_html(html) == html


def test_sanitizing_keeps_anchors_only_as_the_text_makes_them():
    assert sanitize_html('<p data-block-id="b0123456789">文字</p>') == (
        f'<p data-block-id="{block_ids(["文字"])[0]}">文字</p>'
    )
    assert sanitize_html('<p><em data-block-id="b0123456789">x</em></p>') == "<p><em>x</em></p>"
    assert sanitize_html("<p>no anchor asked</p>") == "<p>no anchor asked</p>"


def test_a_comment_never_carries_an_anchor():
    html = render_comment_markdown('<p data-block-id="b0123456789">x</p>\n\n段落')
    assert "data-block-id=" not in html.replace("data-block-id=&quot;", "")


def test_units_hold_every_block_each_a_sanitized_piece():
    html = render_lesson_body(ARTICLE)
    units = lesson_units(html)
    assert list(lesson_blocks(units)) == anchors(html)
    for unit in units:
        for piece in unit.get("items", [unit]):
            # A piece alone is sanitized as it is (its anchor, an occurrence in the whole
            # document, is the document's).
            plain = re.sub(r' data-block-id="[^"]*"', "", piece["block_html"])
            assert sanitize_html(plain) == plain
    listing = next(u for u in units if "list" in u)
    assert listing["list"] == "ol" and [i["text"] for i in listing["items"]] == ["甲", "乙"]
    assert "<li" not in listing["items"][0]["block_html"]


def test_a_block_text_is_its_text_unescaped():
    units = lesson_units(render_lesson_body("`<b>&amp;</b>` 文字\n"))
    assert units[0]["text"] == "<b>&amp;</b> 文字"


def test_a_document_over_the_markup_budget_is_one_piece_without_anchors():
    html = render_lesson_body("<b>&</b>\n" * 12_000)
    units = lesson_units(html)
    assert units == [{"block_html": html}] and "data-block-id" not in html


def test_text_diff_marks_what_was_deleted_and_added():
    pieces = text_diff("我们最容易想到的原因", "人们最先想到的原因")
    kinds = [(p.kind, p.text) for p in pieces]
    assert ("same", "想到的原因") in kinds
    assert ("deleted", "我") in kinds and ("added", "人") in kinds
    assert "".join(p.text for p in pieces if p.kind != "added") == "我们最容易想到的原因"


def test_revision_diff_pairs_an_edited_block_and_keeps_the_others():
    old = {"ba": "不变的段落。", "bb": "这一段会被改动一点点。", "bc": "这一段会被删除。"}
    new = {"ba": "不变的段落。", "bd": "这一段会被改动一些。", "be": "全新的一段。"}
    rows = revision_diff(old, new)
    assert [r.kind for r in rows] == ["same", "changed", "deleted", "added"]
    assert rows[1].old_id == "bb" and rows[1].new_id == "bd"


def test_long_runs_of_unchanged_blocks_are_folded_around_the_changes():
    old = {f"b{i}": f"段落{i}" for i in range(10)}
    new = {**{k: v for k, v in old.items() if k != "b4"}, "bx": "全新的一段"}
    rows = folded(revision_diff(old, new))
    kinds = ["folded", "same", "deleted", "same", "folded", "same", "added"]
    assert [r.kind for r in rows] == kinds
    assert [r.old_id for r in rows[0].rows] == ["b0", "b1", "b2"]
    assert [r.old_id for r in rows[4].rows] == ["b6", "b7", "b8"]


def test_text_between_blocks_is_kept_as_written():
    html = render_lesson_body("<div>甲</div>a &amp; &lt;b&gt;\n\n段落\n")
    pieces = "".join(
        piece["block_html"] for unit in lesson_units(html) for piece in unit.get("items", [unit])
    )
    assert "a &amp; &lt;b&gt;" in pieces and "&amp;amp;" not in pieces
