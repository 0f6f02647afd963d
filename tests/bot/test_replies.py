"""Every answer is sent once per update: when the pump handles an update again (the batch was
fetched again after a crash), nobody gets a second refusal, greeting or usage hint."""

from __future__ import annotations

import pytest

from tests.harness import ADMIN, GROUP, READER, BotHarness

SEED = "moscow-plant-reboot"


def bot_texts(bot: BotHarness, chat_id: int) -> list[str]:
    return [m.get("text", "") for m in bot.bot_messages(chat_id)]


@pytest.mark.parametrize(
    ("user_id", "chat_id", "text", "expected"),
    [
        (READER, None, f"/post {SEED}", "only the bot's admins"),  # the refusal
        (READER, None, "/start", "Hi! I post articles"),  # the greeting
        (READER, None, "/start s-no-such-article", "does not lead to an article"),
        (READER, None, "/summary", "Send /summary with the id of an article"),
        (READER, GROUP, f"/summary {SEED}", "I send summaries in a private chat"),
        (ADMIN, None, "/post", "Usage: /post ARTICLE_ID"),
        (ADMIN, GROUP, f"/post {SEED}", "Ask me in a private chat"),
    ],
)
async def test_a_replayed_update_is_answered_once(
    bot: BotHarness, user_id: int, chat_id: int | None, text: str, expected: str
) -> None:
    chat = user_id if chat_id is None else chat_id
    raw = bot.queued_update(user_id, text, chat_id)

    await bot.pump.process_batch([raw])
    await bot.pump.process_batch([raw])

    answers = [t for t in bot_texts(bot, chat) if expected in t]
    assert len(answers) == 1, bot_texts(bot, chat)


async def test_two_updates_with_the_same_text_are_both_answered(bot: BotHarness) -> None:
    await bot.pump.process_batch([bot.queued_update(READER, "/start")])
    await bot.pump.process_batch([bot.queued_update(READER, "/start")])

    assert len([t for t in bot_texts(bot, READER) if "Hi! I post articles" in t]) == 2
