"""Who may do what: every admin command refused to a subscriber, chat admins in their chats.

The table covers every CommandInfo with ``admin=True`` across ``app.FEATURES``, so a command
added later is covered without touching this file (it gets the arguments of its example
unless ARGUMENTS gives better ones).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from bot.app import COMMANDS
from bot.feature import CommandInfo
from tests.cast import ADMIN, AUTONEWS, CHANNEL_ADMIN, GROUP, PLANTNEWS, READER
from tests.harness import BotHarness

SEED = "moscow-plant-reboot"
NEWCHAN = -1009
REFUSAL = "Sorry, only the bot's admins can do that."

# Realistic arguments: they name things that exist after `setup` (campaign 1, @newchan).
ARGUMENTS = {
    "post": f"{SEED}",
    "poll": f"{SEED} @plantnews",
    "newpoll": "Best car? | Lada | Moskvich | multi 2d",
    "close": "1",
    "export": "1",
    "digest": "@plantnews",
    "schedule": '"0 20 * * *" @plantnews Europe/Moscow',
    "unschedule": "1",
    "approve": "@newchan",
    "forget": "@autonews",
    "language": "@plantnews ru",
    "audit": "5",
}
ADMIN_COMMANDS = [c for c in COMMANDS if c.admin]


def arguments(command: CommandInfo) -> str:
    """The table's arguments, else those of the command's own example."""
    if command.name in ARGUMENTS:
        return ARGUMENTS[command.name]
    return command.example.partition(" ")[2]


def dump(bot: BotHarness) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, read through a separate read-only connection.

    The pump's update offset (state.update_offset) is left out: it moves with every batch
    by design and is not something a command changes.
    """
    uri = f"file:{bot.config.storage.path}?mode=ro"
    with sqlite3.connect(uri, uri=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        rows = {t: sorted(conn.execute(f'SELECT * FROM "{t}"'), key=repr) for t in tables}
    rows["state"] = [row for row in rows["state"] if row[0] != "update_offset"]
    return rows


LEDGER = ("sent", "outbox")  # a send's record and its intent


def assert_only_recorded(
    before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]], what: str
) -> None:
    """Nothing changed but the ledger rows (record and intent) of the ``what`` answers
    sent (so a replay sends none)."""
    for table in LEDGER:
        recorded = [row for row in after[table] if row not in before[table]]
        assert all(f":{what}:" in row[0] for row in recorded), recorded
    assert {**after, **{t: before[t] for t in LEDGER}} == before


def assert_only_refusals_recorded(
    before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]
) -> None:
    """Nothing changed but the ledger rows of the refusals sent (so a replay sends none)."""
    assert_only_recorded(before, after, "refusal")


def channel_messages(bot: BotHarness) -> dict[int, int]:
    return {chat: len(bot.messages(chat)) for chat in (PLANTNEWS, AUTONEWS, NEWCHAN)}


async def setup(bot: BotHarness) -> None:
    """A posted article (campaign 1 in two channels) and a chat waiting for approval."""
    await bot.say(ADMIN, f"/post {SEED}")
    bot.world.add_chat(NEWCHAN, "channel", "New", "newchan", bot_status="left")
    bot.world.bot_added(NEWCHAN, ADMIN)
    await bot.drain()


def test_the_table_covers_the_admin_commands() -> None:
    names = {c.name for c in ADMIN_COMMANDS}
    assert {"post", "channels", "approve", "forget", "language", "audit"} <= names
    assert set(ARGUMENTS) <= names  # no arguments kept for a renamed command


@pytest.mark.parametrize("command", ADMIN_COMMANDS, ids=lambda c: c.name)
async def test_a_subscriber_is_refused_every_admin_command(
    bot: BotHarness, command: CommandInfo
) -> None:
    await setup(bot)
    before, posted = dump(bot), channel_messages(bot)
    sent_before = len(bot.world.calls())
    texts = {f"/{command.name}", f"/{command.name} {arguments(command)}".strip()}

    for text in sorted(texts):
        private = await bot.say(READER, text)
        in_group = await bot.say(READER, text, chat_id=GROUP)

        assert [m["text"] for m in private] == [REFUSAL], text
        assert all(m.get("text") == REFUSAL for m in in_group), text

    assert_only_refusals_recorded(before, dump(bot))
    assert channel_messages(bot) == posted
    acting = {"sendPoll", "stopPoll", "sendDocument", "sendPhoto", "setMyCommands"}
    assert not [c for c in bot.world.calls()[sent_before:] if c["method"] in acting]
    poll = (await bot.store.polls_of(1))[0]
    assert not poll.is_closed


async def test_a_channel_admin_posts_to_their_channel_only(bot: BotHarness) -> None:
    (reply,) = await bot.say(CHANNEL_ADMIN, f"/post {SEED} @plantnews @autonews")

    assert "@plantnews: posted" in reply["text"]
    assert "@autonews: not posted" in reply["text"]
    assert len(bot.messages(PLANTNEWS)) == 2  # the article and its poll
    assert bot.messages(AUTONEWS) == []


@pytest.mark.parametrize(
    "text",
    [
        "/approve @plantnews",
        "/language @plantnews ru",
        "/channels",
        "/audit",
        "/forget @plantnews",
    ],
)
async def test_a_channel_admin_cannot_manage_the_bot(bot: BotHarness, text: str) -> None:
    before = dump(bot)

    (reply,) = await bot.say(CHANNEL_ADMIN, text)

    assert reply["text"] == REFUSAL
    assert_only_refusals_recorded(before, dump(bot))


async def test_a_channel_admin_closes_and_exports_only_polls_wholly_in_their_chats(
    bot: BotHarness,
) -> None:
    """Poll #1 runs in @plantnews (theirs) and @autonews (not theirs): /close and /export are
    refused and change nothing. A poll of their own, in @plantnews only, they may do both."""
    await bot.say(ADMIN, f"/post {SEED}")
    campaign = await bot.store.latest_campaign()
    assert campaign is not None
    spanning = campaign.id
    assert {p.chat_id for p in await bot.store.polls_of(spanning)} == {PLANTNEWS, AUTONEWS}
    first_call = len(bot.world.calls())

    (close,) = await bot.say(CHANNEL_ADMIN, f"/close {spanning}")
    (export,) = await bot.say(CHANNEL_ADMIN, f"/export {spanning}")

    assert close["text"] == f"Only the administrators of all its chats can close poll #{spanning}."
    assert export["text"] == (
        f"Only the administrators of all its chats can export poll #{spanning}."
    )
    assert not any(p.is_closed for p in await bot.store.polls_of(spanning))
    acting = {"stopPoll", "sendDocument"}
    assert not [c for c in bot.world.calls()[first_call:] if c["method"] in acting]

    await bot.say(CHANNEL_ADMIN, f"/post {SEED} @plantnews")
    own = await bot.store.latest_campaign()
    assert own is not None and own.id != spanning
    (csv_file,) = await bot.say(CHANNEL_ADMIN, f"/export {own.id}")
    await bot.say(CHANNEL_ADMIN, f"/close {own.id}")

    assert "document" in csv_file
    assert all(p.is_closed for p in await bot.store.polls_of(own.id))


ASK_IN_PRIVATE = "Ask me in a private chat."
SENDING = {"sendMessage", "sendPoll", "stopPoll", "sendDocument", "sendPhoto", "sendMediaGroup"}


async def _one_answer_in_the_group(bot: BotHarness, user_id: int, text: str) -> None:
    """``text`` typed in the group gets one short answer there with a link to the bot, and
    nothing else is sent anywhere or stored (but that answer's ledger row)."""
    before, calls = dump(bot), len(bot.world.calls())
    bot.new_messages(ADMIN)

    (answer,) = await bot.say(user_id, text, chat_id=GROUP)

    assert answer["text"].startswith(ASK_IN_PRIVATE), text
    [[button]] = answer["reply_markup"]["inline_keyboard"]
    assert button["url"] == f"https://t.me/{bot.application.bot.username}"
    sent = [c for c in bot.world.calls()[calls:] if c["method"] in SENDING]
    assert [c["params"]["chat_id"] for c in sent] == [GROUP], text
    assert bot.new_messages(ADMIN) == []
    assert_only_recorded(before, dump(bot), "ask-in-private")


@pytest.mark.parametrize("text", ["/export 1", "/audit", "/polls", "/digest", "/results 1"])
async def test_admin_output_typed_in_a_group_stays_private(bot: BotHarness, text: str) -> None:
    """Issue 12, finding 4: no CSV, audit log, poll list or digest lands in a group."""
    await setup(bot)
    await _one_answer_in_the_group(bot, ADMIN, text)


@pytest.mark.parametrize("command", ADMIN_COMMANDS, ids=lambda c: c.name)
async def test_every_admin_command_typed_in_a_group_asks_for_a_private_chat(
    bot: BotHarness, command: CommandInfo
) -> None:
    await setup(bot)
    await _one_answer_in_the_group(bot, ADMIN, f"/{command.name} {arguments(command)}".strip())


async def test_results_in_a_group_ask_everyone_for_a_private_chat(bot: BotHarness) -> None:
    await setup(bot)
    await _one_answer_in_the_group(bot, READER, "/results 1")
    await _one_answer_in_the_group(bot, READER, "/results")


async def test_a_digest_without_a_target_goes_to_the_admin(bot: BotHarness) -> None:
    await setup(bot)
    posted = channel_messages(bot)
    await bot.say(ADMIN, "/digest")
    assert any(
        "Which lineup" in m.get("text", m.get("caption", "")) for m in bot.bot_messages(ADMIN)
    )
    assert channel_messages(bot) == posted and bot.bot_messages(GROUP) == []
