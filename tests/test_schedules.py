"""When digests are due: crontab semantics, time zones, daylight-saving changes, catch-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.digests.schedules import (
    ScheduleError,
    ScheduleRequest,
    check,
    due_times,
    last_due,
    next_due,
    parse_request,
    trigger,
    when,
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local_times(cron: str, zone: str, start: datetime, end: datetime) -> list[str]:
    return [when(due, zone) for due in due_times(trigger(cron, zone), start, end)]


def test_spring_forward_moves_a_skipped_time_past_the_gap_without_losing_the_day() -> None:
    # Europe/Berlin, 2025-03-30: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist.
    times = local_times("30 2 * * *", "Europe/Berlin", utc(2025, 3, 28), utc(2025, 4, 1))
    assert times == [
        "2025-03-28 02:30 CET", "2025-03-29 02:30 CET",
        "2025-03-30 03:30 CEST", "2025-03-31 02:30 CEST",
    ]  # fmt: skip


def test_spring_forward_never_gives_one_instant_twice() -> None:
    times = local_times(
        "0,30 2,3 * * *", "Europe/Berlin", utc(2025, 3, 29, 23), utc(2025, 3, 30, 3)
    )
    assert times == ["2025-03-30 03:00 CEST", "2025-03-30 03:30 CEST"]


def test_fall_back_runs_a_fixed_time_once() -> None:
    # America/New_York, 2025-11-02: 01:00-02:00 happens twice (EDT, then EST).
    times = local_times("30 1 * * *", "America/New_York", utc(2025, 11, 1), utc(2025, 11, 4))
    assert times == ["2025-11-01 01:30 EDT", "2025-11-02 01:30 EDT", "2025-11-03 01:30 EST"]
    berlin = local_times("30 2 * * *", "Europe/Berlin", utc(2025, 10, 25), utc(2025, 10, 27))
    assert berlin == ["2025-10-25 02:30 CEST", "2025-10-26 02:30 CEST"]


def test_fall_back_keeps_every_hour_of_an_hourly_schedule() -> None:
    times = local_times("0 * * * *", "America/New_York", utc(2025, 11, 2, 4), utc(2025, 11, 2, 8))
    # the wall clock reads 01:00 twice, and each is a real hour apart
    assert times == [
        "2025-11-02 01:00 EDT", "2025-11-02 01:00 EST", "2025-11-02 02:00 EST",
        "2025-11-02 03:00 EST",
    ]  # fmt: skip


def test_a_catch_up_across_the_fall_back_night_finds_the_one_run() -> None:
    rule = trigger("30 1 * * *", "America/New_York")
    # 07:00 UTC is 02:00 EST, after both 01:30s; only the first one was a run.
    assert last_due(rule, utc(2025, 11, 2, 7), timedelta(hours=3)) == utc(2025, 11, 2, 5, 30)


@pytest.mark.parametrize(
    ("weekdays", "expected"),
    [
        ("0", ["Sun"]), ("7", ["Sun"]), ("1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("sat,sun", ["Sat", "Sun"]), ("*/3", ["Sun", "Wed", "Sat"]),
        ("5-7", ["Fri", "Sat", "Sun"]),
    ],
)  # fmt: skip
def test_weekdays_count_as_in_crontab(weekdays: str, expected: list[str]) -> None:
    rule = trigger(f"0 12 * * {weekdays}", "UTC")
    week = due_times(rule, utc(2025, 6, 1), utc(2025, 6, 8))  # Sunday to Sunday
    assert sorted({due.strftime("%a") for due in week}) == sorted(expected)


def test_last_due_is_the_latest_within_the_window_and_next_due_is_after_now() -> None:
    rule = trigger("0 20 * * *", "Europe/Moscow")  # 17:00 UTC
    now = utc(2025, 6, 2, 18, 30)
    assert last_due(rule, now, timedelta(hours=2)) == utc(2025, 6, 2, 17)
    assert last_due(rule, now, timedelta(hours=1)) is None
    assert last_due(rule, utc(2025, 6, 2, 17), timedelta(minutes=1)) == utc(2025, 6, 2, 17)
    assert next_due(rule, now) == utc(2025, 6, 3, 17)
    assert next_due(rule, utc(2025, 6, 3, 17)) == utc(2025, 6, 4, 17)
    hourly = trigger("0 * * * *", "UTC")
    assert last_due(hourly, utc(2025, 6, 2, 18, 30), timedelta(hours=3)) == utc(2025, 6, 2, 18)


@pytest.mark.parametrize(
    ("cron", "zone", "advice"),
    [
        ("0 20 * *", "UTC", "has 4 fields, but a cron expression has 5"),
        ("0 20 * * * *", "UTC", "has 6 fields"),
        ("60 20 * * *", "UTC", "The minute field “60” of “60 20 * * *” is not valid: use 0-59"),
        ("0 20 32 * *", "UTC", "The day of the month field “32”"),
        ("0 20 * 13 *", "UTC", "The month field “13”"),
        ("0 20 * * 8", "UTC", "The weekday field “8”"),
        ("0 20 * * 5-1", "UTC", "The weekday field “5-1”"),
        ("0 20 30 2 *", "UTC", "never comes"),
        ("0 20 13 * 5", "UTC", "keep one of them as *"),
        ("0 20 * * *", "Europe/Atlantis", "Unknown time zone “Europe/Atlantis”"),
        ("0 20 * * *", "../etc/passwd", "Unknown time zone"),
    ],
)
def test_a_bad_schedule_says_what_to_fix(cron: str, zone: str, advice: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        check(cron, zone, utc(2025, 6, 1))
    assert advice in caught.value.render("en")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"0 20 * * *" @plantnews Europe/Moscow', ScheduleRequest("0 20 * * *", "@plantnews",
                                                                  "Europe/Moscow")),
        ("“0 20 * * 1-5” UTC", ScheduleRequest("0 20 * * 1-5", None, "UTC")),
        ("0 20 * * * @plantnews", ScheduleRequest("0 20 * * *", "@plantnews")),
        ("*/15 9-17 * * mon-fri -1001001", ScheduleRequest("*/15 9-17 * * mon-fri", "-1001001")),
        ("0 20 * * * 7", ScheduleRequest("0 20 * * * 7")),  # refused later: six fields
        ("0 20 * * Europe/Moscow", ScheduleRequest("0 20 * *", None, "Europe/Moscow")),
    ],
)  # fmt: skip
def test_schedule_requests_are_read_with_or_without_quotes(
    text: str, expected: ScheduleRequest
) -> None:
    assert parse_request(text) == expected


@pytest.mark.parametrize(
    ("text", "advice"),
    [
        ("", "Give a cron expression in quotes"),
        ("@plantnews", "Give a cron expression in quotes"),
        ('"0 20 * * *', "A quote is not closed"),
        ('"0 20 * * *" @a_channel @another', "Give one @channel per schedule"),
        ('"0 20 * * *" UTC today', "Unexpected “today”"),
    ],
)
def test_malformed_requests_are_refused(text: str, advice: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_request(text)
    assert advice in caught.value.render("en")
