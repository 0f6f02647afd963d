"""Native polls: counts, poll/poll_answer updates, retraction, closing, coalescing, bulk votes."""

from __future__ import annotations

import pytest
import telegram

from bot.sandbox import ControlError, World
from bot.sandbox.crowd import simulate
from tests.sandbox.support import Cast

OPTIONS = ["Trucks (KAMAZ)", "Electric cars", "Foreign partner models"]


async def _drain(bot: telegram.Bot) -> list[telegram.Update]:
    updates = list(await bot.get_updates())
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1)
    return updates


async def test_anonymous_channel_poll_sends_full_counts(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    message = await bot.send_poll(cast.channel, "Which lineup?", OPTIONS)
    assert message.poll is not None
    poll_id = message.poll.id
    world.vote(cast.reader_ru, poll_id, [1])
    [update] = await _drain(bot)
    assert update.poll is not None and update.poll_answer is None
    assert [o.voter_count for o in update.poll.options] == [0, 1, 0]
    assert [o.persistent_id for o in update.poll.options] == ["0", "1", "2"]
    world.vote(cast.reader, poll_id, [1])
    [update] = await _drain(bot)
    assert update.poll is not None and update.poll.total_voter_count == 2


async def test_group_poll_sends_poll_answer_then_poll(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    message = await bot.send_poll(
        cast.supergroup, "Which lineup?", OPTIONS, is_anonymous=False, allows_multiple_answers=True
    )
    assert message.poll is not None
    world.vote(cast.reader_ru, message.poll.id, [0, 2])
    answer, state = await _drain(bot)
    assert answer.poll_answer is not None and state.poll is not None
    assert answer.poll_answer.user is not None and answer.poll_answer.user.id == cast.reader_ru
    assert answer.poll_answer.option_ids == (0, 2)
    assert answer.poll_answer.option_persistent_ids == ("0", "2")
    assert [o.voter_count for o in state.poll.options] == [1, 0, 1]


async def test_retraction_is_an_empty_answer(bot: telegram.Bot, world: World, cast: Cast) -> None:
    message = await bot.send_poll(cast.supergroup, "Q?", OPTIONS, is_anonymous=False)
    assert message.poll is not None
    world.vote(cast.reader_ru, message.poll.id, [2])
    world.vote(cast.reader_ru, message.poll.id, [])
    updates = await _drain(bot)
    answers = [u.poll_answer for u in updates if u.poll_answer]
    assert [a.option_ids for a in answers] == [(2,), ()]
    polls = [u.poll for u in updates if u.poll]
    assert polls[-1].total_voter_count == 0


async def test_votes_telegram_would_not_allow_are_refused(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    quiz = await bot.send_poll(
        cast.supergroup,
        "2+2?",
        ["4", "5"],
        type="quiz",
        correct_option_ids=[0],
        is_anonymous=False,
    )
    assert quiz.poll is not None and quiz.poll.allows_revoting is False
    world.vote(cast.reader_ru, quiz.poll.id, [1])
    with pytest.raises(ControlError, match="does not allow changing"):
        world.vote(cast.reader_ru, quiz.poll.id, [0])
    with pytest.raises(ControlError, match="does not allow changing"):
        world.vote(cast.reader_ru, quiz.poll.id, [])
    regular = await bot.send_poll(cast.channel, "Q?", OPTIONS)
    assert regular.poll is not None
    with pytest.raises(ControlError, match="only one answer"):
        world.vote(cast.reader_ru, regular.poll.id, [0, 1])
    with pytest.raises(ControlError, match="out of range"):
        world.vote(cast.reader_ru, regular.poll.id, [3])


async def test_stop_poll_returns_final_counts_and_ends_voting(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    message = await bot.send_poll(cast.channel, "Which lineup?", OPTIONS)
    assert message.poll is not None
    world.vote(cast.reader_ru, message.poll.id, [0])
    world.vote(cast.reader, message.poll.id, [0])
    final = await bot.stop_poll(cast.channel, message.message_id)
    assert final.is_closed and [o.voter_count for o in final.options] == [2, 0, 0]
    with pytest.raises(ControlError, match="is closed"):
        world.vote(cast.stranger, message.poll.id, [1])
    with pytest.raises(telegram.error.BadRequest, match="Poll has already been closed"):
        await bot.stop_poll(cast.channel, message.message_id)
    updates = await _drain(bot)
    assert updates[-1].poll is not None and updates[-1].poll.is_closed


async def test_open_period_closes_the_poll_on_the_sandbox_clock(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    message = await bot.send_poll(cast.channel, "Quick?", OPTIONS, open_period=60)
    assert message.poll is not None and message.poll.close_date is not None
    await _drain(bot)
    world.advance(61)
    [update] = await _drain(bot)
    assert update.poll is not None and update.poll.is_closed
    assert world.poll(message.poll.id)["is_closed"]


async def test_close_date_is_checked_against_the_sandbox_clock(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    world.advance(3600)
    close = int(world.now()) + 120
    message = await bot.send_poll(cast.channel, "Later?", OPTIONS, close_date=close)
    assert message.poll is not None and message.poll.close_date is not None
    assert int(message.poll.close_date.timestamp()) == close


async def test_undelivered_poll_updates_coalesce(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    message = await bot.send_poll(cast.channel, "Which lineup?", OPTIONS)
    assert message.poll is not None
    for user in range(10):
        world.vote(5000 + user, message.poll.id, [user % 3])
    [update] = await bot.get_updates()
    assert update.poll is not None and update.poll.total_voter_count == 10
    world.vote(6000, message.poll.id, [0])  # the delivered snapshot is never rewritten
    first, second = await bot.get_updates()
    assert first == update and first.poll is not None and first.poll.total_voter_count == 10
    assert second.poll is not None and second.poll.total_voter_count == 11


async def test_bulk_votes_apply_twenty_thousand_in_one_call(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    channel = await bot.send_poll(cast.channel, "Which lineup?", OPTIONS)
    group = await bot.send_poll(cast.supergroup, "Which lineup?", OPTIONS, is_anonymous=False)
    assert channel.poll is not None and group.poll is not None
    votes = [[10_000 + i, channel.poll.id, [i % 3]] for i in range(20_000)]
    votes += [[10_000 + i, group.poll.id, [i % 2]] for i in range(2_000)]
    result = world.bulk_votes(votes)
    assert result == {"applied": 22_000, "unchanged": 0, "refused": []}
    assert world.poll(channel.poll.id)["sandbox"]["counts"] == [6667, 6667, 6666]
    assert world.pending() == 2_000 + 2  # poll answers + one coalesced poll update per poll


async def test_bulk_votes_list_refusals_without_stopping(world: World, cast: Cast) -> None:
    result = world.bulk_votes([[1, "nope", [0]], [1, "nope", "x"]])
    assert result["applied"] == 0 and [r["index"] for r in result["refused"]] == [0, 1]


async def test_anonymous_admin_votes_as_the_chat(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    message = await bot.send_poll(cast.supergroup, "Q?", OPTIONS, is_anonymous=False)
    assert message.poll is not None
    world.vote(cast.admin, message.poll.id, [1], voter_chat_id=cast.supergroup)
    answer, _ = await _drain(bot)
    assert answer.poll_answer is not None and answer.poll_answer.voter_chat is not None
    assert answer.poll_answer.voter_chat.id == cast.supergroup
    assert answer.poll_answer.user is not None and answer.poll_answer.user.id == 136817688


async def test_users_add_options_with_new_persistent_ids(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    message = await bot.send_poll(
        cast.supergroup, "Q?", ["A", "B"], is_anonymous=False, allow_adding_options=True
    )
    assert message.poll is not None
    world.add_option(cast.reader_ru, message.poll.id, "Buses")
    world.vote(cast.reader, message.poll.id, [2])
    updates = await _drain(bot)
    service = [u.message for u in updates if u.message]
    assert service and service[0].poll_option_added is not None
    assert service[0].poll_option_added.option_text == "Buses"
    answers = [u.poll_answer for u in updates if u.poll_answer]
    assert answers[0].option_persistent_ids == ("2",)
    polls = [u.poll for u in updates if u.poll]
    assert [o.text for o in polls[-1].options] == ["A", "B", "Buses"]
    assert polls[-1].options[2].added_by_user is not None


async def test_crowd_is_deterministic_and_consistent(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    message = await bot.send_poll(cast.supergroup, "Q?", OPTIONS, is_anonymous=False)
    assert message.poll is not None
    poll_id = message.poll.id
    report = simulate(world, [poll_id], users=50, actions=400, seed=7)
    assert report.votes and report.changes and report.retractions
    assert report.result["refused"] == []
    state = world.poll(poll_id)
    votes = state["sandbox"]["votes"]
    counts = [sum(index in choice for choice in votes.values()) for index in range(3)]
    assert counts == state["sandbox"]["counts"]
    assert state["total_voter_count"] == len(votes)
    world.reset()
    world.add_chat(cast.supergroup, "supergroup", title="Again")
    again = await bot.send_poll(cast.supergroup, "Q?", OPTIONS, is_anonymous=False)
    assert again.poll is not None
    replay = simulate(world, [again.poll.id], users=50, actions=400, seed=7)
    assert [a[0] for a in replay.actions] == [a[0] for a in report.actions]
    assert [a[2] for a in replay.actions] == [a[2] for a in report.actions]


async def test_members_only_and_country_codes_are_for_channels_with_two_letter_codes(
    bot: telegram.Bot, world: World, cast: Cast
) -> None:
    message = await bot.send_poll(
        cast.channel, "Who?", OPTIONS, members_only=True, country_codes=["RU", "KZ", "FT"]
    )
    assert message.poll is not None and message.poll.members_only
    assert message.poll.country_codes == ("RU", "KZ", "FT")
    for bad in (["ru"], ["RUS"], ["R1"], [f"A{chr(65 + i)}" for i in range(13)]):
        with pytest.raises(telegram.error.BadRequest, match=r"(?i)country"):
            await bot.send_poll(cast.channel, "Who?", OPTIONS, country_codes=bad)
    for kwargs in ({"members_only": True}, {"country_codes": ["RU"]}):
        with pytest.raises(telegram.error.BadRequest, match="only in channel chats"):
            await bot.send_poll(cast.supergroup, "Who?", OPTIONS, **kwargs)  # type: ignore[arg-type]
