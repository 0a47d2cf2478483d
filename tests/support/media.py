"""Small real media files made in code: a PNG a browser draws, an Ogg Opus voice note it
plays (silence, with a duration), and the first bytes of a JPEG.

No encoder is needed: a PNG is a few zlib-packed rows, and an Opus packet of a lone
TOC byte is a valid 20 ms frame the decoder fills with silence.
"""

from __future__ import annotations

import struct
import zlib

__all__ = ["JPEG_HEAD", "ogg_opus", "png"]

JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
_SAMPLES_PER_FRAME = 960  # 20 ms at 48 kHz
_PRE_SKIP = 312


def png(width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A plain-coloured RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _page(packets: list[bytes], granule: int, serial: int, seq: int, flags: int) -> bytes:
    lacing = b""
    for packet in packets:
        lacing += b"\xff" * (len(packet) // 255) + bytes([len(packet) % 255])
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, serial, seq, 0, len(lacing))
    page = header + lacing + b"".join(packets)
    crc = _ogg_crc(page)
    return page[:22] + struct.pack("<I", crc) + page[26:]


def ogg_opus(seconds: float = 1.0) -> bytes:
    """A mono Ogg Opus stream of silence lasting `seconds` (what a voice note is)."""
    serial = 0x4C4B33
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, _PRE_SKIP, 48000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 3) + b"lk3" + struct.pack("<I", 0)
    frames = max(1, int(seconds * 50))
    out = _page([head], 0, serial, 0, 0x02) + _page([tags], 0, serial, 1, 0)
    seq = 2
    done = 0
    while done < frames:
        count = min(50, frames - done)
        done += count
        granule = _PRE_SKIP + done * _SAMPLES_PER_FRAME
        last = 0x04 if done == frames else 0
        out += _page([b"\xf8"] * count, granule, serial, seq, last)
        seq += 1
    return out
