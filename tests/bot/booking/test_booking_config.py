"""`[booking]` in the configuration: defaults that book, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import BookingSettings, ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parents[3] / "config.example.toml"


def test_the_example_file_spells_out_the_booking_defaults() -> None:
    assert load_config(EXAMPLE, env={}).booking == BookingSettings()
    assert load_config(None, env={}).booking.modes == ("kantor", "telepon", "chat", "kunjungan")


def test_settings_are_read(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[booking]\nmodes = ["telepon", "kantor"]\nslot_minutes = 50\nurgent_share = 0\n'
        'reminder_wording = "detailed"\n',
        "utf-8",
    )
    booking = load_config(path, env={}).booking
    assert booking.modes == ("telepon", "kantor")
    assert (booking.slot_minutes, booking.urgent_share) == (50, 0.0)
    assert booking.reminder_wording == "detailed"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("booking = 1", "Config 'booking' must be a table, not int"),
        ("[booking]\nslot = 60", "Config 'booking.slot' is not a known setting"),
        ("[booking]\nmodes = []", "Config 'booking.modes' has value []. Not a list of modes."),
        ('[booking]\nmodes = ["zoom"]', "Config 'booking.modes' has value 'zoom'. Known modes:"),
        ('[booking]\nmodes = ["chat", "chat"]', "Config 'booking.modes' lists a mode twice."),
        ("[booking]\nslot_minutes = 5", "Config 'booking.slot_minutes' has value 5. It must be"),
        ("[booking]\nlead_hours = -1", "Config 'booking.lead_hours' has value -1."),
        ("[booking]\nhorizon_days = 365", "Config 'booking.horizon_days' has value 365."),
        ('[booking]\nurgent_share = "a lot"', "Config 'booking.urgent_share' has value 'a lot'."),
        ("[booking]\nurgent_share = 1.0", "Config 'booking.urgent_share' has value 1.0. It must"),
        ("[booking]\nhold_minutes = 0", "Config 'booking.hold_minutes' has value 0."),
        (
            '[booking]\nreminder_wording = "loud"',
            "Config 'booking.reminder_wording' has value 'loud'. Use 'discreet'",
        ),
    ],
)
def test_a_bad_booking_setting_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text + "\n", "utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path, env={})
    assert str(raised.value).startswith(message)
