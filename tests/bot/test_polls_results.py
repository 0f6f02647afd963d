"""Reading results: /polls for admins, /results in private (subscribers: public polls)."""

from __future__ import annotations

from tests.cast import ADMIN, CHANNEL_ADMIN, GROUP, READER, READER_RU
from tests.harness import BotHarness


async def _poll(bot: BotHarness, command: str) -> str:
    [reply] = await bot.say(ADMIN, command)
    assert " sent to " in reply["text"], reply["text"]
    campaign = await bot.store.latest_campaign()
    assert campaign is not None
    [poll] = await bot.store.polls_of(campaign.id)
    return str(poll.poll_id)


async def test_subscriber_sees_public_results_in_private_only(bot: BotHarness) -> None:
    [reply] = await bot.say(READER, "/results")
    assert reply["text"] == "No polls yet."
    poll_id = await _poll(bot, "/newpoll Best car? | Lada | Volga | @plantnews")
    bot.world.vote(READER, poll_id, [1])
    bot.world.vote(READER_RU, poll_id, [1])
    bot.world.vote(ADMIN, poll_id, [0])
    await bot.drain()
    [reply] = await bot.say(READER, "/results")
    text = reply["text"]
    assert "Best car?" in text and "Poll #1 · open" in text
    assert "Lada\n" in text and "33% (1)" in text and "67% (2)" in text
    assert "3 voters" in text and "Leader: Volga" in text and "By chat" not in text
    [reply] = await bot.say(READER_RU, "/results 1")
    assert "Опрос №1 · открыт" in reply["text"] and "Лидер: Volga" in reply["text"]
    for user in (READER, ADMIN):  # no results in a group, not even for an admin
        [reply] = await bot.say(user, "/results 1", chat_id=GROUP)
        assert reply["text"].startswith("Ask me in a private chat.")
    [reply] = await bot.say(READER, "/results 7")
    assert reply["text"] == "No poll #7."
    # "²" passes str.isdigit() but not int(): a usage answer, not a failed update
    [reply] = await bot.say(READER, "/results ²")
    assert reply["text"].startswith("Send /results")
    assert await bot.store.dead_letters() == []


async def test_hidden_results_wait_for_the_close(bot: BotHarness) -> None:
    await _poll(bot, "/newpoll Open? | Yes | No | @plantnews")
    await _poll(bot, "/newpoll Secret? | Yes | No | hide @plantnews")
    [reply] = await bot.say(READER, "/results 2")
    assert reply["text"] == "The results of poll #2 are hidden until it closes."
    [reply] = await bot.say(READER, "/results")  # the latest one a subscriber may see
    assert "Open?" in reply["text"]
    [reply] = await bot.say(ADMIN, "/results")
    assert "Secret?" in reply["text"]
    assert "Results hidden until the poll closes: 0 voters so far." in reply["text"]
    await bot.say(ADMIN, "/close 2")
    [reply] = await bot.say(READER, "/results 2")
    assert "Secret?" in reply["text"] and "Poll #2 · closed" in reply["text"]


async def test_subscribers_are_rate_limited(bot: BotHarness) -> None:
    await _poll(bot, "/newpoll Q? | a | b | @plantnews")
    limit = bot.config.bot.results_per_minute
    for _ in range(limit):
        [reply] = await bot.say(READER, "/results 1")
        assert "Q?" in reply["text"]
    [reply] = await bot.say(READER, "/results 1")
    assert reply["text"].startswith("Too many requests: try again in ")
    [reply] = await bot.say(READER_RU, "/results 1")  # others are not affected
    assert "Q?" in reply["text"]
    for _ in range(limit + 1):  # nor are admins
        [reply] = await bot.say(ADMIN, "/results 1")
        assert "Q?" in reply["text"]


async def test_polls_lists_open_and_recently_closed_campaigns(bot: BotHarness) -> None:
    [reply] = await bot.say(ADMIN, "/polls")
    assert reply["text"].startswith("No polls yet.")
    poll_id = await _poll(bot, "/newpoll First? | a | b | @plantnews")
    await _poll(bot, "/newpoll Second? | a | b | @autonews")
    bot.world.vote(READER, poll_id, [0])
    await bot.drain()
    await bot.say(ADMIN, "/close 1")
    [reply] = await bot.say(ADMIN, "/polls")
    lines = reply["text"].splitlines()
    assert "#2 · open · 0 voters — Second? · @autonews" in lines
    assert "#1 · closed · 1 voter — First? · @plantnews" in lines
    [reply] = await bot.say(CHANNEL_ADMIN, "/polls")  # administers @plantnews only
    assert "First?" in reply["text"] and "Second?" not in reply["text"]
    [reply] = await bot.say(READER, "/polls")
    assert "only the bot's admins" in reply["text"]
