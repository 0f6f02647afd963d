"""The /newpoll syntax: forgiving to type, exact in what it asks for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.polls import newpoll
from bot.polls.newpoll import parse
from bot.polls.spec import PERIOD_OUT_OF_RANGE, REMIND_TOO_LATE, validate

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


def _texts(request: newpoll.NewPoll) -> str:
    return "\n".join(problem.render("en") for problem in request.problems)


def test_a_typo_in_the_settings_is_named_and_the_nearest_setting_suggested() -> None:
    request = parse("Typo? | a | b | mutli 2d -1002001", UTC)
    assert request.spec.options == ("a", "b")
    assert request.targets == ("-1002001",) and request.spec.open_period == 2 * 86400
    assert request.problems[0].message == newpoll.UNKNOWN_SETTING_NEAR
    assert request.problems[0].params == {"word": "mutli", "nearest": "multi"}
    assert "“mutli”" in _texts(request) and "“multi”" in _texts(request)
    assert "mutli" in request.problems[0].render("ru")


@pytest.mark.parametrize(
    ("settings", "word", "nearest"),
    [
        ("multi pubic", "pubic", "public"),
        ("несколко 2д", "несколко", "несколько"),
        ("qiuz=2 multi", "qiuz=2", "quiz="),
        ("shufle @chan_nel", "shufle", "shuffle"),
        ("2d hdie", "hdie", "hide"),
    ],
)
def test_any_setting_word_makes_the_part_settings_and_typos_get_a_suggestion(
    settings: str, word: str, nearest: str
) -> None:
    request = parse(f"Q | a | b | {settings}", UTC)
    assert request.spec.options == ("a", "b")
    assert request.problems[0].params == {"word": word, "nearest": nearest}


def test_an_option_with_a_setting_word_is_refused_with_the_trailing_bar_hint() -> None:
    request = parse("Q | Yes | Public transport", UTC)
    assert request.spec.options == ("Yes",)
    assert [p.params.get("word") for p in request.problems[:1]] == ["transport"]
    assert request.problems[-1].message == newpoll.OPTION_NEEDS_BAR
    assert "Public transport" in _texts(request) and "|" in _texts(request)
    assert parse("Q | Yes | Public transport |", UTC).problems == ()


def test_a_word_that_is_no_setting_at_all_keeps_the_part_an_option() -> None:
    assert parse("Q | a | b | 2 apples", UTC).problems == ()
    assert parse("Q | a | b | Lada Vesta", UTC).spec.options == ("a", "b", "Lada Vesta")


def test_durations_in_one_settings_part_add_up() -> None:
    assert parse("Q | a | b | 2d 3h", UTC).spec.open_period == 51 * 3600
    assert parse("Q | a | b | 1д 30мин multi", UTC).spec.open_period == 86400 + 1800


def test_a_zero_duration_is_a_setting_that_the_validator_refuses() -> None:
    request = parse("Q | a | b | 0m", UTC)
    assert request.spec.options == ("a", "b") and request.spec.open_period == 0
    problems = validate(request.spec, in_channel=True, now=datetime.now(UTC))
    assert [p.message for p in problems] == [PERIOD_OUT_OF_RANGE]


def test_a_duration_with_an_unknown_unit_is_an_unknown_setting() -> None:
    request = parse("Q | a | b | 1y", UTC)
    assert request.spec.options == ("a", "b")
    assert request.problems[0].message in (newpoll.UNKNOWN_SETTING, newpoll.UNKNOWN_SETTING_NEAR)
    assert request.problems[0].params["word"] == "1y"


@pytest.mark.parametrize("text", ["Q | a | -1002001 | multi", "Q | a | @chan_nel |"])
def test_an_option_that_is_only_a_chat_is_refused(text: str) -> None:
    request = parse(text, UTC)
    assert [p.message for p in request.problems] == [newpoll.OPTION_IS_A_CHAT]
    assert "Option 2" in _texts(request)


def test_a_lone_typo_of_a_setting_is_refused_not_made_an_option() -> None:
    request = parse("Q? | a | b | mutli", UTC)
    assert request.spec.options == ("a", "b")
    assert request.problems[0].params == {"word": "mutli", "nearest": "multi"}
    assert parse("Q? | a | b | Lada", UTC).spec.options == ("a", "b", "Lada")  # no setting


@pytest.mark.parametrize("text", ["Temp? | -5 | 0 | +5", "Temp? | +5 | 0 | -5"])
def test_small_negative_numbers_are_answers_not_chats(text: str) -> None:
    request = parse(text, UTC)
    assert request.problems == () and request.targets == ()
    assert len(request.spec.options) == 3


def test_line_breaks_in_a_text_setting_are_kept() -> None:
    request = parse("Q? | a | b | quiz=1 why=first line\nsecond line @plantnews", UTC)
    assert request.spec.explanation == "first line\nsecond line"
    assert request.targets == ("@plantnews",)


def test_final_reminder_members_and_countries_settings() -> None:
    spec = parse("Q? | a | b | nofinal remind=1h members countries=ru,KZ", UTC).spec
    assert (spec.final_post, spec.remind_before, spec.members_only) == (False, 3600, True)
    assert spec.country_codes == ("RU", "KZ")
    russian = parse("Q? | a | b | безитога напомнить=30м подписчики страны=RU", UTC).spec
    assert (russian.final_post, russian.remind_before, russian.members_only) == (False, 1800, True)
    assert parse("Q? | a | b | 1d", UTC).spec.final_post  # on by default
    assert [p.message for p in parse("Q? | a | b | remind=soon", UTC).problems] == [
        newpoll.BAD_REMIND
    ]


def test_remind_off_turns_the_config_reminder_off_and_a_reminder_must_fit_the_poll() -> None:
    assert parse("Q? | a | b | 1d remind=off", UTC).spec.remind_before == 0
    assert parse("Q? | a | b | 1d remind=0", UTC).spec.remind_before == 0
    assert parse("Q? | a | b | 1d", UTC).spec.remind_before is None  # the config's
    now = datetime.now(UTC)
    too_late = parse("Q? | a | b | 30m remind=1h", UTC).spec
    (problem,) = validate(too_late, in_channel=True, now=now)
    assert problem.message == REMIND_TOO_LATE
    assert problem.params == {"remind": 3600, "life": 1800}
    assert validate(parse("Q? | a | b | 2h remind=1h", UTC).spec, in_channel=True, now=now) == []
