"""Reading input: msgspec checks the shape of files, one error type says what is wrong,
and one parser reads the numbers typed in commands (``parse_number``).

Config files, article files and the ``[poll]`` tables in them are parsed with tomllib and
converted with ``shaped`` into ``msgspec.Struct`` types that forbid unknown keys. A value
of the wrong shape becomes an ``Invalid`` error of one line, "file: key: problem", with the
key written as in the file (``bot.admins``). Rules between fields stay in the code of each
file's reader, which raises the same ``Invalid`` (or a subclass naming the kind of file).
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import msgspec

T = TypeVar("T")
MAX_NUMBER = 2**63 - 1  # a signed 64-bit integer: what Telegram's ids and SQLite hold
_NUMBER = re.compile(r"[0-9]{1,19}")  # ASCII digits only: not "²", "①" or "٣"

_AT = re.compile(r"^(?P<problem>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_STEP = re.compile(r"\.([A-Za-z0-9_-]+)|\[(\d+|\.\.\.)\]")
_UNKNOWN = re.compile(r"^Object contains unknown field `(.+)`$")
_MISSING = re.compile(r"^Object missing required field `(.+)`$")
_EXPECTED = re.compile(r"^Expected `([^`]+)`(?:, got `([^`]+)`)?(.*)$")
_TYPE_NAMES = {
    "int": "an integer",
    "str": "a string",
    "bool": "true or false",
    "float": "a number",
    "array": "a list",
    "object": "a table",
    "datetime": "a date and time",
    "date": "a date",
    "time": "a time of day",
}


def parse_number(text: str, *, marks: str = "") -> int | None:
    """A whole number typed in a command (an id, a count): ASCII digits only, within a
    signed 64-bit integer; ``marks`` may lead it ("#12"). None for anything else, so that
    no handler meets a number it cannot store or a digit ``int`` reads but Telegram not."""
    body = text.lstrip(marks) if marks else text
    if not _NUMBER.fullmatch(body):
        return None
    value = int(body)
    return value if value <= MAX_NUMBER else None


class Invalid(ValueError):
    """Input that cannot be used, as one line: which file, which key, what is wrong."""

    def __init__(self, message: str, *, path: str = "", field: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.field = field
        self.message = " ".join(message.split())  # always one line

    def __str__(self) -> str:
        return ": ".join(part for part in (self.path, self.field, self.message) if part)


def shaped(
    data: Mapping[str, Any],
    kind: type[T],
    *,
    path: str = "",
    prefix: str = "",
    error: type[Invalid] = Invalid,
    dec_hook: Callable[[type, Any], Any] | None = None,
) -> T:
    """``data`` (a parsed TOML table) as ``kind``, or ``error`` naming the first bad key.

    ``path`` is the file, ``prefix`` the key of ``data`` itself in it (``poll`` for a
    ``[poll]`` table); ``dec_hook`` builds the types msgspec does not know (a Path).
    """
    try:
        return msgspec.convert(data, kind, dec_hook=dec_hook)
    except msgspec.ValidationError as exc:
        field, message = explain(str(exc), kind)
        where = ".".join(part for part in (prefix, field) if part)
        raise error(message, path=path, field=where) from None


def explain(text: str, kind: type[Any]) -> tuple[str, str]:
    """msgspec's "Expected `int`, got `str` - at `$.bot.admins[0]`" as a key and a problem:
    ("bot.admins", "item 1 must be an integer, got a string")."""
    found = _AT.match(text)
    problem, path = (found["problem"], found["path"] or "") if found else (text, "")
    names: list[str] = []
    item = ""
    for name, index in _STEP.findall(path):
        if name:
            names.append(name)
            item = ""
        elif index != "...":
            item = f"item {int(index) + 1} "
    if unknown := _UNKNOWN.match(problem):
        known = ", ".join(_field_names(_struct_at(kind, names)))
        return _key(*names, unknown[1]), f"unknown key {unknown[1]!r}; known keys: {known}"
    if missing := _MISSING.match(problem):
        inner = _struct_at(kind, [*names, missing[1]])
        if inner is not None and not names:
            return f"[{missing[1]}]", "section is missing"
        return _key(*names, missing[1]), "missing"
    if expected := _EXPECTED.match(problem):
        want, got, rest = expected.groups()
        what = f"must be {_type_name(want)}{rest}"
        return _key(*names), item + what + (f", got {_type_name(got)}" if got else "")
    return _key(*names), item + problem


def _key(*names: str) -> str:
    return ".".join(names)


def _type_name(spec: str) -> str:
    """msgspec's "int | str | null" as "an integer or a string" (null means "left out")."""
    kinds = [k for k in spec.split(" | ") if k != "null"] or ["nothing"]
    return " or ".join(_TYPE_NAMES.get(k, k) for k in kinds)


def _struct_at(kind: Any, names: list[str]) -> type[msgspec.Struct] | None:
    """The Struct type found at ``names`` below ``kind`` (None where there is none)."""
    current: Any = kind
    for name in names:
        current = _struct_of(current)
        if current is None:
            return None
        hints = typing.get_type_hints(current)
        if name not in hints:
            return None
        current = hints[name]
    return _struct_of(current)


def _struct_of(kind: Any) -> type[msgspec.Struct] | None:
    """``kind`` itself, or the Struct inside an Optional or a dict of Structs."""
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
        return kind
    for arg in reversed(typing.get_args(kind)):
        found = _struct_of(arg)
        if found is not None:
            return found
    return None


def _field_names(kind: type[msgspec.Struct] | None) -> list[str]:
    if kind is None:
        return []
    return sorted(field.encode_name for field in msgspec.structs.fields(kind))
