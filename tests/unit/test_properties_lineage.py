"""Lineage stays a tree under any sequence of revise/trash/restore/purge, through the service;
a diff between any two revisions gives both texts back.

It runs on a real (SQLite) library: the tree lives in the repository's queries, which an
in-memory fake would not test. Each example is a new user, so examples share one database.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptcanvas.bootstrap import Container, bootstrap
from promptcanvas.domain.diff import apply_ops, diff_words
from promptcanvas.domain.errors import DomainError, NotFound
from promptcanvas.settings import Settings

_users = itertools.count()

words = st.sampled_from(["a", "fox", "강아지가", "밝은", ",", " ", "4k", "in", "snow", "\n"])
texts = st.lists(words, min_size=1, max_size=12).map("".join).filter(lambda t: t.strip() != "")
steps = st.lists(
    st.tuples(
        st.sampled_from(["revise", "trash", "restore", "purge"]),
        st.integers(min_value=0, max_value=30),
        texts,
    ),
    max_size=25,
)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Container]:
    """One SQLite library for the module's examples."""
    tmp = tmp_path_factory.mktemp("lineage")
    shutil.copy(sqlite_template, tmp / "promptcanvas.db")
    container = bootstrap(
        Settings(
            data_dir=tmp / "data",
            database_url=f"sqlite:///{tmp / 'promptcanvas.db'}",
            storage_url=f"file://{tmp / 'files'}",
        )
    )
    yield container
    container.close()


def _check_tree(c: Container, owner: str, parents: dict[str, str | None]) -> None:
    """The stored parents are the expected ones, and they form a forest of finite chains."""
    for pid, expected in parents.items():
        prompt = c.library.get_prompt(owner, pid)
        assert prompt.parent_id == expected, (pid, prompt.parent_id, expected)
    for pid in parents:
        chain = [pid]
        while parents[chain[-1]] is not None:
            parent = parents[chain[-1]]
            assert parent in parents, f"{chain[-1]}'s parent {parent} does not exist"
            assert parent not in chain, f"cycle: {chain + [parent]}"
            chain.append(parent)  # type: ignore[arg-type]
        nodes = c.library.lineage(owner, pid)
        ids = [n.prompt.id for n in nodes]
        assert len(ids) == len(set(ids)), f"a prompt twice in a lineage: {ids}"
        roots = [n.prompt.id for n in nodes if n.prompt.parent_id is None]
        assert roots == [chain[-1]], f"lineage of {pid} has roots {roots}, expected {chain[-1]}"
        assert ids[: len(chain)] == chain[::-1], "ancestors, root first, then the prompt"
        assert all(n.prompt.parent_id in ids for n in nodes if n.prompt.parent_id), ids
        assert all(n.depth == 0 for n in nodes if n.prompt.parent_id is None)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=texts, steps=steps)
def test_lineage_stays_a_tree(
    library: Container, first: str, steps: list[tuple[str, int, str]]
) -> None:
    c = library
    owner = c.users.add_user(f"lineage-{next(_users)}").id
    root = c.library.create_prompt(owner, text=first)
    parents: dict[str, str | None] = {root.id: None}
    order = [root.id]
    for action, index, text in steps:
        if not order:
            break
        pid = order[index % len(order)]
        if action == "revise":
            try:
                child = c.library.revise_prompt(owner, pid, {"text": text})
            except DomainError:
                continue  # e.g. revising a trashed prompt may be refused; nothing changed
            assert child.parent_id == pid
            parents[child.id] = pid
            order.append(child.id)
            before, after = c.library.get_prompt(owner, pid), child
            diff = c.library.diff(owner, child.id, pid)
            assert apply_ops(diff.text.ops) == (before.text, after.text)
        elif action == "trash":
            c.library.trash_prompt(owner, pid)
        elif action == "restore":
            c.library.restore_prompt(owner, pid)
        else:
            c.library.purge_prompt(owner, pid)
            with pytest.raises(NotFound):
                c.library.get_prompt(owner, pid)
            for child, parent in parents.items():
                if parent == pid:
                    parents[child] = parents[pid]  # revisions stay, attached to its parent
            del parents[pid]
            order.remove(pid)
        _check_tree(c, owner, parents)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.text(max_size=300))
def test_diff_then_apply_gives_back_both_texts_for_any_text(a: str, b: str) -> None:
    result = diff_words(a, b)
    assert apply_ops(result.ops) == (a, b)
    assert result.identical == (a == b)
