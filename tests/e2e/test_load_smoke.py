"""The load harness (bench/load.py) still runs: a short, small load on SQLite fails nothing."""

from __future__ import annotations

import os

import pytest

from bench.load import ROUTES, run_load, table

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs POSIX processes")


@pytest.mark.slow
def test_five_clients_for_five_seconds_fail_nothing_and_leave_a_whole_library() -> None:
    result = run_load(clients=5, seconds=5.0, db="sqlite")
    print("\n" + table(result))

    assert result["failures"] == []
    assert result["total"]["failures"] == 0
    # Every kind of request was made, and each answered as it should.
    assert {r for r in ROUTES if result["routes"][r]["count"] == 0} == set()
    assert all(result["routes"][r]["p99"] is not None for r in ROUTES)
    assert result["server_errors"] == []
    # The generations the clients asked for all ran (the server's own workers).
    assert set(result["jobs"]) == {"SUCCESS"}
    # Revisions all have their parent; racing uploads of one file to one prompt made one output.
    assert result["consistency"]["orphaned_revisions"] == 0
    assert result["consistency"]["doubled_upload_outputs"] == 0
    # Every row's file is there and no file lacks a row.
    assert result["doctor"]["exit_code"] == 0
    assert result["doctor"]["rows_with_missing_files"] == []
    assert result["doctor"]["orphaned_files"] == 0
