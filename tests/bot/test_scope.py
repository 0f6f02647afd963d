"""What each chat gets to see (bot/polls/scope.py), end to end: two channels of two owners
and a group, polls of every kind, and every message the bot sent to each chat checked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from bot.digests import charts as digest_charts
from bot.digests.charts import ChartData, render_chart
from tests.bot.test_digests import text_of
from tests.cast import ADMIN, AUTONEWS, CHANNEL_ADMIN, GROUP, PLANTNEWS, READER
from tests.harness import BotHarness

SEED = "moscow-plant-reboot"
SEED_EN = "Which lineup should the reborn Moscow plant build?"
SEED_RU = "Что должен выпускать обновлённый московский завод?"
HIDDEN, QUIZ, PUBLIC, MULTI = "Secret plans?", "Capital of Tatarstan?", "Best car?", "Colours?"
# Where each question went (the seed poll: Russian in @plantnews, English in @autonews).
POSTED = {
    PLANTNEWS: {SEED_RU, HIDDEN},
    AUTONEWS: {SEED_EN, QUIZ, MULTI},
    GROUP: {PUBLIC, MULTI},
}
NAMES = {PLANTNEWS: "@plantnews", AUTONEWS: "@autonews", GROUP: "Plant fans"}
REFS = {PLANTNEWS: "@plantnews", AUTONEWS: "@autonews", GROUP: str(GROUP)}


async def campaign(bot: BotHarness, command: str) -> dict[int, str]:
    """An admin creates a campaign; return its poll id in each chat."""
    [reply] = await bot.say(ADMIN, command)
    assert " sent to " in reply["text"], reply["text"]
    created = await bot.store.latest_campaign()
    return {p.chat_id: p.poll_id for p in await bot.store.polls_of(created.id)}


async def votes(bot: BotHarness, poll_id: str, first: int, choices: Sequence[list[int]]) -> None:
    for offset, choice in enumerate(choices):
        bot.world.vote(first + offset, poll_id, choice)
    await bot.drain()


def everything_sent(bot: BotHarness, chat_id: int) -> str:
    """The text of every message the bot sent to a chat: posts, captions, poll questions
    and options."""
    parts: list[str] = []
    for message in bot.bot_messages(chat_id):
        parts.append(text_of(message))
        if "poll" in message:
            poll = message["poll"]
            parts += [poll["question"], *(option["text"] for option in poll["options"])]
    return "\n".join(parts)


def block(text: str, question: str) -> str:
    """The part of a digest about one question."""
    (found,) = [part for part in text.split("📊") if question in part]
    return found


@pytest.fixture
async def world(bot: BotHarness) -> BotHarness:
    """Every kind of poll in the two channels and the group, with votes."""
    await bot.say(ADMIN, f"/approve {GROUP}")
    await bot.say(ADMIN, "/language @plantnews ru")
    seed = await campaign(bot, f"/poll {SEED} @plantnews @autonews")
    await votes(bot, seed[PLANTNEWS], 5000, [[0], [1], [1]])
    await votes(bot, seed[AUTONEWS], 5100, [[2]])
    hidden = await campaign(bot, f"/newpoll {HIDDEN} | Yes | No | hide @plantnews")
    await votes(bot, hidden[PLANTNEWS], 5200, [[0], [0], [1]])
    quiz = await campaign(bot, f"/newpoll {QUIZ} | Kazan | Ufa | quiz=1 @autonews")
    await votes(bot, quiz[AUTONEWS], 5300, [[0], [1]])
    public = await campaign(bot, f"/newpoll {PUBLIC} | Lada | Volga | public {GROUP}")
    await votes(bot, public[GROUP], 5400, [[1]])
    multi = await campaign(bot, f"/newpoll {MULTI} | Red | Blue | Green | multi @autonews {GROUP}")
    await votes(bot, multi[AUTONEWS], 5500, [[0, 1], [1]])
    await votes(bot, multi[GROUP], 5600, [[0, 1, 2], [2], [2]])
    return bot


async def test_every_chat_sees_only_the_polls_posted_there(
    world: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = world
    drawn: dict[int, list[str]] = {}

    def spy(charts: Sequence[ChartData], language: str, **kwargs: Any) -> bytes:
        drawn.setdefault(len(drawn), [chart.title for chart in charts])
        return render_chart(charts, language, **kwargs)

    monkeypatch.setattr(digest_charts, "render_chart", spy)
    for chat_id in POSTED:
        drawn.clear()
        [answer] = await bot.say(ADMIN, f"/digest {REFS[chat_id]}")
        assert answer["text"].startswith("Digest sent to")
        assert set(drawn[0]) <= POSTED[chat_id] and drawn[0]  # the chart: its own polls
        assert HIDDEN not in drawn[0]  # no hidden counts in a chart either

    questions = set().union(*POSTED.values())
    for chat_id, own in POSTED.items():
        sent = everything_sent(bot, chat_id)
        for question in questions - own:
            assert question not in sent, (NAMES[chat_id], question)
        for other, name in NAMES.items():
            assert other == chat_id or name not in sent, (NAMES[chat_id], name)
        assert "By chat" not in sent and "По чатам" not in sent

    plant = text_of(bot.bot_messages(PLANTNEWS)[-1])
    assert "Дайджест опросов" in plant  # the chat's language, its poll's own texts
    seed = block(plant, SEED_RU)
    assert "Оба направления параллельно\n" in seed and "Both tracks" not in seed
    assert "3 голоса" in seed  # @plantnews's own three voters, not the four of both chats
    secret = block(plant, HIDDEN)
    assert "%" not in secret and "(2)" not in secret and "3" not in secret
    auto = text_of(bot.bot_messages(AUTONEWS)[-1])
    assert "Shares are of voters" in block(auto, MULTI) and "2 voters" in block(auto, MULTI)
    assert "✅" not in auto  # the quiz is open: its answer is a secret


async def test_after_the_close_counts_and_the_quiz_answer_appear(world: BotHarness) -> None:
    bot = world
    hidden = await bot.store.latest_campaign()
    assert hidden is not None
    for campaign_id in (2, 3):
        await bot.say(ADMIN, f"/close {campaign_id}")
    await bot.say(ADMIN, "/digest @plantnews")
    await bot.say(ADMIN, "/digest @autonews")
    secret = block(text_of(bot.bot_messages(PLANTNEWS)[-1]), HIDDEN)
    assert "67% (2)" in secret and "33% (1)" in secret
    quiz = block(text_of(bot.bot_messages(AUTONEWS)[-1]), QUIZ)
    assert "Kazan ✅" in quiz and "Ufa ✅" not in quiz


async def test_the_admin_view_is_combined_with_the_split_in_private_only(
    world: BotHarness,
) -> None:
    bot = world
    [reply] = await bot.say(ADMIN, "/results 5")
    text = reply["text"]
    assert "5 votes in 2 chats" in text and "By chat" in text
    assert "@autonews: 2 voters" in text and "Plant fans: 3 voters" in text
    [reply] = await bot.say(ADMIN, "/results 2")
    assert "Results hidden until the poll closes: 3 voters so far." in reply["text"]
    # The seed poll in the admin's language: the English texts, though @plantnews's is Russian.
    [reply] = await bot.say(ADMIN, "/results 1")
    assert SEED_EN in reply["text"] and "4 votes in 2 chats" in reply["text"]
    # @plantnews's administrator sees @plantnews only: its Russian poll, no other chat.
    [reply] = await bot.say(CHANNEL_ADMIN, "/results 1")
    assert SEED_RU in reply["text"] and "@autonews" not in reply["text"]
    assert "3 voters" in reply["text"]


async def test_a_subscriber_sees_public_chats_one_by_one_never_a_private_group(
    world: BotHarness,
) -> None:
    bot = world
    [reply] = await bot.say(READER, "/results 5")
    text = reply["text"]
    assert "@autonews" in text and "Plant fans" not in text and "votes in" not in text
    assert "2 voters" in text
    [reply] = await bot.say(READER, "/results 4")  # in the private group only
    assert reply["text"] == "The results of poll #4 are not public."
    [reply] = await bot.say(READER, "/results 1")  # each channel on its own
    assert SEED_RU in reply["text"] and SEED_EN in reply["text"]
    assert "@plantnews" in reply["text"] and "@autonews" in reply["text"]
    assert "By chat" not in reply["text"]


async def test_polls_names_the_chats_within_the_scope_of_who_asks(world: BotHarness) -> None:
    bot = world
    [reply] = await bot.say(ADMIN, "/polls")
    assert f"— {MULTI} · @autonews, Plant fans" in reply["text"]
    [reply] = await bot.say(CHANNEL_ADMIN, "/polls")
    lines = reply["text"].splitlines()
    assert any(line.endswith(f"{SEED_RU} · @plantnews") for line in lines)
    assert MULTI not in reply["text"] and "@autonews" not in reply["text"]
