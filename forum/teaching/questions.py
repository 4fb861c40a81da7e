"""Whether a comment asks a question: the one rule, in Python and as a database filter.

A comment asks when its text ends with a question mark (？ or ?), or when it holds one of the
words Chinese questions are asked with. The two spellings below read the same constants, and
tests/forum/test_teaching.py checks on the shared corpus that they agree.
"""

from __future__ import annotations

from django.db.models import Q

QUESTION_MARKS = ("？", "?")
QUESTION_WORDS = (
    "请问",
    "请教",
    "为什么",
    "为啥",
    "怎么",
    "怎样",
    "如何",
    "是否",
    "能否",
    "可否",
    "是不是",
    "能不能",
    "有没有",
    "会不会",
    "哪些",
    "哪个",
)


def asks_question(text: str) -> bool:
    """The rule: ends with ？ or ?, or contains a question word."""
    return text.endswith(QUESTION_MARKS) or any(word in text for word in QUESTION_WORDS)


def question_filter(field: str = "body") -> Q:
    """`asks_question` as a filter on a text column."""
    q = Q()
    for mark in QUESTION_MARKS:
        q |= Q(**{f"{field}__endswith": mark})
    for word in QUESTION_WORDS:
        q |= Q(**{f"{field}__contains": word})
    return q
