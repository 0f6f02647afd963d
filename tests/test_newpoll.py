"""The /newpoll syntax: forgiving to type, exact in what it asks for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.polls import newpoll
from bot.polls.newpoll import parse

MOSCOW = ZoneInfo("Europe/Moscow")


def test_question_options_and_settings_after_the_last_bar() -> None:
    request = parse("Best car? | Lada | Moskvich | multi public 2d @group", MOSCOW)
    spec = request.spec
    assert (spec.question, spec.options) == ("Best car?", ("Lada", "Moskvich"))
    assert spec.allows_multiple_answers and not spec.is_anonymous
    assert spec.open_period == 2 * 86400 and spec.allows_revoting
    assert request.targets == ("@group",) and request.problems == ()


def test_one_option_per_line_and_russian_settings() -> None:
    request = parse("Лучшая машина?\nЛада\n\nМосквич\nНесколько ПУБЛИЧНО 1д12ч -1002001", UTC)
    spec = request.spec
    assert spec.options == ("Лада", "Москвич")
    assert spec.allows_multiple_answers and not spec.is_anonymous
    assert spec.open_period == 86400 + 12 * 3600 and request.targets == ("-1002001",)


def test_every_bot_api_9_6_setting() -> None:
    spec = parse('Q | a | b | hide shuffle public addable desc="Read first" @g_roup', UTC).spec
    assert spec.hide_results_until_closes and spec.shuffle_options
    assert spec.allow_adding_options and spec.description == "Read first"


def test_quiz_with_correct_options_and_explanation() -> None:
    spec = parse("2+2? | 3 | 4 | four | multi quiz=2,3 why=Because it is", UTC).spec
    assert spec.quiz and spec.correct_option_ids == (1, 2) and not spec.allows_revoting
    assert spec.explanation == "Because it is"
    assert parse("Q | a | b | quiz", UTC).spec.quiz
    assert parse("Q | a | b | quiz", UTC).spec.correct_option_ids == ()


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ("close=2026-12-01T18:00+03:00", datetime(2026, 12, 1, 15, tzinfo=UTC)),
        ("close=2026-12-01T18:00", datetime(2026, 12, 1, 15, tzinfo=UTC)),
        ("close=2026-12-01 18:00 @chan_nel", datetime(2026, 12, 1, 15, tzinfo=UTC)),
        ("до=01.12.2026 18:00", datetime(2026, 12, 1, 15, tzinfo=UTC)),
        ("until=2026-12-01T15:00Z", datetime(2026, 12, 1, 15, tzinfo=UTC)),
    ],
)
def test_close_dates_in_the_bots_time_zone_unless_an_offset_is_given(
    settings: str, expected: datetime
) -> None:
    spec = parse(f"Q | a | b | {settings}", MOSCOW).spec
    assert spec.close_date == expected
    assert spec.close_date is not None and spec.close_date.utcoffset() is not None


def test_last_part_is_an_option_unless_it_starts_with_a_setting() -> None:
    assert parse("Q | Yes | No", UTC).spec.options == ("Yes", "No")
    assert parse("Q | Yes | Public transport |", UTC).spec.options == ("Yes", "Public transport")
    assert parse("Q | Yes | No |", UTC).spec.options == ("Yes", "No")
    assert parse("Q | a | b | 2 apples", UTC).spec.options == ("a", "b", "2 apples")


@pytest.mark.parametrize(
    ("text", "message", "word"),
    [
        ("Q | a | b | multi pubic", newpoll.UNKNOWN_SETTING, "pubic"),
        ("Q | a | b | quiz=first", newpoll.BAD_CORRECT, "quiz=first"),
        ("Q | a | b | period=soon", newpoll.BAD_DURATION, "period=soon"),
        ("Q | a | b | close=tomorrow", newpoll.BAD_CLOSE_DATE, "close=tomorrow"),
        ("Q | a | b | desc=", newpoll.EMPTY_TEXT, "desc="),
    ],
)
def test_what_cannot_be_read_is_a_problem_naming_the_word(
    text: str, message: str, word: str
) -> None:
    [problem] = parse(text, UTC).problems
    assert problem.message == message and problem.params == {"word": word}
    assert word in problem.render("en") and word in problem.render("ru")


def test_telegram_links_are_targets() -> None:
    assert parse("Q | a | b | t.me/plantnews https://t.me/autonews", UTC).targets == (
        "@plantnews",
        "@autonews",
    )


def test_command_text_keeps_line_breaks() -> None:
    assert newpoll.command_text("/newpoll@pollbot Q?\na\nb") == "Q?\na\nb"
    assert newpoll.command_text("/newpoll") == ""


def test_naive_close_date_becomes_aware() -> None:
    offset = timezone(timedelta(hours=5))
    spec = parse("Q | a | b | close=2026-01-02T03:04", offset).spec
    assert spec.close_date == datetime(2026, 1, 2, 3, 4, tzinfo=offset)
