"""The office's database commands on a PostgreSQL deployment (`LK3_STORAGE_URL`).

`lk3 db backup`, `db restore`, `db restore --check`, `db status`, `db migrate`,
`keys rotate`, and `lk3 run`'s backup before migrating, as an office runs them,
on a throwaway server (the session's with `--db postgres`, else one of this
module's own; skipped where PostgreSQL is not installed). The URL carries a
password, which no output may show.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from support import keys_of, pgserver
from support.backups import readable_bytes
from support.pgserver import PgServer

from bot.cli import main
from bot.config import load_config
from bot.dbcli import before_migrating
from storage.crypto.keys import KeyRing, generate_key_file
from storage.records import NewInbound, NewOutbound, TurnWrite
from storage.store import Store

SECRET = "pw-9f1c:x"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WORDS = "RAHASIA-KELUARGA-5521 suami saya memukul"


@pytest.fixture(scope="module")
def server() -> Iterator[PgServer]:
    with pgserver.session_or_own() as found:
        yield found


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    @property
    def said(self) -> str:
        return self.out + self.err


def admin(capsys: pytest.CaptureFixture[str], *args: str) -> Ran:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    ran = Ran(code, out, err)
    assert SECRET not in ran.said and quote(SECRET, safe="") not in ran.said
    assert "RAHASIA" not in ran.said
    return ran


def secret_url(url: str) -> str:
    """The test server trusts its socket: the password is carried, never checked."""
    return url.replace("postgres@", f"postgres:{quote(SECRET, safe='')}@", 1)


def deployment(server: PgServer, data: Path, monkeypatch: pytest.MonkeyPatch) -> KeyRing:
    """A data folder, its keys folder, and a database on the server, for `data`."""
    data.mkdir(mode=0o700)
    generate_key_file(keys_of(data) / "master.key")
    monkeypatch.setenv("LK3_STORAGE_URL", secret_url(server.database_for(data / "lk3.db")))
    return KeyRing.load(keys_of(data) / "master.key", {})


async def families(data: Path, keyring: KeyRing, chats: list[str]) -> list[int]:
    url = load_config(None).storage_url
    ids = []
    async with await Store.open(
        data / "lk3.db", keyring, keytree=keys_of(data) / "lk3.keytree", url=url
    ) as store:
        for chat in chats:
            said = NewInbound("telegram", chat, "text", WORDS, T0)
            contact, inbox = await store.turns.receive("telegram", chat, said)
            assert inbox is not None
            answer = NewOutbound(contact.id, "telegram", "Terima kasih.", (), 5, T0)
            await store.turns.commit_turn(
                TurnWrite(inbox, contact.id, '{"node": "start"}', (answer,), T0, (), None, None)
            )
            ids.append(contact.id)
    return ids


def test_backup_erase_restore_keeps_an_erased_family_unreadable(
    server: PgServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    data = tmp_path / "data"
    keyring = deployment(server, data, monkeypatch)
    anna, budi = asyncio.run(families(data, keyring, ["111", "222"]))
    dump = tmp_path / "monday.dump"
    made = admin(capsys, "db", "backup", str(dump), "--data", str(data))
    assert made.code == 0, made.err
    assert "2 contacts, pg_dump custom format, mode 0600" in made.out
    assert dump.stat().st_mode & 0o777 == 0o600
    assert WORDS.encode() not in readable_bytes(dump)

    async def erase() -> None:
        url = load_config(None).storage_url
        tree = keys_of(data) / "lk3.keytree"
        async with await Store.open(data / "lk3.db", keyring, keytree=tree, url=url) as store:
            await store.erasure.erase(anna, reason="request", actor="cli", why="t")

    asyncio.run(erase())

    # A new machine: the keys folder copied from the key backups, an empty database.
    restored = tmp_path / "restored"
    restored.mkdir(mode=0o700)
    shutil.copytree(keys_of(data), keys_of(restored))
    empty = server.empty_database_for(restored / "lk3.db")
    monkeypatch.setenv("LK3_STORAGE_URL", secret_url(empty))
    run = admin(capsys, "db", "restore", str(dump), "--data", str(restored))
    assert run.code == 0, run.err
    assert "1 contact(s) readable; 1 erased since the backup was taken" in run.out
    again = admin(capsys, "db", "restore", str(dump), "--data", str(restored))
    assert again.code == 1 and "is not empty" in again.err and "createdb" in again.err
    status = admin(capsys, "db", "status", "--data", str(restored))
    assert status.code == 0, status.err
    assert "database: postgresql at postgresql://postgres@/" in status.out
    assert "contacts: 1\n" in status.out and "erasures recorded: 1" in status.out
    assert "0 pending" in status.out
    verified = admin(capsys, "audit", "verify", "--data", str(restored))
    assert verified.code == 0, verified.out

    async def read() -> None:
        tree = keys_of(restored) / "lk3.keytree"
        url = load_config(None).storage_url
        async with await Store.open(restored / "lk3.db", keyring, keytree=tree, url=url) as s:
            assert await s.contacts.find("telegram", "111") is None
            budi_row = await s.contacts.find("telegram", "222")
            assert budi_row is not None and budi_row.id == budi

    asyncio.run(read())


def test_a_dump_of_another_deployment_is_refused_and_says_how_to_fix(
    server: PgServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    data = tmp_path / "data"
    keyring = deployment(server, data, monkeypatch)
    asyncio.run(families(data, keyring, ["111"]))
    dump = tmp_path / "theirs.dump"
    assert admin(capsys, "db", "backup", str(dump), "--data", str(data)).code == 0
    ours = tmp_path / "ours"
    other = deployment(server, ours, monkeypatch)
    asyncio.run(families(ours, other, []))  # creates this deployment's own key tree
    empty = server.empty_database_for(ours / "empty.db")
    monkeypatch.setenv("LK3_STORAGE_URL", secret_url(empty))
    run = admin(capsys, "db", "restore", str(dump), "--data", str(ours))
    assert run.code == 1
    assert "belongs to another deployment" in run.err and "Nothing was restored" in run.err
    assert "that deployment's own key tree" in run.err
    status = admin(capsys, "db", "status", "--data", str(ours))
    assert status.code == 2 and "there is no LK3 database" in status.err


def test_the_drill_reads_a_dump_in_a_scratch_database_and_empties_it(
    server: PgServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    data = tmp_path / "data"
    keyring = deployment(server, data, monkeypatch)
    asyncio.run(families(data, keyring, ["111", "222"]))
    made = admin(capsys, "db", "backup", "--dated", "--data", str(data), "--keep", "2")
    assert made.code == 0, made.err
    (dump,) = (data / "backups").iterdir()
    assert dump.name.startswith("lk3-") and dump.name.endswith("Z.dump")
    bare = admin(capsys, "db", "restore", "--check", str(dump), "--data", str(data))
    assert bare.code == 2 and "--scratch" in bare.err
    server.empty_database_for(tmp_path / "scratch.db")
    scratch = server.name_for(tmp_path / "scratch.db")
    live = admin(capsys, "db", "restore", "--check", str(dump), "--data", str(data),
                 "--scratch", server.name_for(data / "lk3.db"))  # fmt: skip
    assert live.code == 2 and "names the live database" in live.err
    check = admin(
        capsys, "db", "restore", "--check", str(dump), "--data", str(data), "--scratch", scratch
    )
    assert check.code == 0, check.err
    assert "2 contact(s): 2 readable, 0 erased since" in check.out
    assert "audit log intact" in check.out and f"scratch database {scratch} is empty" in check.out
    # The nightly timer's command: the scratch database named in its EnvironmentFile.
    monkeypatch.setenv("LK3_SCRATCH_DATABASE", scratch)
    nightly = admin(
        capsys, "db", "backup", "--dated", "--keep", "1", "--check", "--data", str(data)
    )
    assert nightly.code == 0, nightly.err
    assert "1 older copy removed" in nightly.out and "opens and reads" in nightly.out


def test_keys_rotate_and_migrate_status_read_the_server(
    server: PgServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    data = tmp_path / "data"
    keyring = deployment(server, data, monkeypatch)
    asyncio.run(families(data, keyring, ["111"]))
    status = admin(capsys, "db", "migrate", "--status", "--data", str(data))
    assert status.code == 0 and " 0 pending" in status.out
    nothing = admin(capsys, "db", "migrate", "--data", str(data))
    assert nothing.out.startswith("nothing to migrate")
    key_file = keys_of(data) / "master.key"
    assert admin(capsys, "keys", "add", "--key-file", str(key_file)).code == 0
    early = admin(capsys, "keys", "rotate", "--data", str(data))
    assert early.code == 1 and "Restart the bot first" in early.err
    rotated = admin(capsys, "keys", "rotate", "--data", str(data), "--bot-stopped")
    assert rotated.code == 0, rotated.err
    assert "done: 1 rewrapped, 0 remaining" in rotated.out
    missing = tmp_path / "missing"
    missing.mkdir()
    monkeypatch.setenv("LK3_STORAGE_URL", secret_url(server.empty_database_for(missing / "x")))
    refused = admin(capsys, "audit", "verify", "--data", str(missing))
    assert refused.code == 2 and "there is no LK3 database" in refused.err


def test_lk3_run_dumps_the_database_before_migrating_it(
    server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    keyring = deployment(server, data, monkeypatch)
    asyncio.run(families(data, keyring, ["111"]))
    # An older version's database: its newest migration not applied yet.
    server.fetch(data / "lk3.db", "DELETE FROM migrations WHERE name = '0020_media_relays'", ())
    config = dataclasses.replace(load_config(None), data_dir=data)
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert before_migrating(config, allow_without_backup=False, now=now, say=None) is None
    (dump,) = (data / "backups").iterdir()
    assert dump.name == "lk3-20261207-090000Z-before-migration.dump"
    assert dump.stat().st_mode & 0o777 == 0o600
    # A fresh dump (under an hour old) is enough: no second one.
    assert before_migrating(config, allow_without_backup=False, now=now, say=None) is None
    assert len(list((data / "backups").iterdir())) == 1
    # No dump can be written: it refuses, and says how to go on. (Within the hour another
    # process, its backups folder elsewhere, relies on the dump the database recorded.)
    blocked = dataclasses.replace(config, data_dir=tmp_path / "nowhere")
    (tmp_path / "nowhere").write_text("a file, not a folder")
    assert before_migrating(blocked, allow_without_backup=False, now=now, say=None) is None
    later = now + timedelta(hours=2)
    refusal = before_migrating(blocked, allow_without_backup=False, now=later, say=None)
    assert refusal is not None and "no backup could be written first" in refusal
    assert "--migrate" in refusal and SECRET not in refusal


def test_the_doctor_checks_the_server_and_pg_dump(
    server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.monitoring.pgcheck import postgres_check

    data = tmp_path / "data"
    keyring = deployment(server, data, monkeypatch)
    asyncio.run(families(data, keyring, []))
    config = dataclasses.replace(load_config(None), data_dir=data)
    line = postgres_check(config)
    assert line is not None and line.ok is True
    assert "migrations, 0 pending; backups through /" in line.detail
    assert SECRET not in line.detail and "postgresql://postgres@/" in line.detail
    fresh = dataclasses.replace(config, storage_url=server.empty_database_for(tmp_path / "n"))
    line = postgres_check(fresh)
    assert line is not None and line.ok is True and "`lk3 run` creates it" in line.detail
    gone = f"postgresql://lk3:{quote(SECRET, safe='')}@/x?host={tmp_path}&port=1"
    line = postgres_check(dataclasses.replace(config, storage_url=gone))
    assert (
        line is not None
        and line.ok is False
        and "cannot connect to postgresql://lk3@/x" in (line.detail)
    )
    assert SECRET not in line.detail and "LK3_STORAGE_URL" in line.fix
    assert postgres_check(dataclasses.replace(config, storage_url=None)) is None
