"""Preview, then publish: /post, /poll and /newpoll show a draft with Publish / Cancel.

The bot runs with ``[bot] preview = true`` here (the harness turns it off for the other
tests). Presses are callback queries through the same pump as every other update.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.polls import newpoll
from bot.polls.preview import moment
from bot.sandbox import Sandbox
from storage.clock import ManualClock
from tests.cast import ADMIN, ADMIN_RU, AUTONEWS, GROUP, PLANTNEWS, READER
from tests.harness import BotHarness, bot_harness

SEED = "moscow-plant-reboot"
SEED_QUESTION = "Which lineup should the reborn Moscow plant build?"


@pytest.fixture
async def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC))


@pytest.fixture
async def bot(sandbox: Sandbox, tmp_path: Path, clock: ManualClock) -> AsyncIterator[BotHarness]:
    async with bot_harness(sandbox, tmp_path, clock=clock, preview=True) as harness:
        yield harness


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """Label -> callback data of a message's inline buttons."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row if "callback_data" in b}


def press(bot: BotHarness, user_id: int, message: dict[str, Any], label: str) -> None:
    """A user taps a button of a message (the update waits until the bot drains)."""
    data = buttons(message)[label]
    bot.world.press(user_id, message["chat"]["id"], message["message_id"], data)


def channel_messages(bot: BotHarness) -> list[dict[str, Any]]:
    return [m for chat in (PLANTNEWS, AUTONEWS, GROUP) for m in bot.bot_messages(chat)]


def current(bot: BotHarness, message: dict[str, Any]) -> dict[str, Any]:
    """A message as its chat shows it now (after edits)."""
    chat = message["chat"]["id"]
    (found,) = [m for m in bot.messages(chat) if m["message_id"] == message["message_id"]]
    return found


async def test_post_shows_a_preview_and_sends_nothing_until_publish(bot: BotHarness) -> None:
    shown = await bot.say(ADMIN, f"/post {SEED} @plantnews @autonews")

    assert channel_messages(bot) == []
    assert bot.world.calls("sendPoll") == []
    where = shown[-1]
    assert set(buttons(where)) == {"Publish", "Schedule", "Cancel"}
    for name, chat_id in (
        ("Plant News (@plantnews)", PLANTNEWS),
        ("Auto News (@autonews)", AUTONEWS),
    ):
        assert f"{name}, id {chat_id}" in where["text"]
    assert "already sent" not in where["text"]
    poll = next(m for m in shown if m["text"].startswith("Poll: "))
    assert SEED_QUESTION in poll["text"] and "1. " in poll["text"]
    assert "anonymous" in poll["text"] and "no close time" in poll["text"]

    press(bot, ADMIN, where, "Publish")
    await bot.drain()

    preview_parts = [m for m in shown[1:] if m is not poll and m is not where]
    for channel in (PLANTNEWS, AUTONEWS):
        sent = bot.bot_messages(channel)
        parts = [m for m in sent if "text" in m]
        assert [m["sandbox"]["html"] for m in parts] == [
            m["sandbox"]["html"] for m in preview_parts
        ]  # the post as the preview showed it
        assert [m["poll"]["question"] for m in sent if "poll" in m] == [SEED_QUESTION]
    (answer,) = bot.world.callback_answers()
    assert answer["user_id"] == ADMIN and "published" in answer["text"]
    marked = current(bot, where)
    assert buttons(marked) == {} and "published" in marked["text"]
    report = bot.bot_messages(ADMIN)[-1]
    assert "@plantnews: posted" in report["text"] and "@autonews: posted" in report["text"]


async def test_cancel_sends_nothing(bot: BotHarness) -> None:
    shown = await bot.say(ADMIN, f"/post {SEED} @plantnews")

    press(bot, ADMIN, shown[-1], "Cancel")
    await bot.drain()

    assert channel_messages(bot) == []
    assert bot.world.calls("sendPoll") == []
    (answer,) = bot.world.callback_answers()
    assert "cancelled" in answer["text"]
    marked = current(bot, shown[-1])
    assert buttons(marked) == {} and "cancelled" in marked["text"]
    assert len(bot.bot_messages(ADMIN)) == len(shown)  # no report


async def test_two_presses_publish_once(bot: BotHarness) -> None:
    shown = await bot.say(ADMIN, f"/post {SEED} @plantnews @autonews")
    press(bot, ADMIN, shown[-1], "Publish")
    press(bot, ADMIN, shown[-1], "Publish")  # a double tap: both wait for the bot

    await bot.drain()

    for channel in (PLANTNEWS, AUTONEWS):
        sent = bot.bot_messages(channel)
        assert len([m for m in sent if "poll" in m]) == 1
        assert len([m for m in sent if "text" in m]) == len(shown) - 3  # head, poll, where
    assert len(await bot.store.posts_of(SEED)) == 2
    assert len(bot.world.callback_answers()) == 2  # every press is answered
    assert len(bot.bot_messages(ADMIN)) == len(shown) + 1  # one report


async def test_a_press_after_a_failed_publish_finishes_it_without_repeating(
    bot: BotHarness,
) -> None:
    shown = await bot.say(ADMIN, f"/post {SEED} @plantnews @autonews")
    bot.world.fault("500", method="sendMessage", chat_id=ADMIN, times=1)
    press(bot, ADMIN, shown[-1], "Publish")
    await bot.drain()  # everything went out but the report: the update failed
    sent_before = {chat: len(bot.bot_messages(chat)) for chat in (PLANTNEWS, AUTONEWS)}
    assert all(sent_before.values())
    assert buttons(current(bot, shown[-1]))  # still there: it was not finished

    press(bot, ADMIN, shown[-1], "Publish")
    await bot.drain()

    assert {chat: len(bot.bot_messages(chat)) for chat in (PLANTNEWS, AUTONEWS)} == sent_before
    assert len(await bot.store.posts_of(SEED)) == 2
    assert "@plantnews: posted" in bot.bot_messages(ADMIN)[-1]["text"]
    assert buttons(current(bot, shown[-1])) == {}


async def test_an_article_posted_before_to_a_chat_is_named_with_when(
    bot: BotHarness, clock: ManualClock
) -> None:
    await bot.say(ADMIN, f"/post {SEED} @plantnews now")
    (post,) = await bot.store.posts_of(SEED)
    clock.advance(3600)

    shown = await bot.say(ADMIN, f"/post {SEED} @plantnews @autonews")

    when = moment(post.posted_at, bot.config.bot.tz)
    lines = [line.strip() for line in shown[-1]["text"].splitlines()]
    warning = lines.index(f"⚠️ already sent there on {when}")
    assert lines[warning - 1].startswith("• Plant News (@plantnews)")
    assert sum("already sent" in line for line in lines) == 1  # not for @autonews


async def test_newpoll_preview_shows_the_settings_and_the_close_time(bot: BotHarness) -> None:
    await bot.say(ADMIN, f"/approve {GROUP}")  # a target once approved
    shown = await bot.say(ADMIN, "/newpoll Best car? | Lada | Moskvich | multi 2d -1002001")

    assert bot.world.calls("sendPoll") == []
    poll = next(m for m in shown if m["text"].startswith("Poll: Best car?"))
    assert "1. Lada\n2. Moskvich" in poll["text"]
    assert "several answers allowed" in poll["text"] and "open for 2d" in poll["text"]
    assert f"Plant fans, id {GROUP}" in shown[-1]["text"]

    press(bot, ADMIN, shown[-1], "Publish")
    await bot.drain()

    (sent,) = [m["poll"] for m in bot.bot_messages(GROUP)]
    assert sent["question"] == "Best car?" and sent["allows_multiple_answers"]
    assert "Poll #1 sent to" in bot.bot_messages(ADMIN)[-1]["text"]


async def test_a_question_sent_before_is_named_in_the_preview(bot: BotHarness) -> None:
    await bot.say(ADMIN, f"/poll {SEED} @autonews now")
    shown = await bot.say(ADMIN, f"/poll {SEED} @autonews")
    assert "already sent there on" in shown[-1]["text"]
    assert len(bot.bot_messages(AUTONEWS)) == 1


@pytest.mark.parametrize(
    "command",
    [
        f"/post {SEED} @plantnews now",
        f"/poll {SEED} @plantnews now",
        "/newpoll Q? | a | b | @plantnews now",
        "/newpoll Q? | a | b @plantnews | now",
    ],
)
async def test_now_publishes_without_a_preview(bot: BotHarness, command: str) -> None:
    replies = await bot.say(ADMIN, command)

    assert len([m for m in bot.bot_messages(PLANTNEWS) if "poll" in m]) == 1
    assert all(not buttons(m) for m in replies)
    draft = await bot.store.draft(1)  # the work's durable record, published at once
    assert draft is not None and draft.state == "published"


async def test_now_after_settings_is_not_an_option(bot: BotHarness) -> None:
    await bot.say(ADMIN, "/newpoll Q? | Right now | b | multi @plantnews now")
    (poll,) = [m["poll"] for m in bot.bot_messages(PLANTNEWS) if "poll" in m]
    assert [o["text"] for o in poll["options"]] == ["Right now", "b"]
    assert poll["allows_multiple_answers"]


async def test_previews_off_in_the_config_publish_at_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with bot_harness(sandbox, tmp_path, preview=False) as bot:
        await bot.say(ADMIN, f"/post {SEED} @plantnews")
        assert len([m for m in bot.bot_messages(PLANTNEWS) if "poll" in m]) == 1


async def test_a_draft_expires_after_a_day(bot: BotHarness, clock: ManualClock) -> None:
    shown = await bot.say(ADMIN, f"/post {SEED} @plantnews")
    clock.advance(24 * 3600 + 1)

    press(bot, ADMIN, shown[-1], "Publish")
    await bot.drain()

    assert channel_messages(bot) == []
    (answer,) = bot.world.callback_answers()
    assert "expired" in answer["text"]
    assert "expired" in current(bot, shown[-1])["text"]


async def test_only_the_admin_who_made_it_or_a_bot_admin_may_press(bot: BotHarness) -> None:
    shown = await bot.say(ADMIN, f"/post {SEED} @plantnews")

    press(bot, READER, shown[-1], "Publish")
    await bot.drain()
    assert channel_messages(bot) == []
    assert "Only the admin who made this draft" in bot.world.callback_answers()[-1]["text"]

    press(bot, ADMIN_RU, shown[-1], "Publish")  # another bot admin may
    await bot.drain()
    assert len([m for m in bot.bot_messages(PLANTNEWS) if "poll" in m]) == 1


@pytest.mark.parametrize(
    ("body", "options", "now", "description"),
    [
        ("Q? | a | b | now", ("a", "b"), True, None),
        ("Q? | a | b | multi 2d NOW", ("a", "b"), True, None),
        ("Q? | a | b | сейчас", ("a", "b"), True, None),
        ("Q? | a | Right now", ("a", "Right now"), False, None),
        ("Q?\na\nb\nnow", ("a", "b"), True, None),
        ("Q?\na\nb\nmulti 2d now", ("a", "b"), True, None),  # settings on the last line
        ("Q?\na\nRight now", ("a", "Right now"), False, None),
        ("Q? | a | b", ("a", "b"), False, None),
        ("Q? | a | b | desc=Vote now", ("a", "b"), False, "Vote now"),  # a text, kept whole
        ('Q? | a | b | desc="Vote" now', ("a", "b"), True, "Vote"),
        ("Q? | a | b | desc=Vote @plantnews now", ("a", "b"), True, "Vote"),  # after chats
    ],
)
def test_now_is_a_setting_of_the_newpoll_syntax(
    body: str, options: tuple[str, ...], now: bool, description: str | None
) -> None:
    request = newpoll.parse(body, UTC)
    assert request.problems == ()
    assert (request.spec.options, request.now, request.spec.description) == (
        options,
        now,
        description,
    )


async def test_a_chat_no_longer_a_target_at_the_press_gets_nothing(bot: BotHarness) -> None:
    """The chats are checked again when Publish is pressed: a group forgotten after the
    preview gets no poll, the admin is told why, and the draft waits (Cancel still works)."""
    await bot.say(ADMIN, f"/approve {GROUP}")
    shown = await bot.say(ADMIN, f"/newpoll Q? | a | b | {GROUP}")
    await bot.say(ADMIN, f"/forget {GROUP}")

    press(bot, ADMIN, shown[-1], "Publish")
    await bot.drain()

    assert channel_messages(bot) == [] and bot.world.calls("sendPoll") == []
    assert "Nothing was published" in bot.bot_messages(ADMIN)[-1]["text"]
    assert await bot.store.latest_campaign() is None
    assert set(buttons(current(bot, shown[-1]))) == {"Publish", "Cancel"}


async def test_a_close_date_passed_at_the_press_creates_nothing(
    bot: BotHarness, clock: ManualClock
) -> None:
    closes = (clock.utc() + timedelta(hours=2)).replace(microsecond=0).isoformat()
    shown = await bot.say(ADMIN, f"/newpoll Q? | a | b | close={closes} @plantnews")
    assert "Poll: Q?" in "\n".join(m["text"] for m in shown)
    clock.advance(3 * 3600)  # the admin pressed Publish three hours later

    press(bot, ADMIN, shown[-1], "Publish")
    await bot.drain()

    assert channel_messages(bot) == []
    assert await bot.store.latest_campaign() is None  # no empty campaign in /polls
    assert "close date has already passed" in bot.bot_messages(ADMIN)[-1]["text"]


async def test_a_press_is_answered_before_the_publishing_even_if_it_fails(
    bot: BotHarness,
) -> None:
    shown = await bot.say(ADMIN, f"/post {SEED} @plantnews")
    bot.world.fault("500", method="sendMessage", chat_id=ADMIN, times=1)  # the report fails
    press(bot, ADMIN, shown[-1], "Publish")
    await bot.drain()

    (answer,) = bot.world.callback_answers()
    assert "is being published" in answer["text"]
