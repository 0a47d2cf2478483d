"""Counsellors teach the crisis check: labels on a case's family messages, and their export."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from contextlib import aclosing
from pathlib import Path

import httpx
import pytest
from case_support import family_case, state_json
from console_support import add_staff, csrf_of, make_console, make_office, signed_in
from support import Clock

from bot.console.core import Console
from bot.console.office import Office
from bot.console.pages.labels import bundled_level
from bot.safety.corpus import parse_examples
from bot.safety.labels import export_labels, mask
from storage.crypto.keys import ENV_VAR, KeyRing, generate_key_file
from storage.handoff.records import LiveCase
from storage.records import NewInbound, TurnWrite
from storage.store import Store

CRISIS = "suami saya memukuli saya sekarang"


async def family_ids(console: Console, case: LiveCase) -> list[int]:
    """The inbox ids of the family's messages, as the case page lists them."""
    lines = await console.store.console_cases.transcript(case.contact_id)
    return [line.message_id for line in lines if line.direction == "in"]


async def label(
    http: httpx.AsyncClient, case: LiveCase, message: object, choice: str
) -> httpx.Response:
    page = f"/console/cases/{case.code}"
    token = csrf_of((await http.get(page)).text)
    data = {"message": str(message), "label": choice, "csrf": token}
    return await http.post(f"{page}/label", data=data)


async def writes_again(console: Console, clock: Clock, case: LiveCase, text: str) -> None:
    """The family of `case` sends one more message (address 7001, as `family_case` makes),
    and the bot processes it."""
    clock.advance(1)
    item = NewInbound("telegram", f"again-{clock().timestamp()}", "text", text, clock())
    contact, inbox_id = await console.store.turns.receive("telegram", "7001", item)
    assert inbox_id is not None and contact.id == case.contact_id
    await console.store.turns.commit_turn(
        TurnWrite(inbox_id, contact.id, state_json(), (), clock())
    )


# --- on the case page ---------------------------------------------------------------


async def test_a_counsellor_labels_family_messages_and_the_page_shows_the_label(
    console: Console, office: Office, clock: Clock
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock, ["halo", CRISIS])
    await office.handoff.take(me, case.id)
    hello, crisis = await family_ids(console, case)
    async with aclosing(http):
        page = f"/console/cases/{case.code}"
        shown = (await http.get(page)).text
        assert shown.count(f'action="/console/cases/{case.code}/label"') == 2, "family lines only"
        assert "Ini darurat" in shown and "Alarm palsu" in shown
        done = await label(http, case, crisis, "none")
        assert done.status_code == 303
        assert done.headers["location"] == f"{page}?msg=labelled#m{crisis}"
        await label(http, case, hello, "urgent")
        await label(http, case, crisis, "urgent")  # changes its mind: the new label replaces
        shown = (await http.get(page + "?msg=labelled")).text
    assert "Tanda disimpan." in shown
    assert shown.count("Ditandai: darurat") == 2 and "Ditandai: alarm palsu" not in shown
    labels = await console.store.safety_labels.for_contact(case.contact_id)
    # Beside each label: the level the bot's crisis check gave the words when it was made.
    assert {i: (x.label, x.level, x.staff_id) for i, x in labels.items()} == {
        hello: ("urgent", bundled_level("halo"), me),
        crisis: ("urgent", bundled_level(CRISIS), me),
    }
    rows = [r for r in await console.store.audit.rows() if r.action == "label_message"]
    assert [(r.actor, r.subject) for r in rows] == [
        (f"staff:{me}", f"case:{case.code},message:{crisis}"),
        (f"staff:{me}", f"case:{case.code},message:{hello}"),
        (f"staff:{me}", f"case:{case.code},message:{crisis}"),
    ]
    assert not any("memukuli" in r.reason or "halo" in r.reason for r in rows)
    assert (await console.store.audit.verify()).ok


async def test_the_label_buttons_speak_english_when_asked(
    console: Console, office: Office, clock: Clock
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    await office.handoff.take(me, case.id)
    (crisis,) = await family_ids(console, case)
    async with aclosing(http):
        page = f"/console/cases/{case.code}"
        token = csrf_of((await http.get(page)).text)
        await http.post("/console/lang", data={"lang": "en", "back": page, "csrf": token})
        await label(http, case, crisis, "none")
        shown = (await http.get(page + "?msg=labelled")).text
    assert "This was urgent" in shown and "Labelled: false alarm" in shown
    assert "used to retrain the crisis check" in shown


# (viewer's roles, does the viewer hold the case?) -> status of the label POST: the same
# rule as reading the case (test_console_case.READERS).
LABELLERS = [
    (("counsellor",), True, 303),
    (("counsellor",), False, 403),
    (("supervisor",), False, 303),
    (("admin",), False, 403),
    (("admin", "counsellor"), False, 403),
    (("admin", "counsellor"), True, 303),
]


@pytest.mark.parametrize(("roles", "holds", "status"), LABELLERS)
async def test_whoever_may_read_the_case_may_label_it_and_nobody_else(
    console: Console,
    office: Office,
    clock: Clock,
    roles: tuple[str, ...],
    holds: bool,
    status: int,
) -> None:
    other, _ = await add_staff(console, "budi", ("counsellor",))
    me, http = await signed_in(console, clock, "me", roles)
    case = await family_case(console.store, clock)
    assert (await office.handoff.take(me if holds else other, case.id)).done
    (crisis,) = await family_ids(console, case)
    async with aclosing(http):
        token = csrf_of((await http.get("/console/")).text)
        response = await http.post(
            f"/console/cases/{case.code}/label",
            data={"message": str(crisis), "label": "urgent", "csrf": token},
        )
    assert response.status_code == status
    labels = await console.store.safety_labels.for_contact(case.contact_id)
    assert (crisis in labels) == (status == 303)


async def test_labels_without_the_csrf_token_are_refused(
    console: Console, office: Office, clock: Clock
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    await office.handoff.take(me, case.id)
    (crisis,) = await family_ids(console, case)
    async with aclosing(http):
        refused = await http.post(
            f"/console/cases/{case.code}/label", data={"message": str(crisis), "label": "none"}
        )
    assert refused.status_code == 403
    assert await console.store.safety_labels.for_contact(case.contact_id) == {}


# (message, label) that are refused with a kind word and change nothing; "other" is a
# message of another family, "unknown" an id no message has.
BAD_LABELS = [
    ("crisis", "darurat"),
    ("crisis", ""),
    ("other", "urgent"),
    ("unknown", "urgent"),
    ("abc", "urgent"),
    ("٣", "urgent"),  # a digit, but not an ASCII one
    ("9" * 30, "urgent"),
    ("", "none"),
]


@pytest.mark.parametrize(("message", "choice"), BAD_LABELS)
async def test_a_bad_label_gets_a_kind_answer_and_changes_nothing(
    console: Console, office: Office, clock: Clock, message: str, choice: str
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    other = await family_case(console.store, clock, ["anak saya hilang"], address="7002")
    await office.handoff.take(me, case.id)
    (crisis,) = await family_ids(console, case)
    (elsewhere,) = await family_ids(console, other)
    targets = {"crisis": crisis, "other": elsewhere, "unknown": crisis + 10_000}
    async with aclosing(http):
        done = await label(http, case, targets.get(message, message), choice)
        assert done.headers["location"] == f"/console/cases/{case.code}?msg=bad_choice"
        assert "Pilihan itu tidak dikenal" in (await http.get(done.headers["location"])).text
    for family in (case, other):
        assert await console.store.safety_labels.for_contact(family.contact_id) == {}
    assert [r for r in await console.store.audit.rows() if r.action == "label_message"] == []


async def test_a_message_written_after_the_case_closed_is_not_labelled_through_it(
    console: Console, office: Office, clock: Clock
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    await office.handoff.take(me, case.id)
    await office.handoff.close(me, case.id, "aman")
    await writes_again(console, clock, case, "terima kasih bu")
    later = (await family_ids(console, case))[-1]
    async with aclosing(http):
        shown = (await http.get(f"/console/cases/{case.code}")).text
        assert "terima kasih bu" not in shown
        done = await label(http, case, later, "none")
    assert done.headers["location"].endswith("?msg=bad_choice")
    assert await console.store.safety_labels.for_contact(case.contact_id) == {}


# --- the export ---------------------------------------------------------------------


def test_the_words_lose_numbers_addresses_accounts_and_codes() -> None:
    # (what the family wrote, the case's codes, the line's words)
    for text, codes, expected in [
        ("telp 081234567890 ya", (), "telp <nomor> ya"),
        ("wa +62 812-3456-7890\tsekarang", (), "wa <nomor> sekarang"),
        ("email ibu.ani+1@mail.co.id tolong", (), "email <email> tolong"),
        ("cari saya @ani_ambon di ig", (), "cari saya <akun> di ig"),
        ("kode saya k7f3q2, tolong", ("K7F3Q2",), "kode saya <kode>, tolong"),
        ("jam 10.30 tgl 3, umur 12\nbaris baru", (), "jam 10.30 tgl 3, umur 12 baris baru"),
        ("hub 0812 - 3456 - 7890 atau 0812/3456/7890", (), "hub <nomor> atau <nomor>"),
        ("no 08\u200b12345678 atau o8l2345678", (), "no <nomor> atau <nomor>"),
        ("kantor (0911) 352-123", (), "kantor <nomor>"),
        ("ig: budi_ambon, fb budi.ambon", (), "<akun>, <akun>"),
        ("rumah di Jl. Dr. Kayadoe No. 12, Ambon", (), "rumah di <alamat>, Ambon"),
        (
            "dia pukul saya pukul 10 malam, anak 12 tahun",
            (),
            "dia pukul saya pukul 10 malam, anak 12 tahun",
        ),
    ]:
        assert mask(text, codes) == expected, text


async def test_labels_made_on_the_case_page_are_exported_as_corpus_lines_without_ids(
    console: Console, office: Office, clock: Clock, tmp_path: Path
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock, ["halo", CRISIS])
    await office.handoff.take(me, case.id)
    again_words = f"ini nomor saya 0812 3456 7890, ani@mail.id, kasus {case.code}"
    await writes_again(console, clock, case, again_words)
    hello, crisis, again = await family_ids(console, case)
    async with aclosing(http):
        for message, choice in ((hello, "none"), (crisis, "urgent"), (again, "urgent")):
            assert (await label(http, case, message, choice)).status_code == 303
    out = tmp_path / "labels.tsv"
    result = await export_labels(console.store, out)
    assert (result.written, result.unreadable) == (3, 0)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    text = out.read_text(encoding="utf-8")
    examples = parse_examples(text, "labels.tsv")
    said = [f"; the check said {bundled_level(w)}" for w in ("halo", CRISIS, again_words)]
    assert [(e.level.value, e.category, e.style, e.text, e.reason) for e in examples] == [
        ("none", "-", "-", "halo", "counsellor: false alarm" + said[0]),
        ("urgent", "-", "-", CRISIS, "counsellor: this was urgent" + said[1]),
        (
            "urgent",
            "-",
            "-",
            "ini nomor saya <nomor>, <email>, kasus <kode>",
            "counsellor: this was urgent" + said[2],
        ),
    ]
    contact = await console.store.contacts.get(case.contact_id)
    assert contact is not None
    for secret in (case.code, "7001", "Sari", "sari", f"staff:{me}", "0812"):
        assert secret not in text, secret
    exports = [r for r in await console.store.audit.rows() if r.action == "export_labels"]
    assert [(r.actor, r.subject) for r in exports] == [("cli", "labels:all")]
    with pytest.raises(FileExistsError):
        await export_labels(console.store, out)


async def test_an_erased_familys_labels_are_not_exported(
    console: Console, office: Office, clock: Clock, tmp_path: Path
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    anna = await family_case(console.store, clock, ["anna: saya mau mati saja"])
    budi = await family_case(console.store, clock, ["budi: anak saya dipukul"], address="7002")
    for case in (anna, budi):
        await office.handoff.take(me, case.id)
    async with aclosing(http):
        for case in (anna, budi):
            (message,) = await family_ids(console, case)
            assert (await label(http, case, message, "urgent")).status_code == 303
    assert await console.store.erasure.erase(
        anna.contact_id, reason="request", actor="cli", why="asked at the office"
    )
    out = tmp_path / "labels.tsv"
    result = await export_labels(console.store, out)
    assert (result.written, result.unreadable) == (1, 0)
    [example] = parse_examples(out.read_text(encoding="utf-8"), "labels.tsv")
    assert example.text == "budi: anak saya dipukul"
    assert await console.store.safety_labels.for_contact(anna.contact_id) == {}


async def test_lk3_safety_export_labels_opens_the_configured_database(
    tmp_path: Path, clock: Clock
) -> None:
    """The command as an admin runs it: the server's config and key file, a new 0600 file."""
    data = tmp_path / "data"
    generate_key_file(data / "master.key")
    config = tmp_path / "config.toml"
    config.write_text('data_dir = "data"\n', encoding="utf-8")
    async with await Store.open(
        data / "lk3.db", KeyRing.load(data / "master.key", {}), clock=clock
    ) as store:
        office = await make_office(store, clock)
        console = make_console(store, clock, office=office)
        me, http = await signed_in(console, clock, "sari", ("counsellor",))
        case = await family_case(store, clock)
        await office.handoff.take(me, case.id)
        (crisis,) = await family_ids(console, case)
        async with aclosing(http):
            assert (await label(http, case, crisis, "urgent")).status_code == 303
    out = tmp_path / "out" / "labels.tsv"
    out.parent.mkdir()

    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}

    def lk3(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "bot", "safety", "export-labels", *args]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=60, check=False, env=env
        )

    done = lk3("--config", str(config), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "wrote 1 labelled message(s)" in done.stdout and CRISIS not in done.stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    [example] = parse_examples(out.read_text(encoding="utf-8"), "labels.tsv")
    assert (example.level.value, example.text) == ("urgent", CRISIS)
    again = lk3("--config", str(config), "--out", str(out))
    assert again.returncode == 2 and "never overwrites" in again.stderr
    missing = lk3("--config", str(tmp_path / "nowhere.toml"), "--out", str(tmp_path / "x.tsv"))
    assert missing.returncode == 2 and not (tmp_path / "x.tsv").exists()
