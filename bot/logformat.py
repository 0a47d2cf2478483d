"""How `lk3 run` writes its log: a daily file, or stderr for systemd's journal.

    file      the daily file in the data folder (bot.logsink), as on a machine without systemd
    journal   stderr, each line prefixed with its syslog priority (`<4>` for a warning): the
              journal stores the priority, adds the time, and `journalctl -p warning` filters
    json      stderr, one JSON object a line (time, level, logger, message, exception) for a
              log collector

Under systemd the journal is the log: nothing is written to the data folder then.
What goes into a line is what the code logs, and the code logs codes, ids and
counts, never what a person wrote: these formatters add nothing but time, level
and logger name.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

__all__ = ["FORMATS", "JournalFormatter", "JsonFormatter", "TEXT"]

FORMATS = ("file", "journal", "json")

TEXT = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")

# sd-daemon(3): the prefixes journald reads from a service's stderr.
_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


def _priority(level: int) -> int:
    for threshold in sorted(_PRIORITY, reverse=True):
        if level >= threshold:
            return _PRIORITY[threshold]
    return 7


class JournalFormatter(logging.Formatter):
    """`<N>logger: message`; every line of a traceback carries the prefix too, so the
    journal keeps each at the record's priority."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{record.name}: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        prefix = f"<{_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in text.splitlines() or [""])


class JsonFormatter(logging.Formatter):
    """One JSON object a line: `time` (UTC, ISO 8601), `level`, `logger`, `message`,
    and `exception` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
