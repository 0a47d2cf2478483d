"""Router tests by name: `equals`, `one_of`, `at_least`, `at_most`, `has_text`, `has_keyword`.

Each test registers itself with an argument check (used by the loader) and an
evaluation (used by the engine), so the two can never disagree about a name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flows.matching import normalize
from flows.model import ArgValue, Value


@dataclass(frozen=True, slots=True)
class RouterTest:
    name: str
    check_arg: Callable[[ArgValue], str | None]  # None when the argument is fine, else why not
    evaluate: Callable[[Value | None, ArgValue], bool]


TESTS: dict[str, RouterTest] = {}


def register(test: RouterTest) -> RouterTest:
    TESTS[test.name] = test
    return test


def _as_number(value: Value | None) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    text = value.strip()
    if text.lstrip("+-").isdigit():
        return int(text)
    return None


def _same(value: Value | None, arg: str | int | bool) -> bool:
    if value is None:
        return False
    return str(value).strip().casefold() == str(arg).strip().casefold()


def _scalar_arg(arg: ArgValue) -> str | None:
    if arg is None or isinstance(arg, tuple):
        return "needs one value (text, number or true/false) as arg"
    return None


def _list_arg(arg: ArgValue) -> str | None:
    if not isinstance(arg, tuple) or not arg:
        return "needs a non-empty array as arg"
    return None


def _number_arg(arg: ArgValue) -> str | None:
    if isinstance(arg, bool) or not isinstance(arg, int):
        return "needs a whole number as arg"
    return None


def _no_arg(arg: ArgValue) -> str | None:
    return None if arg is None else "takes no arg"


def _keyword_arg(arg: ArgValue) -> str | None:
    if not isinstance(arg, tuple) or not arg or not all(isinstance(a, str) for a in arg):
        return "needs a non-empty array of words as arg"
    return None


def _equals(value: Value | None, arg: ArgValue) -> bool:
    return not isinstance(arg, tuple) and arg is not None and _same(value, arg)


def _one_of(value: Value | None, arg: ArgValue) -> bool:
    return isinstance(arg, tuple) and any(_same(value, a) for a in arg)


def _at_least(value: Value | None, arg: ArgValue) -> bool:
    number = _as_number(value)
    return number is not None and isinstance(arg, int) and number >= arg


def _at_most(value: Value | None, arg: ArgValue) -> bool:
    number = _as_number(value)
    return number is not None and isinstance(arg, int) and number <= arg


def _has_text(value: Value | None, arg: ArgValue) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _has_keyword(value: Value | None, arg: ArgValue) -> bool:
    if not isinstance(value, str) or not isinstance(arg, tuple):
        return False
    padded = f" {normalize(value)} "
    return any(f" {normalize(str(word))} " in padded for word in arg if normalize(str(word)))


register(RouterTest("equals", _scalar_arg, _equals))
register(RouterTest("one_of", _list_arg, _one_of))
register(RouterTest("at_least", _number_arg, _at_least))
register(RouterTest("at_most", _number_arg, _at_most))
register(RouterTest("has_text", _no_arg, _has_text))
register(RouterTest("has_keyword", _keyword_arg, _has_keyword))
