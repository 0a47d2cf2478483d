"""The log file's handler, made to survive a full disk.

The standard handlers answer a failed write with a "--- Logging error ---" traceback
on stderr, for every line: on a full disk that was megabytes a minute, while the log
file itself stopped. This one fails quietly: it counts the lines it could not
write, says so once on stderr when the trouble starts, reopens the file for the
next line, and, once a line is written again, writes one line saying how many were
lost and when.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import sys
import time
from pathlib import Path
from typing import TextIO

__all__ = ["QuietFileHandler"]


class QuietFileHandler(logging.handlers.TimedRotatingFileHandler):
    """A daily log file that counts the lines a failing disk refused instead of crying."""

    def __init__(self, path: Path, *, backup_days: int, alarm: TextIO | None = None) -> None:
        super().__init__(path, when="midnight", backupCount=backup_days, utc=True)
        self.lost = 0  # lines lost since the process started (tests, figures)
        self._unreported = 0
        self._since = 0.0
        self._why = ""
        self._alarm = alarm if alarm is not None else sys.stderr

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        """Counts the line; the first of a run of failures is told once on stderr."""
        self.lost += 1
        why = sys.exc_info()[1]
        if not self._unreported:
            self._since = time.time()
            self._why = why.strerror if isinstance(why, OSError) and why.strerror else ""
            self._why = self._why or (type(why).__name__ if why is not None else "unknown")
            with contextlib.suppress(Exception):
                print(
                    f"lk3: the log file {self.baseFilename} cannot be written ({self._why}); "
                    "counting the lines lost until it can",
                    file=self._alarm,
                    flush=True,
                )
        self._unreported += 1
        # What the failed write left half-buffered is dropped; the next line reopens the file.
        stream, self.stream = self.stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.close()

    def emit(self, record: logging.LogRecord) -> None:
        lost = self.lost
        super().emit(record)
        if self._unreported and self.lost == lost:
            self._report()

    def _report(self) -> None:
        count, self._unreported = self._unreported, 0
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self._since))
        note = logging.LogRecord(
            __name__,
            logging.WARNING,
            __file__,
            0,
            "%s log lines were lost since %s UTC: the log file could not be written (%s)",
            (count, started, self._why),
            None,
        )
        super().emit(note)
        with contextlib.suppress(Exception):
            print(f"lk3: the log file is written again ({count} lines lost)", file=self._alarm)
