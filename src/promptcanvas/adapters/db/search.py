"""Full-text search per database: SQLite FTS5 and PostgreSQL tsvector, over the same tokens."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSQUERY

from promptcanvas.adapters.db.tables import prompts
from promptcanvas.domain.prompts import Prompt
from promptcanvas.domain.text import QueryTerm, index_document, index_tokens
from promptcanvas.ports.repositories import PromptQuery


def prompt_documents(prompt: Prompt) -> tuple[str, str, str, str]:
    """The indexed fields of a prompt: text, meta (tags + category), negative text, filters."""
    meta = " ".join([*prompt.tags, prompt.category or ""])
    return (
        index_document(prompt.text),
        index_document(meta),
        index_document(prompt.negative_text),
        " ".join(
            filter_tokens(
                tags=prompt.tags,
                category=prompt.category,
                project_id=prompt.project_id,
                starred=prompt.starred,
                created_at=prompt.created_at,
            )
        ),
    )


def filter_tokens(
    *,
    tags: Sequence[str] = (),
    category: str | None = None,
    project_id: str | None = None,
    starred: bool | None = None,
    created_at: datetime | None = None,
) -> list[str]:
    """Tokens for exact-match filters: a prompt's (what it is) or a query's (what it asks for).

    SQLite indexes them in a column of their own (`filter_doc`, no weight in the ranking) and
    a search ANDs the query's into its MATCH, so FTS5 hands back only the prompts that pass
    the filters. Otherwise a search with a selective filter walks every match of its words
    and drops most of them after a join: 60-230 ms at 1M prompts.

    Each token starts with a private-use character, which FTS5's unicode61 tokenizer keeps in
    a token but our word splitter (domain/text.py) never emits: no word of a prompt or query
    can meet one, so no column filter is needed (one cost 2x in ranking). Then the kind: t
    tag, c category, p project, s starred (only starred prompts carry it; "not starred" is
    filtered by the row alone), m the UTC month created (a query asks for its date range's
    months); then the label in hex, one exact token whatever its script or spaces.
    Migration 0008 writes the same in SQL.
    """
    out = [f"{_FILTER}t{tag.encode().hex()}" for tag in tags]
    if category is not None:
        out.append(f"{_FILTER}c{category.encode().hex()}")
    if project_id is not None:
        out.append(f"{_FILTER}p{project_id.encode().hex()}")
    if starred:
        out.append(f"{_FILTER}s")
    if created_at is not None:
        out.append(_month(created_at.astimezone(UTC)))
    return out


def _month(when: datetime) -> str:
    return f"{_FILTER}m{when.year:04d}{when.month:02d}"


def filter_match(query: PromptQuery) -> list[str]:
    """A query's filters as MATCH expressions, all to be ANDed (see filter_tokens).

    A date range with both ends and at most _MONTHS months asks for any of its months (the
    WHERE on created_at then cuts the first and last month to the day); otherwise the range is
    left to the WHERE alone. A month in range at 1M prompts: 59 -> 22 ms p95 newest.
    """
    tokens = filter_tokens(
        tags=query.tags,
        category=query.category,
        project_id=query.project_id,
        starred=query.starred,
    )
    out = [f'"{token}"' for token in tokens]
    since, until = query.since, query.until
    if since is not None and until is not None and since < until:
        first = since.astimezone(UTC)
        last = (until - timedelta(microseconds=1)).astimezone(UTC)
        count = (last.year - first.year) * 12 + last.month - first.month + 1
        if count <= _MONTHS:
            months = []
            for i in range(count):
                year, month = divmod(first.month - 1 + i, 12)
                months.append(f'"{_month(datetime(first.year + year, month + 1, 1))}"')
            out.append("(" + " OR ".join(months) + ")")
    return out


_MONTHS = 36


_FILTER = "\ue000"  # see filter_tokens; migration 0008 spells it char(57344)


class SearchIndex(abc.ABC):
    """Keeps a prompt's search entry in step with its row, inside the caller's transaction."""

    @abc.abstractmethod
    def put(self, conn: sa.Connection, prompt: Prompt) -> None:
        """Insert or replace the prompt's entry."""

    def put_many(self, conn: sa.Connection, new: Sequence[Prompt]) -> None:
        """Insert or replace the entries of several prompts (batched where the index can)."""
        for prompt in new:
            self.put(conn, prompt)

    @abc.abstractmethod
    def remove(self, conn: sa.Connection, pk: int) -> None:
        """Remove the entry of prompt pk."""

    @abc.abstractmethod
    def apply(
        self,
        stmt: sa.Select[Any],
        terms: Sequence[QueryTerm],
        sort: str,
        after_pk: int | None,
        filters: Sequence[str] = (),
    ) -> tuple[sa.Select[Any], dict[str, Any]]:
        """Restrict a SELECT over `prompts` to rows matching every term, ordered by sort.

        after_pk continues a newest/oldest listing after that prompt (keyset paging). filters
        (filter_match of the query) may narrow the index's matches; the caller's WHERE clauses
        still decide.
        """


# Ranking every match costs ~2.6 us each on SQLite (bm25) and more on PostgreSQL (ts_rank
# reads each tsvector); a common word matches 100k+ prompts of a 1M library. Relevance is
# therefore computed over the newest RELEVANCE_WINDOW matches that pass every filter: the
# best matches among recent work, in bounded time. Newest/oldest sorts see every match.
RELEVANCE_WINDOW = 2000


def _quote_fts(term: QueryTerm) -> str:
    return '"' + " ".join(term.tokens) + '"' + ("*" if term.prefix else "")


def fts_query(terms: Sequence[QueryTerm], filters: Sequence[str] = ()) -> str:
    """The MATCH expression: every term and every filter (filter_match)."""
    return " AND ".join([*map(_quote_fts, terms), *filters])


_FTS_INSERT = sa.text(
    "INSERT INTO prompt_fts(rowid, text_doc, meta_doc, negative_doc, filter_doc) "
    "VALUES (:pk, :t, :m, :n, :f)"
)


def fts_row(prompt: Prompt) -> dict[str, Any]:
    """A prompt's prompt_fts row, as bound parameters of _FTS_INSERT."""
    assert prompt.pk is not None
    text_doc, meta_doc, negative_doc, filter_doc = prompt_documents(prompt)
    return {"pk": prompt.pk, "t": text_doc, "m": meta_doc, "n": negative_doc, "f": filter_doc}


# Every word the SQLite index holds (never removed: a word no prompt has any more only adds
# an alternative that matches nothing). FTS5 answers a prefix query by merging the lists of
# every word the prefix starts before it returns a row: 28 ms for 'portrait'* at 1M prompts,
# whatever the LIMIT. When the prefix starts at most _EXPANSIONS known words, the query asks
# for those words instead ("portrait" OR "portraiture"), which FTS5 reads lazily: 88 -> 35 ms
# for 'old fisherman portrait' ranked. Past that (a prefix of one or two letters), as before.
_TERMS_INSERT = sa.text("INSERT OR IGNORE INTO search_terms(term) VALUES (:term)")
_EXPANSIONS = 16


def fts_terms(rows: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """The words of these prompt_fts rows, as bound parameters of _TERMS_INSERT."""
    words = {w for row in rows for doc in (row["t"], row["m"], row["n"]) for w in doc.split()}
    return [{"term": w} for w in sorted(words)]


def _prefix_match(prefix: str) -> tuple[str, dict[str, Any]]:
    """SQL for the MATCH alternatives of a last word typed so far, and its parameters."""
    sql = (
        "(SELECT coalesce(CASE WHEN count(*) <= :n THEN"
        " '(' || group_concat('\"' || term || '\"', ' OR ') || ')' END,"
        " '\"' || :prefix || '\"*')"
        " FROM (SELECT term FROM search_terms WHERE term >= :prefix AND term < :prefix_end"
        " ORDER BY term LIMIT :n + 1))"
    )
    return sql, {"prefix": prefix, "prefix_end": prefix + "\U0010ffff", "n": _EXPANSIONS}


class SqliteSearch(SearchIndex):
    """FTS5 table prompt_fts, rowid = prompts.pk."""

    _fts = sa.table("prompt_fts", sa.column("rowid", sa.Integer), sa.column("rank", sa.Float))

    def put(self, conn: sa.Connection, prompt: Prompt) -> None:
        """Insert or replace the prompt's entry."""
        self.put_many(conn, [prompt])

    def put_many(self, conn: sa.Connection, new: Sequence[Prompt]) -> None:
        """Three executemany statements for the lot (an import adds ~25 prompts per chunk)."""
        if not new:
            return
        rows = [fts_row(prompt) for prompt in new]
        conn.execute(sa.text("DELETE FROM prompt_fts WHERE rowid = :pk"), rows)
        conn.execute(_FTS_INSERT, rows)
        if words := fts_terms(rows):
            conn.execute(_TERMS_INSERT, words)

    def remove(self, conn: sa.Connection, pk: int) -> None:
        """Remove the entry of prompt pk."""
        conn.execute(sa.text("DELETE FROM prompt_fts WHERE rowid = :pk"), {"pk": pk})

    def apply(
        self,
        stmt: sa.Select[Any],
        terms: Sequence[QueryTerm],
        sort: str,
        after_pk: int | None,
        filters: Sequence[str] = (),
    ) -> tuple[sa.Select[Any], dict[str, Any]]:
        """Drive the query from the FTS table, so FTS5 hands back rowids already in order."""
        fts = self._fts
        params: dict[str, Any]
        if terms and terms[-1].prefix and len(terms[-1].tokens) == 1:  # see _TERMS_INSERT
            rest = fts_query(terms[:-1], filters)  # query_terms: only the last word is a prefix
            alternatives, params = _prefix_match(terms[-1].tokens[0])
            params["fts"] = rest + " AND " if rest else ""
            match = sa.text(f"prompt_fts MATCH (:fts || {alternatives})")
        else:
            params, match = {"fts": fts_query(terms, filters)}, sa.text("prompt_fts MATCH :fts")
        stmt = stmt.join_from(fts, prompts, prompts.c.pk == fts.c.rowid).where(match)
        if sort == "relevance":
            window = (
                stmt.with_only_columns(fts.c.rowid.label("rid"), fts.c.rank.label("rnk"))
                .order_by(fts.c.rowid.desc())
                .limit(RELEVANCE_WINDOW)
                .subquery("window")
            )
            ranked = (
                sa.select(*stmt.selected_columns)
                .join_from(window, prompts, prompts.c.pk == window.c.rid)
                .order_by(window.c.rnk, window.c.rid.desc())
            )
            return ranked, params
        if sort == "oldest":
            if after_pk is not None:
                stmt = stmt.where(fts.c.rowid > after_pk)
            stmt = stmt.order_by(fts.c.rowid.asc())
        else:
            if after_pk is not None:
                stmt = stmt.where(fts.c.rowid < after_pk)
            stmt = stmt.order_by(fts.c.rowid.desc())
        return stmt, params


def _ts_quote(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(prompt: Prompt) -> str:
    """A tsvector built from our own tokens (no PostgreSQL parser involved), weighted by field."""
    positions: dict[str, list[str]] = {}
    pos = 0
    fields = (
        (prompt.text, "A"),
        (" ".join([*prompt.tags, prompt.category or ""]), "B"),
        (prompt.negative_text, "D"),
    )
    for text, weight in fields:
        pos += 1  # a gap between fields, so a phrase cannot span two of them
        for token in index_tokens(text):
            pos += 1
            if pos > 16383:
                break
            entries = positions.setdefault(token, [])
            if len(entries) < 256:
                entries.append(f"{pos}{weight}")
    return " ".join(f"{_ts_quote(tok)}:{','.join(p)}" for tok, p in positions.items())


class PostgresSearch(SearchIndex):
    """A tsvector column prompts.search_vector with a GIN index."""

    def put(self, conn: sa.Connection, prompt: Prompt) -> None:
        """Set the prompt's tsvector."""
        conn.execute(
            sa.text("UPDATE prompts SET search_vector = CAST(:v AS tsvector) WHERE pk = :pk"),
            {"v": tsvector_literal(prompt), "pk": prompt.pk},
        )

    def remove(self, conn: sa.Connection, pk: int) -> None:
        """The vector goes with the row."""

    def apply(
        self,
        stmt: sa.Select[Any],
        terms: Sequence[QueryTerm],
        sort: str,
        after_pk: int | None,
        filters: Sequence[str] = (),  # noqa: ARG002 - the filters' own WHERE clauses decide
    ) -> tuple[sa.Select[Any], dict[str, Any]]:
        """search_vector @@ query, using the GIN index."""
        parts = []
        for term in terms:
            if len(term.tokens) == 1:
                parts.append(_ts_quote(term.tokens[0]) + (":*" if term.prefix else ""))
            else:
                parts.append("(" + " <-> ".join(_ts_quote(t) for t in term.tokens) + ")")
        stmt = stmt.where(sa.text("prompts.search_vector @@ CAST(:tsq AS tsquery)"))
        params = {"tsq": " & ".join(parts)}
        if sort == "relevance":
            window = (
                stmt.with_only_columns(
                    prompts.c.pk.label("rid"),
                    sa.func.ts_rank(
                        sa.literal_column("prompts.search_vector"),
                        sa.cast(sa.bindparam("tsq", type_=sa.String), TSQUERY),
                    ).label("rnk"),
                )
                .order_by(prompts.c.pk.desc())
                .limit(RELEVANCE_WINDOW)
                .subquery("window")
            )
            ranked = (
                sa.select(*stmt.selected_columns)
                .join_from(window, prompts, prompts.c.pk == window.c.rid)
                .order_by(window.c.rnk.desc(), window.c.rid.desc())
            )
            return ranked, params
        if sort == "oldest":
            if after_pk is not None:
                stmt = stmt.where(prompts.c.pk > after_pk)
            stmt = stmt.order_by(prompts.c.pk.asc())
        else:
            if after_pk is not None:
                stmt = stmt.where(prompts.c.pk < after_pk)
            stmt = stmt.order_by(prompts.c.pk.desc())
        return stmt, params
