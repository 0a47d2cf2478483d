"""Which language a typed message is in: English, Indonesian, or not clear (pure).

Why so small: the bot only needs to tell its two languages apart, once, on the
first message that says enough. Ambonese Malay and Jakarta slang count as
Indonesian; a short or code-switched message ("ok", "halo kak, thank you") is not
clear and leaves the conversation's language as it is.
"""

from __future__ import annotations

from flows.understanding.text import words

ENGLISH = frozenset(
    """
    i im me my mine you your yours we our us he she his her they them their it its
    the a an is are am was were be been do does did dont doesnt can could would
    should will shall have has had not this that these those there here what where when
    who why how which with without from into about for of and or but if so because
    please thank thanks hello good morning afternoon evening want need talk speak help
    know tell open office address cost pay free someone person real anyone just really
    very much many some any more also only still again yes okay sure english language
    husband wife child son daughter family mother father problem home today tomorrow
    """.split()
)
"""Words that mark English (never Indonesian words too: `ada`, `apa`, `di`, `ok`)."""

INDONESIAN = frozenset(
    """
    saya aku gue gua beta ale ana kamu anda lu lo dong katong kita kami dia mereka
    yang dan di ke dari ini itu ada apa apakah tidak tak gak ga nggak enggak seng
    bukan belum sudah su udah mau mo ingin pengen bisa boleh harus musti dengan deng
    untuk par buat sama juga lagi lai saja aja sa kak kakak usi bu ibu pak bapak oma opa
    tolong terima kasih makasih danke mksh bagaimana gimana gmn berapa brapa kapan
    mana dimana kenapa siapa sapa pung punya tentang soal kalau kalo tapi karena
    jadi sudah sekarang skarang besok hari jam kantor alamat bayar gratis rahasia
    suami istri anak laki bini keluarga masalah cerita orang rumah sini situ
    halo selamat pagi siang sore malam ya iya iyo nih sih deh kah ka kan lah e
    bahasa indonesia tolong minta bantu bantuan buka tutup tanya nanya mohon
    sy mw yg gk tdk dgn utk blm sdh udh bs jg krn tp klo tny kntr kntor
    """.split()
)
"""Words that mark Indonesian, Ambonese Malay or Jakarta slang."""

MIN_WORDS = 2
"""A language needs at least this many of its own words to be clear."""
RATIO = 2
"""...and this many times as many as the other language's."""


def detect(text: str) -> str | None:
    """`en` or `id` when the message is clearly in one of them, else None."""
    said = words(text)
    english = sum(w in ENGLISH for w in said)
    indonesian = sum(w in INDONESIAN for w in said)
    if english >= MIN_WORDS and english >= RATIO * indonesian and english > indonesian:
        return "en"
    if indonesian >= MIN_WORDS and indonesian >= RATIO * english and indonesian > english:
        return "id"
    return None
