"""The message catalogues, extracted, translated and compiled as the README tells a translator.

The tests run the README's own ``pybabel extract`` (into a temporary file) and check, in turn:
the committed template holds exactly the msgids the code uses, every catalogue was updated
from it, every msgid has a Russian translation with the same placeholders (all three forms
for a plural), and each committed ``.mo`` is what ``pybabel compile`` makes of its ``.po``.
"""

from __future__ import annotations

import ast
import contextlib
import io
import string
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from bot.texts import (
    DOMAIN,
    LOCALES_DIR,
    SUPPORTED_LANGUAGES,
    gettext_for,
    ngettext_for,
    translate_plural,
)

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
POT = LOCALES_DIR / f"{DOMAIN}.pot"
# The README's "For translators" commands, run from the repository root.
EXTRACT = (
    "pybabel extract -F babel.cfg -k translate:2 -k translate_plural:2,3 --add-location file"
    " --project pollbot -o bot/locales/messages.pot bot"
)
UPDATE = "pybabel update -i bot/locales/messages.pot -d bot/locales"
COMPILE = "pybabel compile -d bot/locales --statistics"
# The functions whose argument at this position is a msgid (translate(language, msgid, ...)).
MSGID_ARGUMENTS = {"_": (0,), "N_": (0,), "ngettext": (0, 1), "translate": (1,)}
MSGID_ARGUMENTS["translate_plural"] = (1, 2)
CATALOGUES = {language: LOCALES_DIR / language / "LC_MESSAGES" for language in SUPPORTED_LANGUAGES}

MsgId = str | tuple[str, ...]


def _read_po(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def _extract() -> Catalog:
    """The template the README's extract command makes of the code as it is now."""
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "messages.pot"
        argv = EXTRACT.replace("bot/locales/messages.pot", str(output)).split()
        argv.insert(1, "--quiet")
        with contextlib.chdir(ROOT):
            CommandLineInterface().run(argv)
        return _read_po(output)


def _entries(catalog: Catalog) -> Iterator[Message]:
    return (message for message in catalog if message.id)


EXTRACTED = _extract()
SOURCES = sorted({filename for m in _entries(EXTRACTED) for filename, _line in m.locations})


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


def _russian_problem(message: Message, russian: Message | None) -> str | None:
    """What is wrong with the Russian translation of an extracted message, if anything."""
    if russian is None or russian.fuzzy:
        return "no Russian translation" if russian is None else "fuzzy Russian translation"
    if isinstance(message.id, str):
        if not isinstance(russian.string, str) or not russian.string.strip():
            return "no Russian translation"
        if placeholders(russian.string) != placeholders(message.id):
            return f"placeholders differ: {russian.string!r}"
        return None
    forms = russian.string if isinstance(russian.string, tuple) else (russian.string,)
    if len(forms) != 3 or not all(form.strip() for form in forms):
        return f"a plural needs 3 Russian forms (1, 2, 5), not {forms!r}"
    wrong = [form for form in forms if placeholders(form) != placeholders(message.id[1])]
    return f"placeholders differ: {wrong!r}" if wrong else None


def test_the_readme_gives_the_commands_these_tests_check() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [c for c in (EXTRACT, UPDATE, COMPILE) if c not in readme] == []


def test_the_template_holds_exactly_the_msgids_of_the_code() -> None:
    fresh = {m.id for m in _entries(EXTRACTED)}
    committed = {m.id for m in _entries(_read_po(POT))}
    assert (sorted(map(str, fresh - committed)), sorted(map(str, committed - fresh))) == (
        [],
        [],
    ), f"new msgids, then msgids no longer used: run `{EXTRACT}` and `{UPDATE}`"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_each_catalogue_was_updated_from_the_template(language: str) -> None:
    template = {m.id for m in _entries(_read_po(POT))}
    catalogue = {m.id for m in _entries(_read_po(CATALOGUES[language] / f"{DOMAIN}.po"))}
    assert (sorted(map(str, template - catalogue)), sorted(map(str, catalogue - template))) == (
        [],
        [],
    ), f"missing, then obsolete entries: run `{UPDATE}`"


@pytest.mark.parametrize("source", SOURCES)
def test_every_msgid_has_a_russian_translation_with_the_same_placeholders(
    source: str,
) -> None:
    russian = _read_po(CATALOGUES["ru"] / f"{DOMAIN}.po", "ru")
    assert russian.num_plurals == 3
    problems = [
        f"{source}: {problem}: {message.id!r}"
        for message in _entries(EXTRACTED)
        if source in (filename for filename, _line in message.locations)
        if (problem := _russian_problem(message, russian.get(message.id))) is not None
    ]
    assert not problems, "\n".join(problems)


def _compiled(catalog: Catalog) -> dict[MsgId, MsgId]:
    """msgid -> translation (a tuple of forms for a plural) of a catalogue read from a .mo."""

    def plain(text: str | list[str] | tuple[str, ...]) -> MsgId:
        return text if isinstance(text, str) else tuple(text)

    return {plain(m.id): plain(m.string) for m in catalog if m.id}


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_the_committed_mo_is_compiled_from_the_po(language: str) -> None:
    directory = CATALOGUES[language]
    buffer = io.BytesIO()
    write_mo(buffer, _read_po(directory / f"{DOMAIN}.po", language))  # as pybabel compile does
    buffer.seek(0)
    with (directory / f"{DOMAIN}.mo").open("rb") as handle:
        committed = read_mo(handle)
    fresh = read_mo(buffer)
    assert committed.plural_forms == fresh.plural_forms
    assert _compiled(committed) == _compiled(fresh), f"stale .mo: run `{COMPILE}`"


def test_texts_come_from_the_compiled_catalogue() -> None:
    refusal = "Sorry, only the bot's admins can do that."
    russian = _read_po(CATALOGUES["ru"] / f"{DOMAIN}.po", "ru")[refusal]
    assert russian is not None
    assert gettext_for("ru")(refusal) == russian.string != refusal
    assert gettext_for("en")(refusal) == gettext_for("de-AT")(refusal) == refusal
    assert {"admin/commands.py", "app.py", "admin/chats.py", "admin/auth.py"} <= {
        source.removeprefix("bot/") for source in SOURCES
    }


@pytest.mark.parametrize(
    ("n", "english", "russian"),
    [
        (1, "1 voter", "1 голос"),
        (2, "2 voters", "2 голоса"),
        (5, "5 voters", "5 голосов"),
        (11, "11 voters", "11 голосов"),
        (14, "14 voters", "14 голосов"),
        (21, "21 voters", "21 голос"),
        (22, "22 voters", "22 голоса"),
        (0, "0 voters", "0 голосов"),
    ],
)
def test_a_count_agrees_with_its_noun(n: int, english: str, russian: str) -> None:
    assert translate_plural("en", "{n} voter", "{n} voters", n) == english
    assert translate_plural("ru", "{n} voter", "{n} voters", n) == russian
    chat = ngettext_for("ru")("{chat}: {n} voter", "{chat}: {n} voters", n)
    assert chat.format(chat="Chat", n=n) == f"Chat: {russian}"


def _hidden_msgids(path: Path) -> Iterator[str]:
    """Calls whose msgid Babel cannot extract: an f-string, a concatenation, a method call."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        for position in MSGID_ARGUMENTS.get(node.func.id, ()):
            argument = node.args[position] if position < len(node.args) else None
            if isinstance(argument, ast.JoinedStr | ast.BinOp) or (
                isinstance(argument, ast.Call) and isinstance(argument.func, ast.Attribute)
            ):
                yield f"bot/{path.relative_to(BOT)}:{node.lineno}: {node.func.id}(...)"


def test_no_msgid_is_hidden_from_extraction() -> None:
    sources = sorted(p for p in BOT.rglob("*.py") if "sandbox" not in p.relative_to(BOT).parts)
    assert [hidden for path in sources for hidden in _hidden_msgids(path)] == []
