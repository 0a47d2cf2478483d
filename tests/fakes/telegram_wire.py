"""The Bot API's side of the fake Telegram server: the content a user can send, what a
call and a sent message look like, the failures it can be told to give, and its
JSON answers. Kept apart from `telegram_api` (the server and the users it plays).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import JSONResponse

BOT_ID = 123456

CONTENT = {
    "photo": {"photo": [{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}]},
    "voice": {"voice": {"file_id": "v1", "file_unique_id": "u2", "duration": 3}},
    "audio": {"audio": {"file_id": "a1", "file_unique_id": "u3", "duration": 30}},
    "video": {
        "video": {
            "file_id": "vd1",
            "file_unique_id": "u4",
            "width": 90,
            "height": 90,
            "duration": 4,
        }
    },
    "video_note": {
        "video_note": {"file_id": "vn1", "file_unique_id": "u5", "length": 90, "duration": 4}
    },
    "sticker": {
        "sticker": {
            "file_id": "s1",
            "file_unique_id": "u6",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    },
    "location": {"location": {"latitude": -3.6954, "longitude": 128.1814}},
    "venue": {
        "venue": {
            "location": {"latitude": -3.6954, "longitude": 128.1814},
            "title": "Pasar Mardika",
            "address": "Ambon",
        }
    },
    "document": {"document": {"file_id": "d1", "file_unique_id": "u7", "file_name": "surat.pdf"}},
    "contact": {"contact": {"phone_number": "+6281234567890", "first_name": "Tetangga"}},
    "dice": {"dice": {"emoji": "🎲", "value": 3}},
}


@dataclass(frozen=True, slots=True)
class Call:
    """One request the bot made: the method and its parameters (JSON strings decoded)."""

    method: str
    params: dict[str, Any]
    at: float


@dataclass(slots=True)
class SentMessage:
    """A message the bot sent, as the chat shows it now (edits and deletions applied)."""

    chat_id: int
    message_id: int
    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)
    keyboard: list[list[dict[str, Any]]] = field(default_factory=list)
    deleted: bool = False

    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of every button, row by row."""
        return [(b["text"], b.get("callback_data", "")) for row in self.keyboard for b in row]

    def as_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "date": int(time.time()),
            "chat": {"id": self.chat_id, "type": _chat_type(self.chat_id), "first_name": "Ibu"},
            "from": _BOT_USER,
            "text": self.text,
        }
        if self.entities:
            data["entities"] = self.entities
        if self.keyboard:
            data["reply_markup"] = {"inline_keyboard": self.keyboard}
        return data


@dataclass(slots=True)
class _Failure:
    error: str
    times: int
    chat_id: int | None
    retry_after: int
    after: int = 0  # matching calls to let through first


_BOT_USER = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "LK3 Ambon",
    "username": "lk3_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


def _chat_type(chat_id: int) -> str:
    return "private" if chat_id > 0 else "group"


def _int(value: object) -> int | None:
    if value is None or value == "":
        return None
    return int(str(value))


def _ok(result: object) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=code)
