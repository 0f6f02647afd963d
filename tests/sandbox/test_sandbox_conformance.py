"""Everything the sandbox answers or emits conforms to botapi.json and parses in PTB 22.8."""

from __future__ import annotations

from typing import Any

import telegram

from bot.sandbox import World
from bot.sandbox.spec import check_object, spec
from tests.sandbox.support import PNG, Cast

PTB_TYPES: dict[str, Any] = {
    "Message": telegram.Message,
    "Update": telegram.Update,
    "User": telegram.User,
    "ChatFullInfo": telegram.ChatFullInfo,
    "ChatMember": telegram.ChatMember,
    "Poll": telegram.Poll,
    "WebhookInfo": telegram.WebhookInfo,
    "BotCommand": telegram.BotCommand,
}
HTML = (
    "<b>b</b> <strong>s</strong> <i>i</i> <em>e</em> <u>u</u> <ins>n</ins> <s>s</s> "
    '<strike>k</strike> <del>d</del> <span class="tg-spoiler">p</span> <tg-spoiler>t</tg-spoiler> '
    '<a href="https://example.org/?a=1&amp;b=2">link</a> <code>c</code> '
    '<pre><code class="language-python">print(1)</code></pre> <pre>raw</pre> '
    "<blockquote>q</blockquote> <blockquote expandable>x</blockquote> "
    '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> &lt;&gt;&quot;&#128512;&#x1F600;'
)


async def _exercise(bot: telegram.Bot, world: World, cast: Cast) -> None:
    """Call every emulated method and cause every kind of update the sandbox emits."""
    markup = telegram.InlineKeyboardMarkup(
        [
            [
                telegram.InlineKeyboardButton("Summary", callback_data="sum"),
                telegram.InlineKeyboardButton("Site", url="https://example.org"),
            ]
        ]
    )
    world.send(cast.reader_ru, "/start")
    world.send(cast.admin, "hello group", chat_id=cast.supergroup)
    world.send(cast.admin, "channel note", chat_id=cast.channel)
    text = await bot.send_message(cast.channel, HTML, parse_mode="HTML", reply_markup=markup)
    await bot.send_message(cast.reader_ru, "reply", reply_parameters=telegram.ReplyParameters(1))
    await bot.send_photo(cast.channel, PNG, caption="<b>chart</b>", parse_mode="HTML")
    await bot.send_document(cast.admin, b"a,b\n", filename="export.csv")
    channel_poll = await bot.send_poll(
        cast.channel,
        "Lineup?",
        ["A", "B", "C"],
        description="<i>why</i>",
        description_parse_mode="HTML",
    )
    group_poll = await bot.send_poll(
        cast.supergroup,
        "Lineup?",
        ["A", "B"],
        is_anonymous=False,
        allows_multiple_answers=True,
        allow_adding_options=True,
    )
    quiz = await bot.send_poll(
        cast.supergroup,
        "2+2?",
        ["4", "5"],
        type="quiz",
        correct_option_ids=[0],
        explanation="<b>math</b>",
        explanation_parse_mode="HTML",
        open_period=30,
    )
    assert channel_poll.poll and group_poll.poll and quiz.poll
    world.vote(cast.reader_ru, channel_poll.poll.id, [0])
    world.vote(cast.reader_ru, group_poll.poll.id, [0, 1])
    world.vote(cast.admin, group_poll.poll.id, [1], voter_chat_id=cast.supergroup)
    world.vote(cast.reader_ru, group_poll.poll.id, [])
    world.add_option(cast.reader, group_poll.poll.id, "Buses")
    world.vote(cast.reader, quiz.poll.id, [1])
    query = world.press(cast.reader, cast.channel, text.message_id, "sum")["callback_query_id"]
    await bot.answer_callback_query(query, "Summary: ...")
    await bot.edit_message_text(
        "<b>edited</b>", cast.channel, text.message_id, parse_mode="HTML", reply_markup=markup
    )
    await bot.edit_message_reply_markup(cast.channel, text.message_id)
    await bot.stop_poll(cast.channel, channel_poll.message_id)
    world.advance(31)
    for chat in (cast.channel, cast.supergroup, cast.group, cast.admin):
        await bot.get_chat(chat)
    for user in (cast.admin, cast.reader, 123456):
        await bot.get_chat_member(cast.supergroup, user)
    await bot.get_chat_administrators(cast.channel)
    await bot.set_my_commands([telegram.BotCommand("start", "Start")])
    await bot.get_my_commands()
    await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="x")
    await bot.get_webhook_info()
    await bot.delete_webhook()
    await bot.get_webhook_info()
    world.add_chat(-1007777777777, "channel", title="New", bot_status="left")
    world.bot_added(-1007777777777, cast.admin)
    world.bot_added(cast.group, cast.admin, status="member")
    world.bot_removed(cast.supergroup, cast.admin, status="left")
    world.bot_removed(-1007777777777, cast.admin, status="kicked")
    await bot.delete_message(cast.channel, text.message_id)
    updates = await bot.get_updates()
    while updates:
        updates = await bot.get_updates(offset=updates[-1].update_id + 1)


async def test_every_answer_and_update_matches_botapi_json(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    await _exercise(bot, world, cast)
    methods = spec()["methods"]
    kinds: set[str] = set()
    checked = 0
    for call in world.calls():
        assert call["ok"], call
        returns = methods[call["method"]]["returns"]
        problems = check_object(returns[0], call["result"], call["method"])
        if problems and len(returns) > 1:
            problems = check_object(returns[1], call["result"], call["method"])
        assert problems == [], problems
        if call["method"] == "getUpdates":
            kinds.update(key for update in call["result"] for key in update if key != "update_id")
        checked += 1
    assert checked >= 29
    assert kinds == {
        "message",
        "channel_post",
        "callback_query",
        "poll",
        "poll_answer",
        "my_chat_member",
    }


async def test_ptb_parses_every_answer_without_unknown_fields(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    await _exercise(bot, world, cast)
    methods = spec()["methods"]
    for call in world.calls():
        result = call["result"]
        name = methods[call["method"]]["returns"][0]
        if name.startswith("Array of "):
            name, items = name[len("Array of ") :], result
        else:
            items = [result]
        if name not in PTB_TYPES:
            continue
        for item in items:
            if name == "Message" and not isinstance(item, dict):
                continue
            parsed = PTB_TYPES[name].de_json(item, bot)
            assert parsed is not None and parsed.api_kwargs == {}, (call["method"], item)


async def test_checker_catches_what_ptb_refuses() -> None:
    poll = {
        "id": "1",
        "question": "Q",
        "options": [{"text": "A", "voter_count": 0}],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
    }
    problems = check_object("Poll", poll)
    assert any("allows_revoting" in p for p in problems)
    assert any("members_only" in p for p in problems)
    assert any("persistent_id" in p for p in problems)
    member = {
        "status": "member",
        "user": {"id": 1, "is_bot": False, "first_name": "A"},
        "can_post_messages": True,
    }
    assert check_object("ChatMember", member) != []
    assert (
        check_object(
            "Message",
            {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"}, "sandbox": {}},
        )
        != []
    )
