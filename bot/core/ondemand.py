"""Context values the host reads from storage only when a turn's flows look them up.

The flow engine is pure, so it cannot ask the host for more. Instead a turn is
planned with the values at hand, wrapped in `OnDemand`: a look-up of a key the
host could load but has not notes the key in `wanted`. The host then loads the
sources of those keys and plans the turn again (planning is cheap and gives the
same answer for everything else). Most turns look up none of them and read nothing.
A family's bookings (`bot/booking/host.py`) and who is told of a crisis
(`bot/handoff/reach.py`) are loaded this way.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from datetime import datetime
from typing import Protocol

__all__ = ["OnDemand", "ValueSource"]


class ValueSource(Protocol):
    """Context values read from storage, for the keys it names."""

    keys: frozenset[str]

    async def load(self, now: datetime, language: str) -> Mapping[str, str]:
        """The values of `keys` now, in `language`."""
        ...


class OnDemand(Mapping[str, str]):
    """Context values that note each look-up of a loadable key not loaded yet."""

    def __init__(self, values: Mapping[str, str], loadable: Collection[str] = ()) -> None:
        self._values = dict(values)
        self._loadable = frozenset(loadable) - self._values.keys()
        self.wanted: set[str] = set()

    def __getitem__(self, key: str) -> str:
        try:
            return self._values[key]
        except KeyError:
            if key in self._loadable:
                self.wanted.add(key)
            raise

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)
