"""The database the storage tests run against: SQLite (default) or PostgreSQL.

`pytest --db postgres` (or LK3_TEST_DB=postgres; `make test-postgres`) starts a
throwaway PostgreSQL server for the session (`support.pgserver`), and every
store the tests open through `support.stores` (the `store` fixtures, the app's
config, the `lk3` processes) is a database on it. Without the option nothing here runs.

With it, the tests that never open a store (STORE_FREE: pure code, or files only
SQLite's deployment has) are deselected: they would run the same twice.
"""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgres"),
        default=os.environ.get("LK3_TEST_DB", "sqlite"),
        help="the database the storage tests use (postgres: a throwaway local server)",
    )


def _runs_tests(config: pytest.Config) -> bool:
    """False in pytest-xdist's controller (`-n N`): only its workers run tests, each with
    a server of its own."""
    return hasattr(config, "workerinput") or not config.getoption("numprocesses", None)


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--db") != "postgres" or not _runs_tests(config):
        return
    from support import pgserver

    reason = pgserver.skip_reason()
    if reason is not None:
        raise pytest.UsageError(f"--db postgres: {reason}")
    server = pgserver.PgServer()
    server.start()
    pgserver.ACTIVE = server


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.getoption("--db") != "postgres":
        return
    from support import pgserver

    if pgserver.ACTIVE is not None:
        pgserver.ACTIVE.stop()
        pgserver.ACTIVE = None


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    if item.config.getoption("--db") != "postgres":
        return
    from support import pgserver

    if pgserver.ACTIVE is not None:
        pgserver.ACTIVE.drop_all()


# What `--db postgres` leaves out, and why: each opens no store (checked once by
# recording every Store.open of a SQLite run of them), so a second run proves nothing.
STORE_FREE: dict[str, str] = {
    "tests/flows/": "the flow language and its engine are pure",
    "tests/safety/": "the crisis check is pure",
    "tests/test_layout.py": "the source tree's layout",
    "tests/deploy/": "the deployment's units, proxies and scripts (backups of the SQLite folder)",
    "tests/bot/test_config.py": "configuration is read, not stored",
    "tests/bot/test_config_fuzz.py": "configuration is read, not stored",
    "tests/bot/test_storable_config.py": "configuration is read, not stored",
    "tests/bot/test_readme.py": "the README's commands and files",
    "tests/bot/test_datadir.py": "the data folder's permissions and lock",
    "tests/bot/test_digits.py": "pure",
    "tests/bot/test_logthrottle.py": "pure",
    "tests/bot/test_fuzz_classifier.py": "the crisis check is pure",
    "tests/bot/test_web.py": "the web server without the bot",
    "tests/bot/core/test_slots.py": "pure",
    "tests/bot/core/test_texts.py": "the bot's texts",
    "tests/bot/core/test_worker.py": "the worker without a store",
    "tests/bot/core/test_ratelimit.py": "pure",
    "tests/bot/core/test_turn_merging.py": "pure",
    "tests/bot/core/test_eventloop.py": "the event loop",
    "tests/bot/channels/test_chatlocks.py": "pure",
    "tests/bot/channels/test_media_types.py": "pure",
    "tests/bot/channels/test_telegram_http.py": "the HTTP client",
    "tests/bot/channels/test_telegram_textparts.py": "pure",
    "tests/bot/channels/test_whatsapp_config.py": "configuration is read, not stored",
    "tests/bot/booking/test_booking_slots.py": "pure",
    "tests/bot/booking/test_booking_days.py": "pure",
    "tests/bot/booking/test_booking_config.py": "configuration is read, not stored",
    "tests/bot/booking/test_booking_understand_cli.py": "reading typed dates, no store",
    "tests/bot/flowhost/test_after_crisis.py": "pure",
    "tests/bot/monitoring/test_monitor_config.py": "configuration is read, not stored",
    "tests/bot/core/test_faults_fulldisk.py::test_the_log_file_counts": "the log file alone",
}


def _store_free(nodeid: str) -> bool:
    # Relative to the repository (where pyproject.toml is): a folder, a file or one test.
    return any(nodeid.startswith(prefix) for prefix in STORE_FREE)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--db") != "postgres":
        return
    free = [item for item in items if _store_free(item.nodeid)]
    if free:
        config.hook.pytest_deselected(items=free)
        items[:] = [item for item in items if not _store_free(item.nodeid)]
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            why = marker.args[0] if marker.args else "SQLite only"
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {why}"))
