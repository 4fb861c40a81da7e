"""Nothing reaches a page unescaped except stored HTML that the sanitizer wrote.

Three static checks over the code base, each proven sensitive on a planted example: templates
(and template text in Python) never turn escaping off; Python code never marks text safe outside
the one `sanitized_html` filter (format_html only with a literal format string, which escapes
its arguments); and every `*_html` model field is assigned only the result of a
lessons.rendering function, since that filter trusts exactly those fields. The last is an AST
walk over assignments and keyword arguments (`obj.body_html = …`, `Comment(body_html=…)`,
`.update(body_html=…)`, `{"body_html": …}`, `setattr(obj, "body_html", …)`): it cannot see raw
SQL (there is none) or setattr with a computed name (moderation.py sets only the is_featured
and is_pinned flags that way).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]
CODE = [ROOT / "forum", ROOT / "lessons"]
SANITIZED_FILTER = ROOT / "lessons" / "templatetags" / "rendering.py"
RENDERERS = {"render_lesson_body", "render_comment_markdown", "render_plain_text", "sanitize_html"}

_UNSAFE_TEMPLATE = re.compile(
    r"\|\s*safe(seq)?\b|{%\s*autoescape\s+off\b|{%\s*filter\b[^%]*\bsafe", re.IGNORECASE
)
_SANITIZED_USE = re.compile(r"{{\s*([\w.]+)\s*\|\s*sanitized_html\b")
_MARKS_SAFE = {"mark_safe", "html_safe", "SafeString", "SafeText", "SafeData"}


def template_files() -> list[Path]:
    dirs = [ROOT / "templates", *(p for base in CODE for p in base.rglob("templates"))]
    return sorted(f for d in dirs for f in d.rglob("*") if f.is_file())


def python_files() -> list[Path]:
    return sorted(f for base in CODE for f in base.rglob("*.py"))


def template_problems(text: str) -> list[str]:
    problems = [m.group() for m in _UNSAFE_TEMPLATE.finditer(text)]
    problems += [
        f"sanitized_html on {m[1]}"
        for m in _SANITIZED_USE.finditer(text)
        if not m[1].endswith("_html")
    ]
    if text.count("sanitized_html") != len(_SANITIZED_USE.findall(text)):
        problems.append("sanitized_html used other than as {{ x.y_html|sanitized_html }}")
    return problems


def _annotation_nodes(tree: ast.AST) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(tree):
        annotations = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            annotations.append(node.returns)
            arguments = node.args
            for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
                annotations.append(arg.annotation)
            annotations += [arguments.vararg and arguments.vararg.annotation]
            annotations += [arguments.kwarg and arguments.kwarg.annotation]
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        for annotation in filter(None, annotations):
            inside.update(id(n) for n in ast.walk(annotation))
    return inside


def _literal_names(tree: ast.AST) -> set[str]:
    """Names that are only ever assigned a string literal in this module."""
    literal, other = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    is_str = isinstance(node.value, ast.Constant) and isinstance(
                        node.value.value, str
                    )
                    (literal if is_str else other).add(target.id)
    return literal - other


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def python_problems(source: str) -> list[str]:
    tree = ast.parse(source)
    annotations = _annotation_nodes(tree)
    literal_names = _literal_names(tree)
    problems = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in ("mark_safe", "html_safe"):
                    problems.append(f"line {line}: imports {alias.name}")
        elif isinstance(node, ast.Name | ast.Attribute) and id(node) not in annotations:
            if _name(node) in _MARKS_SAFE and not isinstance(getattr(node, "ctx", None), ast.Store):
                problems.append(f"line {line}: uses {_name(node)}")
        elif isinstance(node, ast.FunctionDef) and node.name == "__html__":
            problems.append(f"line {line}: defines __html__")
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text and _UNSAFE_TEMPLATE.search(node.value):
            problems.append(f"line {line}: template text turning escaping off")
        if isinstance(node, ast.keyword) and node.arg == "is_safe":
            problems.append(f"line {node.value.lineno}: is_safe=")
        if isinstance(node, ast.Call) and _name(node.func) in ("format_html", "format_html_join"):
            position = 0 if _name(node.func) == "format_html" else 1
            template = node.args[position] if len(node.args) > position else None
            is_literal = isinstance(template, ast.Constant) and isinstance(template.value, str)
            is_literal_name = isinstance(template, ast.Name) and template.id in literal_names
            if not (is_literal or is_literal_name):
                problems.append(f"line {line}: {_name(node.func)} with a non-literal format string")
    return problems


def html_fields() -> set[str]:
    return {
        field.name
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.name.endswith("_html") and model._meta.app_label in ("forum", "lessons")
    }


def _rendered(value: ast.AST, fields: set[str]) -> bool:
    """A rendering call, or a copy of another stored `*_html` field (a lesson's body kept as
    one of its revisions): written by a rendering call itself."""
    if isinstance(value, ast.Attribute) and value.attr in fields:
        return True
    return isinstance(value, ast.Call) and _name(value.func) in RENDERERS


def html_field_writes(source: str, fields: set[str]) -> tuple[list[str], list[str]]:
    """(writes of a `*_html` field with a rendering call, writes with anything else)."""
    good, bad = [], []

    def check(value: ast.AST, what: str) -> None:
        (good if _rendered(value, fields) else bad).append(f"line {value.lineno}: {what}")

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr in fields:
                    check(node.value, f".{target.attr} = …")
        elif isinstance(node, ast.keyword) and node.arg in fields:
            check(node.value, f"{node.arg}=…")
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in fields:
                    check(value, f"{{{key.value!r}: …}}")
        elif isinstance(node, ast.Call) and _name(node.func) == "setattr" and len(node.args) == 3:
            name = node.args[1]
            if isinstance(name, ast.Constant) and name.value in fields:
                check(node.args[2], f"setattr(…, {name.value!r}, …)")
    return good, bad


def test_templates_never_turn_escaping_off():
    files = template_files()
    assert len(files) > 10
    problems = {str(f.relative_to(ROOT)): template_problems(f.read_text()) for f in files}
    assert {f: p for f, p in problems.items() if p} == {}


def test_the_template_check_catches_unsafe_markup():
    for planted in (
        "{{ comment.body|safe }}",
        "{{ names|safeseq|join:', ' }}",
        "{% autoescape off %}{{ x }}{% endautoescape %}",
        "{% filter safe %}{{ x }}{% endfilter %}",
        "{{ comment.body|sanitized_html }}",
        "{% filter sanitized_html %}{{ x }}{% endfilter %}",
    ):
        assert template_problems(planted), planted
    assert template_problems("{% load rendering %}{{ comment.body_html|sanitized_html }}") == []


def test_code_marks_nothing_safe_outside_the_sanitized_html_filter():
    problems = {
        str(f.relative_to(ROOT)): python_problems(f.read_text())
        for f in python_files()
        if f != SANITIZED_FILTER
    }
    assert {f: p for f, p in problems.items() if p} == {}
    allowed = [p.split(": ")[1] for p in python_problems(SANITIZED_FILTER.read_text())]
    assert allowed == ["imports mark_safe", "uses mark_safe"]


def test_the_code_check_catches_ways_to_mark_text_safe():
    for planted in (
        "from django.utils.safestring import mark_safe\n",
        "import django.utils.safestring as s\nx = s.mark_safe(y)\n",
        "x = SafeString(y)\n",
        "@html_safe\nclass A: pass\n",
        "class A:\n    def __html__(self): return ''\n",
        "@register.filter(is_safe=True)\ndef f(v): return v\n",
        "x = format_html(f'<b>{y}</b>')\n",
        "x = format_html('<b>' + y + '</b>')\n",
        "x = format_html_join('', row_format, rows)\n",
        "t = Template('{{ comment.body|safe }}')\n",
    ):
        assert python_problems(planted), planted
    assert python_problems("def f() -> SafeString:\n    return format_html('<b>{}</b>', x)\n") == []
    assert python_problems("link = '<a>{}</a>'\nx = format_html_join('', link, rows)\n") == []


def test_html_fields_are_written_only_by_the_rendering_functions():
    fields = html_fields()
    assert fields == {"body_html"}
    good, bad = {}, {}
    for file in python_files():
        ok, not_ok = html_field_writes(file.read_text(), fields)
        name = str(file.relative_to(ROOT))
        good.update({f"{name} {w}": True for w in ok})
        bad.update({f"{name} {w}": True for w in not_ok})
    assert list(bad) == []
    # The walk does find the real writers: Lesson.save, comment_post/edit, the importer, and
    # the copies of a lesson's body kept as its revision.
    writers = {name.split(" ")[0] for name in good}
    assert writers == {
        "lessons/models.py",
        "forum/services.py",
        "forum/importing/service.py",
        "lessons/revisions.py",
        "lessons/migrations/0007_revisions.py",
    }


def test_the_html_field_check_catches_other_writes():
    for planted in (
        "comment.body_html = body\n",
        "Comment(body_html=text)\n",
        "Comment.objects.filter(pk=1).update(body_html=markdown(text))\n",
        "Lesson.objects.update(**{'body_html': text})\n",
        "setattr(comment, 'body_html', text)\n",
    ):
        assert html_field_writes(planted, {"body_html"})[1], planted
    assert html_field_writes("c.body_html = render_plain_text(t)\n", {"body_html"}) == (
        ["line 1: .body_html = …"],
        [],
    )
