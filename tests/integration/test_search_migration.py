"""Migration 0008 fills the SQLite index's filter column in SQL, as the app's code would."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from fastapi.testclient import TestClient

from promptcanvas.adapters.db import migrate
from promptcanvas.adapters.db.engine import create_database
from promptcanvas.adapters.db.search import filter_tokens
from promptcanvas.bootstrap import bootstrap
from promptcanvas.entrypoints.api.app import create_app
from promptcanvas.settings import Settings
from tests.conftest import Api, make_api


def _downgrade(url: str, revision: str) -> None:
    db = create_database(url)
    config = migrate._config()
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
    db.dispose()


def _filter_docs(url: str) -> dict[str, set[str]]:
    """Each prompt's indexed filter tokens, by prompt id."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT p.id, f.filter_doc FROM prompt_fts f JOIN prompts p ON p.pk = f.rowid")
        ).all()
    engine.dispose()
    return {prompt_id: set(doc.split()) for prompt_id, doc in rows}


def test_an_index_from_before_the_filter_column_gets_it_filled_on_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'library.db'}"
    settings = Settings(data_dir=tmp_path / "data", database_url=url)
    c = bootstrap(settings)
    with TestClient(create_app(c)) as client:
        alice = make_api(c, client, "alice")
        project = alice.post("/api/v1/projects", json={"name": "p"}).json()["id"]
        made = [
            alice.create_prompt("a paper lantern"),
            alice.create_prompt("a paper lantern", tags=["밤 풍경", "warm"], category="인물 사진"),
            alice.create_prompt("a paper lantern", starred=True, project_id=project),
        ]
    c.close()
    expected = {
        p["id"]: set(
            filter_tokens(
                tags=p["tags"],
                category=p["category"],
                project_id=p["project_id"],
                starred=p["starred"],
                created_at=datetime.fromisoformat(p["created_at"]),
            )
        )
        for p in made
    }
    assert _filter_docs(url) == expected  # as the app writes them
    marked = filter_tokens(category="인물 사진", starred=True)
    assert set(marked) <= set().union(*expected.values())
    assert all(token.startswith("\ue000") for token in marked)

    _downgrade(url, "0007")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        with pytest.raises(sa.exc.OperationalError, match="filter_doc"):
            conn.execute(sa.text("SELECT filter_doc FROM prompt_fts")).all()
        with pytest.raises(sa.exc.OperationalError, match="search_terms"):
            conn.execute(sa.text("SELECT term FROM search_terms")).all()
    engine.dispose()

    c = bootstrap(settings)  # migrates on start
    try:
        assert _filter_docs(url) == expected  # the same tokens, written by the migration's SQL
        with c.db.engine.connect() as conn:
            words = {t for (t,) in conn.execute(sa.text("SELECT term FROM search_terms"))}
        assert {"paper", "lantern"} <= words
        assert not any(w.startswith("\ue000") for w in words)  # no filter token is a word
        with TestClient(create_app(c)) as client:
            alice = Api(client, c.users.create_key("alice").secret, alice.user_id)
            assert len(alice.search(q="lantern")) == 3
            assert len(alice.search(q="lant")) == 3  # the index's words were listed again
            assert [p["id"] for p in alice.search(q="lantern", tag="밤 풍경")] == [made[1]["id"]]
            assert [p["id"] for p in alice.search(q="lantern", starred=True)] == [made[2]["id"]]
            assert [p["id"] for p in alice.search(q="lantern", project=project)] == [made[2]["id"]]
    finally:
        c.close()
