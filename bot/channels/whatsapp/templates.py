"""A reply inside the window as Twilio messages: Body parts with numbered choices, or the
office's quick-reply and list-picker content templates."""

from __future__ import annotations

from bot.channels.base import numbered_list
from bot.channels.textparts import split_text
from bot.channels.whatsapp.protocol import (
    MAX_BUTTON_TITLE,
    MAX_CHOICE_ID,
    MAX_LIST_ITEM,
    MAX_QUICK_REPLIES,
    MAX_TEMPLATE_BODY,
    MAX_TEXT,
    Part,
)
from bot.config import WhatsAppTemplates

__all__ = ["session_parts"]


def session_parts(
    text: str,
    options: tuple[tuple[str, str], ...],
    templates: WhatsAppTemplates,
    chooser: str = "",
) -> list[Part]:
    """A reply inside the window as Twilio messages: Body parts of at most 1600 characters,
    the choices numbered under the last, or in the office's template for that many choices.

    A template's variables: {{1}} the words, then each choice's label and value
    ({{2}} and {{3}}, {{4}} and {{5}}, ...), and {{22}} the list-picker button.
    """
    template = templates.choice_template(len(options)) if options else ""
    if template and _fits_template(options):
        parts = split_text(text, MAX_TEXT) or ["…"]
        if len(parts[-1]) <= MAX_TEMPLATE_BODY:
            variables = [("1", parts[-1])]
            for index, (value, label) in enumerate(options, start=1):
                variables += [(str(2 * index), label), (str(2 * index + 1), value)]
            if chooser:
                variables.append(("22", chooser))
            head = [Part(body=p) for p in parts[:-1]]
            return [*head, Part(content_sid=template, variables=tuple(variables))]
    reserve = len(numbered_list("", options)) if options else 0
    parts = split_text(text, MAX_TEXT - reserve) or ["…"]
    parts[-1] = numbered_list(parts[-1], options)
    return [Part(body=p) for p in parts]


def _fits_template(options: tuple[tuple[str, str], ...]) -> bool:
    limit = MAX_BUTTON_TITLE if len(options) <= MAX_QUICK_REPLIES else MAX_LIST_ITEM
    return len(options) <= 10 and all(
        0 < len(value) <= MAX_CHOICE_ID and 0 < len(label) <= limit for value, label in options
    )
