"""SQLite search index: a column of filter tokens (category, tags, project, starred, month), and
a table of the index's words (for a last word typed so far).

A search with a selective filter walked every match of its words and dropped most of them after
joining prompts (60-230 ms at 1M prompts). With each prompt's filters indexed as tokens, the
MATCH itself narrows to prompts that pass them (adapters/db/search.py, filter_tokens). FTS5
cannot add a column, so the index is copied into a new table with the column filled in SQL,
then takes the old one's name. PostgreSQL is unchanged.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TOKENIZE = "tokenize='unicode61 remove_diacritics 0'"
# filter_tokens in SQL: char(57344) is its private-use mark, hex() spells a TEXT value's UTF-8
# bytes, as str.encode().hex() does, and created_at is stored as naive UTC 'YYYY-MM-DD ...'.
_FILTERS = """trim(
    coalesce((SELECT group_concat(char(57344) || 't' || lower(hex(t.tag)), ' ')
              FROM prompt_tags t WHERE t.prompt_pk = p.pk), '')
    || CASE WHEN p.category IS NULL THEN ''
       ELSE ' ' || char(57344) || 'c' || lower(hex(p.category)) END
    || CASE WHEN p.project_id IS NULL THEN ''
       ELSE ' ' || char(57344) || 'p' || lower(hex(p.project_id)) END
    || CASE WHEN p.starred THEN ' ' || char(57344) || 's' ELSE '' END
    || CASE WHEN p.created_at IS NULL THEN ''
       ELSE ' ' || char(57344) || 'm' || substr(p.created_at, 1, 4) || substr(p.created_at, 6, 2)
       END
)"""


def _copy(columns: str, rank: str, values: str, join: str) -> None:
    op.execute(f"CREATE VIRTUAL TABLE prompt_fts_new USING fts5({columns}, {_TOKENIZE})")
    op.execute(f"INSERT INTO prompt_fts_new(prompt_fts_new, rank) VALUES('rank', '{rank}')")
    op.execute(
        f"INSERT INTO prompt_fts_new(rowid, {columns}) "
        f"SELECT f.rowid, {values} FROM prompt_fts f {join} ORDER BY f.rowid"
    )
    op.execute("DROP TABLE prompt_fts")
    op.execute("ALTER TABLE prompt_fts_new RENAME TO prompt_fts")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _copy(
        "text_doc, meta_doc, negative_doc, filter_doc",
        "bm25(4.0, 2.0, 0.5, 0.0)",
        f"f.text_doc, f.meta_doc, f.negative_doc, {_FILTERS}",
        "LEFT JOIN prompts p ON p.pk = f.rowid",  # a row without its prompt keeps no filters
    )
    # The index's words, for the last word of a query typed so far (search.py, _TERMS_INSERT).
    op.execute("CREATE TABLE search_terms (term TEXT PRIMARY KEY) WITHOUT ROWID")
    op.execute("CREATE VIRTUAL TABLE temp.prompt_words USING fts5vocab(main, prompt_fts, 'row')")
    op.execute(
        "INSERT INTO search_terms(term) SELECT term FROM temp.prompt_words"
        " WHERE substr(term, 1, 1) <> char(57344)"
    )
    op.execute("DROP TABLE temp.prompt_words")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE search_terms")
    _copy(
        "text_doc, meta_doc, negative_doc",
        "bm25(4.0, 2.0, 0.5)",
        "f.text_doc, f.meta_doc, f.negative_doc",
        "",
    )
