"""The words of days and times as families type them: day and month names, numbers,
relative days, parts of the day, and the phrases that ask for the earliest or for
later dates. Indonesian first, Ambonese and Jakarta forms, English; typos and
vowel-less forms are read by `dates.py` through the shared typo indexes.

Every word maps to a tag: ``wd:2`` (Wednesday), ``mo:12`` (December), ``rel:1``
(tomorrow), ``part:sore``, or a bare marker (``date``, ``clock``, ``next``, ...).
"""

from __future__ import annotations

WEEKDAYS = {
    "senin": 0, "senen": 0, "snin": 0, "monday": 0, "mon": 0,
    "selasa": 1, "slasa": 1, "salasa": 1, "tuesday": 1, "tue": 1, "tues": 1,
    "rabu": 2, "rebo": 2, "wednesday": 2, "wed": 2, "weds": 2, "wednes": 2,
    "kamis": 3, "kemis": 3, "thursday": 3, "thu": 3, "thur": 3, "thurs": 3,
    "jumat": 4, "jumaat": 4, "jumad": 4, "jumah": 4, "friday": 4, "fri": 4,
    "sabtu": 5, "saptu": 5, "saturday": 5, "sat": 5,
    "minggu": 6, "ahad": 6, "minggo": 6, "sunday": 6, "sun": 6,
    # hurried spellings too short for the typo indexes
    "snn": 0, "sls": 1, "rb": 2, "kms": 3, "jmt": 4, "sbt": 5,
}  # fmt: skip

MONTHS = {
    "januari": 1, "january": 1, "jan": 1, "febuari": 2, "februari": 2, "pebruari": 2,
    "february": 2, "feb": 2, "maret": 3, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "mei": 5, "may": 5, "juni": 6, "june": 6, "jun": 6, "juli": 7, "july": 7, "jul": 7,
    "agustus": 8, "august": 8, "agu": 8, "agt": 8, "aug": 8, "agus": 8,
    "september": 9, "sept": 9, "sep": 9, "oktober": 10, "october": 10, "okt": 10,
    "oct": 10, "november": 11, "nopember": 11, "nov": 11, "nop": 11,
    "desember": 12, "december": 12, "des": 12, "dec": 12, "desembar": 12,
}  # fmt: skip
SHORT_MONTHS = frozenset(w for w in MONTHS if len(w) <= 4)
"""Month words that are a month only beside a number (``may``, ``mar``, ``des``)."""

UNITS = {
    "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "ampa": 4, "lima": 5, "enam": 6,
    "anam": 6, "tujuh": 7, "tuju": 7, "delapan": 8, "dalapan": 8, "lapan": 8,
    "sembilan": 9, "sambilan": 9, "one": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip
TEENS = {
    "sepuluh": 10, "sapulu": 10, "sepulu": 10, "sebelas": 11, "sabalas": 11,
    "ten": 10, "eleven": 11,
    "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
TENS_EN = {"twenty": 20, "thirty": 30}
ORDINALS_EN = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
    "thirteenth": 13, "fourteenth": 14, "fifteenth": 15, "sixteenth": 16,
    "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}  # fmt: skip

MARKERS = {
    # relative days
    "besok": "rel:1", "besog": "rel:1", "besuk": "rel:1", "bsok": "rel:1", "esok": "rel:1",
    "bsk": "rel:1", "besoknya": "rel:1", "tomorrow": "rel:1", "tmrw": "rel:1",
    "tmr": "rel:1", "tomorow": "rel:1", "tommorow": "rel:1", "tommorrow": "rel:1",
    "lusa": "rel:2", "today": "rel:0", "tonight": "rel:0", "sekarang": "rel:0",
    "skrg": "rel:0", "skrng": "rel:0", "skarang": "rel:0", "sakarang": "rel:0",
    "kemarin": "rel:-1", "kemaren": "rel:-1", "yesterday": "rel:-1",
    # words around days
    "hari": "day", "hr": "day", "day": "day", "days": "days",
    "tanggal": "date", "tgl": "date", "tggl": "date", "tangal": "date", "tanggl": "date",
    "tanggalnya": "date", "date": "date", "dates": "dates",
    "depan": "next", "dpn": "next", "next": "next", "coming": "next", "berikut": "next",
    "berikutnya": "next", "muka": "next", "following": "next",
    "ini": "this", "this": "this", "nanti": "this",
    "minggu": "week?", "mgg": "week?", "pekan": "week", "week": "week", "weeks": "week",
    "bulan": "month", "month": "month", "lagi": "again", "lg": "again", "lai": "again",
    "weekend": "weekend", "wiken": "weekend", "akhir": "end",
    # times
    "jam": "clock", "jm": "clock", "pukul": "clock", "pkl": "clock", "oclock": "oclock",
    "am": "am", "pm": "pm", "setengah": "half", "stengah": "half", "half": "half",
    "lewat": "past", "lebih": "past", "past": "past", "kurang": "to",
    "pagi": "part:pagi", "pgi": "part:pagi", "morning": "part:pagi", "pagian": "part:pagi",
    "siang": "part:siang", "siangan": "part:siang", "syang": "part:siang",
    "noon": "part:siang", "midday": "part:siang", "lunch": "part:siang",
    "lunchtime": "part:siang",
    "sore": "part:sore", "sorean": "part:sore", "afternoon": "part:sore",
    "malam": "part:malam", "malem": "part:malam", "mlm": "part:malam",
    "evening": "part:malam", "night": "part:malam",
    "selamat": "greet", "slamat": "greet", "met": "greet", "good": "greet",
    "sebelum": "before", "before": "before", "setelah": "after", "sesudah": "after",
    "abis": "after", "habis": "after", "sehabis": "after", "after": "after",
    # the earliest
    "terserah": "soon", "secepatnya": "soon", "kapanpun": "soon", "bebas": "soon",
    "earliest": "soon", "soonest": "soon", "whenever": "soon", "anytime": "soon",
    "early": "early", "awal": "early",
    # negation
    "tidak": "neg", "bukan": "neg", "jangan": "neg", "not": "neg", "no": "neg",
    "belum": "neg", "cant": "neg",
}  # fmt: skip

NEGATED_WORDS = frozenset({"bisa", "can", "sempat", "available", "cocok", "mau", "work", "free"})
"""Words that, after a negation following a day, say the day does not suit."""

SOONEST_PHRASES = (
    "secepatnya", "secepat mungkin", "secepat", "paling cepat", "paling cepet", "yang cepat",
    "yg cepat", "cepat saja", "paling awal", "paling dekat", "terdekat", "yang terdekat",
    "terserah", "terserah saja", "kapan saja", "kapan pun", "kapanpun", "kapan bisa saja",
    "hari apa saja", "hari apapun", "hari apa pun", "mana saja", "yang mana saja", "bebas",
    "yang ada saja", "asap", "as soon as possible", "soonest", "earliest", "the earliest",
    "first available", "earliest possible", "any day", "anytime", "any time", "whenever",
    "whichever", "any of them", "sembarang", "sabarang", "biar saja",
)  # fmt: skip
SOONEST_TIME_PHRASES = (
    "paling pagi", "paling awal", "secepatnya", "paling cepat", "earliest", "the earliest",
    "as early as possible", "asap",
)  # fmt: skip

LATER_PHRASES = (
    "tanggal lain", "tanggal lainnya", "hari lain", "hari lainnya", "hari yang lain",
    "yang lain", "lainnya", "yang lainnya", "lebih lama", "lebih jauh", "lebih lambat",
    "lebih lama lagi", "selanjutnya", "berikutnya", "tanggal berikutnya", "later",
    "later dates", "later date", "other dates", "other days", "more dates", "more days",
    "another date", "other date", "next dates", "later days", "further", "later on",
    "tidak ada yang cocok", "tidak ada yang bisa", "none of these", "none of them",
    "tanggal lain lagi", "hari lain lagi", "yang lebih lama", "mundur",
)  # fmt: skip

FEASTS = {
    "natal": (12, 25), "christmas": (12, 25), "xmas": (12, 25), "krismas": (12, 25),
}  # fmt: skip
"""Days named by their feast (the eve: "malam natal", "christmas eve")."""
EVE_WORDS = frozenset({"eve", "malam"})

PART_NAMES = {
    "id": {"pagi": "pagi", "siang": "siang", "sore": "sore", "malam": "malam"},
    "en": {"pagi": "morning", "siang": "midday", "sore": "afternoon", "malam": "evening"},
}
PART_HOURS = {"pagi": (0, 11), "siang": (11, 14), "sore": (14, 18), "malam": (18, 24)}
"""The hours each part of the day covers, from inclusive to exclusive."""
