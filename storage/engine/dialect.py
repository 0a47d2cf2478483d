"""SQLite's SQL said in PostgreSQL: the one place the two dialects meet.

Repositories are written once, in the SQL SQLite accepts, and the PostgreSQL
engine (`storage.engine.pgdb`) passes every statement through `pg_sql` (cached,
so a statement is translated once per process). What is rewritten, and why:

- placeholders: `?` becomes `$1`, `$2`... (outside string literals);
- SQLite's two-argument `max(a, b)` / `min(a, b)` are PostgreSQL's `GREATEST` /
  `LEAST` (one argument stays the aggregate). They differ on NULL: SQLite's
  answer is NULL, PostgreSQL's ignores it; no statement here passes a NULL;
- `total(x)` (a float sum, 0.0 when empty) is `COALESCE(SUM(x), 0)`, and a sum
  of a comparison (`sum(status = 'pending')`) sums `CASE WHEN ... THEN 1 ELSE 0`;
- `LIKE` is ASCII case-insensitive in SQLite: `ILIKE` says the same;
- `IS ?` is `IS NOT DISTINCT FROM ?`; a placeholder standing as a truth value
  (`CASE WHEN ? THEN`, `OR ?)`) is compared with 0, since Python passes 0 or 1;
- a subquery in FROM gets a name, and `LEFT JOIN t` with no ON gets `ON TRUE`;
- in an upsert's `DO UPDATE SET`, a bare column of the row is qualified with the
  table's name (SQLite reads it as the existing row's, PostgreSQL as ambiguous);
- a blob literal `x'00ff'` is `'\\x00ff'::bytea`.

Migrations (`pg_ddl`) also turn column types (`INTEGER` -> `BIGINT`, since every
time here is in microseconds; `BLOB` -> `BYTEA`), `AUTOINCREMENT` keys into
identity columns, `GLOB` checks into regular expressions, drop `WITHOUT ROWID`,
and rewrite SQLite triggers as plpgsql functions (`RAISE(ABORT, ...)` becomes an
exception with SQLSTATE 23514, a check violation, so it surfaces as a
`ConstraintError` as SQLite's does). Statements that truly differ are written
per dialect in `storage.engine.pgschema` instead.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["glob_to_regex", "pg_ddl", "pg_sql", "pg_trigger", "split_args"]

_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


def _scan(sql: str) -> list[tuple[str, str]]:
    """Splits SQL into ('code', text) and ('quoted', text) pieces."""
    pieces: list[tuple[str, str]] = []
    i = 0
    start = 0
    while i < len(sql):
        ch = sql[i]
        if ch in "'\"":
            if i > start:
                pieces.append(("code", sql[start:i]))
            j = i + 1
            while j < len(sql):
                if sql[j] == ch:
                    if j + 1 < len(sql) and sql[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            pieces.append(("quoted", sql[i : j + 1]))
            i = j + 1
            start = i
            continue
        i += 1
    if start < len(sql):
        pieces.append(("code", sql[start:]))
    return pieces


def _placeholders(sql: str) -> str:
    """`?` → `$n` in order; SQLite's numbered `?NNN` → `$NNN` (a later bare `?` takes the
    number after the largest so far, as SQLite numbers it)."""
    out: list[str] = []
    n = 0
    for kind, text in _scan(sql):
        if kind == "quoted":
            out.append(text)
            continue
        parts = text.split("?")
        for k, part in enumerate(parts):
            if k:
                numbered = _NUMBER.match(part)
                if numbered is None:
                    n += 1
                    out.append(f"${n}")
                else:
                    n = max(n, int(numbered.group()))
                    out.append("$")
            out.append(part)
    return "".join(out)


_NUMBER = re.compile(r"[0-9]+")


def _close_paren(sql: str, open_at: int) -> int:
    """The index of the parenthesis closing the one at `open_at` (quotes respected)."""
    depth = 0
    i = open_at
    quote = ""
    while i < len(sql):
        ch = sql[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unbalanced parentheses in: {sql[:80]!r}")


def split_args(inner: str) -> list[str]:
    """Top-level comma-separated arguments of a call's inside."""
    args: list[str] = []
    depth = 0
    quote = ""
    start = 0
    for i, ch in enumerate(inner):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(inner[start:i])
            start = i + 1
    args.append(inner[start:])
    return args


_CALLS = re.compile(r"\b(max|min|total|sum)\s*\(", re.IGNORECASE)
_COMPARISON = re.compile(r"(?:[=<>]|\bIS\b|\bIN\b|\bLIKE\b)", re.IGNORECASE)


def _functions(sql: str) -> str:
    """Rewrites max/min of several arguments and total(), innermost calls included."""
    out: list[str] = []
    i = 0
    pattern = _CALLS
    while True:
        found = pattern.search(sql, i)
        if found is None or _inside_quotes(sql, found.start()):
            if found is None:
                out.append(sql[i:])
                break
            out.append(sql[i : found.end()])
            i = found.end()
            continue
        name = found.group(1).lower()
        open_at = found.end() - 1
        close_at = _close_paren(sql, open_at)
        inner = _functions(sql[open_at + 1 : close_at])
        out.append(sql[i : found.start()])
        if name in ("sum", "total") and _COMPARISON.search(inner) and "CASE" not in inner.upper():
            # SQLite sums a truth value as 0/1; PostgreSQL sums no booleans.
            inner = f"CASE WHEN {inner} THEN 1 ELSE 0 END"
        if name == "total":
            out.append(f"COALESCE(SUM({inner}), 0)")
        elif len(split_args(inner)) > 1:
            out.append(f"{'GREATEST' if name == 'max' else 'LEAST'}({inner})")
        else:
            out.append(f"{found.group(1)}({inner})")
        i = close_at + 1
    return "".join(out)


def _inside_quotes(sql: str, at: int) -> bool:
    count = 0
    for kind, text in _scan(sql):
        if count + len(text) > at:
            return kind == "quoted"
        count += len(text)
    return False


def _code_only(sql: str, change: re.Pattern[str], to: str) -> str:
    return "".join(text if kind == "quoted" else change.sub(to, text) for kind, text in _scan(sql))


_BLOB_LITERAL = re.compile(r"(?<![\w'])[xX]'([0-9a-fA-F]*)'")


_REWRITES = (
    (re.compile(r"\bLIKE\b", re.IGNORECASE), "ILIKE"),
    (re.compile(r"\bIS\s+NOT\s+\?", re.IGNORECASE), "IS DISTINCT FROM ?"),
    (re.compile(r"\bIS\s+\?", re.IGNORECASE), "IS NOT DISTINCT FROM ?"),
    # A placeholder that is a truth value itself: SQLite takes 0/1, PostgreSQL a boolean.
    (re.compile(r"\bWHEN\s+\?\s+THEN\b", re.IGNORECASE), "WHEN ? <> 0 THEN"),
    (re.compile(r"\bOR\s+\?\s*\)", re.IGNORECASE), "OR ? <> 0)"),
    (re.compile(r"\bAS\s+BLOB\b", re.IGNORECASE), "AS BYTEA"),
    (
        re.compile(r"\b(LEFT\s+JOIN\s+\w+)(?=\s+(?:ORDER|WHERE|GROUP|LIMIT)\b|\s*$)", re.I),
        r"\1 ON TRUE",
    ),
)
_FROM_SUBQUERY = re.compile(r"\bFROM\s*\(", re.IGNORECASE)
_NOT_ALIAS = re.compile(
    r"\s*(?:$|[),;]|(?:WHERE|GROUP|ORDER|LIMIT|OFFSET|JOIN|LEFT|INNER|CROSS|UNION|EXCEPT"
    r"|INTERSECT|HAVING|ON)\b)",
    re.IGNORECASE,
)


def _alias_subqueries(sql: str) -> str:
    """`FROM (SELECT ...)` with no name: PostgreSQL wants one."""
    out: list[str] = []
    i = 0
    n = 0
    while (found := _FROM_SUBQUERY.search(sql, i)) is not None:
        close_at = _close_paren(sql, found.end() - 1)
        out.append(sql[i : close_at + 1])
        if _NOT_ALIAS.match(sql, close_at + 1):
            n += 1
            out.append(f" AS _sub{n}")
        i = close_at + 1
    out.append(sql[i:])
    return "".join(out)


_UPSERT = re.compile(
    r"INSERT\s+INTO\s+(\w+)(?P<head>.*?)\bDO\s+UPDATE\s+SET\b(?P<set>.*?)"
    r"(?=\bWHERE\b|\bRETURNING\b|;|$)",
    re.IGNORECASE | re.DOTALL,
)


def _qualify_upserts(sql: str) -> str:
    """In `DO UPDATE SET col = f(col, excluded.col)`, a bare `col` is the existing row's:
    SQLite reads it so, PostgreSQL calls it ambiguous until it is `table.col`."""

    def qualify(found: re.Match[str]) -> str:
        table = found.group(1)
        region = found.group("set")
        names = set(re.findall(r"\bexcluded\.(\w+)", region, re.IGNORECASE))
        assignments = split_args(region)
        names |= {a.split("=", 1)[0].strip() for a in assignments if "=" in a}
        fixed = []
        for assignment in assignments:
            if "=" not in assignment:
                fixed.append(assignment)
                continue
            target, expr = assignment.split("=", 1)
            for name in names:
                expr = re.sub(rf"(?<![.\w]){re.escape(name)}(?![\w(])", f"{table}.{name}", expr)
            fixed.append(f"{target}={expr}")
        return found.group(0)[: found.start("set") - found.start()] + ",".join(fixed)

    return _UPSERT.sub(qualify, sql)


@lru_cache(maxsize=4096)
def pg_sql(sql: str) -> str:
    """A statement written for SQLite, as PostgreSQL reads it."""
    out = _functions(sql) if _CALLS.search(sql) else sql
    for pattern, to in _REWRITES:
        out = _code_only(out, pattern, to)
    if _FROM_SUBQUERY.search(out):
        out = _alias_subqueries(out)
    if re.search(r"\bDO\s+UPDATE\b", out, re.IGNORECASE):
        out = _qualify_upserts(out)
    out = _BLOB_LITERAL.sub(r"'\\x\1'::bytea", out)
    return _placeholders(out)


_DDL = (
    (
        re.compile(r"\bINTEGER\s+PRIMARY\s+KEY\s+AUTOINCREMENT\b", re.IGNORECASE),
        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    ),
    # SQLite's rowid alias numbers rows inserted without one (a key naming another
    # table's row is always given).
    (
        re.compile(r"\bINTEGER\s+PRIMARY\s+KEY\b(?!\s+REFERENCES)", re.IGNORECASE),
        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    ),
    (re.compile(r"\bINTEGER\b", re.IGNORECASE), "BIGINT"),
    (re.compile(r"\bBLOB\b", re.IGNORECASE), "BYTEA"),
    (re.compile(r"\bREAL\b", re.IGNORECASE), "DOUBLE PRECISION"),
    (re.compile(r"\)\s*WITHOUT\s+ROWID\s*$", re.IGNORECASE), ")"),
)
_GLOB = re.compile(r"\bGLOB\s+'([^']*)'", re.IGNORECASE)


def glob_to_regex(pattern: str) -> str:
    """An SQLite GLOB pattern as an anchored POSIX regular expression."""
    out = ["^"]
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[":
            end = pattern.index("]", i + 1)
            out.append(pattern[i : end + 1])
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    out.append("$")
    return "".join(out)


def pg_ddl(statement: str) -> tuple[str, ...]:
    """A migration statement written for SQLite, as one or more PostgreSQL statements."""
    if re.match(r"\s*CREATE\s+TRIGGER\b", statement, re.IGNORECASE):
        return pg_trigger(statement)
    out = statement
    for pattern, to in _DDL:
        out = pattern.sub(to, out)
    out = _GLOB.sub(lambda m: f"~ '{glob_to_regex(m.group(1))}'", out)
    return (pg_sql(out),)


_TRIGGER = re.compile(
    r"\s*CREATE\s+TRIGGER\s+(?P<name>\w+)\s+(?P<when>BEFORE|AFTER)\s+"
    r"(?P<event>INSERT|DELETE|UPDATE(?:\s+OF\s+[\w\s,]+?)?)\s+ON\s+(?P<table>\w+)\s+"
    r"(?:WHEN\s+(?P<cond>.*?)\s+)?BEGIN\b(?P<body>.*)\bEND\s*$",
    re.IGNORECASE | re.DOTALL,
)
_RAISE = re.compile(r"SELECT\s+RAISE\s*\(\s*ABORT\s*,\s*('(?:[^']|'')*')\s*\)", re.IGNORECASE)


def pg_trigger(statement: str) -> tuple[str, ...]:
    """An SQLite row trigger as a plpgsql function and the trigger that calls it.

    The WHEN condition moves into the function (PostgreSQL's trigger WHEN takes
    no subqueries); `SELECT RAISE(ABORT, 'why')` refuses the change with SQLSTATE
    23514, so the refusal reads as a constraint, as it does on SQLite.
    """
    found = _TRIGGER.match(statement)
    if found is None:
        raise ValueError(f"not an SQLite trigger this translation knows: {statement[:80]!r}")
    name, table = found.group("name"), found.group("table")
    event = re.sub(r"\s+", " ", found.group("event").strip())
    body = _RAISE.sub(r"RAISE EXCEPTION \1 USING ERRCODE = '23514'", found.group("body"))
    body = pg_sql(body.strip())
    cond = found.group("cond")
    if cond:
        body = f"IF {pg_sql(cond.strip())} THEN\n{body}\nEND IF;"
    result = "OLD" if event.upper() == "DELETE" else "NEW"
    function = (
        f"CREATE FUNCTION {name}_fn() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        f"BEGIN\n{body}\nRETURN {result};\nEND\n$body$"
    )
    trigger = (
        f"CREATE TRIGGER {name} {found.group('when').upper()} {event} ON {table}"
        f" FOR EACH ROW EXECUTE FUNCTION {name}_fn()"
    )
    if "RAISE EXCEPTION" not in body:
        return (function, trigger)
    # A refusal holds even for a session that replicates (`session_replication_role`).
    return (function, trigger, f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {name}")
