"""The test chat on the flows page: the DRAFT flows as a family would meet them, nothing done.

An admin types (or presses a button) as a family; each message goes through the
same crisis check and the same choice of input as a real one (`bot.core.turns`:
urgent -> the crisis flow, check -> the safety question, a withdrawn consent ->
the privacy note), then through the pure engine on the checked draft library,
and the new state is the one `bot.flowhost.turn.plan_turn` gives the pipeline.
Effects are shown, never carried out: no case opens, nobody is alerted, no
booking is held, nothing is stored, sent or logged. Free booking times are not
read from the calendar, so the booking flow takes its "no times" branch.

The conversation travels with the page (a sealed token in a hidden field), not
in the server: the server keeps nothing between requests. The token is sealed
with an HMAC bound to the admin's session and the flow's page, so a token that
was changed, cut, or made for someone else is refused (`ChatTokenError`, a
400), never run.

    ChatTokenError   the chat token is not one this console sealed for this page
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from bot.booking import BOOKING_FLOW
from bot.core.texts import BotTexts
from bot.errors import BotError
from bot.flowhost.turn import (
    CRISIS_FLOW,
    PRIVACY_FLOW,
    SAFETY_CHECK_FLOW,
    is_command,
    plan_turn,
    withdrawn,
)
from bot.safety import Assessment, Level
from flows.engine import step
from flows.errors import StateError
from flows.exchange import Context, Effect, FlowError, Input, Message, Option
from flows.library import FlowLibrary
from flows.state import SessionState

__all__ = ["Chat", "ChatSeal", "ChatTokenError", "Line", "say", "start"]

LineKind = Literal["you", "bot", "effect", "safety", "error", "end"]
MAX_LINES = 80
"""Lines kept in the transcript (the oldest go first), so the token stays small."""
MAX_LINE_CHARS = 4000
MAX_TOKEN_CHARS = 200_000
TOKEN_FORMAT = 1


class ChatTokenError(BotError, ValueError):
    """A chat token that was not sealed here for this session and page (or is damaged)."""


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the transcript: what the admin sent, the bot said, or the host would do."""

    kind: LineKind
    text: str  # the words; an effect's name; a safety level; a flow error's code
    detail: str = ""  # an effect's parameters; the safety rules matched; an error's place
    flow: str = ""  # safety: the flow the message switches to ("" when already there)


@dataclass(frozen=True, slots=True)
class Chat:
    flow: str  # where the chat started (and restarts)
    language: str
    state: SessionState | None
    lines: tuple[Line, ...] = ()
    options: tuple[Option, ...] = ()  # the buttons under the last question
    added: int = 0  # lines the last step added (not sealed: it describes one answer)

    def label_of(self, value: str) -> str:
        for option in self.options:
            if option.value == value:
                return option.label
        return value


def start(library: FlowLibrary, flow: str, language: str, ctx: Context, texts: BotTexts) -> Chat:
    """A fresh chat: `flow` begins as if the family had just opened it."""
    chat = Chat(flow, language, SessionState.fresh(language))
    if flow == library.globals.entry:
        inp = Input(kind="start")
    else:
        inp = Input(kind="interrupt", flow=flow)
    return _run(chat, library, inp, ctx, (), texts)


def say(
    chat: Chat,
    library: FlowLibrary,
    *,
    kind: Literal["text", "choice"],
    text: str,
    assessment: Assessment,
    ctx: Context,
    texts: BotTexts,
    max_chars: int,
) -> Chat:
    """One message from the family, decided as `bot.flowhost.turn.plan_turn` decides it.

    The lines come from the engine's own outputs (effects in their place); the new
    state and the host's own objections to an effect (a case category that is not a
    code, say) come from `plan_turn` itself, so the chat goes on exactly as the bot
    would go on.
    """
    state = chat.state
    plan = plan_turn(
        library=library,
        state=state,
        kind=kind,
        text=text,
        assessment=assessment,
        ctx=ctx,
        texts=texts,
        max_chars=max_chars,
    )
    lines: list[Line] = [Line("you", chat.label_of(text) if kind == "choice" else text)]
    language = state.language if state is not None else ctx.default_language
    if kind == "text" and len(text) > max_chars:
        text = text[:max_chars]
        lines.append(Line("bot", texts.get("too_long", language, limit=str(max_chars))))
    current = state.current_flow if state is not None and not state.ended else None
    reasons = ", ".join(assessment.reasons)
    inp: Input
    if assessment.level is Level.URGENT and current != CRISIS_FLOW:
        lines.append(Line("safety", assessment.level.value, reasons, CRISIS_FLOW))
        inp = Input(kind="interrupt", flow=CRISIS_FLOW)
    elif assessment.level is Level.CHECK and current not in (CRISIS_FLOW, SAFETY_CHECK_FLOW):
        lines.append(Line("safety", assessment.level.value, reasons, SAFETY_CHECK_FLOW))
        inp = Input(kind="interrupt", flow=SAFETY_CHECK_FLOW)
    elif withdrawn(state) and not is_command(library, kind, text):
        inp = Input(kind="interrupt", flow=PRIVACY_FLOW)
    elif kind == "choice":
        inp = Input(kind="choice", choice=text)
    else:
        if assessment.level is not Level.NONE:  # already in the flow that level leads to
            lines.append(Line("safety", assessment.level.value, reasons))
        inp = Input(kind="text", text=text)
    ran = _run(chat, library, inp, ctx, tuple(lines), texts)
    fresh = ran.lines[len(ran.lines) - ran.added :]
    shown = {(line.text, line.detail) for line in fresh if line.kind == "error"}
    host = [Line("error", e.code, e.where) for e in plan.errors if (e.code, e.where) not in shown]
    kept = (*ran.lines, *host)[-MAX_LINES:]
    return replace(ran, state=plan.state, lines=kept, added=min(ran.added + len(host), MAX_LINES))


def _run(
    chat: Chat,
    library: FlowLibrary,
    inp: Input,
    ctx: Context,
    lines: tuple[Line, ...],
    texts: BotTexts,
) -> Chat:
    turn = step(library, chat.state, inp, ctx)
    state, outputs = turn.state, list(turn.outputs)
    offered = any(isinstance(o, Effect) and o.name == "offer_slots" for o in outputs)
    if offered and library.has_flow(BOOKING_FLOW):  # as bot.core.turns: triage's end leads on
        booking = step(library, state, Input(kind="interrupt", flow=BOOKING_FLOW), ctx)
        state = booking.state
        outputs += booking.outputs
    out = list(lines)
    options: tuple[Option, ...] = ()
    for item in outputs:
        if isinstance(item, Message):
            out.append(Line("bot", item.text))
            options = item.options
        elif isinstance(item, FlowError):
            out.append(Line("error", item.code, item.where))
        elif item.name == "end":
            out.append(Line("end", ""))
        else:
            params = " ".join(f"{k}={v}" for k, v in item.params)
            out.append(Line("effect", item.name, params))
            if item.name == "offer_slots" and not library.has_flow(BOOKING_FLOW):
                out.append(Line("bot", texts.get("booking_pending", state.language, **ctx.values)))
    kept = (*chat.lines, *(_cut(line) for line in out))[-MAX_LINES:]
    return replace(chat, state=state, lines=kept, options=options, added=min(len(out), MAX_LINES))


def _cut(line: Line) -> Line:
    if len(line.text) <= MAX_LINE_CHARS and len(line.detail) <= MAX_LINE_CHARS:
        return line
    return replace(line, text=line.text[:MAX_LINE_CHARS], detail=line.detail[:MAX_LINE_CHARS])


# --- the token ------------------------------------------------------------------------


class ChatSeal:
    """Seals a chat into a page token and opens it again; the key never leaves the process."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)

    def _mac(self, binding: str, body: str) -> str:
        message = binding.encode("utf-8") + b"\n" + body.encode("ascii")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def seal(self, chat: Chat, binding: str) -> str:
        data = {
            "v": TOKEN_FORMAT,
            "flow": chat.flow,
            "lang": chat.language,
            "state": None if chat.state is None else chat.state.to_json(),
            "lines": [[line.kind, line.text, line.detail, line.flow] for line in chat.lines],
            "options": [[o.value, o.label] for o in chat.options],
        }
        raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        body = base64.urlsafe_b64encode(zlib.compress(raw, 6)).decode("ascii")
        return f"{body}.{self._mac(binding, body)}"

    def open(self, token: str, binding: str) -> Chat:
        """The chat sealed in `token`; ChatTokenError (naming no content) if it is not one."""
        if len(token) > MAX_TOKEN_CHARS:
            raise ChatTokenError("the chat token is too long")
        body, dot, mac = token.strip().rpartition(".")
        if not dot or not body:
            raise ChatTokenError("the chat token has no seal")
        try:
            body.encode("ascii")
        except UnicodeEncodeError:
            raise ChatTokenError("the chat token is not one this console made") from None
        if not hmac.compare_digest(self._mac(binding, body), mac):
            raise ChatTokenError("the chat token is not one this console made for this page")
        try:
            inflate = zlib.decompressobj()
            raw = inflate.decompress(base64.urlsafe_b64decode(body), MAX_TOKEN_CHARS * 8)
            if inflate.unconsumed_tail:
                raise ChatTokenError("the chat token is larger than a chat can be")
            data: Any = json.loads(raw.decode("utf-8"))
        except (ValueError, zlib.error) as exc:
            raise ChatTokenError("the chat token cannot be read") from exc
        return _chat_of(data)


def _chat_of(data: Any) -> Chat:
    """A chat from the token's JSON, every field checked (a sealed token is still parsed)."""
    if not isinstance(data, Mapping) or data.get("v") != TOKEN_FORMAT:
        raise ChatTokenError(f"the chat token must be format {TOKEN_FORMAT}")
    flow, language, state_json = data.get("flow"), data.get("lang"), data.get("state")
    lines, options = data.get("lines"), data.get("options")
    if not isinstance(flow, str) or not isinstance(language, str):
        raise ChatTokenError("the chat token lacks its flow or language")
    if not isinstance(lines, list) or not isinstance(options, list):
        raise ChatTokenError("the chat token lacks its lines or options")
    state = None
    if state_json is not None:
        if not isinstance(state_json, str):
            raise ChatTokenError("the chat token's state is not text")
        try:
            state = SessionState.from_json(state_json)
        except StateError as exc:
            raise ChatTokenError(f"the chat token's state: {exc}") from exc
    kinds = ("you", "bot", "effect", "safety", "error", "end")
    parsed: list[Line] = []
    for item in lines[-MAX_LINES:]:
        if (
            not isinstance(item, list)
            or len(item) != 4
            or item[0] not in kinds
            or not all(isinstance(x, str) for x in item)
        ):
            raise ChatTokenError("the chat token has a malformed line")
        parsed.append(Line(item[0], item[1], item[2], item[3]))
    shown: list[Option] = []
    for item in options:
        if not (
            isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)
        ):
            raise ChatTokenError("the chat token has a malformed option")
        shown.append(Option(item[0], item[1]))
    return Chat(flow, language, state, tuple(parsed), tuple(shown))
