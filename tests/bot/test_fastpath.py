"""The vote fast path stores what PTB's path stores, and refuses nothing PTB would keep.

Hypothesis draws batches of ``poll`` and ``poll_answer`` updates, valid (as Telegram sends
them) and broken (a field missing, of the wrong type, null, an extra field, a huge
number, any unicode), and runs each batch through two bots: one with the fast path
(bot/fastpath.py), one with it forced off (PTB parses and dispatches every update). Their
databases must then be equal table by table, dead letters included; and every update
the fast path accepts must be one PTB parses into the same record.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from telegram import Update

from bot import fastpath
from bot.polls.votes import poll_state
from bot.sandbox import Sandbox
from storage.clock import ManualClock
from tests.cast import GROUP
from tests.harness import BotHarness, bot_harness

POLL_IDS = ("5001", "5002", "5003")
PERSISTENT = ("0", "1", "2", "3")
BIG = 2**64
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-BIG, max_value=BIG),
    st.sampled_from([2**63, -(2**63) - 1, 2**100, 0, -1, 4_102_444_801]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
# Names PTB parses, or its constructors cannot take, or it has never heard of.
EXTRA_NAMES = st.sampled_from(
    [
        "api_kwargs",
        "self",
        "question_entities",
        "text_entities",
        "explanation_entities",
        "media",
        "explanation_media",
        "correct_option_id",
        "correct_option_ids",
        "country_codes",
        "open_period",
        "close_date",
        "addition_date",
        "added_by_user",
        "added_by_chat",
        "is_premium",
        "message",
        "future_field",
    ]
) | st.text(max_size=10)
TEXT = st.text(max_size=20)  # any unicode but lone surrogates: see the README


def user() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "id": st.integers(min_value=1, max_value=2**52),
            "is_bot": st.booleans(),
            "first_name": TEXT,
        },
        optional={"username": TEXT, "language_code": st.just("ru")},
    )


def chat() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"id": st.integers(min_value=-(2**52), max_value=-1), "type": st.just("channel")},
        optional={"title": TEXT},
    )


def option() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "persistent_id": st.sampled_from(PERSISTENT),
            "text": TEXT,
            "voter_count": st.integers(min_value=0, max_value=10**6),
        },
        optional={
            "added_by_user": user(),
            "addition_date": st.integers(min_value=0, max_value=2_000_000_000),
        },
    )


def poll() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "id": st.sampled_from(POLL_IDS),
            "question": TEXT,
            "options": st.lists(option(), max_size=4),
            "total_voter_count": st.integers(min_value=0, max_value=10**6),
            "is_closed": st.booleans(),
            "is_anonymous": st.booleans(),
            "type": st.sampled_from(["regular", "quiz", "future"]),
            "allows_multiple_answers": st.booleans(),
            "allows_revoting": st.booleans(),
            "members_only": st.booleans(),
        },
        optional={
            "close_date": st.integers(min_value=0, max_value=2_000_000_000),
            "open_period": st.integers(min_value=5, max_value=600),
            "country_codes": st.lists(st.sampled_from(["RU", "DE", "FT"]), max_size=2),
            "question_entities": st.just([]),
            "explanation": TEXT,
        },
    )


def answer() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "poll_id": st.sampled_from(POLL_IDS),
            "option_ids": st.lists(st.integers(min_value=0, max_value=3), max_size=3),
            "option_persistent_ids": st.lists(st.sampled_from(PERSISTENT), max_size=3),
        },
        optional={"user": user(), "voter_chat": chat()},
    )


@st.composite
def broken(draw: st.DrawFn, value: dict[str, Any]) -> dict[str, Any]:
    """``value`` with one thing wrong somewhere inside it (or nothing, a valid one)."""
    objects = [value]
    for child in value.values():
        if isinstance(child, dict):
            objects.append(child)
        elif isinstance(child, list):
            objects.extend(item for item in child if isinstance(item, dict))
    target = draw(st.sampled_from(objects))
    how = draw(st.sampled_from(["none", "drop", "replace", "null", "extra"]))
    keys = sorted(target)
    if how == "drop" and keys:
        del target[draw(st.sampled_from(keys))]
    elif how in ("replace", "null") and keys:
        target[draw(st.sampled_from(keys))] = None if how == "null" else draw(JSON)
    elif how == "extra":
        target[draw(EXTRA_NAMES)] = draw(JSON)
    return value


def update() -> st.SearchStrategy[dict[str, Any]]:
    votes = st.one_of(
        poll().flatmap(broken).map(lambda p: {"poll": p}),
        answer().flatmap(broken).map(lambda a: {"poll_answer": a}),
    )
    odd = st.sampled_from(
        [
            {"poll": None},
            {"poll_answer": None},
            {"poll": {"id": "x"}, "poll_answer": None},
        ]
    )
    return st.one_of(votes, votes, votes, odd)


@pytest.fixture
async def pair(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[tuple[BotHarness, BotHarness]]:
    """Two bots on one clock: the fast path on, and forced off."""
    clock = ManualClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    (tmp_path / "fast").mkdir()
    (tmp_path / "ptb").mkdir()
    async with (
        bot_harness(sandbox, tmp_path / "fast", clock=clock, paused=True) as fast,
        bot_harness(sandbox, tmp_path / "ptb", clock=clock, paused=True) as ptb,
    ):
        ptb.pump.fast_path = False
        yield fast, ptb


async def tables(bot: BotHarness) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows; a dead letter's error by its first line (the traceback differs)."""
    store = bot.store
    names = [
        row[0]
        for row in await store._all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    dump: dict[str, list[tuple[Any, ...]]] = {}
    for name in names:
        rows = [tuple(row) for row in await store._all(f'SELECT * FROM "{name}" ORDER BY 1')]
        if name == "dead_letters":
            rows = [(r[0], r[1], r[2], r[3].splitlines()[0], *r[4:]) for r in rows]
        dump[name] = rows
    return dump


UPDATE_IDS = itertools.count(10_000)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(update(), min_size=1, max_size=6))
async def test_both_paths_store_the_same_rows(
    pair: tuple[BotHarness, BotHarness], batch: list[dict[str, Any]]
) -> None:
    fast, ptb = pair
    raws = [{"update_id": next(UPDATE_IDS), **body} for body in batch]
    for raw in raws:
        vote = fastpath.decode(copy.deepcopy(raw))
        event("fast path" if vote is not None else "PTB path")
        if vote is not None:  # what the fast path takes, PTB takes, as the same record
            parsed = Update.de_json(copy.deepcopy(raw), ptb.application.bot)
            if isinstance(vote, fastpath.PollState):
                assert parsed.poll is not None and poll_state(parsed.poll) == vote
            else:
                assert parsed.poll_answer is not None
    await fast.pump.process_batch(copy.deepcopy(raws))
    await ptb.pump.process_batch(copy.deepcopy(raws))
    assert await tables(fast) == await tables(ptb)


async def test_the_fast_path_takes_telegrams_votes(bot: BotHarness) -> None:
    """The sandbox's votes (Telegram's shape) go by the fast path, none by PTB."""
    message = await bot.application.bot.send_poll(
        GROUP, "Which lineup?", ["EVs", "Partner"], is_anonymous=False
    )
    assert message.poll is not None
    fast, updates = bot.pump.stats.fast, bot.pump.stats.updates
    for voter in (7001, 7002, 7003):
        bot.world.vote(voter, message.poll.id, [voter % 2])
    await bot.drain()
    assert bot.pump.stats.updates - updates >= 4  # 3 answers and the poll's new state
    assert bot.pump.stats.fast - fast == bot.pump.stats.updates - updates
    stored = {a.voter: a.positions async for a in bot.store.answers(message.poll.id)}
    assert stored == {"7001": (1,), "7002": (0,), "7003": (1,)}


FULL_POLL: dict[str, Any] = {
    "id": "5001",
    "question": "Which lineup?",
    "options": [
        {
            "persistent_id": "0",
            "text": "EVs",
            "voter_count": 2,
            "added_by_user": {"id": 7001, "is_bot": False, "first_name": "Ann"},
            "added_by_chat": {"id": -1001, "type": "channel"},
            "addition_date": 1_800_000_000,
        }
    ],
    "total_voter_count": 2,
    "is_closed": False,
    "is_anonymous": False,
    "type": "regular",
    "allows_multiple_answers": False,
    "allows_revoting": True,
    "members_only": False,
    "country_codes": ["RU"],
    "correct_option_ids": [0],
    "explanation": "why",
    "description": "what",
    "open_period": 60,
    "close_date": 1_800_000_000,
}
FULL_ANSWER: dict[str, Any] = {
    "poll_id": "5001",
    "option_ids": [0],
    "option_persistent_ids": ["0"],
    "user": {"id": 7001, "is_bot": False, "first_name": "Ann"},
    "voter_chat": {"id": -1001, "type": "channel"},
}
WRONG = [None, True, 0, 2**64, 1.5, "x", [], [1], {}, {"id": 1}]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every key inside ``value`` (dicts and lists of them)."""
    found: list[tuple[Any, ...]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        found.append((*prefix, key))
        if isinstance(child, dict | list):
            found.extend(paths(child, (*prefix, key)))
    return found


def single_faults(update: dict[str, Any]) -> list[dict[str, Any]]:
    """``update`` with one key dropped, or one value replaced by one of WRONG."""
    faults = []
    for path in paths(update):
        if path == ("update_id",):
            continue
        for change in [None, *WRONG] if path[-1] != 0 else WRONG:
            broken = copy.deepcopy(update)
            parent = broken
            for key in path[:-1]:
                parent = parent[key]
            if change is None and isinstance(parent, dict):
                del parent[path[-1]]
            else:
                parent[path[-1]] = change
            faults.append(broken)
    return faults


@pytest.mark.parametrize("body", [{"poll": FULL_POLL}, {"poll_answer": FULL_ANSWER}])
def test_the_fast_path_takes_only_what_ptb_takes(body: dict[str, Any]) -> None:
    """Every key of a full vote dropped or of a wrong type, one at a time: what the fast
    path still takes, PTB takes as the same record (the rest goes to PTB to judge)."""
    full = {"update_id": 1, **body}
    assert fastpath.decode(copy.deepcopy(full)) is not None
    taken = 0
    for raw in single_faults(full):
        vote = fastpath.decode(copy.deepcopy(raw))
        if vote is None:
            continue
        taken += 1
        parsed = Update.de_json(raw, None)
        if isinstance(vote, fastpath.PollState):
            assert parsed.poll is not None and poll_state(parsed.poll) == vote, raw
        else:
            assert parsed.poll_answer is not None, raw
    assert taken  # optional fields may go: the check above ran


async def test_a_vote_no_column_can_hold_is_a_dead_letter_not_a_stuck_batch(
    pair: tuple[BotHarness, BotHarness],
) -> None:
    """PTB takes a null or a count beyond 64 bits where a column needs a value; stored at
    the batch's commit, they failed the whole batch, again at every fetch."""
    answer = {"poll_id": "5001", "option_ids": [0], "option_persistent_ids": ["0"]}
    null_flag = {**FULL_POLL, "allows_multiple_answers": None}
    huge_count = {**FULL_POLL, "total_voter_count": 2**64}
    for bot in pair:
        await bot.pump.process_batch(
            [
                {"update_id": 1, "poll_answer": {**answer, "user": {**FULL_ANSWER["user"]}}},
                {"update_id": 2, "poll": null_flag},
                {"update_id": 3, "poll": huge_count},
                {"update_id": 4, "poll_answer": {**answer, "voter_chat": {"id": -7, "type": "x"}}},
            ]
        )
        letters = await bot.store.dead_letters()
        assert sorted(letter.update_id for letter in letters) == [2, 3]
        assert all(letter.error.startswith("handler failed: ") for letter in letters)
        stored = {a.voter async for a in bot.store.answers("5001")}
        assert stored == {"7001", "-7"}
        assert await bot.store.offset() == 5


async def test_an_update_ptb_parses_but_cannot_dispatch_is_a_dead_letter(bot: BotHarness) -> None:
    """A user id PTB cannot hash (a list) fails PTB's dispatch, not a handler: before, it
    escaped the pump and failed the whole batch."""
    user = {"id": [], "is_bot": False, "first_name": "X"}
    answer = {"poll_id": "5001", "option_ids": [0], "option_persistent_ids": ["0"]}
    await bot.pump.process_batch(
        [
            {"update_id": 1, "poll_answer": {**answer, "user": user}},
            {"update_id": 2, "poll_answer": {**answer, "user": {**user, "id": 7001}}},
        ]
    )
    [letter] = await bot.store.dead_letters()
    assert letter.update_id == 1
    assert letter.error.startswith("cannot dispatch: TypeError")
    assert [a.voter async for a in bot.store.answers("5001")] == ["7001"]


async def test_a_vote_with_a_lone_surrogate_is_a_dead_letter_not_a_stuck_batch(
    pair: tuple[BotHarness, BotHarness],
) -> None:
    """JSON may carry a lone surrogate ("\\ud800"), which SQLite cannot store as UTF-8: it
    failed the whole batch at its commit, on both paths, and again at every fetch."""
    answer = {"option_ids": [0], "option_persistent_ids": ["0"], "user": FULL_ANSWER["user"]}
    for bot in pair:
        await bot.pump.process_batch(
            [
                {"update_id": 1, "poll_answer": {**answer, "poll_id": "\ud800"}},
                {"update_id": 2, "poll_answer": {**answer, "poll_id": "5001"}},
            ]
        )
        [letter] = await bot.store.dead_letters()
        assert letter.update_id == 1
        assert [a.voter async for a in bot.store.answers("5001")] == ["7001"]
        assert await bot.store.offset() == 3
