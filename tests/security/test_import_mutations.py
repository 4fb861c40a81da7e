"""Generated and mutated lesson pages: the importer fails cleanly or imports, never half-way.

The pages start from real ones (the seed and a few corpus pages, both formats) or from generated
ones, then take one to four byte-level mutations: truncation, insertion of random bytes or of
the markup the parser looks for, duplication, deletion, a flipped bit. Bounded so that the whole
module runs in well under 30 seconds.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from django.apps import apps
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from forum.importing.source import SourceError, parse_page
from forum.models import Comment
from lessons.models import Lesson
from tests.forum.corpus_reader import corpus_dir
from tests.forum.import_helpers import SEED, run_import

SEED_PAGES = sorted((Path(__file__).resolve().parents[2] / "forum/seed").rglob("*.md"))
# A few corpus pages of each kind, small ones so that mutations land on markup often.
CORPUS_PAGES = [
    "sample-r3c55d518",  # seed revision: avatars, <div> content, 💬（-1）
    "sample",  # newest revision: <p> content
    "with-replies",  # GeekTime HTML with teacher replies
]


def _base_pages() -> list[bytes]:
    pages = [path.read_bytes() for path in SEED_PAGES]
    root = corpus_dir()
    if root is not None:
        for folder in CORPUS_PAGES:
            files = sorted((root / folder).glob("*.md"), key=lambda p: (p.stat().st_size, p.name))
            pages += [p.read_bytes() for p in files if p.stat().st_size > 1000][:2]
    return pages


BASE_PAGES = _base_pages()
assert SEED.read_bytes() in BASE_PAGES

# What the parser looks for, and what breaks it best when it appears in the wrong place.
MARKUP = [
    s.encode()
    for s in [
        "<li>",
        "</li>",
        "<br/>",
        "<ul>",
        "</ul>",
        "<div><strong>精选留言（",
        "）</strong></div>",
        "（",
        "）",
        " 👍（",
        " 💬（",
        "<span>",
        "</span>",
        "<div>",
        "</div>",
        "<p>",
        "</p>",
        '<img src="',
        '<div class="_2sjJGcOH_0">',
        '<div class="_2zFoi7sd_0"><span>',
        '<div class="_2_QraFYR_0">',
        '<div class="_3Hkula0k_0">',
        '<p class="_3KxQPN3V_0">作者回复: ',
        '<audio title="01 _ 标题" src="x"></audio>\n',
        "<style>x</style>",
        "&#0;",
        "&#x110000;",
        "&amp;",
        "99999999999999999999",
        "-1",
        "0001-01-01",
        "9999-12-31 23:59:59",
        "2024-02-30",
        "\u202e",
        "\ufeff",
        "```",
    ]
] + [b"\x00", b"\xff", b"\xc3", b"\r", b"\r\n", b"\n", b"\x1b", b"\x7f"]


@st.composite
def generated_page(draw: st.DrawFn) -> bytes:
    """A page in either format built from generated fields."""
    text = st.text(max_size=30)
    number = st.one_of(st.integers(-2, 5000).map(str), text)
    date = st.one_of(
        st.dates().map(str),
        st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),
        text,
    )
    count = draw(st.integers(0, 4))
    if draw(st.booleans()):
        items = [
            f'<li><img src="{draw(text)}" width="30px"><span>{draw(text)}</span> '
            f"👍（{draw(number)}） 💬（{draw(number)}）<div>{draw(text)}</div>{draw(date)}</li>"
            for _ in range(count)
        ]
        declared = draw(st.one_of(st.just(str(count)), number))
        page = (
            f"{draw(text)}\n<div><strong>精选留言（{declared}）</strong></div><ul>\n"
            + "<br/>".join(items)
            + "\n</ul>"
        )
    else:
        items = [
            f'<li>\n<div class="_2sjJGcOH_0"><img src="{draw(text)}">\n'
            f'<div class="_2zFoi7sd_0"><span>{draw(text)}</span></div>\n'
            f'<div class="_2_QraFYR_0">{draw(text)}</div>\n'
            f'<div class="_10o3OAxT_0"><p class="_3KxQPN3V_0">{draw(text)}</p></div>\n'
            f'<div class="_3Hkula0k_0">{draw(date)}</div>\n</div>\n</li>\n'
            for _ in range(count)
        ]
        page = (
            f'<audio title="{draw(text)}" src="x"></audio>\n{draw(text)}\n<style>x</style>'
            f"<ul>{''.join(items)}</ul>"
        )
    return page.encode("utf-8", "surrogatepass")


@st.composite
def mutation(draw: st.DrawFn, data: bytes) -> bytes:
    size = len(data)
    at = draw(st.integers(0, size))
    kind = draw(st.sampled_from(["truncate", "insert", "markup", "duplicate", "delete", "flip"]))
    if kind == "truncate":
        return data[:at]
    if kind == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    if kind == "markup":
        return data[:at] + draw(st.sampled_from(MARKUP)) + data[at:]
    end = draw(st.integers(at, min(size, at + 2000)))
    if kind == "duplicate":
        return data[:end] + data[at:end] + data[end:]
    if kind == "delete":
        return data[:at] + data[end:]
    if at == size:
        return data
    return data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1 :]


@st.composite
def mutated_page(draw: st.DrawFn) -> bytes:
    data = draw(st.one_of(st.sampled_from(BASE_PAGES), generated_page()))
    for _ in range(draw(st.integers(1, 4))):
        data = draw(mutation(data))
    return data


@settings(deadline=None)
@given(mutated_page())
def test_mutated_page_parses_or_fails_with_a_one_line_source_error(data: bytes) -> None:
    try:
        page = parse_page(data, name="01-页.md")
    except SourceError as error:
        event("refused")
        message = str(error)
        assert message.startswith("01-页.md: ")
        assert "\n" not in message and "\r" not in message
        return
    event(f"parsed, {'with' if page.comments else 'no'} comments")
    assert [c.position for c in page.comments] == list(range(1, len(page.comments) + 1))
    for comment in page.comments:
        assert "\x00" not in comment.body + comment.name + comment.author_reply
        assert comment.created_at.utcoffset() is not None
    assert "\x00" not in page.body_markdown


def _row_counts() -> dict[str, int]:
    models = [
        *apps.get_app_config("forum").get_models(),
        *apps.get_app_config("lessons").get_models(),
    ]
    return {model.__name__: model.objects.count() for model in models}


class _Rollback(Exception):
    pass


@pytest.mark.django_db
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=mutated_page())
def test_import_of_a_mutated_page_is_whole_or_nothing(data: bytes) -> None:
    """Each example runs in its own transaction, rolled back, so examples cannot see each other."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "变异课程" / "07-变异的一讲.md"
        path.parent.mkdir()
        path.write_bytes(data)
        try:
            with transaction.atomic():
                before = _row_counts()
                run = run_import(path)
                after = _row_counts()
                lessons = list(Lesson.objects.all())
                comments = Comment.objects.count()
                raise _Rollback
        except _Rollback:
            pass
    event("imported" if run.error is None else "refused")
    if run.error is None:
        assert len(lessons) == 1
        page = parse_page(data)
        replies = sum(1 for c in page.comments if c.author_reply)
        assert comments == len(page.comments) + replies
        assert lessons[0].comment_count == comments
        return
    [line] = run.error_lines
    assert run.stderr == line + "\n"
    assert line.startswith(f"error: {path}: ")
    assert after == before


# What the first runs found: numbers and dates that parsed but could not be stored.
def _one_comment(likes: str = "3", date: str = "2024-06-07", declared: str = "1") -> bytes:
    item = f"<li><span>Ann</span> 👍（{likes}） 💬（1）<div>好</div>{date}</li>"
    return f"# T\n<div><strong>精选留言（{declared}）</strong></div><ul>\n{item}\n</ul>".encode()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (_one_comment(likes="2147483648"), "likes '2147483648' is too large"),
        (_one_comment(likes="9" * 5000), "is too large"),
        (_one_comment(likes="-" + "9" * 5000), "is below 0"),
        (_one_comment(declared="9" * 5000), "in the 精选留言 header is out of range"),
        (_one_comment(date="0001-01-01"), "bad date '0001-01-01'"),
    ],
)
@pytest.mark.django_db
def test_number_or_date_that_cannot_be_stored_is_a_source_error(
    data: bytes, reason: str, tmp_path: Path
) -> None:
    with pytest.raises(SourceError, match=reason):
        parse_page(data)
    path = tmp_path / "课程" / "01-一.md"
    path.parent.mkdir()
    path.write_bytes(data)
    before = _row_counts()
    run = run_import(path)
    [line] = run.error_lines
    assert reason in line
    assert _row_counts() == before


@pytest.mark.django_db
def test_largest_storable_count_is_imported(tmp_path: Path) -> None:
    path = tmp_path / "课程" / "01-一.md"
    path.parent.mkdir()
    path.write_bytes(_one_comment(likes="2147483647", date="9999-12-31"))
    run = run_import(path)
    assert run.error is None, run.stderr
    assert Comment.objects.get().like_count == 2_147_483_647
