"""The database the storage tests run against: SQLite (default) or PostgreSQL.

`pytest --db postgres` (or LK3_TEST_DB=postgres; `make test-postgres`) starts a
throwaway PostgreSQL server for the session (`support.pgserver`), and every
store the tests open through `storage_support.open_store` (the `store` fixtures
included) is a database on it. Without the option nothing here runs.
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


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--db") != "postgres":
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--db") != "postgres":
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            why = marker.args[0] if marker.args else "SQLite only"
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {why}"))
