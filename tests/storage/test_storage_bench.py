"""The benchmark runs end to end and reports every figure (no timing assertions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.bench import measure


async def test_measure_reports_rates_for_receive_and_commit_turn(tmp_path: Path) -> None:
    figures = await measure(tmp_path, n=120)
    assert set(figures) == {
        "receives_per_s",
        "commit_turns_per_s",
        "due_rows_decrypted_per_s",
        "mean_jobs_per_transaction",
        "largest_transaction_jobs",
    }
    assert all(value > 0 for value in figures.values())
    assert figures["largest_transaction_jobs"] > 1


async def test_measure_refuses_an_existing_database(tmp_path: Path) -> None:
    (tmp_path / "bench.db").write_bytes(b"")
    with pytest.raises(FileExistsError, match="already exists"):
        await measure(tmp_path, n=10)
