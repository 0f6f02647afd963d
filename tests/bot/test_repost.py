"""/repost: the same question and options as a new campaign, after the preview."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.sandbox import Sandbox
from storage.clock import ManualClock
from tests.bot.test_drafts import press
from tests.cast import ADMIN, AUTONEWS, GROUP, PLANTNEWS
from tests.harness import bot_harness

OPTIONS = ("Lada", "Moskvich", "Volga")


async def test_repost_makes_a_new_campaign_with_the_same_options_after_the_preview(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with bot_harness(sandbox, tmp_path, preview=True) as bot:
        await bot.say(ADMIN, f"/approve {GROUP}")
        await bot.say(
            ADMIN, f"/newpoll Best car? | {' | '.join(OPTIONS)} | multi 1d @plantnews now"
        )
        first = await bot.store.latest_campaign()
        assert first is not None and first.id == 1

        shown = await bot.say(ADMIN, f"/repost {first.id} {GROUP} 2d")
        assert "Best car?" in shown[1]["text"] and "Moskvich" in shown[1]["text"]
        assert await bot.store.latest_campaign() == first  # nothing until Publish
        press(bot, ADMIN, shown[-1], "Publish")
        await bot.drain()

        second = await bot.store.latest_campaign()
        assert second is not None and second.id == first.id + 1
        assert (second.question, second.options) == (first.question, first.options)
        # The new period; multi kept from the original (a setting not named stays).
        assert second.spec["open_period"] == 2 * 86400 and second.spec["allows_multiple_answers"]
        (poll,) = await bot.store.polls_of(second.id)
        assert poll.chat_id == GROUP
        group_polls = [m["poll"] for m in bot.bot_messages(GROUP) if "poll" in m]
        assert [[o["text"] for o in p["options"]] for p in group_polls] == [list(OPTIONS)]


async def test_repost_without_chats_or_settings_goes_where_and_as_the_original(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with bot_harness(sandbox, tmp_path) as bot:
        await bot.say(
            ADMIN, f"/newpoll Best car? | {' | '.join(OPTIONS)} | multi @plantnews @autonews"
        )
        await bot.say(ADMIN, "/repost 1")
        second = await bot.store.campaign(2)
        assert second is not None and second.spec["allows_multiple_answers"]
        assert {p.chat_id for p in await bot.store.polls_of(2)} == {PLANTNEWS, AUTONEWS}
        (refused,) = await bot.say(ADMIN, "/repost 1 mutli")
        assert "did you mean “multi”?" in refused["text"]
        assert await bot.store.campaign(3) is None


async def test_repost_lays_new_settings_over_the_originals_and_moves_its_close_date(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    clock = ManualClock(start)
    async with bot_harness(sandbox, tmp_path, clock=clock) as bot:
        close = (start + timedelta(days=1)).isoformat(timespec="minutes")
        await bot.say(
            ADMIN,
            f"/newpoll Best car? | {' | '.join(OPTIONS)} | quiz=2 hide close={close} "
            "desc=Cars @plantnews",
        )
        clock.advance(3 * 86400)  # the original's close date is past
        await bot.say(ADMIN, "/repost 1 shuffle")
        second = await bot.store.campaign(2)
        assert second is not None
        spec = second.spec
        assert spec["quiz"] and spec["correct_option_ids"] == [1]
        assert spec["hide_results_until_closes"] and spec["description"] == "Cars"
        assert spec["shuffle_options"]
        (poll,) = await bot.store.polls_of(2)
        assert poll.close_date == clock.seconds() + 86400  # as long open as the original
        answer = [
            m["text"]
            for m in bot.bot_messages(ADMIN)
            if "closed at a set time" in m.get("text", "")
        ]
        moved = start + timedelta(days=4)
        assert answer and moved.strftime("%Y-%m-%d %H:%M") in answer[0]
