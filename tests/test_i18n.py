"""The message catalogue: every msgid in bot/ has a Russian translation that fits it.

Msgids are extracted with Babel the way a translator's tool would (keywords ``_``, ``N_``,
``translate`` with the msgid as its 2nd argument, ``ngettext``). Each source file and each
.po file is its own test case, so a failure names the file to fix and lists every entry.
"""

from __future__ import annotations

import string
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.texts import LOCALES_DIR, gettext_for

BOT = Path(__file__).resolve().parent.parent / "bot"
KEYWORDS = {"_": None, "N_": None, "translate": (2,), "ngettext": (1, 2)}
METHODS = [("sandbox/**.py", "ignore"), ("**.py", "python")]  # the emulator is not the bot
RU_FILES = sorted((LOCALES_DIR / "ru" / "LC_MESSAGES").glob("*.po"))


def _extracted() -> dict[str, list[tuple[str, int]]]:
    """msgid -> where it is used (file relative to bot/, line)."""
    found: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for filename, line, message, _comments, _context in extract_from_dir(
        BOT, METHODS, keywords=KEYWORDS
    ):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                found[msgid].append((filename, line))
    return dict(found)


USED = _extracted()
SOURCES = sorted({filename for places in USED.values() for filename, _line in places})


def _entries(path: Path) -> Iterator[Message]:
    with path.open("rb") as handle:
        for entry in read_po(handle, locale="ru"):
            if entry.id:
                yield entry


def merged_russian() -> dict[str, str]:
    """msgid -> translation, merged over every ru .po file as bot/texts.py merges them."""
    merged: dict[str, str] = {}
    for po in RU_FILES:
        # bot/texts.py skips plural entries too: an ngettext msgid shows up as missing
        merged.update(
            {
                e.id: e.string
                for e in _entries(po)
                if isinstance(e.id, str) and isinstance(e.string, str) and e.string and not e.fuzzy
            }
        )
    return merged


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a str.format template."""
    try:
        return {
            field
            for _lit, field, _spec, _conv in string.Formatter().parse(text)
            if field is not None
        }
    except ValueError as exc:  # unbalanced braces: report them as a field of their own
        return {f"<bad braces: {exc}>"}


def _unused(msgid: str) -> str:
    """Why a .po entry matches no extracted msgid: obsolete, or hidden from Babel."""
    calls = (f"_({msgid!r}", f'_("{msgid}"')
    for path in sorted(BOT.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(call in line for call in calls):
                where = path.relative_to(BOT.parent)
                return (
                    f"used at {where}:{number} where Babel cannot extract it (inside an f-string?)"
                )
    return "obsolete (no longer used in bot/)"


def test_msgids_are_found_and_translated_at_run_time() -> None:
    refusal = "Sorry, only the bot's admins can do that."
    assert refusal in USED
    assert gettext_for("ru")(refusal) == merged_russian()[refusal] != refusal
    assert {"admin/commands.py", "app.py", "admin/chats.py", "admin/auth.py"} <= set(SOURCES)


@pytest.mark.parametrize("source", SOURCES)
def test_every_msgid_has_a_russian_translation_with_the_same_placeholders(
    source: str,
) -> None:
    russian_of = merged_russian()
    missing: list[str] = []
    mismatched: list[str] = []
    for msgid, places in sorted(USED.items()):
        lines = sorted(line for filename, line in places if filename == source)
        if not lines:
            continue
        where = f"bot/{source}:{lines[0]}"
        russian = russian_of.get(msgid, "")
        if not russian.strip():
            missing.append(f"{where}: {msgid!r}")
        elif placeholders(russian) != placeholders(msgid):
            mismatched.append(f"{where}: {msgid!r} -> {russian!r}")
    problems = [f"no Russian translation: {m}" for m in missing]
    problems += [f"placeholders differ: {m}" for m in mismatched]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("po", RU_FILES, ids=lambda path: path.name)
def test_no_po_entry_is_obsolete_or_conflicting(po: Path) -> None:
    others = {
        entry.id: (other.name, entry.string)
        for other in RU_FILES
        if other != po
        for entry in _entries(other)
    }
    problems: list[str] = []
    for entry in _entries(po):
        where = f"{po.name}:{entry.lineno}"
        msgid = entry.id if isinstance(entry.id, str) else entry.id[0]
        if msgid not in USED:
            problems.append(f"{where}: {_unused(msgid)}: {msgid!r}")
        elif not entry.string or entry.fuzzy:
            problems.append(f"{where}: empty or fuzzy translation: {entry.id!r}")
        elif entry.id in others and others[entry.id][1] != entry.string:
            name, string_there = others[entry.id]
            problems.append(
                f"{where}: translated differently in {name}: {entry.id!r}: "
                f"{entry.string!r} here, {string_there!r} there"
            )
    assert not problems, "\n".join(problems)
