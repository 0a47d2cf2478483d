"""Upgrades: what is pending is listed, and `lk3 run` never migrates without a backup behind it.

An older database is made by applying all but the newest migration, as the
previous release left it. `lk3 run` (the web chat alone, JSON logs) then backs
it up itself before migrating; a fresh backup spares that copy; a backup that
cannot be written stops the start unless `--migrate` says to go on without one.
Older data folders (the keys beside the database) keep working and are moved.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import httpx
import pytest
from deploy_support import ROOT, bot, clean_env, lk3
from support import free_port, keys_of

from storage.engine.migrations import MIGRATIONS, apply_migrations

pytestmark = pytest.mark.e2e

NEWEST = MIGRATIONS[-1].name


def older_database(data: Path) -> None:
    """A database as the previous release left it: every migration but the newest."""

    async def make() -> None:
        data.mkdir(mode=0o700, parents=True)
        async with aiosqlite.connect(data / "lk3.db", isolation_level=None) as conn:
            await conn.execute("PRAGMA journal_mode = WAL")
            await apply_migrations(conn, 1_767_225_600_000_000, MIGRATIONS[:-1])

    # In a thread of its own: the async tests call this inside their running loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, make()).result()


def setup(tmp_path: Path, port: int) -> tuple[Path, dict[str, str]]:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[web]\nhost = "127.0.0.1"\nport = {port}\nwebchat = true\nconsole = false\n',
        encoding="utf-8",
    )
    env = {"LK3_DATA_DIR": str(tmp_path / "data"), "LK3_BACKUP_DIR": str(tmp_path / "backups")}
    older_database(tmp_path / "data")
    key = lk3(bot("keys", "generate", "--config", str(config)), env)
    assert key.returncode == 0, key.stderr
    return config, env


def applied(data: Path) -> list[str]:
    with closing(sqlite3.connect(data / "lk3.db")) as conn:
        return [r[0] for r in conn.execute("SELECT name FROM migrations ORDER BY name")]


async def run_briefly(config: Path, env: dict[str, str], port: int, *extra: str) -> tuple[int, str]:
    """`lk3 run` until it serves (or stops by itself), then SIGTERM; exit code and stderr."""
    process = await asyncio.create_subprocess_exec(
        *bot("run", "--config", str(config), *extra),
        cwd=ROOT,
        env={**clean_env(), **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                if process.returncode is not None:
                    break
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        process.terminate()
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        code = await asyncio.wait_for(process.wait(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.stderr is not None
    return code, (await process.stderr.read()).decode()


def test_migrate_status_lists_applied_and_pending_without_writing(tmp_path: Path) -> None:
    config, env = setup(tmp_path, free_port())
    before = (tmp_path / "data" / "lk3.db").read_bytes()
    status = lk3(bot("db", "migrate", "--status", "--config", str(config)), env)
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert lines[0].startswith("applied  0001_initial  2026-01-01 00:00 UTC")
    assert f"pending  {NEWEST}" in lines
    assert lines[-1] == f"{len(MIGRATIONS) - 1} applied, 1 pending"
    assert (tmp_path / "data" / "lk3.db").read_bytes() == before


async def test_lk3_run_backs_the_database_up_itself_before_migrating(tmp_path: Path) -> None:
    port = free_port()
    config, env = setup(tmp_path, port)
    code, err = await run_briefly(config, env, port, "--log-format", "json")
    assert code == 0, err
    (copy,) = (tmp_path / "backups").glob("lk3-*-before-migration.db")
    assert applied(tmp_path / "data")[-1] == NEWEST
    with closing(sqlite3.connect(copy)) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM migrations")]
    assert NEWEST not in names, "the copy is the database as it was before"
    entries = [json.loads(line) for line in err.splitlines()]
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert any(e["level"] == "warning" and "backed up first to" in e["message"] for e in entries)
    assert any(e["message"].startswith("web server listening") for e in entries), err


async def test_a_fresh_backup_is_enough_and_an_impossible_one_stops_the_start(
    tmp_path: Path,
) -> None:
    port = free_port()
    config, env = setup(tmp_path, port)
    backups = tmp_path / "backups"
    backups.mkdir(mode=0o700)
    recent = datetime.now(UTC) - timedelta(minutes=20)
    shutil.copy(tmp_path / "data" / "lk3.db", backups / f"lk3-{recent:%Y%m%d-%H%M%S}Z.db")
    stale = {**env, "LK3_BACKUP_DIR": str(tmp_path / "not-a-folder")}
    (tmp_path / "not-a-folder").write_text("a file where the backups folder should be\n")

    code, err = await run_briefly(config, stale, port)
    assert code == 2
    assert "1 migration(s) pending" in err and "--migrate" in err
    assert applied(tmp_path / "data")[-1] != NEWEST, "nothing migrated"

    code, err = await run_briefly(config, env, port)  # the 20-minute-old copy
    assert code == 0, err
    assert len(list(backups.glob("lk3-*.db"))) == 1, "no second copy"
    assert applied(tmp_path / "data")[-1] == NEWEST


async def test_migrate_applies_without_a_backup_only_when_told(tmp_path: Path) -> None:
    port = free_port()
    config, env = setup(tmp_path, port)
    nowhere = {**env, "LK3_BACKUP_DIR": str(tmp_path / "not-a-folder")}
    (tmp_path / "not-a-folder").write_text("")
    code, err = await run_briefly(config, nowhere, port, "--migrate")
    assert code == 0, err
    assert applied(tmp_path / "data")[-1] == NEWEST


def test_an_older_data_folder_keeps_working_and_its_keys_move_apart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"LK3_DATA_DIR": str(data)}
    said = lk3(bot("chat", "--as", "ibu-d"), env, lines=("1", "aku cerita RAHASIA-LAMA"))
    assert said.returncode == 0, said.stderr
    for name in ("master.key", "lk3.keytree"):  # as a folder made before keys/ existed
        (keys_of(data) / name).rename(data / name)
    keys_of(data).rmdir()
    audit = lk3(bot("audit", "verify"), env)  # reads beside the bot: the old places
    assert audit.returncode == 0, audit.stderr
    assert not keys_of(data).exists(), "a command that does not hold the folder moves nothing"
    again = lk3(bot("chat", "--as", "ibu-d"), env, lines=("dataku",))
    assert again.returncode == 0, again.stderr
    assert "RAHASIA-LAMA" in again.stdout
    assert sorted(p.name for p in keys_of(data).iterdir()) == ["lk3.keytree", "master.key"]
    assert not (data / "master.key").exists() and not (data / "lk3.keytree").exists()
    assert keys_of(data).stat().st_mode & 0o777 == 0o700
