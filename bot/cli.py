"""The `lk3` command line: chat in the terminal, check flows, classify, manage keys."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.booking.cli import add_booking_commands
from bot.config import Config, ConfigError, load_config
from bot.console.cli import add_passwd_command
from bot.core.eventloop import run_service
from bot.datadir import DataDirError, FolderLock, secure_data_dir
from bot.dbcli import before_migrating
from bot.figures.cli import add_figures_commands
from bot.handoff.roster import add_roster_commands
from bot.keyfolder import settle_keys
from bot.logformat import FORMATS, TEXT, JournalFormatter, JsonFormatter
from bot.logsink import QuietFileHandler
from bot.monitoring.cli import add_doctor_command
from bot.offices.cli import add_office_commands
from bot.privacy.cli import add_key_commands, add_privacy_commands
from bot.storable import unstorable

if TYPE_CHECKING:
    from storage.store import Store

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything the bot writes (database, logs, backups, keys) is for its user alone.
    os.umask(0o077)
    if argv[:1] == ["safety"]:
        # The crisis check has its own command line; hand it everything after the word.
        from bot.safety.cli import main as safety_main

        return safety_main(argv[1:])
    if any(unstorable(word) for word in argv):  # bot.storable: never reaches the database
        print(
            "lk3: an argument holds a NUL character or another that cannot be stored",
            file=sys.stderr,
        )
        return 2
    parser = _parser()
    args = parser.parse_args(argv)
    # What holds the data folder, as a second process is told (bot.datadir): the words
    # of the command only, never an argument that could name someone.
    args.command_name = " ".join(["lk3", *(w for w in argv[:2] if not w.startswith("-"))])
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        result: int = args.handler(args)
        return result
    except ConfigError as exc:
        print(f"lk3: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lk3", description="LK3 first-contact chatbot")
    sub = parser.add_subparsers(metavar="COMMAND")

    chat = sub.add_parser("chat", help="chat with the bot as a family, in this terminal")
    chat.add_argument("--as", dest="who", default="demo", help="who you are (any id; resumes)")
    chat.add_argument("--data", type=Path, help="data folder (default: from config, else ./var)")
    chat.add_argument("--config", type=Path, help="configuration file (TOML)")
    chat.add_argument("--verbose", action="store_true", help="also print logs to stderr")
    chat.set_defaults(handler=_chat)

    demo = sub.add_parser(
        "demo", help="the console and the web chat on 127.0.0.1, with demo logins printed"
    )
    demo.add_argument("--data", type=Path, default=Path("var/demo"), help="data folder")
    demo.add_argument("--config", type=Path, help="configuration file (TOML)")
    demo.add_argument("--port", type=int, default=8080, help="port (0: any free port)")
    demo.add_argument("--verbose", action="store_true", help="also print logs to stderr")
    demo.set_defaults(handler=_demo)

    run = sub.add_parser("run", help="run the bot on every enabled channel until stopped")
    run.add_argument("--config", type=Path, help="configuration file (TOML)")
    run.add_argument("--verbose", action="store_true", help="also print logs to stderr")
    run.add_argument(
        "--log-format",
        choices=FORMATS,
        default="file",
        help="file: the daily log in the data folder; journal (for systemd) or json: stderr",
    )
    run.add_argument(
        "--migrate",
        action="store_true",
        help="apply pending migrations even when no backup can be written first",
    )
    run.set_defaults(handler=_run)

    flows = sub.add_parser("flows", help="check, draw and test the conversation flows")
    flows_sub = flows.add_subparsers(metavar="ACTION")
    check = flows_sub.add_parser("check", help="validate a flow folder")
    check.add_argument("directory", nargs="?", type=Path)
    check.add_argument("--config", type=Path)
    check.set_defaults(handler=_flows_check)
    graph = flows_sub.add_parser("graph", help="print a flow as a Mermaid flowchart")
    graph.add_argument("flow_id")
    graph.add_argument("--dir", dest="directory", type=Path)
    graph.add_argument("--config", type=Path)
    graph.set_defaults(handler=_flows_graph)
    test = flows_sub.add_parser("test", help="run the golden transcripts")
    test.add_argument("--dir", dest="directory", type=Path)
    test.add_argument("--transcripts", type=Path)
    test.add_argument("--update", action="store_true", help="rewrite the expected outputs")
    test.add_argument("--config", type=Path)
    test.set_defaults(handler=_flows_test)
    understand = flows_sub.add_parser("understand", help="measure the matcher on typed answers")
    understand.add_argument("files", nargs="+", type=Path, metavar="FILE")
    understand.add_argument("--dir", dest="directory", type=Path)
    understand.add_argument("--config", type=Path)
    understand.add_argument(
        "--no-misses", action="store_true", help="figures only (for a blind test set)"
    )
    understand.set_defaults(handler=_flows_understand)

    safety = sub.add_parser(
        "safety",
        help="the crisis check: classify (JSON lines from stdin), evaluate, check",
        add_help=False,
    )
    safety.add_argument("rest", nargs=argparse.REMAINDER)
    safety.set_defaults(handler=_safety)

    keys = sub.add_parser("keys", help="master keys")
    keys_sub = keys.add_subparsers(metavar="ACTION")
    generate = keys_sub.add_parser("generate", help="write a new master key file (mode 0600)")
    generate.add_argument("--key-file", type=Path, help="where (default: from config)")
    generate.add_argument("--config", type=Path)
    generate.set_defaults(handler=_keys_generate)
    add_key_commands(keys_sub)

    _add_staff_commands(sub)
    add_booking_commands(sub, _with_store)
    add_roster_commands(sub, _with_store)
    add_figures_commands(sub, _with_store)
    add_office_commands(sub, _with_store)
    add_privacy_commands(sub)
    add_doctor_command(sub)

    config = sub.add_parser("config", help="configuration")
    config_sub = config.add_subparsers(metavar="ACTION")
    config_check = config_sub.add_parser("check", help="validate a configuration file")
    config_check.add_argument("--config", type=Path, required=True)
    config_check.set_defaults(handler=_config_check)
    return parser


# --- chat -------------------------------------------------------------------


def _chat(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.data is not None:
        config = dataclasses.replace(config, data_dir=args.data)
    lock = _start_up(config, "lk3 chat", verbose=args.verbose)
    if isinstance(lock, int):
        return lock
    with lock:
        interactive = sys.stdin.isatty()
        return asyncio.run(_chat_async(config, args.who, sys.stdin, sys.stdout, interactive))


async def _chat_async(config: Config, who: str, inp: TextIO, out: TextIO, interactive: bool) -> int:
    """The terminal channel, built through the registry like any other, and the app alone
    (no web server): it ends at the end of the input."""
    from bot.app import App, StartupError, utc_now
    from bot.channels.registry import Setup, build
    from bot.channels.terminal import NAME, TerminalOptions
    from bot.core.texts import BotTexts, TextsError

    try:
        texts = BotTexts.load(languages=config.languages)
    except TextsError as exc:
        print(f"lk3: cannot start: {exc}", file=sys.stderr)
        return 2
    options = {NAME: TerminalOptions(who, inp, out, interactive)}
    channels = build([NAME], Setup(config, texts, utc_now, options))
    try:
        await channels.open()
        app = await App.open(config, list(channels))
    except StartupError as exc:
        await channels.close()
        print(f"lk3: cannot start: {exc}", file=sys.stderr)
        return 2
    try:
        channels.bind(app.host())
        await app.start()
        await channels.start()
        return await channels.finished()
    finally:
        await channels.stop()
        await app.stop()
        await channels.close()


def _demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    config = dataclasses.replace(load_config(args.config), data_dir=args.data)
    lock = _start_up(config, "lk3 demo", verbose=args.verbose)
    if isinstance(lock, int):
        return lock
    with lock:
        return run_service(run_demo(config, port=args.port))


def _run(args: argparse.Namespace) -> int:
    from bot.run import run_until_signalled

    config = load_config(args.config)
    lock = _start_up(config, "lk3 run", verbose=args.verbose, log_format=args.log_format)
    if isinstance(lock, int):
        return lock
    with lock:
        # Logging to stderr (the journal, JSON) already says what would be printed there.
        to_file = args.log_format == "file"
        refusal = before_migrating(
            config, allow_without_backup=args.migrate, say=sys.stderr if to_file else None
        )
        if refusal is not None:
            logging.getLogger("bot.cli").error("cannot start: %s", refusal)
            if to_file:
                print(f"lk3: cannot start: {refusal}", file=sys.stderr)
            return 2
        with contextlib.ExitStack() as stack:
            err: TextIO = sys.stderr
            if not to_file:
                err = stack.enter_context(open(os.devnull, "w", encoding="utf-8"))
            return run_service(run_until_signalled(config, err=err))


def _start_up(
    config: Config, command: str, *, verbose: bool, log_format: str = "file"
) -> FolderLock | int:
    """Takes the data folder for this process (bot.datadir), then opens the log.

    Returns the held lock, or the exit status (2) after one line on stderr: a second
    bot on the same folder is refused before it writes anything, its log included.
    """
    try:
        lock = FolderLock.acquire(config.data_dir, command)
    except DataDirError as exc:
        print(f"lk3: cannot start: {exc}", file=sys.stderr)
        return 2
    try:
        _setup_logging(config, verbose=verbose, log_format=log_format)
        settle_keys(config)
    except DataDirError as exc:
        lock.release()
        print(f"lk3: cannot start: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        lock.release()
        print(
            f"lk3: cannot start: cannot write the log {exc.filename} ({exc.strerror}): the data"
            " folder and the files in it must belong to the user the bot runs as",
            file=sys.stderr,
        )
        return 2
    return lock


def _setup_logging(config: Config, *, verbose: bool, log_format: str = "file") -> None:
    """Logs go to a daily file in the data folder (kept `retention.log_days` days), or to
    stderr for the journal (bot.logformat)."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    if log_format != "file":
        logging.raiseExceptions = False
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(JournalFormatter() if log_format == "journal" else JsonFormatter())
        root.addHandler(stream)
        return
    logs = config.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True, mode=0o700)
    # A full disk costs log lines (counted, and reported once writes work again),
    # never a flood of tracebacks on stderr.
    handler = QuietFileHandler(logs / "lk3.log", backup_days=config.retention.log_days)
    logging.raiseExceptions = False
    fmt = TEXT
    handler.setFormatter(fmt)
    root.addHandler(handler)
    if verbose:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(fmt)
        root.addHandler(stream)


# --- flows ------------------------------------------------------------------


def _flow_dir(args: argparse.Namespace) -> tuple[Path, tuple[str, ...]]:
    from flows.loader import bundled_library_dir

    config = load_config(getattr(args, "config", None))
    directory = args.directory or config.flows_dir or bundled_library_dir()
    return directory, config.languages


def _flows_check(args: argparse.Namespace) -> int:
    from flows.cli import check_command

    directory, languages = _flow_dir(args)
    return check_command(directory, languages, sys.stdout)


def _flows_graph(args: argparse.Namespace) -> int:
    from flows.cli import graph_command

    directory, _ = _flow_dir(args)
    return graph_command(directory, args.flow_id, sys.stdout)


def _flows_test(args: argparse.Namespace) -> int:
    from flows.cli import test_command

    directory, _ = _flow_dir(args)
    return test_command(directory, args.transcripts, sys.stdout, update=args.update)


def _flows_understand(args: argparse.Namespace) -> int:
    from bot.booking.scenario import scenario_host
    from flows.cli import understand_command
    from flows.understanding.evaluation import Host

    directory, languages = _flow_dir(args)
    worst = 0 if args.no_misses else 15
    # The booking questions as the bot asks them in a fixed situation (scenario.py).
    options, variables, calendars = scenario_host(load_config(getattr(args, "config", None)))
    host = Host(options, variables, calendars)
    return understand_command(
        directory, args.files, sys.stdout, languages=languages, host=host, worst=worst
    )


# --- safety, keys, config ---------------------------------------------------


def _safety(args: argparse.Namespace) -> int:
    from bot.safety.cli import main as safety_main

    return safety_main(args.rest)


def _keys_generate(args: argparse.Namespace) -> int:
    from storage.crypto.keys import generate_key_file

    config = load_config(args.config)
    path = args.key_file or config.resolved_key_file
    if path.exists():
        print(f"lk3: {path} already exists; a key file is never overwritten", file=sys.stderr)
        return 1
    key_id = generate_key_file(path)
    print(
        f"wrote master key {key_id} to {path} (mode 0600). Keep a copy somewhere safe: "
        "without it the data cannot be read."
    )
    return 0


def _config_check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    print(f"{args.config}: valid ({config.office.name}, languages {', '.join(config.languages)})")
    return 0


# --- staff ------------------------------------------------------------------


def _add_staff_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    staff = sub.add_parser("staff", help="counsellors, supervisors and admins")
    staff_sub = staff.add_subparsers(metavar="ACTION")
    add = staff_sub.add_parser("add", help="add a staff member")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="the name families and colleagues see")
    add.add_argument(
        "--role",
        action="append",
        choices=("counsellor", "supervisor", "admin", "province_supervisor"),
        required=True,
        help="repeat for several roles",
    )
    add.add_argument("--office", default="", help="the office's code (default: the default office)")
    add.add_argument("--config", type=Path)
    add.set_defaults(handler=_staff_add)
    code = staff_sub.add_parser(
        "link-code", help="a one-time code to link a Telegram account (/link CODE)"
    )
    code.add_argument("username")
    code.add_argument("--config", type=Path)
    code.set_defaults(handler=_staff_link_code)
    listing = staff_sub.add_parser("list", help="list staff")
    listing.add_argument("--config", type=Path)
    listing.set_defaults(handler=_staff_list, read_only=True)
    add_passwd_command(staff_sub, _with_store)


def _with_store(args: argparse.Namespace, action: Callable[[Store], Awaitable[int]]) -> int:
    """Opens the configured store for one command-line action.

    A command that may write holds the data folder while it runs (bot.datadir), so it
    is refused while the bot runs (the console makes the same changes then); one that
    only reads (`read_only` in its parser's defaults) runs beside the bot.
    """
    from bot.app import StartupError, open_keyring
    from storage import StorageError
    from storage.store import Store as StoreClass

    config = load_config(args.config)

    async def run() -> int:
        try:
            store = await StoreClass.open(
                config.database_path,
                open_keyring(config),
                keytree=config.keytree_path,
                url=config.storage_url,
            )
        except (StartupError, StorageError) as exc:
            print(f"lk3: cannot open the database: {exc}", file=sys.stderr)
            return 2
        try:
            return await action(store)
        finally:
            await store.close()

    command = getattr(args, "command_name", "lk3")
    try:
        if getattr(args, "read_only", False):
            secure_data_dir(config.data_dir)
            return asyncio.run(run())
        with FolderLock.acquire(config.data_dir, command):
            return asyncio.run(run())
    except DataDirError as exc:
        print(f"lk3: cannot open the database: {exc}", file=sys.stderr)
        return 2


def _staff_add(args: argparse.Namespace) -> int:
    from bot.console.say import no_office, terminal_lines
    from storage import StorageError
    from storage.engine.clock import utc_now
    from storage.offices.repo import DEFAULT_OFFICE_CODE

    async def action(store: Store) -> int:
        office = await store.offices.by_code(args.office or DEFAULT_OFFICE_CODE)
        if office is None:
            print(no_office(args.office), file=sys.stderr)
            return 1
        try:
            member = await store.staff.add(
                args.username, args.name, args.role, utc_now(), office_id=office.id
            )
        except StorageError as exc:
            print(terminal_lines(exc), file=sys.stderr)
            return 1
        print(f"added {member.username} ({', '.join(sorted(member.roles))}) in {office.code}")
        return 0

    return _with_store(args, action)


def _staff_link_code(args: argparse.Namespace) -> int:
    from bot.console.say import no_staff
    from bot.offices.linking import where_to_link
    from storage.engine.clock import utc_now

    async def action(store: Store) -> int:
        member = await store.staff.by_username(args.username)
        if member is None or not member.active:
            print(no_staff(args.username), file=sys.stderr)
            return 1
        code = await store.staff.issue_link_code(member.id, utc_now())
        bot = await where_to_link(store, load_config(args.config), member)  # bot.offices.linking
        print(
            f"one-time code for {member.username}: {code}\n"
            f"In Telegram, send {bot}: /link {code}  (valid 30 minutes, once)"
        )
        return 0

    return _with_store(args, action)


def _staff_list(args: argparse.Namespace) -> int:
    async def action(store: Store) -> int:
        codes = {o.id: o.code for o in await store.offices.list(include_archived=True)}
        several = len(codes) > 1  # one office: the list reads as it always did
        for member in await store.staff.list(active_only=False):
            linked = "telegram linked" if member.contact_id else "not linked"
            state = "active" if member.active else "inactive"
            office = f" {codes.get(member.office_id, '?'):<12}" if several else ""
            roles = ",".join(sorted(member.roles))
            print(f"{member.id:>4}  {member.username:<20}{office} {roles:<30} {state}, {linked}")
        return 0

    return _with_store(args, action)
