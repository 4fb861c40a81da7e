"""The seam between search and the database: each backend turns query terms into the ids of a
page of matching documents, in the asked order, with its own full-text index. Both read the
same tokens (forum.search.tokenizer), so they find the same documents."""

from __future__ import annotations

from django.db import connection

from forum.search.tokenizer import Term


def _filters(kind: str, course_id: int | None, lesson_id: int | None) -> tuple[str, list]:
    sql, params = "", []
    for column, value in (("kind", kind), ("course_id", course_id), ("lesson_id", lesson_id)):
        if value:
            sql += f" AND d.{column} = %s"
            params.append(value)
    return sql, params


class SQLiteBackend:
    """FTS5 over the token columns: each term a phrase (`"缓存" + "存穿"`), all of them ANDed.
    The tokens hold no quote (the tokenizer keeps only letters, digits, + and #), so quoting
    them is all it takes for no query to be read as FTS5 syntax."""

    @staticmethod
    def _phrase(term: Term) -> str:
        return " + ".join(f'"{t.text}"' + ("*" if t.prefix else "") for t in term.tokens)

    def match(self, terms: list[Term]) -> str:
        return " AND ".join(f"({self._phrase(term)})" for term in terms)

    def ids(
        self,
        terms: list[Term],
        *,
        kind: str,
        course_id: int | None,
        lesson_id: int | None,
        order: str,
        limit: int,
        offset: int,
    ) -> list[int]:
        match = self.match(terms)
        where, params = _filters(kind, course_id, lesson_id)
        if order == "newest":
            ordering, order_params = "d.created_at DESC, d.id DESC", []
        else:
            # Title hits first, then BM25 (phrase frequency against the document's length),
            # then the newest.
            ordering = (
                "d.id IN (SELECT rowid FROM forum_search_fts WHERE forum_search_fts MATCH %s) DESC,"
                " bm25(forum_search_fts), d.created_at DESC, d.id DESC"
            )
            order_params = [f"{{title_tokens}} : ({match})"]
        sql = (
            # Fixed SQL pieces only; every value is a parameter.
            "SELECT d.id FROM forum_search_fts"  # noqa: S608
            " JOIN forum_searchdocument d ON d.id = forum_search_fts.rowid"
            f" WHERE forum_search_fts MATCH %s{where} ORDER BY {ordering} LIMIT %s OFFSET %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [match, *params, *order_params, limit, offset])
            return [row[0] for row in cursor.fetchall()]


class PostgreSQLBackend:
    """The stored tsvector with its GIN index: each term a phrase (`'缓存' <-> '存穿'`), all of
    them ANDed. Each token is a quoted lexeme, and tokens hold no quote or backslash, so no
    query is read as tsquery syntax."""

    @staticmethod
    def _phrase(term: Term, weight: str = "") -> str:
        return " <-> ".join(
            f"'{t.text}'" + (f":*{weight}" if t.prefix else f":{weight}" if weight else "")
            for t in term.tokens
        )

    def match(self, terms: list[Term], weight: str = "") -> str:
        return " & ".join(f"({self._phrase(term, weight)})" for term in terms)

    def ids(
        self,
        terms: list[Term],
        *,
        kind: str,
        course_id: int | None,
        lesson_id: int | None,
        order: str,
        limit: int,
        offset: int,
    ) -> list[int]:
        where, params = _filters(kind, course_id, lesson_id)
        if order == "newest":
            ordering, order_params = "d.created_at DESC, d.id DESC", []
        else:
            # Title hits (weight A) first, then the matches' frequency over the document's
            # length (ts_rank_cd, cover density, reads the same positions at twice the cost),
            # then the newest.
            ordering = (
                "d.vector @@ %s::tsquery DESC, ts_rank(d.vector, %s::tsquery, 2) DESC,"
                " d.created_at DESC, d.id DESC"
            )
            order_params = [self.match(terms, "A"), self.match(terms)]
        sql = (
            # Fixed SQL pieces only; every value is a parameter.
            "SELECT d.id FROM forum_searchdocument d WHERE d.vector @@ %s::tsquery"  # noqa: S608
            f"{where} ORDER BY {ordering} LIMIT %s OFFSET %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.match(terms), *params, *order_params, limit, offset])
            return [row[0] for row in cursor.fetchall()]


def backend() -> SQLiteBackend | PostgreSQLBackend:
    if connection.vendor == "postgresql":
        return PostgreSQLBackend()
    if connection.vendor == "sqlite":
        return SQLiteBackend()
    raise NotImplementedError(f"search has no backend for {connection.vendor}")
