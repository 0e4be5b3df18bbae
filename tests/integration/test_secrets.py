"""Secrets never leak: API keys are stored hashed, provider keys come from the environment or a
secrets file, and no key shows up in any response, log line or stored byte.

A fake OpenAI server (which, like the real one, echoes a wrong key back in its 401 message)
serves three providers: one keyed from an environment variable, one from a secrets file, one
with a wrong key; a fourth call meets injected server errors. Every response body and header
and every log record of the whole run is then searched for every key used.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from promptcanvas.adapters.db.tables import ALL_TABLES
from promptcanvas.bootstrap import Container, bootstrap
from promptcanvas.settings import ModelConfig, ProviderConfig, Settings
from tests.conftest import Api, make_api
from tests.fakes.openai_server import FakeServer, running_fake_openai
from tests.jobs import drain, no_wait_retries

PROVIDER_KEY = f"sk-proj-GOOD{uuid.uuid4().hex}"
WRONG_KEY = f"sk-proj-WRONG{uuid.uuid4().hex}"
ENV_GOOD = "PC_TEST_SECRETS_GOOD_KEY"
ENV_WRONG = "PC_TEST_SECRETS_WRONG_KEY"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    with running_fake_openai(api_key=PROVIDER_KEY) as running:
        yield running


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only: what is stored is the same on PostgreSQL, and this module stays quick."""
    path = tmp_path / "promptcanvas.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def container(
    settings: Settings, server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Container]:
    monkeypatch.setenv(ENV_GOOD, PROVIDER_KEY)
    monkeypatch.setenv(ENV_WRONG, WRONG_KEY)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "openai.key").write_text(PROVIDER_KEY + "\n")
    models = {"dall-e-2": ModelConfig(kind="image")}

    def provider(name: str, **key: Any) -> ProviderConfig:
        return ProviderConfig(
            name=name,
            adapter="openai",
            base_url=server.api_url,
            models=models,
            timeout_seconds=10,
            **key,
        )

    configured = no_wait_retries(settings).model_copy(
        update={
            "providers": [
                provider("from-env", api_key_env=ENV_GOOD),
                provider("from-file", api_key_file=secrets / "openai.key"),
                provider("wrong-key", api_key_env=ENV_WRONG),
            ],
            "job_max_attempts": 2,
        }
    )
    c = bootstrap(configured)
    yield c
    c.close()


class Recorder:
    """Every response the test saw: status, headers and body as text."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def keep(self, response: Any) -> Any:
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.multi_items())
        self.seen.append(f"{response.request.url}\n{headers}\n{response.text}")
        return response


def test_no_key_appears_in_responses_logs_or_storage(
    container: Container,
    client: TestClient,
    server: FakeServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    record = Recorder()
    alice = make_api(container, client, "alice")
    created = client.post("/api/v1/keys", headers=alice.headers, json={"name": "script"})
    assert created.status_code == 201
    second_key = created.json()["secret"]  # shown once, in this answer only
    bob = Api(client, second_key, alice.user_id)
    made_up = "pck_" + uuid.uuid4().hex + "MADEUP"
    api_keys = [alice.key, second_key, made_up]

    jobs = {}
    for name in ("from-env", "from-file", "wrong-key"):
        queued = record.keep(
            alice.post(
                "/api/v1/generations",
                json={"text": f"a lighthouse, by {name}", "provider": name, "model": "dall-e-2"},
            )
        )
        assert queued.status_code == 202, queued.text
        jobs[name] = queued.json()["job_id"]
    drain(container)
    assert len(server.requests()) >= 3  # every provider really called the fake with its key
    server.configure(rate_500=1.0)
    failing = record.keep(
        bob.post(
            "/api/v1/generations",
            json={"text": "a storm", "provider": "from-env", "model": "dall-e-2"},
        )
    )
    jobs["server-error"] = failing.json()["job_id"]
    drain(container)
    server.reset()

    status = {
        name: record.keep(alice.get(f"/api/v1/jobs/{job}")).json() for name, job in jobs.items()
    }
    assert status["from-env"]["status"] == "SUCCESS", status["from-env"]
    assert status["from-file"]["status"] == "SUCCESS", status["from-file"]
    assert status["wrong-key"]["status"] == "FAILURE"
    assert status["server-error"]["status"] == "FAILURE"
    # The fake echoed the wrong key in its 401 message; the job must say why, not what.
    assert "401" in status["wrong-key"]["error"]

    for url in (
        "/api/v1/jobs",
        "/api/v1/prompts",
        "/api/v1/outputs",
        "/api/v1/providers",
        "/api/v1/keys",
        "/api/v1/info",
        f"/api/v1/generations/{status['from-env']['generation_ids'][0]}"
        if status["from-env"].get("generation_ids")
        else "/api/v1/jobs",
    ):
        record.keep(alice.get(url))
    record.keep(client.get("/metrics"))
    record.keep(client.get("/api/v1/prompts", headers={"Authorization": f"Bearer {made_up}"}))
    record.keep(client.get("/api/v1/prompts", headers={"Authorization": "Basic " + made_up}))
    token = container.users.create_login_token("alice")
    record.keep(client.get("/auth/login", params={"token": token}))
    record.keep(client.get("/settings"))
    record.keep(client.get("/jobs"))

    provider_keys = [PROVIDER_KEY, WRONG_KEY]
    everything = "\n".join(record.seen)
    logs = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records
    )
    for secret in [*api_keys, *provider_keys]:
        assert secret not in everything, f"a key leaked into a response: {secret[:12]}..."
        assert secret not in logs, f"a key leaked into the logs: {secret[:12]}..."
        # Also no half of a key (a truncated message would still leak most of it).
        assert secret[: len(secret) // 2] not in everything + logs

    # Nothing written to disk (database, WAL, stored files, thumbnails) holds a key.
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.parent.name != "secrets":
            content = path.read_bytes()
            for secret in [*api_keys, *provider_keys]:
                assert secret.encode() not in content, f"{path.name} holds a key"


def test_api_keys_are_stored_only_as_hashes(container: Container, client: TestClient) -> None:
    alice = make_api(container, client, "alice")
    more = [container.users.create_key("alice", f"k{i}").secret for i in range(3)]
    with container.db.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.text("SELECT * FROM api_keys"))]
        dump = "\n".join(
            repr(tuple(row)) for table in ALL_TABLES for row in conn.execute(sa.select(table))
        )
    assert len(rows) == 4
    hashes = {row["secret_hash"] for row in rows}
    for secret in [alice.key, *more]:
        assert hashlib.sha256(secret.encode()).hexdigest() in hashes
        assert secret not in dump
        assert all(secret not in str(value) for row in rows for value in row.values())
        # The visible prefix is short: it names a key without giving away its secret part.
        assert all(len(str(row["prefix"])) <= 12 for row in rows)


def test_provider_keys_are_read_only_from_env_or_file(tmp_path: Path) -> None:
    """A key is never a setting value: the config names where it lives."""
    with pytest.raises(ValueError, match="api_key"):
        ProviderConfig.model_validate({"name": "x", "adapter": "openai", "api_key": "sk-inline"})
    described = ProviderConfig(
        name="x", adapter="openai", api_key_file=tmp_path / "missing.key"
    ).model_dump_json()
    assert "sk-" not in described
