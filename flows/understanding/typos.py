"""One-typo tolerance: the known words one edit away from a typed word of 5+ letters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

MIN_LETTERS = 5


def _deletes(word: str) -> Iterator[str]:
    return (word[:i] + word[i + 1 :] for i in range(len(word)))


def one_edit(typed: str, known: str) -> bool:
    """True when one insertion, deletion, substitution or swap turns `typed` into `known`."""
    if typed == known:
        return True
    if abs(len(typed) - len(known)) > 1:
        return False
    if len(typed) == len(known):
        diffs = [i for i, (a, b) in enumerate(zip(typed, known, strict=True)) if a != b]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and typed[diffs[0]] == known[diffs[1]]
            and typed[diffs[1]] == known[diffs[0]]
        )
    shorter, longer = (typed, known) if len(typed) < len(known) else (known, typed)
    return any(candidate == shorter for candidate in _deletes(longer))


class TypoIndex:
    """Known words by their one-letter deletions, so a lookup costs a few dict probes."""

    __slots__ = ("_index",)

    def __init__(self, vocabulary: Iterable[str]) -> None:
        index: dict[str, set[str]] = {}
        for word in vocabulary:
            if len(word) < MIN_LETTERS or not word.isalpha():
                continue
            index.setdefault(word, set()).add(word)
            for deleted in _deletes(word):
                index.setdefault(deleted, set()).add(word)
        self._index = {k: tuple(sorted(v)) for k, v in index.items()}

    def near(self, typed: str) -> tuple[str, ...]:
        """Known words within one edit of `typed` (none for words under 5 letters)."""
        if len(typed) < MIN_LETTERS or not typed.isalpha():
            return ()
        found: set[str] = set(self._index.get(typed, ()))
        for deleted in _deletes(typed):
            found.update(self._index.get(deleted, ()))
        return tuple(sorted(w for w in found if w != typed and one_edit(typed, w)))
