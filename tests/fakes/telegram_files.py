"""The fake Bot API's files: what a user sends as a photo or voice note, served through
`getFile` and the file address, and what the bot uploads (sendPhoto, sendVoice,
sendAudio, sendDocument), recorded with its bytes. Mixed into `FakeTelegram`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from telegram_wire import SentMessage, _error, _int, _ok

__all__ = ["FilePart", "FileServing", "Upload"]

UPLOAD_METHODS = {
    "sendPhoto": "photo",
    "sendVoice": "voice",
    "sendAudio": "audio",
    "sendDocument": "document",
}


@dataclass(frozen=True, slots=True)
class FilePart:
    """One file of a multipart call, as the library uploaded it."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Upload:
    """A photo, voice note, audio file or document the bot sent, with its bytes."""

    method: str
    chat_id: int
    message_id: int
    caption: str
    file: FilePart


class FileServing:
    """The file half of the fake Bot API (see `tests/fakes/README.md`)."""

    token: str
    _bots: dict[str, Any]  # the bots this server answers for, by token (FakeTelegram)
    files: dict[str, tuple[str, bytes]]  # file id -> (file path, bytes)
    uploads: list[Upload]
    downloads: list[str]  # file paths the bot downloaded
    stall_downloads: bool  # while True, a download is never answered (a line gone slow)
    endless_downloads: bool  # while True, a download goes on past its file (64 MiB of zeros)
    served_bytes: int  # bytes of file downloads sent so far
    _messages: dict[tuple[int, int], SentMessage]
    _file_ids: itertools.count[int]

    def _init_files(self) -> None:
        self.files = {}
        self.uploads = []
        self.downloads = []
        self.stall_downloads = False
        self.endless_downloads = False
        self.served_bytes = 0
        self._file_ids = itertools.count(1)

    def send_file(
        self,
        chat_id: int,
        kind: str,
        data: bytes,
        *,
        mime: str = "",
        caption: str = "",
        declared_size: int | None = -1,
    ) -> dict[str, Any]:
        """A person sends `data` as a "photo", "voice" or "audio", which `getFile` then
        serves. `declared_size`: the size the message states (-1: the real one; None: none).
        """
        number = next(self._file_ids)
        file_id = f"{kind}-file-{number}"
        extension = {"photo": "jpg", "voice": "oga", "audio": "mp3"}[kind]
        self.files[file_id] = (f"{kind}s/file_{number}.{extension}", data)
        size = len(data) if declared_size == -1 else declared_size
        described: dict[str, Any] = {"file_id": file_id, "file_unique_id": f"u{file_id}"}
        if size is not None:
            described["file_size"] = size
        body: dict[str, Any]
        if kind == "photo":
            body = {"photo": [{**described, "width": 64, "height": 64}]}
        else:
            default = "audio/ogg" if kind == "voice" else "audio/mpeg"
            body = {kind: {**described, "duration": 2, "mime_type": mime or default}}
        if caption:
            body["caption"] = caption
        return self._queue_message(chat_id, body)

    def uploads_to(self, chat_id: int) -> list[Upload]:
        return [u for u in self.uploads if u.chat_id == chat_id]

    # --- the API ---------------------------------------------------------------

    async def _api_getFile(self, params: dict[str, Any]) -> JSONResponse:
        file_id = str(params.get("file_id", ""))
        if file_id not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        path, data = self.files[file_id]
        return _ok(
            {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_size": len(data),
                "file_path": path,
            }
        )

    async def _file(self, request: Request) -> Response:
        """`GET /file/bot<token>/<file path>`: the bytes of a file `getFile` described."""
        bot = self._bots.get(request.path_params["token"])
        if bot is None:
            return Response(status_code=401)
        if bot is not self:
            return await bot._file(request)  # another bot on this server (another_bot)
        path = request.path_params["path"]
        for known, data in self.files.values():
            if known == path:
                self.downloads.append(path)
                self._notify()
                while self.stall_downloads:
                    await asyncio.sleep(0.05)
                if self.endless_downloads:
                    return StreamingResponse(self._endless(data))
                self.served_bytes += len(data)
                return Response(data, media_type="application/octet-stream")
        return Response(status_code=404)

    async def _endless(self, head: bytes) -> AsyncIterator[bytes]:
        """The file, then zeros: a server that does not stop where getFile said it would."""
        self.served_bytes += len(head)
        yield head
        piece = bytes(64 * 1024)
        for _ in range(1024):
            await asyncio.sleep(0.002)  # a line's pace: a client that hangs up is noticed
            self.served_bytes += len(piece)
            yield piece

    async def _upload(self, method: str, params: dict[str, Any]) -> JSONResponse:
        chat_id = _int(params.get("chat_id"))
        part = params.get(UPLOAD_METHODS[method])
        if chat_id is None:
            return _error(400, "Bad Request: chat not found")
        if not isinstance(part, FilePart) or not part.data:
            return _error(400, "Bad Request: there is no file in the request")
        caption = str(params.get("caption") or "")
        if len(caption) > 1024:
            return _error(400, "Bad Request: message caption is too long")
        message = SentMessage(
            chat_id=chat_id,
            message_id=self._next_message_id(chat_id),
            text=caption,
            entities=[],
            keyboard=[],
        )
        self._messages[(chat_id, message.message_id)] = message
        self.uploads.append(Upload(method, chat_id, message.message_id, caption, part))
        return _ok(message.as_api())

    async def _api_sendPhoto(self, params: dict[str, Any]) -> JSONResponse:
        return await self._upload("sendPhoto", params)

    async def _api_sendVoice(self, params: dict[str, Any]) -> JSONResponse:
        return await self._upload("sendVoice", params)

    async def _api_sendAudio(self, params: dict[str, Any]) -> JSONResponse:
        return await self._upload("sendAudio", params)

    async def _api_sendDocument(self, params: dict[str, Any]) -> JSONResponse:
        return await self._upload("sendDocument", params)

    # Provided by FakeTelegram.
    def _queue_message(
        self, chat_id: int, body: dict[str, Any], language_code: str = "id"
    ) -> dict[str, Any]:
        raise NotImplementedError

    def _next_message_id(self, chat_id: int) -> int:
        raise NotImplementedError

    def _notify(self) -> None:
        raise NotImplementedError
