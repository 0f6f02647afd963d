"""/delete: a campaign's posts and polls deleted from every chat, its results kept."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram.ext import CallbackContext

from bot.polls import closing
from bot.sandbox import Sandbox
from bot.sandbox.messaging import DELETE_WINDOW
from storage.clock import ManualClock
from tests.cast import ADMIN, AUTONEWS, CHANNEL_ADMIN, GROUP, PLANTNEWS, READER
from tests.harness import BotHarness, bot_harness

SEED = "moscow-plant-reboot"
CHATS = (PLANTNEWS, AUTONEWS, GROUP)


async def post_everywhere(bot: BotHarness) -> int:
    """The seed article with its poll in both channels and the group; the campaign id."""
    await bot.say(ADMIN, f"/approve {GROUP}")  # a target once approved
    await bot.say(ADMIN, f"/post {SEED} @plantnews @autonews {GROUP}")
    campaign = await bot.store.latest_campaign()
    assert campaign is not None
    bot.world.vote(READER, bot.bot_messages(GROUP)[-1]["poll"]["id"], [1])
    await bot.drain()
    return int(campaign.id)


async def test_delete_removes_the_campaigns_messages_from_every_chat(bot: BotHarness) -> None:
    campaign_id = await post_everywhere(bot)
    assert all(bot.bot_messages(chat) for chat in CHATS)

    (reply,) = await bot.say(ADMIN, f"/delete {campaign_id}")

    assert [bot.bot_messages(chat) for chat in CHATS] == [[], [], []]
    assert f"Poll #{campaign_id} is deleted." in reply["text"]
    assert "could not" not in reply["text"]
    campaign = await bot.store.campaign(campaign_id)
    assert campaign is not None and campaign.is_deleted
    (group_poll,) = [p for p in await bot.store.counts_of(campaign_id) if p.poll.chat_id == GROUP]
    assert group_poll.poll.total_voters == 1  # the results are kept for /export
    assert await bot.store.campaigns(closed_since=0) == []  # digests leave it out
    (overview,) = await bot.say(ADMIN, "/polls")
    assert f"#{campaign_id} · deleted" in overview["text"]


async def test_delete_says_per_chat_what_could_not_be_deleted_and_why(bot: BotHarness) -> None:
    campaign_id = await post_everywhere(bot)
    bot.world.bot_removed(AUTONEWS, ADMIN)
    await bot.drain()

    (reply,) = await bot.say(ADMIN, f"/delete {campaign_id}")

    lines = reply["text"].splitlines()
    (autonews,) = [line for line in lines if f"({AUTONEWS})" in line]
    assert "the bot was removed from this chat" in autonews
    assert bot.bot_messages(PLANTNEWS) == [] and bot.bot_messages(GROUP) == []


async def test_messages_older_than_48_hours_are_named(bot: BotHarness) -> None:
    campaign_id = await post_everywhere(bot)
    bot.world.advance(DELETE_WINDOW + 60)

    (reply,) = await bot.say(ADMIN, f"/delete {campaign_id}")

    for chat in CHATS:
        (line,) = [line for line in reply["text"].splitlines() if f"({chat})" in line]
        assert "older than 48 hours" in line
        assert bot.bot_messages(chat)


async def test_a_replayed_delete_deletes_and_reports_once(bot: BotHarness) -> None:
    campaign_id = await post_everywhere(bot)
    raw = bot.queued_update(ADMIN, f"/delete {campaign_id}")

    await bot.pump.process_batch([raw])
    await bot.pump.process_batch([raw])

    assert [bot.bot_messages(chat) for chat in CHATS] == [[], [], []]
    replies = [m for m in bot.bot_messages(ADMIN) if "deleted" in m["text"]]
    assert len(replies) == 1
    entries = [e for e in await bot.store.audit_entries() if e.action == "poll.delete"]
    assert len(entries) == 1


async def test_only_administrators_of_every_chat_may_delete(bot: BotHarness) -> None:
    campaign_id = await post_everywhere(bot)

    (reply,) = await bot.say(CHANNEL_ADMIN, f"/delete {campaign_id}")

    assert "Only the administrators of all its chats" in reply["text"]
    assert all(bot.bot_messages(chat) for chat in CHATS)


async def test_delete_removes_the_final_post_and_the_reminder_too(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(datetime.now(UTC))
    async with bot_harness(sandbox, tmp_path, clock=clock, paused=True) as bot:
        await bot.say(ADMIN, "/newpoll Best? | a | b | 2h remind=1h @plantnews")
        campaign = await bot.store.latest_campaign()
        assert campaign is not None
        bot.world.advance(3605)
        clock.advance(3605)
        context: Any = CallbackContext(bot.application)
        await closing.expire_job(context)  # the reminder
        bot.world.advance(3600)
        await bot.drain()  # Telegram closes the poll: the final post
        texts = [m.get("caption") or m.get("text", "") for m in bot.bot_messages(PLANTNEWS)]
        assert any("Final result" in t for t in texts) and any("closes in" in t for t in texts)
        await bot.say(ADMIN, f"/delete {campaign.id}")
        assert bot.bot_messages(PLANTNEWS) == []
