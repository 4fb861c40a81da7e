"""Personal parts of a shared page, declared in the templates.

`{% personal "kind" %}…{% endpersonal %}` marks a part of a page that differs between readers
of one audience (a member's like button, their name in the header); the CSRF token is a slot
too, given to the template as a value. While a shared copy of a page renders, the template
engine records each slot as it renders it (`Recorder`), and writes around it a mark no text can
hold: lone surrogate code points, which no text decoded from bytes — a comment, a name, a lesson,
a request — can contain (UTF-8 cannot encode one). `Pieces.cut` cuts the output at those marks
alone, checking that each is one the recorder wrote, in the order it wrote them; a reader's copy
is then a join of the pieces with that reader's slot contents (`Pieces.join`). No reader's data
is ever placed by looking for anything in a rendered page.

Each kind of region is a `Region` in forum.caching.personal: what it records of its context,
and for which reader it must be rendered again, with what.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import template
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.base import Node, NodeList
from django.template.context import Context
from django.template.loader import get_template
from django.utils.functional import SimpleLazyObject

OPEN, CLOSE = "\ud800", "\ud801"  # lone surrogates: no decoded text holds them
_MARK = re.compile(f"{OPEN}([a-z]+|[<>][0-9]+){CLOSE}")
RECORDER = "personal_slot_recorder"  # the context variable that holds the recorder


@dataclass(frozen=True)
class Region:
    """A kind of personal region: `capture` takes, from the context of the shared render, what
    the region is rendered from (small and picklable: it is stored with the page); `render_for`
    says, for a reader, what to render it with again — or None where the shared copy's is theirs,
    or the name of one of its `variants`. `variants` gives, for what was captured, the other
    renderings many readers share (a liked button), each by name with the context it is
    rendered with: they are rendered once, with the shared copy, for its reader."""

    name: str
    template: str  # the template that holds its {% personal %} tag
    capture: Callable[[Context], Any]
    render_for: Callable[[Any, Any], dict | str | None]
    variants: Callable[[Any], dict[str, dict]] | None = None


REGIONS: dict[str, Region] = {}
# Values given per response: the CSRF token, and a form's one-time submission key.
LEAVES = ("csrf", "submission")


def region(
    name: str, *, template: str, render_for: Callable, variants: Callable | None = None
) -> Callable:
    """Declare a kind of region; the decorated function is its `capture`."""

    def declare(capture: Callable[[Context], Any]) -> Callable:
        REGIONS[name] = Region(name, template, capture, render_for, variants)
        return capture

    return declare


@dataclass
class Slot:
    kind: str  # a region's name, or one of LEAVES
    data: Any = None  # what a region was captured with
    end: int = 0  # a region's default content is pieces[index + 1 : end]
    variants: dict[str, Pieces] = field(default_factory=dict)  # its Region's, rendered


class Recorder:
    """Kept in the context of a shared render: the regions, in the order they rendered, and
    the leaves' values. `regions=False` (anonymous readers, who all see the same) records
    leaves alone."""

    def __init__(self, *, regions: bool) -> None:
        self.regions = regions
        self.captured: list[tuple[str, Any]] = []
        # Plain text, which escaping leaves as it is (no character of it is one it changes).
        self.leaves = {kind: f"{OPEN}{kind}{CLOSE}" for kind in LEAVES}

    def record(self, kind: str, context: Context, render_body: Callable[[], str]) -> str:
        """The region's body between its two marks; its number is taken before the body
        renders, so that regions inside it come after it, in the order of the page."""
        index = len(self.captured)
        self.captured.append((kind, REGIONS[kind].capture(context)))
        return f"{OPEN}<{index}{CLOSE}{render_body()}{OPEN}>{index}{CLOSE}"


def submission_key() -> str:
    """A form's one-time key: the same form sent twice posts once (forum.services)."""
    return secrets.token_urlsafe(16)


def leaf_values(request: HttpRequest, pieces: Pieces) -> dict[str, str]:
    """This response's values of the leaves `pieces` holds."""
    values = {}
    if pieces.holds("csrf"):
        values["csrf"] = get_token(request)
    if pieces.holds("submission"):
        values["submission"] = submission_key()
    return values


def context_processor(request: HttpRequest) -> dict:
    """The leaves' values: during a shared render, their marks (this runs after Django's own
    processors, so its CSRF token wins), and the recorder is at hand."""
    recorder = getattr(request, "slot_recorder", None)
    if recorder is None:
        return {"submission_key": SimpleLazyObject(submission_key)}
    return {
        RECORDER: recorder,
        "csrf_token": recorder.leaves["csrf"],
        "submission_key": recorder.leaves["submission"],
    }


class Unrecordable(Exception):
    """The output's marks do not match what was recorded: the page is not cached."""


@dataclass
class Pieces:
    """A shared page: text pieces and slots, in order."""

    parts: list[str | Slot] = field(default_factory=list)
    leaves: frozenset[str] = frozenset()  # the kinds of leaf it holds, found once, when cut

    @classmethod
    def cut(cls, html: str, recorder: Recorder) -> Pieces:
        """The rendered shared page in pieces at the recorder's marks. Every region's two marks
        must be found once, nested, in the order recorded; otherwise Unrecordable."""
        parts: list[str | Slot] = []
        open_regions: list[tuple[int, Slot]] = []
        seen = 0
        for position, piece in enumerate(_MARK.split(html)):
            if position % 2 == 0:
                if OPEN in piece or CLOSE in piece:
                    raise Unrecordable("a mark that the recorder did not write")
                if piece:
                    parts.append(piece)
            elif piece in LEAVES:
                parts.append(Slot(piece))
            else:
                index = int(piece[1:])
                if piece[0] == "<":
                    if index != seen or index >= len(recorder.captured):
                        raise Unrecordable("a region that was not recorded there")
                    kind, data = recorder.captured[index]
                    slot = Slot(kind, data)
                    open_regions.append((index, slot))
                    parts.append(slot)
                    seen += 1
                else:
                    if not open_regions or open_regions[-1][0] != index:
                        raise Unrecordable("regions not nested")
                    open_regions.pop()[1].end = len(parts)
        if open_regions or seen != len(recorder.captured):
            raise Unrecordable("a region's mark is missing")
        leaves = frozenset(p.kind for p in parts if isinstance(p, Slot) and p.kind in LEAVES)
        return cls(parts, leaves)

    def join(
        self,
        leaves: dict[str, str],
        render_region: Callable[[Slot], str | Pieces | None] | None = None,
    ) -> str:
        """The page for one reader: each leaf their value, each region theirs where
        `render_region` gives one (a text, or one of its variants), the shared copy's
        otherwise."""
        out: list[str] = []
        parts, index, count = self.parts, 0, len(self.parts)
        while index < count:
            part = parts[index]
            index += 1
            if type(part) is str:
                out.append(part)
            elif part.kind in leaves:
                out.append(leaves[part.kind])
            elif render_region is not None and (theirs := render_region(part)) is not None:
                out.append(theirs.join(leaves) if type(theirs) is Pieces else theirs)
                index = part.end
        return "".join(out)

    def holds(self, kind: str) -> bool:
        return kind in self.leaves

    def regions(self) -> list[Slot]:
        return [p for p in self.parts if type(p) is Slot and p.kind in REGIONS]

    @property
    def size(self) -> int:
        text = sum(len(p) for p in self.parts if type(p) is str)
        return text + sum(v.size for slot in self.regions() for v in slot.variants.values())


# The template tag ---------------------------------------------------------------------------

register = template.Library()
_NODES: dict[str, PersonalNode] = {}


class PersonalNode(Node):
    child_nodelists = ("nodelist",)

    def __init__(self, kind: str, nodelist: NodeList) -> None:
        self.kind = kind
        self.nodelist = nodelist

    def render(self, context: Context) -> str:
        recorder = context.get(RECORDER)
        if recorder is None or not recorder.regions:
            return self.nodelist.render(context)
        return recorder.record(self.kind, context, lambda: self.nodelist.render(context))


@register.tag("personal")
def do_personal(parser: template.base.Parser, token: template.base.Token) -> PersonalNode:
    """{% personal "kind" %}…{% endpersonal %}: a part of the page that is the reader's own."""
    bits = token.split_contents()
    if len(bits) != 2 or bits[1][0] not in "\"'" or bits[1][0] != bits[1][-1]:
        raise template.TemplateSyntaxError('Use {% personal "kind" %}…{% endpersonal %}.')
    kind = bits[1][1:-1]
    nodelist = parser.parse(("endpersonal",))
    parser.delete_first_token()
    node = PersonalNode(kind, nodelist)
    _NODES[kind] = node
    return node


def render_region(kind: str, context: dict) -> str:
    """A region's content rendered alone, with `context` (the reader's and `render_for`'s)."""
    compiled = get_template(REGIONS[kind].template).template  # parses it, once per process
    node = _NODES[kind]
    bound = Context(context)
    with bound.render_context.push_state(compiled), bound.bind_template(compiled):
        return node.nodelist.render(bound)
