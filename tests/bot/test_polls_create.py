"""Creating polls: /newpoll and /poll send a checked campaign, or nothing with a clear reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.sandbox import Sandbox
from tests.cast import ADMIN, ADMIN_RU, AUTONEWS, CHANNEL_ADMIN, GROUP, PLANTNEWS, READER
from tests.harness import BotHarness, bot_harness

THIRTEEN = " | ".join(f"option {n}" for n in range(1, 14))


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (f"/newpoll {'Q' * 301}? | a | b", "shorten it to 300 characters"),
        ("/newpoll Which lineup?", "The poll has no options"),
        (f"/newpoll Many? | {THIRTEEN}", "The poll has 13 options but Telegram allows 12"),
        ("/newpoll Best? | Lada | lada", "Option 2 repeats option 1"),
        (
            "/newpoll Best? | Lada | Volga | public @plantnews",
            "@plantnews: Polls in channels are always anonymous",
        ),
        ("/newpoll Capital? | Paris | Rome | quiz", "A quiz needs a correct answer"),
        ("/newpoll Long? | a | b | 31d", "The open period is 2678400 seconds"),
        ("/newpoll Odd? | a | b | multi pubic", "Unknown setting “pubic”"),
        ("/newpoll Where? | a | b | @nosuchchat", "@nosuchchat: not one of my targets"),
        # issue 12, finding 5: a typo, a zero duration or a chat id never become options
        (
            f"/newpoll Typo? | a | b | mutli 2d {GROUP}",
            "Unknown setting “mutli”: did you mean “multi”?",
        ),
        ("/newpoll Typo? | a | b | mutli 2d", "end the message with | after it"),
        ("/newpoll Zero? | a | b | 0m", "The open period is 0 seconds"),
        ("/newpoll Year? | a | b | 1y", "Unknown setting “1y”"),
        (f"/newpoll Chat? | a | {GROUP} | b |", f"Option 2 (“{GROUP}”) is a chat"),
        (f"/newpoll Unknown? | a | b | {GROUP}", f"/approve {GROUP}"),
    ],
)
async def test_invalid_newpoll_sends_nothing(bot: BotHarness, command: str, expected: str) -> None:
    [reply] = await bot.say(ADMIN, command)
    assert reply["text"].startswith("Nothing was sent. Fix this first:")
    assert expected in reply["text"]
    assert bot.world.calls("sendPoll") == []
    assert await bot.store.latest_campaign() is None
    assert bot.bot_messages(GROUP) == []


async def test_a_chat_is_a_target_only_once_approved(bot: BotHarness) -> None:
    """A group the bot is in, named by id, gets no poll, article or article poll until an
    admin approves it; the refusal names the command that does."""
    refusal = f"not one of my targets: a bot admin can make it one with /approve {GROUP}"
    for command in (
        f"/newpoll Where? | a | b | {GROUP}",
        f"/poll moscow-plant-reboot {GROUP}",
        f"/post moscow-plant-reboot {GROUP}",
    ):
        [reply] = await bot.say(ADMIN, command)
        assert refusal in reply["text"], command
    assert bot.bot_messages(GROUP) == [] and bot.world.calls("sendPoll") == []
    # A chat no target is not looked up, nor stored (issue 13: naming one made a row)
    asked = [c["params"]["chat_id"] for c in bot.world.calls("getChat")]
    assert GROUP not in asked and await bot.store.chat(GROUP) is None
    await bot.say(ADMIN, f"/approve {GROUP}")
    [reply] = await bot.say(ADMIN, f"/newpoll Where? | a | b | {GROUP}")
    assert reply["text"].startswith("Poll #1 sent to Plant fans.")
    assert [m["poll"]["question"] for m in bot.bot_messages(GROUP)] == ["Where?"]


async def test_public_poll_to_a_channel_and_a_group_is_refused_for_both(
    bot: BotHarness,
) -> None:
    await bot.say(ADMIN, f"/approve {GROUP}")
    [reply] = await bot.say(ADMIN, f"/newpoll Best? | a | b | public @autonews {GROUP}")
    assert "@autonews: Polls in channels are always anonymous" in reply["text"]
    assert bot.world.calls("sendPoll") == []


async def test_newpoll_sends_every_setting_to_the_default_channels(bot: BotHarness) -> None:
    [reply] = await bot.say(
        ADMIN,
        '/newpoll Best car?\nLada\nMoskvich\nVolga\nMULTI hide Shuffle 2д desc="Vote once a day"',
    )
    assert reply["text"].startswith("Poll #1 sent to @plantnews, @autonews.")
    calls = bot.world.calls("sendPoll")
    assert [c["params"]["chat_id"] for c in calls] == [PLANTNEWS, AUTONEWS]
    params = calls[0]["params"]
    assert params["allows_multiple_answers"] and params["hide_results_until_closes"]
    assert params["shuffle_options"] and params["open_period"] == 2 * 86400
    assert params["description"] == "Vote once a day" and params["is_anonymous"]
    polls = await bot.store.polls_of(1)
    assert [p.chat_id for p in polls] == [PLANTNEWS, AUTONEWS]
    assert all(p.close_date for p in polls)


async def test_quiz_with_public_adding_to_a_group(bot: BotHarness) -> None:
    await bot.say(ADMIN, f"/approve {GROUP}")
    [reply] = await bot.say(ADMIN, f"/newpoll 2+2? | 3 | 4 | 5 | quiz=2 why=Arithmetic {GROUP}")
    assert "sent to Plant fans" in reply["text"]
    [call] = bot.world.calls("sendPoll")
    assert call["params"]["type"] == "quiz" and call["params"]["correct_option_ids"] == [1]
    [reply] = await bot.say(ADMIN, f"/newpoll Car? | Lada | Volga | public addable {GROUP}")
    assert "sent to Plant fans" in reply["text"]
    call = bot.world.calls("sendPoll")[-1]["params"]
    assert call["allow_adding_options"] and call["is_anonymous"] is False


async def test_newpoll_without_text_shows_the_syntax_in_the_users_language(
    bot: BotHarness,
) -> None:
    [reply] = await bot.say(ADMIN_RU, "/newpoll")
    assert "/newpoll Вопрос? | вариант 1" in reply["text"]
    [reply] = await bot.say(ADMIN_RU, "/newpoll Вопрос? | да | да")
    assert "Ничего не отправлено" in reply["text"] and "повторяет" in reply["text"]


async def test_subscribers_cannot_create_polls(bot: BotHarness) -> None:
    [reply] = await bot.say(READER, "/newpoll Q? | a | b")
    assert "only the bot's admins" in reply["text"]
    assert bot.world.calls("sendPoll") == []


async def test_channel_admin_polls_only_in_their_own_channel(bot: BotHarness) -> None:
    [reply] = await bot.say(CHANNEL_ADMIN, "/newpoll Q? | a | b | @plantnews @autonews")
    assert "@autonews: only its administrators" in reply["text"]
    assert bot.world.calls("sendPoll") == []
    [reply] = await bot.say(CHANNEL_ADMIN, "/newpoll Q? | a | b")
    assert reply["text"].startswith("Poll #1 sent to @plantnews.")
    [reply] = await bot.say(CHANNEL_ADMIN, "/close 1")
    assert "Poll #1 is closed." in reply["text"]


async def test_article_poll_is_translated_per_channel(bot: BotHarness) -> None:
    await bot.store.upsert_chat(AUTONEWS, "channel", "Auto News", "autonews")
    await bot.store.set_chat_language(AUTONEWS, "ru")
    [reply] = await bot.say(ADMIN, "/poll moscow-plant-reboot")
    assert reply["text"].startswith("Poll #1 sent to @plantnews, @autonews.")
    questions = {
        c["params"]["chat_id"]: c["params"]["question"] for c in bot.world.calls("sendPoll")
    }
    assert questions[PLANTNEWS].startswith("Which lineup")
    assert questions[AUTONEWS].startswith("Что должен выпускать")
    campaign = await bot.store.campaign(1)
    assert campaign is not None and campaign.article_id == "moscow-plant-reboot"
    [reply] = await bot.say(ADMIN, "/poll no-such-article")
    assert "Articles with a poll: moscow-plant-reboot" in reply["text"]


async def test_replayed_newpoll_sends_nothing_twice(bot: BotHarness) -> None:
    bot.world.send(ADMIN, "/newpoll Q? | a | b")
    raw = await bot.pump.bot.get_updates_raw(await bot.store.offset(), 0)
    await bot.pump.process_batch(raw)
    await bot.pump.process_batch(raw)  # the same batch again, as after a crash
    await bot.settle()  # the polls go out apart from the update (bot/drafts/publishing.py)
    assert len(bot.world.calls("sendPoll")) == 2
    replies = [m for m in bot.messages(ADMIN) if m.get("from", {}).get("is_bot")]
    assert len(replies) == 1
    entries = [e for e in await bot.store.audit_entries() if e.action == "poll.create"]
    assert len(entries) == 1


async def test_a_poll_that_fails_in_one_chat_still_reaches_the_others(bot: BotHarness) -> None:
    """Telegram fails the poll in @plantnews, the first target: @autonews still gets its
    poll, and the admin is told where it went and which chat failed, with the reason."""
    bot.world.fault("500", method="sendPoll", chat_id=PLANTNEWS, times=1)

    (reply,) = await bot.say(ADMIN, "/newpoll Which lineup? | Trucks | Buses")

    assert bot.messages(PLANTNEWS) == []
    assert [m["poll"]["question"] for m in bot.messages(AUTONEWS)] == ["Which lineup?"]
    campaign = await bot.store.latest_campaign()
    assert campaign is not None
    assert f"Poll #{campaign.id} sent to @autonews." in reply["text"]
    assert "Not sent to @plantnews: Telegram refused: Internal Server Error" in reply["text"]
    assert [p.chat_id for p in await bot.store.polls_of(campaign.id)] == [AUTONEWS]
    (entry,) = [e for e in await bot.store.audit_entries() if e.action == "poll.create"]
    assert entry.result == "partial"


PUBLIC_ARTICLE = """id = "public-poll"
title = "Cars"
language = "en"
body = "The plant will build cars.\\n\\nWhich ones?"
[poll]
question = "Which car?"
options = ["Lada", "Volga"]
anonymous = false
allow_adding_options = true
"""


async def test_public_article_poll_goes_to_groups_but_not_channels(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "public-poll.toml").write_text(PUBLIC_ARTICLE, encoding="utf-8")
    section = f'admins = [{ADMIN}]\nchannels = ["@plantnews"]\ncontent_dir = "{content}"\n'
    async with bot_harness(sandbox, tmp_path, bot=section) as bot:
        [reply] = await bot.say(ADMIN, "/poll public-poll")
        assert "@plantnews: Polls in channels are always anonymous" in reply["text"]
        assert bot.world.calls("sendPoll") == []
        await bot.say(ADMIN, f"/approve {GROUP}")
        [reply] = await bot.say(ADMIN, f"/poll public-poll {GROUP}")
        assert reply["text"].startswith("Poll #1 sent to Plant fans.")
        [call] = bot.world.calls("sendPoll")
        assert call["params"]["is_anonymous"] is False
        assert call["params"]["allow_adding_options"] is True
