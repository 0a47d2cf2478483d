"""Two `lk3 run` processes on one PostgreSQL database against one: does the work spread?

The promise (issue 22): two processes handle at least 1.8 times the messages a
second one does. The load must come through webhooks: with Telegram polling only
the leader fetches updates (Telegram allows one consumer per token), so a second
process would only share the processing of what the leader read. WhatsApp's
webhooks reach either process, as a proxy in front of both would send them: here
each family's signed Twilio posts alternate between the two processes (every
message goes to the other process than the one before it: the worst case for a
conversation), all signed for the one public URL both are configured with, as they
would be behind a proxy.

Each setup gets a fresh database on the same throwaway server (bench/postgres.py)
and a fresh keys folder; both processes of the pair share them and each has its
own data folder and port (docs/postgresql.md "How to run two"). The processes are
bench.whatsapp_bot (`lk3 run`'s service with Twilio's pacing lifted), so the figure
is what the bot costs, not what Twilio allows. The same load, the WhatsApp bench's
overhead phase ("halo", "setuju", scripted turns; each round offered at once and
answered before the next), runs against one process, then against two, in the
same run:

- `inbound_per_second`: messages answered end to end (the first reply to each
  number reached the fake Twilio API) over the time the rounds took;
- `cpu_ms_per_inbound`: CPU (user + system, all threads) summed over the bot
  processes; `postgres_cpu_ms_per_inbound` the server's (its processes, the exited
  ones included) when its process id is known;
- `throughput_ratio`: two over one (target at least 1.8); `cpu_ratio` likewise.

On the 2-core machine the load generator, PostgreSQL and the bots share the two
cores, so the uncapped ratio says more about the machine than about the bot. So the
same two setups run again with each bot process capped at the same share of a core
(`capped`, bench/cpucap.py: a cgroup's CFS quota, 0.25 of a core by default): then the
bots are what runs out, as on a host with a core for each, and two over one is what a
second process buys less what sharing the work costs. `throttled_seconds` shows the
cap held them back (it was the limit); skipped, and said so, where no cgroup can be
written. `capped_by_family` is the capped pair again with each family's posts sent
to one process, as a proxy keeping a conversation on one
process would: the difference from `capped` is what it costs when a family's
messages move between processes (each process then meets every family cold).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from twilio.request_validator import RequestValidator

from bench.cpucap import CpuCap
from bench.cpucap import available as cap_unavailable
from bench.load import add_counsellors, script_for
from bench.postgres import DurablePg, unavailable
from bench.proc import cpu_seconds, peak_rss_mb
from bench.whatsapp import FIRST_FAMILY, TURN_TIMEOUT, TimedTwilio, _free_port, _spawn, _stop
from bot.channels.whatsapp.protocol import INCOMING_PATH

__all__ = ["measure", "two_processes"]

PROXY = "http://lk3.example"  # the public URL both processes sign for: a proxy's
_TICKS = os.sysconf("SC_CLK_TCK")
FORM = "application/x-www-form-urlencoded"


def _config(folder: Path, keys: Path, fake: TimedTwilio, port: int, url: str) -> Path:
    """One process's configuration: its data folder and port; the database and keys shared."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(
        f'data_dir = "{folder / "data"}"\nkeys_dir = "{keys}"\n\n[whatsapp]\n'
        f'account_sid = "{fake.account_sid}"\nauth_token = "{fake.auth_token}"\n'
        f'from_number = "{fake.sender}"\napi_base_url = "{fake.url}"\n\n'
        f'[web]\nhost = "127.0.0.1"\nport = {port}\npublic_url = "{PROXY}"\n\n'
        f'[storage]\nurl = "{url}"\n',
        encoding="utf-8",
    )
    return path


def server_cpu_seconds(postmaster: int) -> float:
    """CPU of a PostgreSQL server: the postmaster, its live children, and (cutime, cstime)
    the children it has reaped (a backend whose connection closed)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = raw[raw.rindex(")") + 2 :].split()
        pid, parent = int(entry.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(f) for f in fields[11:15]) / _TICKS
        elif parent == postmaster:
            total += (int(fields[11]) + int(fields[12])) / _TICKS
    return total


class _Proxy:
    """The proxy: a family's posts go to each process in turn (`alternate`: each message
    to another process than the one before it, the worst case for a family's
    conversation), or all to the same process (`by_family`: a proxy that keeps a
    conversation on one process). Either way the families are spread
    evenly over the processes.

    (A plain round robin over all posts is neither: with rounds of an even number of
    messages, it sent each family to the same process every time.)

    Posts go out over one aiohttp session rather than the fake's httpx client: the
    load generator shares the cores with the bots and the server, and httpx cost
    it several times more CPU per request (docs/performance.md, session 2).
    """

    def __init__(
        self,
        fake: TimedTwilio,
        ports: list[int],
        session: aiohttp.ClientSession,
        routing: str = "alternate",
    ):
        self.fake = fake
        self.routing = routing
        self._sent: dict[str, int] = {}
        self._families: dict[str, int] = {}
        self.targets = [f"http://127.0.0.1:{port}{INCOMING_PATH}" for port in ports]
        self.posted = [0] * len(ports)
        self.retried = 0
        self._session = session
        self._signer = RequestValidator(fake.auth_token)
        self._signed_url = f"{PROXY}{INCOMING_PATH}"

    async def offer(self, number: str, text: str) -> None:
        """A family writes (signed as Twilio signs); the reply is timed from now."""
        family = self._families.setdefault(number, len(self._families))  # in order met
        turn = 0 if self.routing == "by_family" else self._sent.get(number, 0)
        self._sent[number] = turn + 1
        target = (family + turn) % len(self.targets)
        self.posted[target] += 1
        params = self.fake.incoming(number, Body=text)
        signature = self._signer.compute_signature(self._signed_url, params)
        self.fake.open_window(number)  # the family wrote: free text to them is allowed
        self.fake.expect(number, time.monotonic())
        headers = {"Content-Type": FORM, "X-Twilio-Signature": signature}
        for attempt in (1, 2):
            try:
                async with self._session.post(
                    self.targets[target], data=urlencode(params), headers=headers
                ) as answer:
                    await answer.read()
                    if answer.status != 200:
                        raise RuntimeError(f"a bot answered a signed webhook with {answer.status}")
                return
            except aiohttp.ServerDisconnectedError:
                # A kept-alive connection the server closed as it was reused: sent again,
                # as Twilio retries a webhook (the bot keeps each MessageSid once).
                if attempt == 2:
                    raise
                self.retried += 1


async def _round(proxy: _Proxy, messages: list[tuple[str, str]]) -> float:
    """Offers every message at once, waits for a reply to each and the tail; returns seconds."""
    fake = proxy.fake
    begin = time.monotonic()
    await asyncio.gather(*(proxy.offer(number, text) for number, text in messages))
    try:
        await fake.answered(TURN_TIMEOUT)
    except TimeoutError:
        raise RuntimeError(f"{fake.waiting} of {len(messages)} messages got no reply") from None
    await fake.quiet()
    fake.drop_history()
    return time.monotonic() - begin - 0.3


async def _setup(
    folder: Path,
    url: str,
    processes: int,
    *,
    families: int,
    turns: int,
    postmaster: int | None,
    share: float | None = None,
    routing: str = "alternate",
) -> dict[str, Any]:
    """The load against `processes` bot processes sharing the database at `url`, each
    capped at `share` of a core when given, the posts routed as `routing` says."""
    log = folder / "bots-stderr.log"
    keys = folder / "keys"
    async with TimedTwilio() as fake:
        ports = [_free_port() for _ in range(processes)]
        configs = [_config(folder / f"p{n}", keys, fake, port, url) for n, port in enumerate(ports)]
        # The first opening creates the master key and the key tree, and migrates.
        await add_counsellors(configs[0])
        fake.connect(PROXY)
        # Idle connections dropped well before the bots' web server drops them (uvicorn:
        # 5 s), so that a post seldom meets a connection closing under it.
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(keepalive_timeout=1.0))
        proxy = _Proxy(fake, ports, session, routing)
        started: list[asyncio.subprocess.Process] = []
        caps: list[CpuCap] = []
        try:
            for config, port in zip(configs, ports, strict=True):
                process, _ = await _spawn(config, f"http://127.0.0.1:{port}", log)
                started.append(process)
                if share is not None:
                    caps.append(CpuCap(share))
                    caps[-1].add(process.pid)
            rng = random.Random(7)
            numbers = [f"+{FIRST_FAMILY + f}" for f in range(families)]
            scripts = {n: script_for(f, turns, rng) for f, n in enumerate(numbers)}
            rounds = [[(n, "halo") for n in numbers], [(n, "setuju") for n in numbers]]
            rounds.extend([(n, s[t]) for n, s in scripts.items()] for t in range(turns))
            pids = [p.pid for p in started]
            cpu_before = sum(cpu_seconds(pid) for pid in pids)
            server_before = server_cpu_seconds(postmaster) if postmaster else 0.0
            sends_before = fake.sends
            busy = 0.0
            count = 0
            for messages in rounds:
                busy += await _round(proxy, messages)
                count += len(messages)
            cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_before
            server = server_cpu_seconds(postmaster) - server_before if postmaster else None
            rss = max(peak_rss_mb(pid) for pid in pids)
            throttled = sum(cap.throttled_seconds() for cap in caps)
        finally:
            await session.close()
            exit_codes = [await _stop(process) for process in started]
            for cap in caps:
                cap.close()
        replies = fake.sends - sends_before
    figures: dict[str, Any] = {
        "processes": float(processes),
        "inbound_messages": float(count),
        "inbound_per_second": count / busy,
        "cpu_ms_per_inbound": cpu * 1000 / count,
        "replies_per_inbound": replies / count,
        "posted_per_process": [float(n) for n in proxy.posted],
        "posts_sent_again": float(proxy.retried),
        "peak_rss_mb_largest": rss,
        "bot_exit_codes": [float(code) for code in exit_codes],
    }
    if server is not None:
        figures["postgres_cpu_ms_per_inbound"] = server * 1000 / count
    if share is not None:
        figures["cpu_share_per_process"] = share
        figures["throttled_seconds"] = throttled
    return figures


def postmaster_pid(data: Path) -> int | None:
    """The server's process id, from its data folder's postmaster.pid (None if unreadable)."""
    try:
        return int((data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


async def measure(
    folder: Path,
    urls: tuple[str, str],
    *,
    families: int = 400,
    turns: int = 2,
    postmaster: int | None = None,
    share: float | None = None,
    routing: str = "alternate",
) -> dict[str, Any]:
    """The load against one process on `urls[0]`, then two on `urls[1]` (empty databases),
    each process capped at `share` of a core when given, the posts routed as `routing`
    says (`alternate`: each family's next message to another process; `by_family`: a
    family to one process).

    The defaults offer 1,600 messages to each setup: well under two minutes in all on
    the 2-core machine.
    """
    folder.mkdir(parents=True, exist_ok=True)
    generator_before = cpu_seconds(os.getpid())
    kw: dict[str, Any] = {"families": families, "turns": turns, "postmaster": postmaster}
    one = await _setup(folder / "one", urls[0], 1, share=share, **kw)
    two = await _setup(folder / "two", urls[1], 2, share=share, routing=routing, **kw)
    generator = cpu_seconds(os.getpid()) - generator_before
    return {
        "one_process": one,
        "two_processes": two,
        "throughput_ratio": two["inbound_per_second"] / one["inbound_per_second"],
        "cpu_ratio": two["cpu_ms_per_inbound"] / one["cpu_ms_per_inbound"],
        "load_generator_cpu_ms_per_inbound": generator
        * 1000
        / (one["inbound_messages"] + two["inbound_messages"]),
        "cores": float(os.cpu_count() or 0),
    }


SHARE = 0.25
"""Each capped bot's share of a core: two bots (0.5), the server and the generator fit
in the 2-core machine at the rates that share allows."""


def two_processes(
    folder: Path, *, families: int = 400, turns: int = 2, share: float = SHARE
) -> dict[str, Any]:
    """One process against two on a throwaway PostgreSQL server, uncapped and then with
    each process capped at `share` of a core; or why not (then skipped)."""
    why_not = unavailable()
    if why_not is not None:
        print(f"bench: two-process run skipped: {why_not}", file=sys.stderr)
        return {"skipped": why_not}
    no_cap = cap_unavailable()
    with DurablePg() as server:
        urls = (server.fresh("lk3_scale_one"), server.fresh("lk3_scale_two"))
        postmaster = postmaster_pid(server.folder / "data")
        kw: dict[str, Any] = {"families": families, "turns": turns, "postmaster": postmaster}
        result = asyncio.run(measure(folder / "uncapped", urls, **kw))
        _say("uncapped", result)
        if no_cap is None:
            capped_urls = (server.fresh("lk3_scale_one_c"), server.fresh("lk3_scale_two_c"))
            capped = asyncio.run(measure(folder / "capped", capped_urls, share=share, **kw))
            _say(f"each capped at {share:g} of a core", capped)
            result["capped"] = capped
            # The same, each family's messages kept on one process: what the sharing
            # costs when a conversation does not move between processes.
            sticky_urls = (server.fresh("lk3_scale_one_s"), server.fresh("lk3_scale_two_s"))
            sticky = asyncio.run(
                measure(folder / "sticky", sticky_urls, share=share, routing="by_family", **kw)
            )
            _say(f"each capped at {share:g} of a core, a family to one process", sticky)
            result["capped_by_family"] = sticky
        else:
            print(f"bench: capped two-process runs skipped: {no_cap}", file=sys.stderr)
            result["capped"] = result["capped_by_family"] = {"skipped": no_cap}
    return result


def _say(setup: str, result: dict[str, Any]) -> None:
    one, two = result["one_process"], result["two_processes"]
    print(
        f"bench: PostgreSQL {setup}, one process {one['inbound_per_second']:.0f} msg/s at"
        f" {one['cpu_ms_per_inbound']:.2f} ms CPU, two {two['inbound_per_second']:.0f} msg/s"
        f" at {two['cpu_ms_per_inbound']:.2f} ms: ratio {result['throughput_ratio']:.2f}"
        " (target >= 1.8)",
        file=sys.stderr,
    )
