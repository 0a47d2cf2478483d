"""A turn's replies reach the family as few messages as fit: merge_replies."""

from __future__ import annotations

import pytest

from bot.core.turns import MERGED_REPLY_CHARS, Reply, merge_replies

YES_NO = (("ya", "Ya"), ("tidak", "Tidak"))
MENU = (("info", "Informasi"), ("konsultasi", "Konsultasi"))


@pytest.mark.parametrize(
    ("replies", "merged"),
    [
        pytest.param((), (), id="nothing to send"),
        pytest.param((Reply("Halo"),), (Reply("Halo"),), id="one reply stays as it is"),
        pytest.param(
            (Reply("Selamat datang."), Reply("Boleh kami simpan pesan Anda?", YES_NO)),
            (Reply("Selamat datang.\n\nBoleh kami simpan pesan Anda?", YES_NO),),
            id="a greeting joins the question after it, which keeps its buttons",
        ),
        pytest.param(
            (Reply("Satu."), Reply("Dua."), Reply("Tiga.")),
            (Reply("Satu.\n\nDua.\n\nTiga."),),
            id="plain notes join in order",
        ),
        pytest.param(
            (Reply("Pilih:", MENU), Reply("Atau ketik pertanyaan Anda.")),
            (Reply("Pilih:", MENU), Reply("Atau ketik pertanyaan Anda.")),
            id="nothing is joined under a question's buttons",
        ),
        pytest.param(
            (Reply("Pilih:", MENU), Reply("Lagi?", YES_NO)),
            (Reply("Pilih:", MENU), Reply("Lagi?", YES_NO)),
            id="two questions stay two messages",
        ),
        pytest.param(
            (Reply("A."), Reply("Pilih:", MENU), Reply("B."), Reply("Lagi?", YES_NO)),
            (Reply("A.\n\nPilih:", MENU), Reply("B.\n\nLagi?", YES_NO)),
            id="each question gathers the notes before it",
        ),
    ],
)
def test_replies_are_joined_up_to_each_question(
    replies: tuple[Reply, ...], merged: tuple[Reply, ...]
) -> None:
    assert merge_replies(replies) == merged


def test_a_join_that_would_pass_the_limit_starts_a_new_message() -> None:
    first = Reply("a" * 600)
    second = Reply("b" * 600)
    assert merge_replies((first, second)) == (first, second)
    assert merge_replies((Reply("a" * 499), Reply("b" * 499))) == (
        Reply("a" * 499 + "\n\n" + "b" * 499),
    )
    assert len("a" * 499 + "\n\n" + "b" * 499) <= MERGED_REPLY_CHARS


def test_a_text_longer_than_the_limit_is_sent_alone_and_never_cut() -> None:
    long = Reply("x" * (MERGED_REPLY_CHARS * 3))
    assert merge_replies((Reply("Catatan."), long, Reply("Akhir."))) == (
        Reply("Catatan."),
        long,
        Reply("Akhir."),
    )


def test_every_word_and_choice_survives_a_merge() -> None:
    replies = tuple(Reply(f"kalimat {n}", MENU if n % 4 == 3 else ()) for n in range(20))
    merged = merge_replies(replies)
    assert "\n\n".join(r.text for r in merged) == "\n\n".join(r.text for r in replies)
    assert [r.options for r in merged if r.options] == [r.options for r in replies if r.options]
    assert all(len(r.text) <= MERGED_REPLY_CHARS for r in merged)
