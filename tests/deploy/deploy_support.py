"""Reading the files under deploy/ as the programs that use them read them.

The tests run what the units and the Caddyfile say, not a copy: a unit's
`ExecStart` and `Environment=` lines become the command and environment of a
real `lk3` process, with only the machine's paths moved into the test's folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROGRAM = "/opt/lk3/bin/lk3"
CONFIG = "/etc/lk3/config.toml"


@dataclass(frozen=True)
class Unit:
    """A systemd unit file: each key's values in order (a key may repeat), per section."""

    name: str
    sections: dict[str, dict[str, list[str]]]

    @classmethod
    def read(cls, name: str) -> Unit:
        sections: dict[str, dict[str, list[str]]] = {}
        current: dict[str, list[str]] = {}
        for raw in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("[") and line.endswith("]"):
                current = sections.setdefault(line[1:-1], {})
                continue
            key, _, value = line.partition("=")
            current.setdefault(key.strip(), []).append(value.strip())
        return cls(name, sections)

    def get(self, key: str, section: str = "Service") -> str:
        values = self.sections.get(section, {}).get(key, [])
        assert len(values) == 1, f"{self.name}: [{section}] {key} is set {len(values)} times"
        return values[0]

    def all(self, key: str, section: str = "Service") -> list[str]:
        return self.sections.get(section, {}).get(key, [])

    def environment(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for line in self.all("Environment"):
            for item in shlex.split(line):
                name, _, value = item.partition("=")
                env[name] = value
        return env


def as_here(unit: Unit, config: Path, machine: Path) -> tuple[list[str], dict[str, str]]:
    """The unit's command and environment with the machine's paths under `machine` (the test's
    folder) and the config file at `config`: everything else exactly as the unit says."""
    args = shlex.split(unit.get("ExecStart"))
    assert args[0] == PROGRAM, f"{unit.name}: ExecStart runs {args[0]}, not {PROGRAM}"
    command = [sys.executable, "-m", "bot"]
    for arg in args[1:]:
        command.append(str(config) if arg == CONFIG else arg)
    env = {name: str(machine / value.lstrip("/")) for name, value in unit.environment().items()}
    return command, env


def lk3(
    command: list[str], env: dict[str, str], *, lines: tuple[str, ...] = (), timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """One `lk3` process to its end, with this environment (and no LK3_ setting of ours)."""
    clean = clean_env()
    return subprocess.run(
        command,
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**clean, **env},
        check=False,
    )


def bot(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", *args]


def clean_env() -> dict[str, str]:
    """This process's environment without any LK3_ or TWILIO_ setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("LK3_", "TWILIO_"))}


async def until_healthy(port: int, process: asyncio.subprocess.Process) -> None:
    """Waits until `lk3 run` answers /healthz on loopback (its front end is started after)."""
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            if process.returncode is not None:
                raise AssertionError("lk3 run stopped before listening")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise AssertionError("lk3 run never listened")
