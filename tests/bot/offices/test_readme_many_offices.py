"""The README's "Many offices" section, run as written: Kota Ambon on SQLite becomes a
province of three offices on PostgreSQL with two `lk3 run` processes.

The commands are read FROM the README (the section's ```sh and ```toml blocks, in
order) and each `lk3 ...` line runs as the real command line (`python -m bot`), so
the README cannot drift from the product: a flag that changes, a step that fails, or
a new line this walk does not know how to run fails the test. Only what a test
machine must replace is replaced, all of it in `stand_ins` below: the paths under
/etc and /srv, the database URL (a throwaway server's, skipped with the reason where
PostgreSQL is not installed), `sudo systemctl stop lk3` and `createdb` (what they
stand for), and the placeholders ("…", PASSWORD, the token).

Before step 1, Ambon has real history: families wrote to its bot through the real
`lk3 run` on SQLite against the fake Bot API, one of them opened an urgent case, and
a counsellor works there. After step 4, from outside, as the section promises: the
moved families and their case are there (a counsellor reads the case's words on the
console, a family writing again is the same contact), families reaching `tual` and
`malteng` by deep link and on tual's own bot are routed there and hear tual's words,
tual's counsellor sees tual's case and not Ambon's, the province supervisor sees
counts and no case, and a SIGKILLed process leaves the other answering.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import sys
import tomllib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pyotp
import pytest
from support import free_port, pgserver
from support.lk3proc import ROOT, listening
from support.pgserver import PgServer
from support.rawdb import read_only_query
from telegram_api import FakeTelegram

SECRET = "pw-ambon:walk"  # the database password: never in any command's output
TUAL_TOKEN = "654321:TUAL-walk-token"
TUAL_PHONE = "0916 21000"
CONSOLE_PASSWORD = "kata-sandi-kantor-yang-panjang"
URGENT = "suami saya memukuli saya sekarang"
AMBON_FAMILIES = (771_000_001, 771_000_002, 771_000_003)
AMBON_URGENT = AMBON_FAMILIES[0]
TUAL_FAMILY, MALTENG_FAMILY, TUAL_BOT_FAMILY, NEWCOMER = (
    772_000_001,
    773_000_001,
    774_000_001,
    775_000_001,
)
NONA = 779_000_001  # tual's counsellor's own Telegram chat
CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')
SECRET_SHOWN = re.compile(r'<code class="secret">([A-Z2-7]+)</code>')


@pytest.fixture(scope="module")
def server() -> Iterator[PgServer]:
    """The session's server (`--db postgres`), else one of this module's own."""
    with pgserver.session_or_own() as found:
        yield found


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as telegram:
        yield telegram


# --- the README's section ----------------------------------------------------------


def readme_blocks() -> list[tuple[str, str]]:
    """The "Many offices" section's fenced blocks, in order: (language, text)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "\n## Many offices\n" in readme, "the README lost its 'Many offices' section"
    section = readme.split("\n## Many offices\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, flags=re.S)
    assert blocks and {lang for lang, _ in blocks} <= {"sh", "toml"}, [b[0] for b in blocks]
    return blocks


@dataclass(frozen=True)
class Places:
    """Where this test keeps what the README puts under /etc, /srv and /var/lib."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "etc-lk3" / "config.toml"

    @property
    def second_config(self) -> Path:
        return self.root / "etc-lk3" / "b.toml"

    @property
    def ambon_data(self) -> Path:  # /var/lib/lk3, as deploy/lk3.service has it
        return self.root / "var-lib" / "lk3"

    @property
    def ambon_keys(self) -> Path:  # /var/lib/lk3-keys
        return self.root / "var-lib" / "lk3-keys"

    @property
    def ambon_backups(self) -> Path:  # /var/lib/lk3-backups
        return self.root / "var-lib" / "lk3-backups"

    @property
    def srv(self) -> Path:
        return self.root / "srv-lk3"

    @property
    def database(self) -> Path:  # what names the throwaway database
        return self.root / "province"


def stand_ins(places: Places, url: str) -> dict[str, str]:
    """EVERYTHING this walk replaces in the README's lines, and with what: a test machine's
    paths, the throwaway server's database (`url`), the fake servers' values. Nothing else.

    Besides, two lines stand for what they do (`run_step`): `sudo systemctl stop lk3`
    stops Ambon's running bot, `createdb` makes an empty database on the throwaway
    server; and b.toml, which the README names without its text, is `second_config`.
    """
    return {
        "/etc/lk3/config.toml": str(places.config),
        "/etc/lk3/b.toml": str(places.second_config),
        "/srv/lk3/": f"{places.srv}/",
        "/var/lib/lk3-keys": str(places.ambon_keys),
        "/var/lib/lk3-backups": str(places.ambon_backups),
        "/var/lib/lk3": str(places.ambon_data),
        "postgresql://lk3:PASSWORD@db.example/lk3": url,
        'phone = "0916 …"': f'phone = "{TUAL_PHONE}"',
        'token = "…"': f'token = "{TUAL_TOKEN}"',
    }


def substituted(text: str, table: dict[str, str]) -> str:
    for readme_value in sorted(table, key=len, reverse=True):  # /var/lib/lk3-keys first
        text = text.replace(readme_value, table[readme_value])
    return text


# --- running what the README says --------------------------------------------------


@dataclass
class Province:
    """The machine the README's commands run on: its shell's exported settings, the
    `lk3 run` processes left running, and what every other command printed."""

    places: Places
    server: PgServer
    fake: FakeTelegram
    ports: dict[Path, int]
    exported: dict[str, str] = field(default_factory=dict)
    running: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)
    said: list[str] = field(default_factory=list)

    def env(self, extra: dict[str, str]) -> dict[str, str]:
        """A clean shell (no LK3_ setting of the test's), what was exported, the line's own."""
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("LK3_", "TWILIO_"))}
        return {**clean, "PYTHONPATH": str(ROOT), **self.exported, **extra}

    async def lk3(self, args: list[str], extra: dict[str, str], stdin: str = "") -> str:
        """One `lk3` command, to its end; what it printed (checked: it exited 0)."""
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=self.places.root, env=self.env(extra),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(process.communicate(stdin.encode()), 120)
        said = out.decode()
        self.said.append(said)
        assert process.returncode == 0, f"`lk3 {shlex.join(args)}` failed:\n{said}"
        return said

    async def start(self, name: str, args: list[str], extra: dict[str, str]) -> None:
        """`lk3 run`, left running (the README's terminal, or its unit); on until it listens."""
        config = Path(args[args.index("--config") + 1])
        log = (self.places.root / f"{name}.log").open("wb")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=self.places.root, env=self.env(extra),
            stdout=log, stderr=log,
        )  # fmt: skip
        log.close()
        self.running[name] = process
        try:
            await listening(self.ports[config], process)
        except AssertionError:
            raise AssertionError(self.log(name)) from None

    def log(self, name: str) -> str:
        return (self.places.root / f"{name}.log").read_text(errors="replace")[-4000:]

    async def stop(self, name: str) -> None:
        process = self.running.pop(name)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0, self.log(name)

    async def close(self) -> None:
        for process in self.running.values():
            if process.returncode is None:
                process.kill()
                await process.wait()


# What a line may still hold once `stand_ins` replaced its values: none of these.
UNREPLACED = ("/etc/", "/srv/", "/var/", "example", "PASSWORD", "…")


@dataclass(frozen=True)
class Step:
    """One line of a ```sh block, read: what it does, its words, the settings before it."""

    kind: str  # "stop", "createdb", "export", "lk3", "lk3 run"
    words: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()


def read_line(line: str) -> Step | None:
    """A README line as this walk runs it (None: a comment); any other line fails."""
    words = shlex.split(line, comments=True)
    if not words:
        return None
    left = [w for w in UNREPLACED if w in " ".join(words)]
    assert not left, f"`{line.strip()}` holds {left}: give it a stand-in (stand_ins)"
    if words == ["sudo", "systemctl", "stop", "lk3"]:  # the office's bot, stopped
        return Step("stop", ())
    if words[0] == "createdb":  # an empty database on the server, owned by the bot's user
        return Step("createdb", tuple(words[1:]))
    if words[0] == "export":
        return Step("export", (), tuple(_assignment(w) for w in words[1:]))
    env = []
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        env.append(_assignment(words.pop(0)))
    if words[:1] != ["lk3"]:
        pytest.fail(f"the README's 'Many offices' says `{line.strip()}`: teach this walk to run it")
    return Step("lk3 run" if words[1:2] == ["run"] else "lk3", tuple(words[1:]), tuple(env))


def _assignment(word: str) -> tuple[str, str]:
    name, _, value = word.partition("=")
    return name, value


async def run_step(province: Province, step: Step) -> None:
    """What the step stands for here, or the real `lk3` command."""
    env = dict(step.env)
    if step.kind == "stop":
        await province.stop("ambon")  # nothing runs on the data folder any more
    elif step.kind == "createdb":
        province.server.empty_database_for(province.places.database)
    elif step.kind == "export":
        province.exported.update(env)
    elif step.kind == "lk3 run":
        name = Path(env["LK3_DATA_DIR"]).name if "LK3_DATA_DIR" in env else "run"
        await province.start(name, list(step.words), env)
    else:
        await province.lk3(list(step.words), env)


def read_toml(text: str) -> dict[str, object]:
    """A ```toml block, as written (after its stand-ins): it parses, and holds no placeholder."""
    values = tomllib.loads(text)
    left = [w for w in UNREPLACED if w in repr(values)]
    assert not left, f"the README's TOML holds {left}: give it a stand-in (stand_ins)"
    return values


def apply_toml_block(province: Province, text: str) -> None:
    """A ```toml block: the office's configuration gains it (both processes read it)."""
    read_toml(text)
    config = province.places.config
    config.write_text(config.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    second_config(province)


def second_config(province: Province) -> None:
    """b.toml, which the README names without its text: config.toml with a port of its own
    ("each its own data folder and port")."""
    places = province.places
    first, second = province.ports[places.config], province.ports[places.second_config]
    text = places.config.read_text(encoding="utf-8")
    assert text.count(f"port = {first}\n") == 1
    text = text.replace(f"port = {first}\n", f"port = {second}\n").replace(
        f"http://127.0.0.1:{first}", f"http://127.0.0.1:{second}"
    )
    places.second_config.write_text(text, encoding="utf-8")


# --- Kota Ambon on SQLite, with history --------------------------------------------


def ambon_config(places: Places, fake: FakeTelegram, port: int) -> None:
    """/etc/lk3/config.toml as docs/operations.md's install writes it (its three folders),
    on the fake Bot API."""
    places.config.parent.mkdir(parents=True)
    places.config.write_text(
        f'data_dir = "{places.ambon_data}"\nkeys_dir = "{places.ambon_keys}"\n'
        f'backup_dir = "{places.ambon_backups}"\n\n[office]\nname = "LK3 Kota Ambon"\n\n'
        f'[telegram]\ntoken = "{fake.token}"\napi_base_url = "{fake.api_base_url}"\n\n'
        f'[web]\nhost = "127.0.0.1"\nport = {port}\npublic_url = "http://127.0.0.1:{port}"\n',
        encoding="utf-8",
    )


def ambon_reads(places: Places, sql: str) -> list[tuple[object, ...]]:
    return read_only_query(places.ambon_data / "lk3.db", sql)


async def ambon_with_history(province: Province) -> None:
    """The office as it runs today: its counsellor, families who wrote, an urgent case."""
    places, fake = province.places, province.fake
    config = str(places.config)
    await province.lk3(
        ["staff", "add", "sari", "--name", "Sari Pattinama", "--role", "counsellor",
         "--config", config], {},
    )  # fmt: skip
    await province.start("ambon", ["run", "--config", config], {})
    for chat in AMBON_FAMILIES:
        fake.send_start(chat)
        fake.send_text(chat, "halo")
    fake.send_text(AMBON_URGENT, URGENT)
    await fake.wait_for(lambda: any("112" in t for t in fake.texts(AMBON_URGENT)), 30)

    def settled() -> bool:
        rows = ambon_reads(
            places, "SELECT (SELECT count(*) FROM inbox WHERE processed_at IS NULL),"
            " (SELECT count(*) FROM outbox WHERE status = 'pending'), (SELECT count(*) FROM cases)",
        )  # fmt: skip
        return not fake.pending_updates and rows[0] == (0, 0, 1)

    await fake.wait_for(settled, 30)
    assert all(fake.texts(chat) for chat in AMBON_FAMILIES)


# --- reading the province from outside ---------------------------------------------


async def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    """Plain reads (codes and counts, no personal data) of the province's database."""
    conn = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


async def soon(url: str, sql: str, within: float = 30) -> list[tuple[object, ...]]:
    """The rows of `sql` once there are any (a case commits just after the crisis reply)."""
    async with asyncio.timeout(within):
        while not (found := await rows(url, sql)):
            await asyncio.sleep(0.1)
    return found


async def signed_in(province: Province, username: str, port: int) -> httpx.AsyncClient:
    """As a staff member starts: a password from the command line, then the console's
    sign-in and its second factor's enrolment, on the process at `port`."""
    await province.lk3(
        ["staff", "passwd", username, "--config", str(province.places.config)], {},
        stdin=CONSOLE_PASSWORD + "\n",
    )  # fmt: skip
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/console", timeout=30)
    form = await http.get("/login")
    response = await http.post(
        "/login",
        data={"username": username, "password": CONSOLE_PASSWORD, "csrf": csrf(form.text)},
    )
    assert response.headers.get("location") == "/console/enrol", response.status_code
    page = await http.get("/enrol")
    shown = SECRET_SHOWN.search(page.text)
    assert shown is not None, "the enrolment page shows no secret"
    response = await http.post(
        "/enrol", data={"code": pyotp.TOTP(shown.group(1)).now(), "csrf": csrf(page.text)}
    )
    assert response.headers.get("location") == "/console/", response.status_code
    return http


async def taken_from_the_queue(http: httpx.AsyncClient, code: str) -> httpx.Response:
    """As a counsellor opens a case: from their queue, taken, then its page."""
    queue = await http.get("/queue")
    assert code in queue.text, "the case is in this counsellor's queue"
    taken = await http.post(f"/cases/{code}/take", data={"csrf": csrf(queue.text)})
    assert taken.headers.get("location") == f"/console/cases/{code}", taken.status_code
    return await http.get(f"/cases/{code}")


def csrf(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


# --- the walk ----------------------------------------------------------------------


def test_every_line_of_the_readme_section_is_one_the_walk_below_runs(tmp_path: Path) -> None:
    """Quick: a new step in the README fails here first, before the walk is run."""
    table = stand_ins(Places(tmp_path), "postgresql://postgres@/walk")
    kinds: list[str] = []
    for language, text in readme_blocks():
        text = substituted(text, table)
        if language == "toml":
            read_toml(text)
            kinds.append("toml")
            continue
        steps = [read_line(line) for line in text.splitlines()]
        kinds += [" ".join([s.kind, *s.words[:2]]) for s in steps if s is not None]
    assert kinds[:4] == ["stop", "createdb -O lk3", "export", "lk3 db move"], kinds
    assert kinds.count("toml") == 1 and kinds[-2:] == ["lk3 run run --config"] * 2, kinds


@pytest.mark.e2e
async def test_the_readme_takes_ambon_from_one_office_to_three_on_postgresql_with_two_processes(
    tmp_path: Path, server: PgServer, fake: FakeTelegram
) -> None:
    places = Places(tmp_path)
    tual_bot = fake.another_bot(TUAL_TOKEN, "lk3_tual_bot")
    ports = {places.config: free_port(), places.second_config: free_port()}
    province = Province(places, server, fake, ports)
    database = server.url(server.name_for(places.database))
    table = stand_ins(places, database.replace("postgres@", f"postgres:{SECRET}@", 1))
    url = table["postgresql://lk3:PASSWORD@db.example/lk3"]
    ambon_config(places, fake, ports[places.config])
    try:
        await ambon_with_history(province)
        [(ambon_case,)] = ambon_reads(places, "SELECT code FROM cases")
        [(ambon_contacts,)] = ambon_reads(places, "SELECT count(*) FROM contacts")

        # Steps 1 to 4, as the README says them.
        for language, text in readme_blocks():
            text = substituted(text, table)
            if language == "toml":
                apply_toml_block(province, text)
                continue
            for line in text.splitlines():
                step = read_line(line)
                if step is not None:
                    await run_step(province, step)
        assert sorted(province.running) == ["a", "b"], "step 4 runs two processes"

        # Ambon's families and case moved, and its counsellor reads the case's words.
        offices = dict(await rows(url, "SELECT code, id FROM offices"))
        assert set(offices) == {"utama", "tual", "malteng"}
        assert await rows(url, "SELECT code FROM cases") == [(ambon_case,)]
        assert await rows(url, "SELECT count(*) FROM contacts") == [(ambon_contacts,)]
        sari = await signed_in(province, "sari", ports[places.second_config])
        page = await taken_from_the_queue(sari, ambon_case)
        assert page.status_code == 200 and "memukuli" in page.text  # decrypted, moved
        # A family writes again: the same contact, and the bot goes on where it was (the
        # question it last asked), not a newcomer's welcome.
        said = fake.texts(AMBON_FAMILIES[1])
        fake.send_text(AMBON_FAMILIES[1], "halo")
        await fake.wait_for(lambda: len(fake.texts(AMBON_FAMILIES[1])) > len(said), 30)
        assert fake.texts(AMBON_FAMILIES[1])[-1] == said[-1] != said[0]
        assert await rows(url, "SELECT count(*) FROM contacts") == [(ambon_contacts,)]

        # Tual's counsellor links Telegram on her office's bot, which link-code names.
        said = await province.lk3(
            ["staff", "link-code", "nona", "--config", str(places.config)], {}
        )
        assert "office tual's own bot" in said
        link = re.search(r"/link (\S+)", said)
        assert link is not None, said
        tual_bot.send_text(NONA, f"/link {link.group(1)}")
        await tual_bot.wait_for(lambda: tual_bot.texts(NONA), 30)

        # Families reach tual and malteng: by deep link, and on tual's own bot; each is
        # greeted with its office's name (step 3's words).
        fake.send_start(TUAL_FAMILY, "tual")
        fake.send_start(MALTENG_FAMILY, "malteng")
        tual_bot.send_text(TUAL_BOT_FAMILY, "halo")
        for bot, chat, name in (
            (fake, TUAL_FAMILY, "LK3 Kota Tual"),
            (fake, MALTENG_FAMILY, "LK3 Maluku Tengah"),
            (tual_bot, TUAL_BOT_FAMILY, "LK3 Kota Tual"),
        ):
            await bot.wait_for(lambda: bot.texts(chat), 30)  # noqa: B023
            assert name in bot.texts(chat)[0], bot.texts(chat)[0][:200]
        fake.send_text(TUAL_FAMILY, URGENT)
        await fake.wait_for(lambda: any("112" in t for t in fake.texts(TUAL_FAMILY)), 30)
        per_office = dict(
            await rows(
                url,
                "SELECT o.code, count(*) FROM contacts c JOIN offices o"
                " ON o.id = c.office_id GROUP BY o.code",
            )
        )
        # tual: its two families, and its counsellor's chat with its bot
        assert per_office == {"utama": ambon_contacts, "tual": 3, "malteng": 1}
        tual_cases = f"SELECT code FROM cases WHERE office_id = {offices['tual']}"
        [(tual_case,)] = await soon(url, tual_cases)  # its case opens in tual
        # ... and tual's counsellor is alerted by tual's bot, of tual's case alone.
        await tual_bot.wait_for(lambda: any(tual_case in t for t in tual_bot.texts(NONA)), 30)
        assert not any(ambon_case in t for t in tual_bot.texts(NONA) + fake.texts(NONA))

        # Tual's counsellor sees tual's case and not Ambon's; the province counts only.
        nona = await signed_in(province, "nona", ports[places.second_config])
        assert ambon_case not in (await nona.get("/queue")).text
        page = await taken_from_the_queue(nona, tual_case)
        assert page.status_code == 200 and "memukuli" in page.text
        assert (await nona.get(f"/cases/{ambon_case}")).status_code == 404
        assert tual_case not in (await sari.get("/queue")).text
        assert (await sari.get(f"/cases/{tual_case}")).status_code == 404
        dinsos = await signed_in(province, "dinsos", ports[places.config])
        counts = await dinsos.get("/province")
        assert counts.status_code == 200
        for name in ("LK3 Kota Ambon", "LK3 Kota Tual", "LK3 Maluku Tengah"):
            assert name in counts.text
        assert "&lt;5" in counts.text
        assert tual_case not in counts.text and ambon_case not in counts.text
        assert (await dinsos.get(f"/cases/{tual_case}")).status_code == 403
        for http in (sari, nona, dinsos):
            await http.aclose()

        # One process SIGKILLed: the other keeps answering (polling included).
        province.running["a"].send_signal(signal.SIGKILL)
        await province.running.pop("a").wait()
        fake.send_text(NEWCOMER, "halo")
        tual_bot.send_text(NEWCOMER, "halo")
        await fake.wait_for(lambda: fake.texts(NEWCOMER) and tual_bot.texts(NEWCOMER), 30)
        await province.stop("b")
    finally:
        await province.close()
    for said in province.said:
        assert SECRET not in said, "the database password is never printed"
    for path in (p for p in tmp_path.rglob("*") if p.is_file()):  # logs, lk3.moved, ...
        assert SECRET.encode() not in path.read_bytes(), f"the database password in {path}"
