"""Understanding what families type at a question with choices (pure, no I/O).

text.py      plain words: case, accents, punctuation, stretched letters
reading.py   the admins' word table: local forms to standard words, stop words
stems.py     match keys: Indonesian stems (PySastrawi), English plurals
typos.py     one-typo tolerance (5+ letters) and vowel-less spellings (`kntor`)
numbers.py   positions in words: "yang kedua", "dua", "the first one"
matcher.py   the choice an answer means, a close call, or nothing
faq.py       the FAQ topic a message asks about, if any
layers.py    which of the two a question takes: the choice, or the FAQ topic
"""

from __future__ import annotations

from flows.understanding.matcher import NOTHING, Reading, read_answer, scores, understand

__all__ = ["NOTHING", "Reading", "read_answer", "scores", "understand"]
