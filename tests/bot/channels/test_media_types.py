"""What may be kept of a family's media is recognised by its first bytes, never by the
type the sender declared."""

from __future__ import annotations

import pytest
from support.media import JPEG_HEAD, ogg_opus, png

from bot.channels.media import allowed_kind, base_mime, sniff

SNIFFED = [
    (JPEG_HEAD, "image/jpeg"),
    (png(), "image/png"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
    (ogg_opus(0.1), "audio/ogg"),
    (b"#!AMR\n\x00\x00", "audio/amr"),
    (b"\x00\x00\x00\x20ftypM4A \x00\x00", "audio/mp4"),
    (b"ID3\x04\x00\x00\x00\x00\x00\x16", "audio/mpeg"),
    (b"\xff\xfb\x90\x64\x00", "audio/mpeg"),
    (b"\xff\xf1\x50\x80\x00", "audio/aac"),
    (b"<html><script>alert(1)</script>", None),
    (b"%PDF-1.7\n", None),
    (b"GIF89a\x01\x00", None),
    (b"", None),
]


@pytest.mark.parametrize(("data", "mime"), SNIFFED)
def test_the_type_is_read_from_the_first_bytes(data: bytes, mime: str | None) -> None:
    assert sniff(data) == mime


@pytest.mark.parametrize(
    ("declared", "kind"),
    [
        ("audio/ogg; codecs=opus", "voice"),
        ("AUDIO/MPEG", "voice"),
        ("image/png", "photo"),
        ("image/gif", None),
        ("video/mp4", None),
        ("text/html", None),
    ],
)
def test_only_listed_types_are_taken(declared: str, kind: str | None) -> None:
    assert allowed_kind(declared) == kind
    assert base_mime(declared) == declared.split(";")[0].strip().lower()
