"""A refusal in the words of the person who caused it: a console page's language, or
Indonesian then English on the command line an office admin types.

The errors carry a text key of `texts.toml` and its values (`bot.errors.words_of`);
their English `str()` is for logs and developers and never reaches a page.
"""

from __future__ import annotations

import functools

from bot.console.i18n import LANGUAGES, ConsoleTexts
from bot.errors import OfficeError, words_of

__all__ = ["no_staff", "said", "terminal_lines"]


@functools.cache
def _texts() -> ConsoleTexts:
    return ConsoleTexts.load()


def said(exc: BaseException, lang: str, texts: ConsoleTexts | None = None) -> str:
    """What `exc` refused, in `lang`."""
    key, values = words_of(exc)
    return (texts or _texts()).get(key, lang, **values)


def terminal_lines(exc: BaseException, texts: ConsoleTexts | None = None) -> str:
    """For `lk3` commands: `lk3: ` and the Indonesian words, then the English below them."""
    first, *others = (said(exc, lang, texts) for lang in LANGUAGES)
    return "\n".join([f"lk3: {first}", *(f"     {line}" for line in others if line != first)])


def no_office(code: str) -> str:
    """`lk3 …` named an office code that no office has."""
    refusal = OfficeError(f"no office with code {code!r}", "problem_no_office", code=code)
    return terminal_lines(refusal)


def no_staff(username: str) -> str:
    """`lk3 …` named a username that no active staff member has."""
    refusal = OfficeError(
        f"no active staff member {username!r}", "problem_no_staff", username=username
    )
    return terminal_lines(refusal)
