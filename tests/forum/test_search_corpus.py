"""Across the whole shared corpus, imported: search finds every visible comment that contains
the query and nothing else (recall and precision 1.0), for 300+ queries drawn from the
comments themselves — runs of two to four Chinese characters and whole Latin words."""

from __future__ import annotations

import random
import re

import pytest

from forum.models import Comment, SearchDocument
from forum.search.backends import backend
from forum.search.tokenizer import CJK, document_tokens, fold, query_terms
from tests.forum.corpus_reader import corpus_dir
from tests.forum.import_helpers import NO_CORPUS, run_import
from tests.forum.search_truth import contains_folded

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(corpus_dir() is None, reason=NO_CORPUS),
]

HAN_QUERIES = 240
LATIN_QUERIES = 80


def sample_queries(bodies: list[str]) -> list[str]:
    """Deterministic: the same corpus gives the same queries on every run and database."""
    rng = random.Random(16)
    runs = sorted({run for body in bodies for run in re.findall(f"[{CJK}]{{2,}}", fold(body))})
    words = sorted(
        {t for body in bodies for t in document_tokens(body) if re.fullmatch("[a-z0-9]+", t)}
    )
    han: set[str] = set()
    while len(han) < HAN_QUERIES:
        run = rng.choice(runs)
        length = rng.randint(2, min(4, len(run)))
        start = rng.randrange(len(run) - length + 1)
        han.add(run[start : start + length])
    latin = rng.sample(words, LATIN_QUERIES)
    return sorted(han) + latin


def test_search_finds_exactly_the_comments_that_contain_the_query() -> None:
    folders = sorted(path for path in corpus_dir().iterdir() if path.is_dir())
    run_import(*folders, "--keep-going")
    visible = dict(Comment.objects.counted().values_list("pk", "body"))
    assert len(visible) > 3000
    folded = {pk: fold(body) for pk, body in visible.items()}
    document_comment = dict(
        SearchDocument.objects.filter(kind="comment").values_list("pk", "comment_id")
    )
    queries = sample_queries(sorted(visible.values()))
    assert len(queries) >= 300

    wrong = {}
    for query in queries:
        ids = backend().ids(
            query_terms(query),
            kind="comment",
            course_id=None,
            lesson_id=None,
            order="newest",
            limit=len(visible) + 1,
            offset=0,
        )
        got = {document_comment[pk] for pk in ids}
        expected = {pk for pk, text in folded.items() if contains_folded(text, fold(query))}
        if got != expected:
            wrong[query] = (len(expected - got), len(got - expected))
    assert wrong == {}, "query: (missed, wrongly found)"
