"""What the engine does with a message that is not an answer: the FAQ, small talk and
the conversation's language (pure; the engine's hooks call these).

Why beside the engine: a family may ask "jam buka kantor?" at any question, thank
the bot, or ask for English; the answer is one or two sentences from faq.toml and
the question on screen is asked again, so the engine needs only to know whether
a message was such an aside. The language a conversation speaks is settled once,
by its first typed message that clearly says one (flows.understanding.language;
short or mixed text leaves it open), by a start link (`lang-en`, the
English web page), or by a switch ("english please", the welcome's language
question) at any time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flows import placeholders
from flows.exchange import Context, FlowError, Message
from flows.faq import FaqTopic
from flows.library import FlowLibrary
from flows.model import Choice, Value
from flows.state import SessionState
from flows.understanding.faq import read_faq
from flows.understanding.language import detect
from flows.understanding.layers import read_message
from flows.understanding.matcher import Reading

LANGUAGE_VAR = "language:chosen"
"""Set once the conversation's language is settled (by its first typed message): later
messages do not change it, only a switch does."""
START_LANGUAGE = "lang-"
"""A start parameter `lang-en` starts the conversation in English (the English web
page, a Telegram link `?start=lang-en`)."""


def first_language(
    library: FlowLibrary, variables: Mapping[str, Value], text: str, current: str
) -> str | None:
    """The language the first clear typed message settles; None while messages are too
    short or mixed to say ("halo", "ok", "2": someone who greets and then writes in
    English is answered in English), and once a language is settled."""
    if LANGUAGE_VAR in variables:
        return None
    found = detect(text)
    return found if found in library.languages else None


def start_language(library: FlowLibrary, param: str) -> str | None:
    """The language a start parameter asks for (`lang-en`), if it is one of the library's."""
    found = param.strip()[len(START_LANGUAGE) :] if param.strip().startswith(START_LANGUAGE) else ""
    return found if found in library.languages else None


def turn_language(
    library: FlowLibrary, state: SessionState | None, kind: str, text: str, default: str
) -> str:
    """The language a turn will end in as far as its first message decides it, so that
    the host gives the engine its context values (office hours) in that language."""
    language = state.language if state is not None else default
    if kind == "start":
        return start_language(library, text) or language
    if kind == "text":
        variables = dict(state.vars) if state is not None else {}
        return first_language(library, variables, text, language) or language
    return language


def read(library: FlowLibrary, text: str, choices: Sequence[Choice], *, yes_no: bool) -> Reading:
    """The answer a typed message gives at a question with `choices`; NOTHING when it is
    rather a question of the family's own that an FAQ topic explains better than any
    choice does (flows.understanding.layers), which the engine's aside then answers."""
    words = library.globals.words
    return read_message(text, choices, library.faq, words, yes_no=yes_no).reading


def topic(library: FlowLibrary, text: str, *, free_text: bool = False) -> FaqTopic | None:
    """The FAQ topic a message asks about (`free_text`: the bot asked for the family's
    own words, so only a short, plain question counts)."""
    return read_faq(text, library.faq, library.globals.words, free_text=free_text).topic


def answer(
    library: FlowLibrary, found: FaqTopic, language: str, ctx: Context, *, at_start: bool
) -> tuple[Message | FlowError, ...]:
    """The topic's answer in `language`; nothing at the start for one the welcome answers."""
    if at_start and found.said_by_welcome:
        return ()
    template = found.answer.get(language, library.languages[0])
    text, missing = placeholders.render(template, ctx.values.get)
    where = f"{library.faq.file}: topic '{found.id}' -> answer"
    errors = tuple(FlowError("missing_placeholder", f"{where}: placeholder '{n}'") for n in missing)
    return (*errors, Message(text))
