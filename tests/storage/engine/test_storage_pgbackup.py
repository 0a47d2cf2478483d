"""Backups on PostgreSQL (`pg_dump`/`pg_restore`): the promises of the SQLite backup, kept.

Runs with `--db postgres` (`make test-postgres`); the tests that need no server
(the password never on a command line) run on both.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from storage_support import message, open_store, raw_query, reply, turn
from support import Clock, pgserver
from support.pgserver import PgServer

from storage.crypto.keys import KeyRing
from storage.crypto.keytree import KeyTree
from storage.engine.dbfacts import database_facts, has_database, master_key_ids, migrations_of
from storage.engine.pgbackup import clear_restored, dump_database, dump_tables, restore_dump
from storage.engine.pgtools import (
    Conninfo,
    safe_url,
    split_password,
    tool_argv,
    tool_environment,
)
from storage.errors import BackupError

SECRET = "s3cr:t/p@ss"
WORDS = "PENANDA-CADANGAN-41 suami saya memukul"


@pytest.fixture
def server() -> PgServer:
    if pgserver.ACTIVE is None:
        pytest.skip("needs --db postgres (make test-postgres)")
    return pgserver.ACTIVE


def with_password(url: str) -> str:
    """The test server trusts its socket: a password in the URL is carried, never checked."""
    from urllib.parse import quote

    return url.replace("postgres@", f"postgres:{quote(SECRET, safe='')}@", 1)


async def family(db_path: Path, keyring: KeyRing, clock: Clock, chat: str) -> int:
    async with await open_store(db_path, keyring, clock=clock) as store:
        contact, inbox = await store.turns.receive("telegram", chat, message(chat, WORDS))
        assert inbox is not None
        await store.turns.commit_turn(turn(contact.id, inbox, outbound=(reply(contact.id),)))
        return contact.id


# --- the password -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://lk3:s3cr%3At%2Fp%40ss@db.example:5433/lk3?sslmode=require",
        "postgresql://lk3@db.example/lk3?password=s3cr%3At%2Fp%40ss&sslmode=require",
    ],
)
def test_the_password_never_reaches_a_command_line_or_a_message(url: str) -> None:
    info = split_password(url)
    assert info.password == SECRET
    argv = tool_argv(Path("/usr/bin/pg_dump"), info, ["--format=custom"])
    assert not any("s3cr" in arg for arg in argv)
    assert "--dbname=postgresql://lk3@db.example" in " ".join(argv)
    assert "sslmode=require" in " ".join(argv)
    assert "s3cr" not in safe_url(url) and "s3cr" not in repr(info)
    assert info.scrub(f"failed for {SECRET} and s3cr%3At%2Fp%40ss") == "failed for *** and ***"
    assert split_password("postgresql://lk3@db/lk3") == Conninfo("postgresql://lk3@db/lk3")


def test_a_dump_that_cannot_connect_says_where_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://lk3:{SECRET.replace('/', '%2F')}@/nowhere?host={tmp_path}&port=1"
    with pytest.raises(BackupError) as caught:
        dump_database(url, tmp_path / "x.dump")
    assert "cannot connect to postgresql://lk3@/nowhere" in str(caught.value)
    assert "s3cr" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


# --- dump --------------------------------------------------------------------------


async def test_a_dump_is_private_complete_and_never_overwrites(
    server: PgServer, tmp_path: Path, db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    await family(db_path, keyring, clock, "111")
    url = with_password(server.database_for(db_path))
    lax = os.umask(0)  # even so, nobody else may read it
    try:
        info = dump_database(url, tmp_path / "monday.dump")
    finally:
        os.umask(lax)
    assert (info.contacts, info.bytes) == (1, (tmp_path / "monday.dump").stat().st_size)
    assert info.keytree_id == KeyTree.load(tmp_path / "lk3.keytree").tree_id
    assert (tmp_path / "monday.dump").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lk3.keytree", "monday.dump"]
    with pytest.raises(BackupError, match="never overwrites"):
        dump_database(url, tmp_path / "monday.dump")
    tables = dump_tables(tmp_path / "monday.dump", "meta", "migrations")
    assert ["keytree_id", info.keytree_id] in tables["meta"]
    assert [r[0] for r in tables["migrations"]] == list(info.migrations)


async def test_a_failed_dump_leaves_no_file(
    server: PgServer, tmp_path: Path, db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    await family(db_path, keyring, clock, "111")
    (tmp_path / "out").mkdir()
    with pytest.raises(BackupError, match="not an LK3 database"):
        dump_database(server.url("postgres"), tmp_path / "out" / "x.dump")
    assert list((tmp_path / "out").iterdir()) == []


# --- restore -----------------------------------------------------------------------


async def test_a_restore_goes_only_into_an_empty_database(
    server: PgServer, tmp_path: Path, db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    await family(db_path, keyring, clock, "111")
    dump = tmp_path / "monday.dump"
    dump_database(server.database_for(db_path), dump)
    await family(tmp_path / "other.db", keyring, clock, "222")
    other = with_password(server.database_for(tmp_path / "other.db"))
    with pytest.raises(BackupError, match="is not empty .*a restore never overwrites") as caught:
        restore_dump(dump, other, tmp_path / "lk3.keytree")
    assert "s3cr" not in str(caught.value)
    assert raw_query(tmp_path / "other.db", "SELECT count(*) FROM contacts") == [(1,)]

    target = server.empty_database_for(tmp_path / "restored.db")
    restored = restore_dump(dump, target, tmp_path / "lk3.keytree")
    assert restored.contacts == 1
    assert raw_query(tmp_path / "restored.db", "SELECT count(*) FROM inbox") == [(1,)]


async def test_a_dump_of_another_deployment_is_refused_before_anything_is_restored(
    server: PgServer, tmp_path: Path, db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    await family(db_path, keyring, clock, "111")
    dump = tmp_path / "theirs.dump"
    dump_database(server.database_for(db_path), dump)
    (tmp_path / "ours").mkdir()
    ours, _ = KeyTree.open_or_create(tmp_path / "ours" / "lk3.keytree")
    target = server.empty_database_for(tmp_path / "restored.db")
    with pytest.raises(BackupError, match="belongs to another deployment") as caught:
        restore_dump(dump, target, tmp_path / "ours" / "lk3.keytree")
    assert "Nothing was restored" in str(caught.value)
    assert f"{ours.tree_id}" in str(caught.value)
    with pytest.raises(BackupError, match="there is no key tree at .*restore that deployment's"):
        restore_dump(dump, target, tmp_path / "none" / "lk3.keytree")
    assert not has_database(tmp_path / "restored.db", target)


async def test_a_file_that_is_not_a_dump_is_refused(server: PgServer, tmp_path: Path) -> None:
    junk = tmp_path / "junk.dump"
    junk.write_bytes(b"PGDMP but not really")
    target = server.empty_database_for(tmp_path / "restored.db")
    with pytest.raises(BackupError, match="not a pg_dump archive of LK3"):
        restore_dump(junk, target, tmp_path / "lk3.keytree")


async def test_a_failed_open_after_a_restore_can_be_undone(
    server: PgServer, tmp_path: Path, db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    await family(db_path, keyring, clock, "111")
    dump = tmp_path / "monday.dump"
    dump_database(server.database_for(db_path), dump)
    target = server.empty_database_for(tmp_path / "restored.db")
    restore_dump(dump, target, tmp_path / "lk3.keytree")
    assert clear_restored(target) > 10
    assert not has_database(tmp_path / "restored.db", target)
    restore_dump(dump, target, tmp_path / "lk3.keytree")  # empty again: restorable


# --- what the command line reads ------------------------------------------------------


async def test_the_facts_are_read_from_the_server(
    server: PgServer, db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    await family(db_path, keyring, clock, "111")
    url = with_password(server.database_for(db_path))
    facts = database_facts(db_path, url)
    assert facts.backend == "postgresql" and "s3cr" not in facts.where
    assert facts.counts["contacts"] == 1 and facts.size_bytes > 1_000_000
    assert facts.migrations.pending == () and facts.migrations.unknown == ()
    assert migrations_of(db_path, url) == facts.migrations
    assert master_key_ids(db_path, url) == {keyring.primary.key_id}
    assert not has_database(db_path, server.empty_database_for(db_path.with_name("x.db")))


def test_the_password_goes_to_the_tools_in_a_private_file_removed_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LK3_MASTER_KEYS", "k1:secret-key-material")
    monkeypatch.setenv("PGPASSWORD", "stray")
    info = split_password("postgresql://lk3:a%3Ab%5Cc@db/lk3")
    with tool_environment(info) as env:
        passfile = Path(env["PGPASSFILE"])
        assert passfile.stat().st_mode & 0o777 == 0o600
        assert passfile.parent.stat().st_mode & 0o777 == 0o700
        assert passfile.read_text() == "*:*:*:*:a\\:b\\\\c\n"  # libpq's escapes
        assert not any(k.startswith("LK3_") for k in env) and "PGPASSWORD" not in env
        assert not any("a:b" in v for k, v in env.items() if k != "PGPASSFILE")
    assert not passfile.exists()
