"""Articles end to end: /post to channels with the poll, deep-link summaries, /articles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox import Sandbox
from tests.cast import ADMIN, ADMIN_RU, AUTONEWS, CHANNEL_ADMIN, PLANTNEWS, READER, READER_RU
from tests.harness import BotHarness, bot_harness

SEED = "moscow-plant-reboot"
SEED_TITLE = "Moscow Plant Reboot: New Electric Vehicle Strategy with KAMAZ"
DEEP_LINK = f"https://t.me/pollbot_sandbox_bot?start=s-{SEED}"
MUTED = -1001003  # the bot is only a member: it cannot post
KICKED = -1001004  # the bot was kicked


def articles_of(bot: BotHarness, chat_id: int) -> list[dict[str, Any]]:
    """The bot's text messages in a chat (the article parts)."""
    return [m for m in bot.bot_messages(chat_id) if "text" in m]


def polls_of(bot: BotHarness, chat_id: int) -> list[dict[str, Any]]:
    return [m["poll"] for m in bot.messages(chat_id) if "poll" in m]


def button_urls(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button["url"] for row in rows for button in row if "url" in button]


async def post_count(bot: BotHarness) -> int:
    return len(await bot.store.posts_of(SEED))


async def campaign_count(bot: BotHarness) -> int:
    return 0 if await bot.store.latest_campaign() is None else 1


# ---------------------------------------------------------------- posting


async def test_admin_posts_the_seed_article_with_its_poll_to_two_channels(
    bot: BotHarness,
) -> None:
    replies = await bot.say(ADMIN, f"/post {SEED} @plantnews @autonews")

    for channel in (PLANTNEWS, AUTONEWS):
        (article,) = articles_of(bot, channel)
        assert article["text"].startswith(SEED_TITLE)
        html = article["sandbox"]["html"]
        assert html.startswith(f"<b>{SEED_TITLE}")
        assert "Russia’s Ministry of Industry and Trade" in html
        assert article["entities"][0]["type"] == "bold"
        assert article["entities"][0]["offset"] == 0
        (button,) = article["reply_markup"]["inline_keyboard"][0]
        assert button["text"] == "No time to read? Get a summary"
        assert button["url"] == DEEP_LINK
        (poll,) = polls_of(bot, channel)
        assert poll["question"] == "Which lineup should the reborn Moscow plant build?"
        assert len(poll["options"]) == 4
        # the poll follows the article in the channel
        assert [("poll" in m) for m in bot.messages(channel)] == [False, True]

    (reply,) = replies
    assert "@plantnews: posted" in reply["text"]
    assert "@autonews: posted" in reply["text"]
    assert "https://t.me/plantnews/1" in reply["sandbox"]["html"]

    posts = await bot.store.posts_of(SEED)
    assert {p.chat_id for p in posts} == {PLANTNEWS, AUTONEWS}
    campaign = await bot.store.latest_campaign()
    assert campaign is not None and campaign.article_id == SEED
    assert all(p.campaign_id == campaign.id and p.message_ids == (1,) for p in posts)
    assert all(p.posted_by == ADMIN and p.language == "en" for p in posts)
    assert {p.chat_id for p in await bot.store.polls_of(campaign.id)} == {PLANTNEWS, AUTONEWS}
    (entry,) = await bot.store.audit_entries()
    assert (entry.action, entry.user_id, entry.result) == ("post", ADMIN, "ok")


async def test_a_russian_channel_gets_the_russian_translation(bot: BotHarness) -> None:
    await bot.store.upsert_chat(AUTONEWS, "channel", "Auto News", "autonews")
    await bot.store.set_chat_language(AUTONEWS, "ru")

    await bot.say(ADMIN, f"/post {SEED} @plantnews @autonews")

    (article,) = articles_of(bot, AUTONEWS)
    assert article["text"].startswith("Перезапуск московского завода")
    (button,) = article["reply_markup"]["inline_keyboard"][0]
    assert button["text"] == "Некогда читать? Получите краткое содержание"
    assert button["url"] == DEEP_LINK
    (poll,) = polls_of(bot, AUTONEWS)
    assert poll["question"] == "Что должен выпускать обновлённый московский завод?"
    assert articles_of(bot, PLANTNEWS)[0]["text"].startswith(SEED_TITLE)
    languages = {p.chat_id: p.language for p in await bot.store.posts_of(SEED)}
    assert languages == {PLANTNEWS: "en", AUTONEWS: "ru"}


async def test_post_without_channels_goes_to_the_default_targets(bot: BotHarness) -> None:
    (reply,) = await bot.say(ADMIN, f"/post {SEED}")

    assert len(articles_of(bot, PLANTNEWS)) == len(articles_of(bot, AUTONEWS)) == 1
    assert "@plantnews" in reply["text"] and "@autonews" in reply["text"]


async def test_posting_again_is_a_new_post(bot: BotHarness) -> None:
    await bot.say(ADMIN, f"/post {SEED} @plantnews")
    await bot.say(ADMIN, f"/post {SEED} @plantnews")

    assert len(articles_of(bot, PLANTNEWS)) == 2
    assert len(polls_of(bot, PLANTNEWS)) == 2
    assert await post_count(bot) == 2


async def test_unknown_article_lists_the_available_ids(bot: BotHarness) -> None:
    (reply,) = await bot.say(ADMIN, "/post no-such-article @plantnews")

    assert "no-such-article" in reply["text"]
    assert SEED in reply["text"]
    assert bot.messages(PLANTNEWS) == []


async def test_a_non_admin_is_refused_and_nothing_changes(bot: BotHarness) -> None:
    (reply,) = await bot.say(READER, f"/post {SEED} @plantnews @autonews")

    assert "only the bot's admins" in reply["text"]
    assert bot.messages(PLANTNEWS) == bot.messages(AUTONEWS) == []
    assert await post_count(bot) == 0
    assert await campaign_count(bot) == 0


async def test_a_channel_admin_posts_to_their_own_channel_only(bot: BotHarness) -> None:
    (reply,) = await bot.say(CHANNEL_ADMIN, f"/post {SEED} @plantnews @autonews")

    assert len(articles_of(bot, PLANTNEWS)) == 1
    assert len(polls_of(bot, PLANTNEWS)) == 1
    assert bot.messages(AUTONEWS) == []
    assert "@plantnews: posted" in reply["text"]
    assert "@autonews: not posted: you are not an administrator" in reply["text"]
    assert [p.chat_id for p in await bot.store.posts_of(SEED)] == [PLANTNEWS]
    (entry,) = await bot.store.audit_entries()
    assert entry.result == "partial"


async def test_a_channel_admin_without_channels_posts_where_they_are_admin(
    bot: BotHarness,
) -> None:
    await bot.say(CHANNEL_ADMIN, f"/post {SEED}")

    assert len(articles_of(bot, PLANTNEWS)) == 1
    assert bot.messages(AUTONEWS) == []


async def test_channels_that_cannot_be_posted_to_are_reported(bot: BotHarness) -> None:
    bot.world.add_chat(
        MUTED, "channel", "Muted", "mutednews", bot_status="member", can_post_messages=False
    )
    bot.world.add_chat(KICKED, "channel", "Old News", "oldnews", bot_status="kicked")
    await bot.say(ADMIN, "/approve @mutednews")  # a target, but the bot may not post there
    command = f"/post {SEED} @plantnews @mutednews @nosuchchannel @oldnews @autonews"

    replies = await bot.say(ADMIN, command)

    for channel in (PLANTNEWS, AUTONEWS):
        assert len(articles_of(bot, channel)) == 1
        assert len(polls_of(bot, channel)) == 1
    assert bot.messages(MUTED) == bot.messages(KICKED) == []
    report = replies[-1]["text"]
    assert "@plantnews: posted" in report and "@autonews: posted" in report
    assert "@mutednews: not posted: the bot is not an admin allowed to post there" in report
    assert "@nosuchchannel: not posted: not one of my targets" in report
    assert "@oldnews: not posted" in report
    assert {p.chat_id for p in await bot.store.posts_of(SEED)} == {PLANTNEWS, AUTONEWS}


async def test_a_channel_that_kicked_the_bot_is_marked_gone_once(bot: BotHarness) -> None:
    await bot.say(ADMIN, f"/post {SEED} @autonews")  # the bot now knows @autonews
    bot.world.add_chat(AUTONEWS, "channel", "Auto News", "autonews", bot_status="kicked")

    replies = await bot.say(ADMIN, f"/post {SEED} @plantnews @autonews")

    assert len(articles_of(bot, PLANTNEWS)) == 1
    assert "@autonews: not posted: the bot was removed or blocked there" in replies[-1]["text"]
    notices = [m for m in replies if "I can no longer post to @autonews" in m["text"]]
    assert len(notices) == 1
    chat = await bot.store.chat(AUTONEWS)
    assert chat is not None and chat.is_gone


async def test_a_flood_wait_delays_the_post_which_still_goes_out_once(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot.world.fault("429", method="sendMessage", chat_id=PLANTNEWS, times=1, retry_after=1)

    (reply,) = await bot.say(ADMIN, f"/post {SEED} @plantnews")

    assert len(articles_of(bot, PLANTNEWS)) == 1
    assert len(polls_of(bot, PLANTNEWS)) == 1
    assert "@plantnews: posted" in reply["text"]
    tries = [c for c in bot.world.calls("sendMessage") if c["params"]["chat_id"] == PLANTNEWS]
    assert len(tries) == 2
    assert tries[1]["time"] - tries[0]["time"] >= 1.0  # the retry waited out retry_after


async def test_a_replayed_post_update_posts_nothing_twice(bot: BotHarness) -> None:
    raw = bot.queued_update(ADMIN, f"/post {SEED} @plantnews @autonews")

    await bot.pump.process_batch([raw])
    await bot.pump.process_batch([raw])
    await bot.settle()  # the posts go out apart from the update (bot/drafts/publishing.py)

    for channel in (PLANTNEWS, AUTONEWS):
        assert len(articles_of(bot, channel)) == 1
        assert len(polls_of(bot, channel)) == 1
    assert await post_count(bot) == 2
    assert len(bot.bot_messages(ADMIN)) == 1


async def test_a_post_interrupted_before_the_reply_resumes_without_reposting(
    bot: BotHarness,
) -> None:
    raw = bot.queued_update(ADMIN, f"/post {SEED} @plantnews @autonews")
    bot.world.fault("500", method="sendMessage", chat_id=ADMIN, times=1)

    await bot.pump.process_batch([raw])
    await bot.settle()  # the articles and polls went out, the reply failed
    assert len(articles_of(bot, PLANTNEWS)) == 1
    # The posts were recorded before the reply's send failed: they went out, and the
    # replay records them once more (idempotently).
    assert await post_count(bot) == 2
    assert (await bot.store.draft(1)).state == "publishing"  # not finished: resumed later
    await bot.pump.process_batch([raw])
    await bot.settle()

    for channel in (PLANTNEWS, AUTONEWS):
        assert len(articles_of(bot, channel)) == 1
        assert len(polls_of(bot, channel)) == 1
    assert await post_count(bot) == 2
    (failed, reply) = bot.bot_messages(ADMIN)
    assert failed["text"].startswith("Publishing draft #1 failed (error ")  # the first try
    assert "@plantnews: posted" in reply["text"]


# ---------------------------------------------------------------- a long article

LONG_ARTICLE = """\
id = "long-read"
title = "Costs <&> benefits"
language = "en"
body = '''
{body}
'''
"""


@pytest.fixture
async def long_bot(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[BotHarness]:
    content = tmp_path / "content"
    content.mkdir()
    paragraph = "Price < cost & margin > zero, said the plant's accountant. " * 12
    body = "\n\n".join(f"{index}. {paragraph}" for index in range(12))
    (content / "long-read.toml").write_text(LONG_ARTICLE.format(body=body), encoding="utf-8")
    (content / "broken.toml").write_text('id = "broken"\n', encoding="utf-8")
    bot_section = (
        f"admins = [{ADMIN}, {ADMIN_RU}]\n"
        'channels = ["@plantnews", "@autonews"]\n'
        f'content_dir = "{content}"\n'
    )
    async with bot_harness(sandbox, tmp_path, bot=bot_section) as harness:
        yield harness


async def test_a_long_article_is_posted_in_escaped_parts_with_the_button_last(
    long_bot: BotHarness,
) -> None:
    await long_bot.say(ADMIN, "/post long-read @plantnews")

    parts = articles_of(long_bot, PLANTNEWS)
    assert len(parts) >= 2
    assert parts[0]["sandbox"]["html"].startswith("<b>Costs &lt;&amp;&gt; benefits</b>")
    for part in parts:
        assert len(part["text"]) <= 4096
        assert "Price &lt; cost &amp; margin &gt; zero" in part["sandbox"]["html"]
        assert "Price < cost & margin > zero" in part["text"]
    assert [bool(button_urls(p)) for p in parts] == [False] * (len(parts) - 1) + [True]
    assert button_urls(parts[-1]) == ["https://t.me/pollbot_sandbox_bot?start=s-long-read"]
    shown = "\n\n".join(p["text"] for p in parts)
    assert all(f"{index}. Price" in shown for index in range(12))
    (post,) = await long_bot.store.posts_of("long-read")
    assert post.message_ids == tuple(p["message_id"] for p in parts)
    assert post.campaign_id is None  # the article has no poll


async def test_a_broken_content_file_leaves_the_others_loaded(
    long_bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    (listing,) = await long_bot.say(ADMIN, "/articles")

    assert listing["text"].startswith("Articles: 1\n• long-read — Costs <&> benefits")
    assert "Mistakes in content files: 1" in listing["text"]  # the first of its shape
    logged = [
        r.getMessage() for r in caplog.get_records("setup") if r.name == "bot.articles.library"
    ]
    assert any("broken.toml, field title: missing" in line for line in logged)


# ---------------------------------------------------------------- summaries


async def test_readers_get_the_summary_in_their_language_each_counted_once(
    bot: BotHarness,
) -> None:
    (english,) = await bot.say(READER, f"/start s-{SEED}")
    (russian,) = await bot.say(READER_RU, f"/start s-{SEED}")

    assert english["text"].startswith(SEED_TITLE)
    assert "Summary" in english["text"]
    assert "• Industry and Trade Minister Denis Manturov" in english["text"]
    assert russian["text"].startswith("Перезапуск московского завода")
    assert "Кратко" in russian["text"]
    assert "• Глава Минпромторга Денис Мантуров" in russian["text"]
    assert await bot.store.summary_readers(SEED) == 2

    (again,) = await bot.say(READER, f"/start s-{SEED}")
    (by_command,) = await bot.say(READER_RU, f"/summary {SEED}")

    assert again["text"] == english["text"]
    assert by_command["text"] == russian["text"]
    assert await bot.store.summary_readers(SEED) == 2


@pytest.mark.parametrize("payload", ["s-nope", "garbage!!", "s-"])
async def test_a_bad_deep_link_gets_a_polite_answer(bot: BotHarness, payload: str) -> None:
    (reply,) = await bot.say(READER, f"/start {payload}")

    assert reply["text"].startswith("Sorry, this link does not lead to an article")
    assert await bot.store.dead_letters() == []
    assert await bot.store.summary_readers("nope") == 0


async def test_summary_of_an_unknown_article_lists_the_articles(bot: BotHarness) -> None:
    (reply,) = await bot.say(READER, "/summary nope")

    assert SEED in reply["text"]


async def test_plain_start_greets(bot: BotHarness) -> None:
    (reply,) = await bot.say(READER, "/start")

    assert reply["text"].startswith("Hi! I post articles")


# ---------------------------------------------------------------- the library


async def test_articles_lists_the_library_with_times_posted(bot: BotHarness) -> None:
    (before,) = await bot.say(ADMIN, "/articles")
    await bot.say(ADMIN, f"/post {SEED} @plantnews @autonews")
    (after,) = await bot.say(ADMIN, "/articles")

    assert SEED in before["text"] and SEED_TITLE in before["text"]
    assert "language: en (+ ru) · poll: yes · posted: 0" in before["text"]
    assert "posted: 2" in after["text"]


async def test_articles_is_for_admins(bot: BotHarness) -> None:
    (reply,) = await bot.say(READER, "/articles")

    assert "only the bot's admins" in reply["text"]


async def test_a_chat_that_keeps_answering_429_is_named_in_the_report(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six 429s in a row for one channel (one more than the retries): the post reaches the
    other channel, and the admin's report says where it did not go and what to do, instead
    of a post silently missing there."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    bot.world.fault("429", method="sendMessage", chat_id=AUTONEWS, times=6, retry_after=1)

    (report,) = await bot.say(ADMIN, f"/post {SEED} now")

    assert "@plantnews: posted" in report["text"]
    assert "@autonews: not posted: Telegram kept asking to wait" in report["text"]
    assert [m for m in bot.bot_messages(AUTONEWS) if "poll" not in m] == []
