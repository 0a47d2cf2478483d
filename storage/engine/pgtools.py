"""Running PostgreSQL's own tools (`pg_dump`, `pg_restore`) without showing the password.

A `[storage] url` may hold the database's password (`postgresql://lk3:SECRET@host/db`,
or `?password=SECRET`). A command line is public on a machine (`ps` shows it to every
user), so the tools get the URL without its password (`safe_url`) and the password
through a password file of their own (`PGPASSFILE`, mode 0600 in a private folder,
removed as soon as the tool ends). The same password-free URL is the one every message
names. Whatever a tool prints on failure is scrubbed of the password before it goes
into an exception, in case a server or a future version ever echoes it.

The tools come from Debian's packages: the newest /usr/lib/postgresql/*/bin (the
`postgresql` package the Makefile installs brings `postgresql-client`), else the PATH.
A newer pg_dump reads an older server; the reverse is refused by pg_dump itself.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import asyncpg

from storage.errors import BackupError

__all__ = [
    "Conninfo",
    "blocking",
    "connect",
    "find_tool",
    "run_tool",
    "safe_url",
    "split_password",
    "tool_argv",
    "tool_environment",
    "with_database",
]

T = TypeVar("T")

_BIN_GLOB = "/usr/lib/postgresql/*/bin"


@dataclass(frozen=True, slots=True)
class Conninfo:
    url: str  # without the password: may be shown, logged and put on a command line
    password: str | None = None

    def __repr__(self) -> str:  # never the password, even in a traceback's locals
        return f"Conninfo({self.url!r}, password={'***' if self.password else None})"

    def scrub(self, text: str) -> str:
        """`text` with the password (plain or as the URL spelt it) replaced by ***."""
        if not self.password:
            return text
        for form in {self.password, _quoted(self.password)}:
            text = text.replace(form, "***")
        return text


def _quoted(password: str) -> str:
    from urllib.parse import quote

    return quote(password, safe="")


def split_password(url: str) -> Conninfo:
    """The URL without its password (in the user part or the query), and the password."""
    parts = urlsplit(url)
    password: str | None = None
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, hosts = netloc.rsplit("@", 1)
        if ":" in userinfo:
            user, secret = userinfo.split(":", 1)
            password = unquote(secret)
            netloc = f"{user}@{hosts}"
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in query if k != "password"]
    for key, value in query:
        if key == "password":
            password = value
    rebuilt = urlunsplit(
        (parts.scheme, netloc, parts.path, urlencode(kept, safe="/"), parts.fragment)
    )
    return Conninfo(rebuilt, password or None)


def safe_url(url: str) -> str:
    """The URL as messages may show it: never with the password."""
    return split_password(url).url


def find_tool(name: str) -> Path:
    """`pg_dump` or `pg_restore`: the newest Debian server's, else the one on the PATH."""

    def version(folder: str) -> tuple[int, str]:
        number = Path(folder).parent.name
        return (int(number) if number.isdigit() else 0, number)

    for folder in sorted(glob.glob(_BIN_GLOB), key=version, reverse=True):
        candidate = Path(folder) / name
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed: install Debian's postgresql-client"
            " (apt-get install postgresql-client) on this machine"
        )
    return Path(found)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(":", "\\:")


@contextlib.contextmanager
def tool_environment(info: Conninfo) -> Iterator[dict[str, str]]:
    """The tool's environment: ours, less any password or lk3 secret, plus a private PGPASSFILE."""
    # Not our secrets either: the master keys and the URL with its password stay ours.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PGPASSWORD", "PGPASSFILE"} and not k.startswith("LK3_")
    }
    env.setdefault("PGCONNECT_TIMEOUT", "15")
    env["PGAPPNAME"] = "lk3"
    if info.password is None:
        yield env
        return
    with tempfile.TemporaryDirectory(prefix="lk3-pgpass-") as folder:  # mode 0700
        passfile = Path(folder) / "pgpass"
        fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"*:*:*:*:{_escape(info.password)}\n")
        env["PGPASSFILE"] = str(passfile)
        yield env


def tool_argv(tool: Path, info: Conninfo | None, args: list[str]) -> list[str]:
    """The command line: the URL without its password, never prompting for one."""
    where = [] if info is None else ["--no-password", f"--dbname={info.url}"]
    return [str(tool), *where, *args]


def run_tool(
    name: str, info: Conninfo | None, args: list[str], *, stdout: IO[bytes] | int | None = None
) -> str:
    """Runs `name --dbname=URL-without-password ARGS` (no database: `name ARGS`);
    returns its output (text, scrubbed).

    Raises BackupError with the tool's last words (scrubbed) when it fails.
    `--no-password`: a tool that finds no password fails at once rather than
    waiting for a person to type one, which an unattended timer never would.
    """
    argv = tool_argv(find_tool(name), info, args)
    info = info if info is not None else Conninfo("")
    with tool_environment(info) as env:
        try:
            done = subprocess.run(
                argv,
                stdout=subprocess.PIPE if stdout is None else stdout,
                stderr=subprocess.PIPE,
                env=env,
                check=False,
            )
        except OSError as exc:
            raise BackupError(f"cannot run {argv[0]} ({exc.strerror})") from None
    errors = info.scrub(done.stderr.decode("utf-8", "replace")).strip()
    if done.returncode != 0:
        last = " | ".join(errors.splitlines()[-3:]) or f"exit status {done.returncode}"
        on = f" on {info.url}" if info.url else ""
        raise BackupError(f"{name} failed{on}: {last}")
    out = done.stdout.decode("utf-8", "replace") if stdout is None and done.stdout else ""
    return info.scrub(out)


def with_database(url: str, name: str) -> str:
    """The same server and credentials, another database (a scratch one for the drill)."""
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise BackupError(f"database name {name!r}: letters, digits and _ only")
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Runs `coro` to the end on a loop of its own (callable inside a running loop too)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def connect(url: str, info: Conninfo | None = None) -> asyncpg.Connection:
    """A plain connection; a failure says where (never with the password) and why."""
    shown = info if info is not None else split_password(url)
    try:
        return await asyncpg.connect(url, timeout=15)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
        raise BackupError(f"cannot connect to {shown.url}: {shown.scrub(str(exc))}") from None
