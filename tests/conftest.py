"""Shared fixtures: every integration test runs on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from promptcanvas.adapters.db import migrate
from promptcanvas.adapters.db.engine import create_database
from promptcanvas.adapters.db.tables import ALL_TABLES
from promptcanvas.bootstrap import Container, bootstrap
from promptcanvas.entrypoints.api.app import create_app
from promptcanvas.settings import Settings

POSTGRES_URL = os.environ.get("PROMPTCANVAS_TEST_POSTGRES_URL")
POSTGRES_SKIP = "PROMPTCANVAS_TEST_POSTGRES_URL is not set, so the PostgreSQL variant is skipped"


def _pg(url: str) -> sa.engine.URL:
    parsed = sa.engine.make_url(url)
    return parsed.set(drivername="postgresql+psycopg")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "promptcanvas.db"
    db = create_database(f"sqlite:///{path}")
    migrate.upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database, migrated once for the session."""
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP)
    admin = sa.create_engine(_pg(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"pc_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = _pg(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    db = create_database(url)
    migrate.upgrade(db)
    db.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _truncate(url: str) -> None:
    engine = sa.create_engine(url)
    names = ", ".join(t.name for t in ALL_TABLES)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A clean, migrated database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "promptcanvas.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    _truncate(url)
    return url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings for an isolated library in tmp_path."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        storage_url=f"file://{tmp_path / 'files'}",
        orphan_grace_seconds=0,
    )


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    """The wired application services."""
    c = bootstrap(settings)
    yield c
    c.close()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    """An HTTP client for the app (no credentials)."""
    with TestClient(create_app(container)) as test_client:
        yield test_client


class Api:
    """An HTTP client that sends one user's API key."""

    def __init__(self, client: TestClient, key: str, user_id: str) -> None:
        self.client = client
        self.key = key
        self.user_id = user_id
        self.headers = {"Authorization": f"Bearer {key}"}

    def get(self, url: str, **kw: Any) -> Any:
        headers = {**self.headers, **kw.pop("headers", {})}
        return self.client.get(url, headers=headers, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        headers = {**self.headers, **kw.pop("headers", {})}
        return self.client.post(url, headers=headers, **kw)

    def patch(self, url: str, **kw: Any) -> Any:
        headers = {**self.headers, **kw.pop("headers", {})}
        return self.client.patch(url, headers=headers, **kw)

    def delete(self, url: str, **kw: Any) -> Any:
        headers = {**self.headers, **kw.pop("headers", {})}
        return self.client.delete(url, headers=headers, **kw)

    def create_prompt(self, text: str = "a red fox in the snow", **fields: Any) -> dict[str, Any]:
        response = self.post("/api/v1/prompts", json={"text": text, **fields})
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def upload(self, data: bytes, filename: str = "image.png", **form: Any) -> Any:
        return self.post("/api/v1/assets", files={"file": (filename, data)}, data=form)

    def search(self, **params: Any) -> list[dict[str, Any]]:
        response = self.get("/api/v1/prompts", params=params)
        assert response.status_code == 200, response.text
        return response.json()["data"]  # type: ignore[no-any-return]


def make_api(container: Container, client: TestClient, name: str) -> Api:
    user = container.users.add_user(name)
    return Api(client, container.users.create_key(name).secret, user.id)


@pytest.fixture
def alice(container: Container, client: TestClient) -> Api:
    """A user with an API key."""
    return make_api(container, client, "alice")


@pytest.fixture
def bob(container: Container, client: TestClient) -> Api:
    """A second user, who must never see alice's data."""
    return make_api(container, client, "bob")
