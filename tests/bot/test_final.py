"""A poll's close: the final result post in each chat, once, and the creator's note."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import CallbackContext

from bot.polls import closing, final
from bot.polls.closing import CLOSE_GRACE
from bot.sandbox import Sandbox
from storage.clock import ManualClock
from tests.cast import ADMIN, AUTONEWS, PLANTNEWS
from tests.harness import BotHarness, bot_harness

QUESTION = "Which lineup should the plant build?"


def finals(bot: BotHarness, chat_id: int) -> list[dict[str, Any]]:
    """The final result posts the bot sent to a chat."""
    return [
        m
        for m in bot.bot_messages(chat_id)
        if "Final result" in (m.get("caption") or m.get("text") or "")
    ]


def notes(bot: BotHarness) -> list[dict[str, Any]]:
    """The creator's private notes of a closed poll."""
    return [m for m in bot.bot_messages(ADMIN) if "has closed" in m.get("text", "")]


def polls_in(bot: BotHarness, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in bot.bot_messages(chat_id) if "poll" in m]


async def new_campaign(bot: BotHarness, settings: str = "1m") -> int:
    await bot.say(
        ADMIN, f"/newpoll {QUESTION} | Trucks | Buses | Cars | {settings} @plantnews @autonews"
    )
    campaign = await bot.store.latest_campaign()
    assert campaign is not None
    return int(campaign.id)


async def vote_in(bot: BotHarness, chat_id: int, first_voter: int, choices: list[int]) -> None:
    (poll,) = polls_in(bot, chat_id)
    for offset, choice in enumerate(choices):
        bot.world.vote(first_voter + offset, poll["poll"]["id"], [choice])
    await bot.drain()


async def test_each_chat_gets_one_final_post_replying_to_its_poll_with_its_own_counts(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with bot_harness(sandbox, tmp_path) as bot:
        campaign_id = await new_campaign(bot)
        await vote_in(bot, PLANTNEWS, 7000, [0, 0, 1])
        await vote_in(bot, AUTONEWS, 8000, [2, 2, 2, 2, 1])
        assert finals(bot, PLANTNEWS) == [] and finals(bot, AUTONEWS) == []

        bot.world.advance(61)  # the sandbox closes both polls and reports them closed
        await bot.drain()
        await bot.drain()  # a second look changes nothing

        (plant,) = finals(bot, PLANTNEWS)
        (auto,) = finals(bot, AUTONEWS)
        for chat_id, post in ((PLANTNEWS, plant), (AUTONEWS, auto)):
            (poll,) = polls_in(bot, chat_id)
            assert post["reply_to_message"]["message_id"] == poll["message_id"]
            assert "photo" in post  # the chart, the result as its caption
        assert "Winner: Trucks" in plant["caption"] and "3 voters" in plant["caption"]
        assert "(2)" in plant["caption"] and "(4)" not in plant["caption"]
        assert "Winner: Cars" in auto["caption"] and "5 voters" in auto["caption"]
        assert "@plantnews" not in auto["caption"] and "@autonews" not in plant["caption"]
        (note,) = notes(bot)
        assert (
            f"Poll #{campaign_id} has closed" in note["text"]
            and "8 votes in 2 chats" in note["text"]
        )
        assert "Winner: Cars" in note["text"]


async def test_close_posts_the_final_result_once_in_each_chat(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with bot_harness(sandbox, tmp_path) as bot:
        campaign_id = await new_campaign(bot, "2d")
        await vote_in(bot, PLANTNEWS, 7000, [1])
        await bot.say(ADMIN, f"/close {campaign_id}")
        await bot.say(ADMIN, f"/close {campaign_id}")  # closed already: nothing more
        (plant,) = finals(bot, PLANTNEWS)
        (auto,) = finals(bot, AUTONEWS)
        assert "Winner: Buses" in plant["caption"]
        assert "0 voters" in auto["caption"] and "Winner" not in auto["caption"]
        # The creator closed it and saw the result in the answer: no second note.
        assert notes(bot) == []


async def test_nofinal_posts_nothing_when_the_poll_closes(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with bot_harness(sandbox, tmp_path) as bot:
        campaign_id = await new_campaign(bot, "1m nofinal")
        await vote_in(bot, PLANTNEWS, 7000, [1])
        bot.world.advance(61)
        await bot.drain()
        campaign = await bot.store.campaign(campaign_id)
        assert campaign is not None and campaign.is_closed
        assert finals(bot, PLANTNEWS) == [] and finals(bot, AUTONEWS) == []
        assert notes(bot) == []


async def test_a_final_post_at_start_counts_the_votes_cast_while_the_bot_was_down(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(datetime.now(UTC))
    async with bot_harness(sandbox, tmp_path, clock=clock, paused=True) as bot:
        await new_campaign(bot, "1m")
        (poll,) = polls_in(bot, PLANTNEWS)
    # The bot is down: three people vote, then the poll closes; the updates wait.
    for voter in (7001, 7002, 7003):
        sandbox.world.vote(voter, poll["poll"]["id"], [0])
    sandbox.world.advance(61)
    clock.advance(CLOSE_GRACE + 61)
    async with bot_harness(sandbox, tmp_path, clock=clock, paused=True) as bot:
        (post,) = finals(bot, PLANTNEWS)
        assert "3 voters" in post["caption"] and "Winner: Trucks" in post["caption"]


async def test_the_expiry_check_closes_a_poll_telegram_did_not_report_only_after_a_grace(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(datetime.now(UTC))
    async with bot_harness(sandbox, tmp_path, clock=clock, paused=True) as bot:
        campaign_id = await new_campaign(bot, "1m")
        context: Any = CallbackContext(bot.application)
        clock.advance(61)  # past the close date by the bot's clock; Telegram has not said
        await closing.expire_job(context)
        campaign = await bot.store.campaign(campaign_id)
        assert campaign is not None and not campaign.is_closed
        assert finals(bot, PLANTNEWS) == []
        clock.advance(CLOSE_GRACE)
        await closing.expire_job(context)
        assert len(finals(bot, PLANTNEWS)) == 1 and len(finals(bot, AUTONEWS)) == 1


async def test_a_final_post_goes_out_once_when_the_expiry_check_and_a_close_send_at_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    clock = ManualClock(datetime.now(UTC))
    async with bot_harness(sandbox, tmp_path, clock=clock, paused=True) as bot:
        await new_campaign(bot, "1m")
        await bot.say(ADMIN, "/newpoll Other? | x | y | 2m @plantnews")
        # The first close: every final post fails for now (Telegram busy), the claims stay.
        bot.world.fault("500", "sendPhoto", times=1000)
        bot.world.fault("500", "sendMessage", times=1000)
        bot.world.advance(61)
        await bot.drain()
        bot.world.clear_faults()
        assert finals(bot, PLANTNEWS) == []
        # The other poll closes (an update for the pump) while the expiry check sends.
        bot.world.advance(60)
        clock.advance(CLOSE_GRACE + 121)
        context: Any = CallbackContext(bot.application)
        await asyncio.gather(closing.expire_job(context), bot.drain())
        await bot.drain()
        assert len(finals(bot, PLANTNEWS)) == 2 and len(finals(bot, AUTONEWS)) == 1
        assert len(notes(bot)) == 2


class Killed(BaseException):
    """The process dies here (SIGKILL), as far as the code after it is concerned."""


async def test_a_kill_between_the_close_and_the_claim_still_posts_the_final_result(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock(datetime.now(UTC))
    with pytest.raises(Killed):
        async with bot_harness(sandbox, tmp_path, clock=clock, paused=True) as bot:
            campaign_id = await new_campaign(bot, "1m")
            close = bot.store.close_finished_campaigns

            async def close_then_die() -> list[int]:
                await close()  # committed: the campaign is closed
                raise Killed

            monkeypatch.setattr(bot.store, "close_finished_campaigns", close_then_die)
            clock.advance(CLOSE_GRACE + 61)  # the expiry check closes it by the bot's clock
            await closing.expire_job(CallbackContext(bot.application))
    async with bot_harness(sandbox, tmp_path, clock=clock, paused=True) as bot:
        campaign = await bot.store.campaign(campaign_id)
        assert campaign is not None and campaign.is_closed
        assert len(finals(bot, PLANTNEWS)) == 1 and len(finals(bot, AUTONEWS)) == 1


async def test_no_final_post_where_the_poll_message_was_deleted(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with bot_harness(sandbox, tmp_path) as bot:
        await new_campaign(bot, "1m")
        (poll,) = polls_in(bot, PLANTNEWS)
        del bot.world.chats[PLANTNEWS].messages[poll["message_id"]]  # an admin deleted it
        bot.world.advance(61)
        await bot.drain()
        assert bot.bot_messages(PLANTNEWS) == []  # no result standing alone
        assert len(finals(bot, AUTONEWS)) == 1


async def test_a_final_post_whose_chart_is_refused_goes_out_as_text(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unusable(*_args: object) -> str:
        return "no-such-file-id"  # Telegram refuses it: Bad Request

    monkeypatch.setattr(final.charts, "draw", unusable)
    async with bot_harness(sandbox, tmp_path) as bot:
        await new_campaign(bot, "1m")
        bot.world.advance(61)
        await bot.drain()
        for chat_id in (PLANTNEWS, AUTONEWS):
            (post,) = finals(bot, chat_id)
            (poll,) = polls_in(bot, chat_id)
            assert "photo" not in post and "0 voters" in post["text"]
            assert post["reply_to_message"]["message_id"] == poll["message_id"]
