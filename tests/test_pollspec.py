"""Poll specs: every Telegram rule gives its own problem, and valid specs fit send_poll."""

from __future__ import annotations

import dataclasses
import inspect
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram import Bot, InputPollOption
from telegram.constants import ParseMode
from telegram.ext import Defaults, ExtBot
from telegram.request import BaseRequest, RequestData

from bot.polls import newpoll
from bot.polls import spec as pollspec
from bot.polls.spec import (
    ContentError,
    PollSpec,
    parse_duration,
    parse_moment,
    send_kwargs,
    spec_from_mapping,
    validate,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
GOOD = PollSpec(question="Which lineup?", options=("EVs", "Partner cars", "Both"))


def problems_of(spec: PollSpec, *, in_channel: bool | None = True) -> list[str]:
    return [problem.message for problem in validate(spec, in_channel=in_channel, now=NOW)]


def test_a_good_poll_has_no_problems() -> None:
    assert problems_of(GOOD) == []


def _quiz(**changes: Any) -> PollSpec:
    return dataclasses.replace(GOOD, quiz=True, allows_revoting=False, **changes)


INVALID = [
    ("empty question", {"question": "  "}, pollspec.QUESTION_EMPTY),
    ("question too long", {"question": "x" * 301}, pollspec.QUESTION_TOO_LONG),
    ("no option", {"options": ()}, pollspec.NO_OPTIONS),
    ("13 options", {"options": tuple(f"o{i}" for i in range(13))}, pollspec.TOO_MANY_OPTIONS),
    ("empty option", {"options": ("a", " ")}, pollspec.OPTION_EMPTY),
    ("option too long", {"options": ("a", "b" * 101)}, pollspec.OPTION_TOO_LONG),
    ("duplicate", {"options": ("Both", "EVs", " both ")}, pollspec.OPTION_DUPLICATE),
    ("public in channel", {"is_anonymous": False}, pollspec.PUBLIC_IN_CHANNEL),
    ("quiz without correct", {"quiz": True}, pollspec.QUIZ_NO_CORRECT),
    ("quiz correct out of range", {"quiz": True, "correct_option_ids": (3,)}, None),
    ("two correct, one answer", {"quiz": True, "correct_option_ids": (0, 1)}, None),
    ("correct on a regular poll", {"correct_option_ids": (0,)}, pollspec.CORRECT_WITHOUT_QUIZ),
    ("explanation on a poll", {"explanation": "why"}, pollspec.EXPLANATION_WITHOUT_QUIZ),
    ("description too long", {"description": "d" * 1025}, pollspec.DESCRIPTION_TOO_LONG),
    ("open period too short", {"open_period": 4}, pollspec.PERIOD_OUT_OF_RANGE),
    ("open period over limit", {"open_period": 2_628_001}, pollspec.PERIOD_OUT_OF_RANGE),
    (
        "both period and date",
        {"open_period": 60, "close_date": NOW + timedelta(hours=1)},
        pollspec.PERIOD_AND_DATE,
    ),
    ("close date passed", {"close_date": NOW - timedelta(minutes=1)}, pollspec.CLOSE_DATE_PAST),
    ("close date too soon", {"close_date": NOW + timedelta(seconds=3)}, None),
    ("close date too late", {"close_date": NOW + timedelta(days=31)}, None),
    ("close date naive", {"close_date": datetime(2026, 1, 2)}, pollspec.CLOSE_DATE_NAIVE),
    ("adding options, anonymous", {"allow_adding_options": True}, pollspec.ADDING_TO_ANONYMOUS),
]
EXPECTED = {
    "quiz correct out of range": pollspec.QUIZ_CORRECT_MISSING,
    "two correct, one answer": pollspec.QUIZ_MANY_CORRECT,
    "close date too soon": pollspec.CLOSE_DATE_TOO_SOON,
    "close date too late": pollspec.CLOSE_DATE_TOO_LATE,
}


@pytest.mark.parametrize(("case", "changes", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_each_mistake_gets_its_own_problem(
    case: str, changes: dict[str, Any], message: str | None
) -> None:
    spec = dataclasses.replace(GOOD, **changes)
    assert problems_of(spec) == [message or EXPECTED[case]]


def test_quiz_rules() -> None:
    assert problems_of(_quiz(correct_option_ids=(1,), explanation="Because.")) == []
    multi = _quiz(correct_option_ids=(0, 2), allows_multiple_answers=True)
    assert problems_of(multi) == []
    assert problems_of(_quiz(correct_option_ids=(1,), explanation="e" * 201)) == [
        pollspec.EXPLANATION_TOO_LONG
    ]
    assert problems_of(_quiz(correct_option_ids=(1,), explanation="a\nb\nc\nd")) == [
        pollspec.EXPLANATION_LINE_FEEDS
    ]
    assert problems_of(
        _quiz(correct_option_ids=(1,), allow_adding_options=True, is_anonymous=False),
        in_channel=False,
    ) == [pollspec.ADDING_TO_QUIZ]


def test_public_poll_with_added_options_is_fine_outside_channels() -> None:
    spec = dataclasses.replace(GOOD, is_anonymous=False, allow_adding_options=True)
    assert problems_of(spec, in_channel=False) == []
    assert problems_of(spec, in_channel=True) == [pollspec.PUBLIC_IN_CHANNEL]


def test_every_problem_is_reported_at_once() -> None:
    spec = PollSpec(question="", options=("a", "A"), is_anonymous=False, open_period=1)
    assert problems_of(spec) == [
        pollspec.QUESTION_EMPTY,
        pollspec.OPTION_DUPLICATE,
        pollspec.PUBLIC_IN_CHANNEL,
        pollspec.PERIOD_OUT_OF_RANGE,
    ]


def test_limits_come_from_telegram_and_count_utf16() -> None:
    # An emoji is two UTF-16 code units, as Telegram counts it.
    assert problems_of(dataclasses.replace(GOOD, question="🚗" * 150)) == []
    assert problems_of(dataclasses.replace(GOOD, question="🚗" * 151)) == [
        pollspec.QUESTION_TOO_LONG
    ]
    assert problems_of(dataclasses.replace(GOOD, options=tuple("abcdefghijkl"))) == []


def test_problems_render_in_english_and_russian() -> None:
    spec = dataclasses.replace(GOOD, options=("Yes", "no", "YES"))
    (problem,) = validate(spec, in_channel=True, now=NOW)
    assert (
        problem.render("en") == "Option 3 repeats option 1 (“YES”): make every option different."
    )
    assert problem.render("ru").startswith("Вариант 3 повторяет вариант 1")


SEND_POLL = inspect.signature(Bot.send_poll)


@pytest.mark.parametrize(
    "spec",
    [
        GOOD,
        _quiz(correct_option_ids=(2, 0), allows_multiple_answers=True, explanation="x"),
        dataclasses.replace(GOOD, open_period=3600, description="About the plant"),
        dataclasses.replace(GOOD, close_date=NOW + timedelta(days=2), shuffle_options=True),
    ],
)
def test_send_kwargs_fit_send_poll(spec: PollSpec) -> None:
    kwargs = send_kwargs(spec)
    SEND_POLL.bind(object(), chat_id=-100123, **kwargs)
    assert "correct_option_id" not in kwargs  # deprecated in PTB 22.8: it warns
    assert [o.text for o in kwargs["options"]] == list(spec.options)
    assert all(isinstance(o, InputPollOption) for o in kwargs["options"])
    assert kwargs["type"] == ("quiz" if spec.quiz else "regular")


def test_send_kwargs_details() -> None:
    quiz = send_kwargs(_quiz(correct_option_ids=(2, 0), allows_multiple_answers=True))
    assert quiz["correct_option_ids"] == [0, 2]
    assert quiz["allows_revoting"] is False
    regular = send_kwargs(GOOD)
    assert regular["is_anonymous"] is True and regular["allows_revoting"] is True
    assert "open_period" not in regular and "close_date" not in regular
    # Texts are plain: an application-wide parse mode must not apply to them.
    assert regular["question_parse_mode"] is None


class _Recorder(BaseRequest):
    """A transport that records what PTB would send and answers ``true``."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float:
        return 1.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = None,
        write_timeout: object = None,
        connect_timeout: object = None,
        pool_timeout: object = None,
    ) -> tuple[int, bytes]:
        self.sent.append(request_data.parameters if request_data else {})
        return 200, json.dumps({"ok": True, "result": True}).encode()


async def test_poll_texts_go_out_verbatim_despite_an_html_default() -> None:
    recorder = _Recorder()
    bot = ExtBot(
        "1:token",
        request=recorder,
        get_updates_request=_Recorder(),
        defaults=Defaults(parse_mode=ParseMode.HTML),
    )
    spec = _quiz(correct_option_ids=(0,), explanation="1 < 2", description="R&D")
    await bot.send_poll(chat_id=-100123, **send_kwargs(spec))
    (sent,) = recorder.sent
    assert sent["question"] == GOOD.question
    assert sent["options"] == [{"text": text} for text in GOOD.options]
    assert (sent["explanation"], sent["description"]) == ("1 < 2", "R&D")
    assert not {"question_parse_mode", "explanation_parse_mode", "description_parse_mode"} & set(
        sent
    )
    assert sent["type"] == "quiz" and sent["correct_option_ids"] == [0]


def test_spec_from_mapping_reads_a_full_table() -> None:
    spec = spec_from_mapping(
        {
            "question": "Q?",
            "options": ["a", "b", "c"],
            "quiz": True,
            "correct_options": [2],
            "explanation": "b it is",
            "open_period": "1d12h",
            "shuffle": True,
            "hide_results": True,
            "description": "d",
        },
        "content/x.toml",
    )
    assert spec.correct_option_ids == (1,)  # 1-based in files, 0-based in code
    assert spec.open_period == 36 * 3600
    assert spec.allows_revoting is False  # the Bot API default for quizzes
    assert spec.shuffle_options and spec.hide_results_until_closes and spec.is_anonymous
    assert spec.description == "d" and spec.explanation == "b it is"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (90, 90),
        ("2d", 172800),
        ("12h", 43200),
        ("30m", 1800),
        # the forms /newpoll reads: one parser serves both
        ("90", 90),
        ("1d 12h", 129600),
        ("2Д 3ч", 2 * 86400 + 3 * 3600),
        ("10min", 600),
    ],
)
def test_open_period_forms(value: object, seconds: int) -> None:
    spec = spec_from_mapping({"question": "Q", "options": ["a"], "open_period": value}, "f")
    assert spec.open_period == seconds
    if isinstance(value, str):
        request = newpoll.parse(f"Q | a | b | period={value.replace(' ', '')}", UTC)
        assert request.problems == () and request.spec.open_period == seconds


@pytest.mark.parametrize("text", ["", "soon", "2x", "2d soon", "d", "-5"])
def test_unreadable_durations(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01T18:00:00+03:00", datetime(2026, 12, 1, 15, tzinfo=UTC)),
        ("2026-12-01 18:00+03:00", datetime(2026, 12, 1, 15, tzinfo=UTC)),
        ("01.12.2026 18:00+0300", datetime(2026, 12, 1, 15, tzinfo=UTC)),
        ("2026-12-01T18:00", datetime(2026, 12, 1, 18)),
        ("01.12.2026 18:00", datetime(2026, 12, 1, 18)),
        ("01.12.2026", datetime(2026, 12, 1)),
        ("tomorrow", None),
        ("32.12.2026", None),
    ],
)
def test_one_date_parser(text: str, expected: datetime | None) -> None:
    assert parse_moment(text) == expected


def test_an_article_close_date_may_be_written_as_in_newpoll_but_with_an_offset() -> None:
    table = {"question": "Q", "options": ["a"], "close_date": "01.12.2026 18:00+0300"}
    assert spec_from_mapping(table, "f").close_date == datetime(2026, 12, 1, 15, tzinfo=UTC)
    with pytest.raises(ContentError, match=r"^f: poll\.close_date: must be an ISO 8601"):
        spec_from_mapping({**table, "close_date": "01.12.2026 18:00"}, "f")


def test_close_date_needs_an_offset() -> None:
    spec = spec_from_mapping(
        {"question": "Q", "options": ["a"], "close_date": "2026-01-02T18:00:00+03:00"}, "f"
    )
    assert spec.close_date == datetime(2026, 1, 2, 15, 0, tzinfo=UTC)
    with pytest.raises(ContentError) as caught:
        spec_from_mapping({"question": "Q", "options": ["a"], "close_date": "2026-01-02"}, "f")
    assert caught.value.field == "poll.close_date"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"question": "Q", "options": ["a"], "colour": "red"}, "poll.colour"),
        ({"options": ["a"]}, "poll.question"),
        ({"question": "Q", "options": "a, b"}, "poll.options"),
        ({"question": "Q", "options": ["a"], "quiz": "yes"}, "poll.quiz"),
        ({"question": "Q", "options": ["a"], "correct_options": [0]}, "poll.correct_options"),
        ({"question": "Q", "options": ["a"], "open_period": "soon"}, "poll.open_period"),
    ],
)
def test_spec_from_mapping_names_the_bad_key(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ContentError) as caught:
        spec_from_mapping(data, "content/x.toml")
    assert (caught.value.path, caught.value.field) == ("content/x.toml", field)
    assert "content/x.toml" in str(caught.value)
    if field == "poll.colour":
        assert "'colour'" in caught.value.message


def test_members_only_and_countries_are_for_channels_with_up_to_12_two_letter_codes() -> None:
    spec = PollSpec("Who?", ("A", "B"), members_only=True, country_codes=("RU", "KZ", "FT"))
    assert problems_of(spec) == []
    kwargs = send_kwargs(spec)
    assert kwargs["members_only"] is True and kwargs["country_codes"] == ["RU", "KZ", "FT"]
    assert "members_only" not in send_kwargs(PollSpec("Who?", ("A", "B")))
    assert problems_of(spec, in_channel=False) == [
        pollspec.MEMBERS_ONLY_NOT_CHANNEL,
        pollspec.COUNTRIES_NOT_CHANNEL,
    ]
    codes = ("AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU")
    many = PollSpec("Who?", ("A", "B"), country_codes=codes)
    assert problems_of(many) == [pollspec.TOO_MANY_COUNTRIES]
    assert problems_of(PollSpec("Who?", ("A", "B"), country_codes=("RUS", "r1"))) == [
        pollspec.BAD_COUNTRY,
        pollspec.BAD_COUNTRY,
    ]


def test_country_codes_are_real_iso_3166_codes_or_ft() -> None:
    real = PollSpec("Who?", ("A", "B"), country_codes=("GB", "KZ", "FT"))
    assert problems_of(real) == []
    made_up = PollSpec("Who?", ("A", "B"), country_codes=("UK", "XX", "EU"))
    assert [p.params["code"] for p in validate(made_up, in_channel=True, now=NOW)] == [
        "UK",
        "XX",
        "EU",
    ]


def test_an_unknown_target_leaves_the_rules_of_one_kind_of_chat_to_the_send() -> None:
    spec = PollSpec("Who?", ("A", "B"), members_only=True, country_codes=("RU", "R1"))
    assert problems_of(spec, in_channel=None) == [pollspec.BAD_COUNTRY]


def test_an_article_poll_table_reads_final_reminder_members_and_countries() -> None:
    table = {
        "question": "Who?",
        "options": ["A", "B"],
        "final": False,
        "remind_before": "1h",
        "members_only": True,
        "country_codes": ["ru", "KZ"],
    }
    spec = spec_from_mapping(table, "a.toml")
    assert (spec.final_post, spec.remind_before, spec.members_only) == (False, 3600, True)
    assert spec.country_codes == ("RU", "KZ")
    assert spec_from_mapping({"question": "Q", "options": ["A"]}, "a.toml").final_post
