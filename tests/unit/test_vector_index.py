"""The in-process vector index: exact while small, HNSW when large, always owner-scoped."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from promptcanvas.adapters.vectors.memory import InProcessIndex

DIM = 32


def unit_rows(n: int, seed: int = 0, dim: int = DIM) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def exact_top(rows: np.ndarray, keys: list[int], query: np.ndarray, k: int) -> list[int]:
    order = np.argsort(-(rows @ query), kind="stable")[:k]
    return [keys[i] for i in order]


def test_exact_search_matches_brute_force_with_cosine_scores() -> None:
    rows = unit_rows(500)
    keys = list(range(1, 501))
    index = InProcessIndex(DIM, exact_limit=10_000)
    index.upsert("alice", keys, rows)
    query = unit_rows(1, seed=9)[0]
    found = index.search("alice", query, 10)
    assert [k for k, _ in found] == exact_top(rows, keys, query, 10)
    assert found[0][1] == pytest.approx(float(rows[found[0][0] - 1] @ query), abs=1e-5)
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    assert index.describe()["exact_owners"] == 1


def test_an_owner_never_sees_another_owners_vectors() -> None:
    rows = unit_rows(50)
    index = InProcessIndex(DIM, exact_limit=20)
    index.upsert("alice", list(range(1, 51)), rows)  # large: a graph
    index.upsert("bob", [1000, 1001], rows[:2])  # the very same vectors
    for owner, own in (("alice", set(range(1, 51))), ("bob", {1000, 1001})):
        for query in rows[:10]:
            assert {k for k, _ in index.search(owner, query, 50)} <= own
    assert index.search("carol", rows[0], 5) == []
    assert index.get("bob", 1) is None
    assert index.size("bob") == 2 and index.size() == 52


def test_upsert_replaces_and_remove_forgets() -> None:
    rows = unit_rows(3)
    index = InProcessIndex(DIM)
    index.upsert("alice", [1, 2, 3], rows)
    index.upsert("alice", [1], rows[2:3])  # prompt 1 now says what prompt 3 says
    assert {k for k, s in index.search("alice", rows[2], 3) if s > 0.999} == {1, 3}
    assert all(score < 0.99 for _, score in index.search("alice", rows[0], 3))  # old one gone
    index.remove("alice", [3, 99])
    assert [k for k, _ in index.search("alice", rows[2], 3)][0] == 1
    assert index.size("alice") == 2


def test_zero_query_and_zero_rows_match_nothing() -> None:
    index = InProcessIndex(DIM)
    index.upsert("alice", [1, 2], np.vstack([np.zeros(DIM, np.float32), unit_rows(1)[0]]))
    assert index.search("alice", np.zeros(DIM, np.float32), 5) == []
    found = index.search("alice", unit_rows(1)[0], 5)
    assert found[0][0] == 2


def test_wrong_dimension_is_refused() -> None:
    index = InProcessIndex(DIM)
    with pytest.raises(ValueError):
        index.upsert("alice", [1], unit_rows(1, dim=DIM + 1))
    with pytest.raises(ValueError):
        index.search("alice", np.ones(DIM + 1, np.float32), 1)


@pytest.mark.parametrize("quantisation", ["i8", "f16", "f32"])
def test_large_owner_is_promoted_to_a_graph_that_keeps_recall(quantisation: str) -> None:
    rows = unit_rows(3000, seed=1, dim=64)
    keys = list(range(10, 3010))
    index = InProcessIndex(64, exact_limit=1000, quantisation=quantisation)  # type: ignore[arg-type]
    for start in range(0, 3000, 500):
        index.upsert("alice", keys[start : start + 500], rows[start : start + 500])
    info = index.describe()
    assert info["hnsw_owners"] == 1 and info["exact_owners"] == 0
    assert index.size("alice") == 3000
    hits = 0
    queries = unit_rows(50, seed=2, dim=64)
    for query in queries:
        truth = set(exact_top(rows, keys, query, 10))
        hits += len(truth & {k for k, _ in index.search("alice", query, 10)})
    assert hits / (10 * len(queries)) >= 0.9
    # A stored vector finds itself first, with a cosine close to 1.
    key, score = index.search("alice", rows[1234], 1)[0]
    assert key == keys[1234] and score > 0.98


def test_writes_during_promotion_are_not_lost() -> None:
    rows = unit_rows(2100, seed=3, dim=64)
    index = InProcessIndex(64, exact_limit=2000)
    index.upsert("alice", list(range(1, 2001)), rows[:2000])
    grow = threading.Thread(target=index.upsert, args=("alice", [2001], rows[2000:2001]))
    grow.start()  # crosses the limit: builds the graph
    for i in range(2002, 2101):  # meanwhile, more writes and a removal
        index.upsert("alice", [i], rows[i - 1 : i])
    index.remove("alice", [5])
    grow.join()
    assert index.describe()["hnsw_owners"] == 1
    assert index.size("alice") == 2099
    assert index.search("alice", rows[2099], 1)[0][0] == 2100
    assert 5 not in {k for k, _ in index.search("alice", rows[4], 5)}
