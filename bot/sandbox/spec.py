"""The Bot API spec as data (botapi.json): parameter decoding and object conformance checks."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files
from typing import Any

from bot.sandbox.errors import bad_request

SPEC_FILE = "botapi.json"  # package data of bot.sandbox (pyproject.toml ships it)
_ARRAY = "Array of "
_SCALARS = frozenset({"Integer", "String", "Boolean", "Float", "True", "InputFile"})
_ALWAYS = re.compile(r'always "([^"]+)"')


@cache
def spec() -> dict[str, Any]:
    """The parsed botapi.json (loaded once)."""
    text = files("bot.sandbox").joinpath(SPEC_FILE).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def method_params(method: str) -> dict[str, list[str]]:
    """Parameter name -> accepted types for a method (name as in the spec, e.g. sendPoll)."""
    fields = spec()["methods"][method].get("fields", [])
    return {f["name"]: list(f["types"]) for f in fields}


@cache
def required_params(method: str) -> tuple[str, ...]:
    """Names of the parameters the spec marks required, in spec order."""
    fields = spec()["methods"][method].get("fields", [])
    return tuple(f["name"] for f in fields if f["required"])


@cache
def canonical_methods() -> dict[str, str]:
    """Lower-cased method name -> spec spelling (Telegram matches names case-insensitively)."""
    return {name.lower(): name for name in spec()["methods"]}


@cache
def type_fields(type_name: str) -> tuple[str, ...]:
    """Field names a Bot API type defines (empty for abstract or unknown types)."""
    return tuple(f["name"] for f in spec()["types"].get(type_name, {}).get("fields", []))


def _parse_bool(name: str, raw: str) -> bool:
    low = raw.strip().lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0", ""):
        return False
    raise bad_request(f"can't parse {name} as Boolean")


def decode_param(name: str, types: list[str], raw: Any) -> Any:
    """Decode one request parameter by its spec types.

    PTB sends string parameters raw and JSON-dumps all others, so a String stays a
    string ("123" stays "123") while Integer/Boolean/objects are parsed. Values that
    arrive already typed (application/json bodies) are kept unless they are strings.
    """
    if not isinstance(raw, str):
        return raw
    if types == ["String"] or "InputFile" in types:
        return raw
    if "Integer" in types:
        try:
            return int(raw)
        except ValueError:
            if "String" in types:
                return raw
            raise bad_request(f"can't parse {name} as Integer") from None
    if types == ["Float"]:
        try:
            return float(raw)
        except ValueError:
            raise bad_request(f"can't parse {name} as Float") from None
    if types in (["Boolean"], ["True"]):
        return _parse_bool(name, raw)
    if "String" in types and not raw.lstrip().startswith(("{", "[")):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        raise bad_request(f"can't parse {name} JSON object") from None


def _check_scalar(type_name: str, value: Any) -> bool:
    if type_name == "Integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "Float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name in ("String", "InputFile"):
        return isinstance(value, str)
    if type_name == "Boolean":
        return isinstance(value, bool)
    return value is True  # "True"


def check_object(type_name: str, value: Any, path: str = "$") -> list[str]:
    """Problems of `value` as an instance of Bot API type `type_name` (empty when it conforms).

    Checks recursively that required fields are present, that no field is unknown to the
    type, and that each field has one of its spec types. Abstract types (ChatMember,
    MaybeInaccessibleMessage, ...) conform when one of their subtypes does.
    """
    if type_name.startswith(_ARRAY):
        if not isinstance(value, list):
            return [f"{path}: expected {type_name}, got {type(value).__name__}"]
        inner = type_name[len(_ARRAY) :]
        problems: list[str] = []
        for index, item in enumerate(value):
            problems.extend(check_object(inner, item, f"{path}[{index}]"))
        return problems
    if type_name in _SCALARS:
        if _check_scalar(type_name, value):
            return []
        return [f"{path}: expected {type_name}, got {value!r:.60}"]
    definition = spec()["types"].get(type_name)
    if definition is None:
        return [f"{path}: unknown type {type_name}"]
    if "subtypes" in definition and not definition.get("fields"):
        return _check_union(list(definition["subtypes"]), value, path)
    if not isinstance(value, dict):
        return [f"{path}: expected {type_name} object, got {type(value).__name__}"]
    problems = []
    fields = {f["name"]: f for f in definition.get("fields", [])}
    for name, field in fields.items():
        if field["required"] and name not in value:
            problems.append(f"{path}: {type_name} lacks required field {name!r}")
    for name, field in fields.items():
        fixed = _ALWAYS.search(field["description"])
        if fixed and name in value and value[name] != fixed.group(1):
            problems.append(f"{path}.{name}: {type_name} needs {fixed.group(1)!r}")
    for name, item in value.items():
        field = fields.get(name)
        if field is None:
            problems.append(f"{path}: {type_name} has no field {name!r}")
            continue
        problems.extend(_check_union(list(field["types"]), item, f"{path}.{name}"))
    return problems


def _check_union(types: list[str], value: Any, path: str) -> list[str]:
    best: list[str] | None = None
    for candidate in types:
        problems = check_object(candidate, value, path)
        if not problems:
            return []
        if best is None or len(problems) < len(best):
            best = problems
    return best or [f"{path}: no type to check against"]
