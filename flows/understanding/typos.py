"""Typos: the known words one edit away from a typed word of 5+ letters, and the
known words a vowel-less spelling stands for (``kntor``, ``ptgs``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

MIN_LETTERS = 5
MEMO = 4096
"""How many typed words an index remembers the answer for (families repeat words:
`kak`, `mau`, `saya`); the memory starts afresh when full."""


def _remembered(memo: dict[str, tuple[str, ...]], typed: str, found: tuple[str, ...]) -> None:
    if len(memo) >= MEMO:
        memo.clear()
    memo[typed] = found


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

    __slots__ = ("_index", "_memo", "_min_typed")

    def __init__(self, vocabulary: Iterable[str], *, min_typed: int = MIN_LETTERS) -> None:
        """`min_typed`: the shortest typed word guessed at (known words need 5+ letters)."""
        self._min_typed = min_typed
        index: dict[str, set[str]] = {}
        for word in vocabulary:
            if len(word) < MIN_LETTERS or not word.isalpha():
                continue
            index.setdefault(word, set()).add(word)
            for deleted in _deletes(word):
                index.setdefault(deleted, set()).add(word)
        self._index = {k: tuple(sorted(v)) for k, v in index.items()}
        self._memo: dict[str, tuple[str, ...]] = {}

    def near(self, typed: str) -> tuple[str, ...]:
        """Known words within one edit of `typed` (none for words under `min_typed` letters)."""
        if len(typed) < self._min_typed or not typed.isalpha():
            return ()
        known = self._memo.get(typed)
        if known is not None:
            return known
        found: set[str] = set(self._index.get(typed, ()))
        for deleted in _deletes(typed):
            found.update(self._index.get(deleted, ()))
        known = tuple(sorted(w for w in found if w != typed and one_edit(typed, w)))
        _remembered(self._memo, typed, known)
        return known


_VOWELS = frozenset("aeiou")
_DI = "di"
_SUFFIXES = ("nya", "ny", "kn", "in")


def skeleton(word: str) -> str:
    """The consonants a hurried typist keeps: the first letter, then no vowels, `ng` as
    `g`, no doubled letters (``kantor``/``kntor`` -> ``kntr``, ``minggu``/``mggu`` -> ``mg``)."""
    kept = word[:1] + "".join(ch for ch in word[1:] if ch not in _VOWELS)
    kept = kept.replace("ng", "g")
    return "".join(ch for i, ch in enumerate(kept) if i == 0 or ch != kept[i - 1])


def _subsequence(short: str, long: str) -> bool:
    letters = iter(long)
    return all(ch in letters for ch in short)


def abbreviates(typed: str, known: str) -> bool:
    """True when `typed` is `known` with letters (mostly vowels) left out: ``jnji`` for
    ``janji``. A word that keeps two vowels or more must drop at least two letters, so
    that ``bisa`` is never read as ``biasa``."""
    if len(typed) < 2 or len(typed) >= len(known) or typed[0] != known[0]:
        return False
    vowels = sum(ch in _VOWELS for ch in typed)
    if vowels > 1 and len(known) - len(typed) < 2:
        return False
    shape = skeleton(typed)
    return len(shape) >= 2 and shape == skeleton(known) and _subsequence(typed, known)


class AbbreviationIndex:
    """Known words by their skeletons, to read vowel-less forms (``ptgs``, ``ditlpn``)."""

    __slots__ = ("_index", "_memo")

    def __init__(self, vocabulary: Iterable[str]) -> None:
        index: dict[str, set[str]] = {}
        for word in vocabulary:
            if len(word) >= 3 and word.isalpha():
                index.setdefault(skeleton(word), set()).add(word)
        self._index = {k: tuple(sorted(v)) for k, v in index.items()}
        self._memo: dict[str, tuple[str, ...]] = {}

    def expand(self, typed: str) -> tuple[str, ...]:
        """The known words `typed` abbreviates, also without a `di-` or a suffix
        (``btlkn`` -> ``batal``); more than one when it is ambiguous (``bln``)."""
        known = self._memo.get(typed)
        if known is None:
            known = self._expand(typed)
            _remembered(self._memo, typed, known)
        return known

    def _expand(self, typed: str) -> tuple[str, ...]:
        if not typed.isalpha() or len(typed) < 2:
            return ()
        forms = [typed]
        single = "".join(ch for i, ch in enumerate(typed) if i == 0 or ch != typed[i - 1])
        if single != typed:
            forms.append(single)  # stjuu
        if typed.startswith(_DI) and len(typed) > 4:
            forms.append(typed[2:])
        forms += [f[: -len(s)] for f in tuple(forms) for s in _SUFFIXES if f.endswith(s)]
        for form in forms:
            found = [w for w in self._index.get(skeleton(form), ()) if abbreviates(form, w)]
            if found:
                return tuple(found)
        return ()
