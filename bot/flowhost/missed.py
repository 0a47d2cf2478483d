"""Typed answers the flows did not understand: what a turn keeps of them, for the console.

The engine names the question in `Turn.missed` (never the words). For a message
the family typed, the turn counts each miss (and a close call, "Maksud Anda ...?",
apart) per question and office day, and keeps the words only when:

- the family has consented to the current consent text, which says so
  (`consent` is "yes", `consent_version` the current one, not withdrawn), the turn
  does not forget their words anyway, and nothing in the message worried the
  crisis check (the crisis flows' questions are counted only);
- the answer is short (`KEEP_MAX_CHARS`): an answer to a menu, not a story;
- what could name someone is masked first (`scrub`): the export masking of the
  crisis labels (`bot.safety.labels.mask`: phone numbers, e-mail addresses,
  accounts, street addresses), then every token holding a digit (dates, codes,
  short numbers), and names where something points at one: after "nama saya",
  a title ("pak", "bu", "om"...), or a capitalised word inside lower-case text.
  A name typed in lower case with nothing before it is not found, which is why
  the words are also short, sealed under the family's key, linked to no one on
  the page, kept `Retention.first_contact_days` at most, and audited when read.

Pure: `unclear` runs inside the turn's plan; `missed_writes` adds the office day.
The writes commit with the turn (`storage.flowhost.missed`), so a retried message
never counts twice.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.turns import Unclear
from bot.safety.labels import mask
from flows.exchange import Missed
from flows.state import SessionState
from storage.flowhost.missed import MAX_WORDS_CHARS, NewMiss

__all__ = ["KEEP_MAX_CHARS", "consented", "missed_writes", "scrub", "unclear"]

KEEP_MAX_CHARS = 80
"""Words longer than this (after scrubbing) are counted, never kept: a story, not an answer."""
assert KEEP_MAX_CHARS <= MAX_WORDS_CHARS

NAME = "<nama>"
NUMBER = "<angka>"

_DIGITS = re.compile(r"[^\s<>]*\d[^\s<>]*")
# "nama saya Budi", "namanya budi", "beta pung nama Budi", "my name is Budi".
_NAMED = re.compile(
    r"\b(?:nama(?:nya|ku|\s+(?:saya|beta|aku|ku|sa|dia|anak|anak\s+saya))?|bernama"
    r"|panggil(?:an)?(?:\s+(?:saya|beta|aku))?|my\s+name\s+is|name\s+is|named|call\s+me)"
    r"\s+(?!<)([^\s,.;:!?]+)",
    re.IGNORECASE,
)
# A title before a name: "pak budi", "bu Sari", "om yance", "usi ona", "mr smith".
_TITLED = re.compile(
    r"\b(?:pak|bapak|bpk|bu|om|tante|mas|mbak|bang|abang|nona|nyong|bung|usi|sdr|sdri"
    r"|saudara|saudari|mr|mrs|ms|miss)\.?\s+(?!<)([^\s,.;:!?]+)",
    re.IGNORECASE,
)
# Words after a title that are no name ("bu saya mau tanya", "pak petugas").
_NOT_NAMES = frozenset(
    """saya sa beta aku ku kami kita ko kamu anda dia de dong deh ya yang mau bisa boleh
    tolong minta tanya petugas konselor guru polisi dokter bidan lurah camat rt rw pendeta
    ustad ustadz kepala ketua di ke dari dan atau juga sudah belum tidak seng ga gak
    i you we the to is are""".split()
)
# Capitalised words that name no person: days, months, languages and the service's own.
_NOT_PROPER = frozenset(
    """senin selasa rabu kamis jumat jum'at sabtu minggu ahad januari februari maret april mei
    juni juli agustus september oktober november desember monday tuesday wednesday
    thursday friday saturday sunday january february march may june july august october
    december indonesia bahasa inggris english lk3 wa whatsapp telegram tuhan allah i""".split()
)
_SENTENCE_END = ".!?"


def _title_word(word: str) -> bool:
    letters = word.strip("\"'()[]")
    return len(letters) >= 2 and letters[0].isupper() and letters[1:].islower()


def _proper_names(text: str) -> str:
    """Masks capitalised words inside text otherwise written in lower case.

    A person who writes "Mau Konsultasi" capitalises everything, and nothing stands
    out; in "beta pung laki Yance pukul beta" the one capital is a name.
    """
    words = text.split(" ")
    if not any(w[:1].islower() for w in words):
        return text
    out: list[str] = []
    for i, word in enumerate(words):
        after_stop = i == 0 or (out[-1][-1:] in _SENTENCE_END if out[-1] else True)
        core = word.strip("\"'()[],.;:!?").lower()
        if not after_stop and _title_word(word) and core not in _NOT_PROPER:
            tail = word[len(word.rstrip(",.;:!?")) :]
            out.append(NAME + tail)
        else:
            out.append(word)
    return " ".join(out)


def _titled(found: re.Match[str]) -> str:
    word = found.group(1)
    if word.lower().strip("\"'()[]") in _NOT_NAMES:
        return found.group(0)
    return found.group(0)[: found.start(1) - found.start(0)] + NAME


def scrub(text: str) -> str:
    """The words with whatever could name or reach someone masked, on one line."""
    out = mask(text)  # one line; numbers, e-mail, accounts, addresses
    out = _DIGITS.sub(NUMBER, out)
    out = _NAMED.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + NAME, out)
    out = _TITLED.sub(_titled, out)
    out = _proper_names(out)
    return re.sub(rf"{re.escape(NAME)}(?:\s+{re.escape(NAME)})+", NAME, out)


def consented(state: SessionState, version: str) -> bool:
    """Whether the family agreed to the consent text of `version` (the current one, which
    tells that these words may be read masked) and has not withdrawn. Someone who agreed
    to an earlier text never saw that sentence: their words are counted, not kept."""
    return (
        state.var("consent") == "yes"
        and state.var("withdrawn") != "yes"
        and bool(version)
        and state.var("consent_version") == version
    )


def unclear(
    missed: Sequence[Missed],
    *,
    typed: bool,
    text: str,
    state: SessionState,
    keep: bool,
    consent_version: str,
    quiet_flows: Collection[str] = (),
) -> tuple[Unclear, ...]:
    """What the turn keeps of its misses: typed answers only; words only when the family
    consented, the turn may `keep` them, and the question is not in one of `quiet_flows`
    (the crisis flows: what is said there is for a counsellor, not for the flow page)."""
    if not missed or not typed:
        return ()
    words: str | None = None
    if keep and consented(state, consent_version):
        scrubbed = scrub(text).strip()
        words = scrubbed if 0 < len(scrubbed) <= KEEP_MAX_CHARS else None
    return tuple(
        Unclear(m.flow, m.node, m.close, None if m.flow in quiet_flows else words) for m in missed
    )


def missed_writes(found: Sequence[Unclear], now: datetime, tz: ZoneInfo) -> tuple[NewMiss, ...]:
    """What the turn stores: each miss on the office's day of `now`."""
    day = now.astimezone(tz).date().isoformat()
    return tuple(NewMiss(day, u.flow, u.node, u.close, u.words) for u in found)
