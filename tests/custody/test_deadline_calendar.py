"""The counting rules of LAW.md §1.1, one function each, with exact dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from jianguan.custody.deadlines import calendar as cal

D = date.fromisoformat


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2026-03-10", 2, "2026-05-10"),  # the corresponding day
        ("2024-01-31", 1, "2024-02-29"),  # no 31 February: the month's last day, leap year
        ("2023-01-31", 1, "2023-02-28"),  # common year
        ("2023-12-31", 2, "2024-02-29"),  # across the year end into a leap February
        ("2024-02-29", 1, "2024-03-29"),  # month-end start keeps the corresponding day
        ("2024-08-31", 1, "2024-09-30"),
        ("2024-11-30", 3, "2025-02-28"),
        ("2024-05-31", 12, "2025-05-31"),
    ],
)
def test_police_month_ends_on_the_corresponding_day_or_the_months_last_day(
    start: str, months: int, expected: str
) -> None:
    """GA-Custody-Term Art.4: "至下一个月的对应日止为一个月；没有对应日的，以该月的最后一日为截止日"."""
    assert cal.add_months_police(D(start), months) == D(expected)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2024-02-29", 1, "2024-03-31"),  # start on a month's last day: to the last day
        ("2024-04-30", 1, "2024-05-31"),
        ("2023-02-28", 1, "2023-03-31"),
        ("2024-01-31", 1, "2024-02-29"),  # 下月同日不存在: the month's last day
        ("2024-03-15", 1, "2024-04-15"),  # otherwise the same date
        ("2024-02-28", 1, "2024-03-28"),  # 28 Feb is not the last day in a leap year
    ],
)
def test_court_month_follows_spc_interp_art_202_1(start: str, months: int, expected: str) -> None:
    """SPC-Interp Art.202(1): "期限起算日为本月最后一日的，至下月最后一日为一个月"."""
    assert cal.add_months_court(D(start), months) == D(expected)


def test_police_and_court_months_differ_after_29_february_2024() -> None:
    """LAW.md §1.1 conflict: arrest 2024-02-29 + 1 month is 03-29 (police) but 03-31 (court)."""
    assert cal.add_months_police(D("2024-02-29"), 1) == D("2024-03-29")
    assert cal.add_months_court(D("2024-02-29"), 1) == D("2024-03-31")


@pytest.mark.parametrize(
    ("start", "months", "days", "court", "expected"),
    [
        ("2026-03-01", 0, 7, False, "2026-03-08"),  # start day not counted (CPL Art.105(2))
        ("2026-05-01", 0, 10, False, "2026-05-11"),
        ("2026-07-01", 1, 15, True, "2026-08-16"),  # 一个半月 = one month, then 15 days
        ("2026-01-31", 1, 15, True, "2026-03-15"),  # month end first, then the half month
    ],
)
def test_period_counts_months_first_then_days(
    start: str, months: int, days: int, court: bool, expected: str
) -> None:
    """CPL Art.105(2) and SPC-Interp Art.202(1): 半个月一律按十五日计算."""
    assert cal.add_period(D(start), months=months, days=days, court=court) == D(expected)


def test_half_month_is_fifteen_days() -> None:
    """SPC-Interp Art.202(1): "半个月一律按十五日计算"."""
    assert cal.HALF_MONTH_DAYS == 15


@pytest.mark.parametrize(
    ("executed", "days", "expected"),
    [
        ("2026-03-01T22:30", 3, "2026-03-04T22:30"),
        ("2026-03-01T22:30", 7, "2026-03-08T22:30"),
        ("2026-03-01T22:30", 30, "2026-03-31T22:30"),
        ("2024-02-28T08:00", 3, "2024-03-02T08:00"),  # through a leap day
    ],
)
def test_police_custody_counts_full_24_hours_as_a_day(
    executed: str, days: int, expected: str
) -> None:
    """GA-Custody-Term Art.4: 执行拘留后满二十四小时为一日, so the expiry is an exact instant."""
    start = datetime.fromisoformat(executed).replace(tzinfo=cal.TZ)
    end = datetime.fromisoformat(expected).replace(tzinfo=cal.TZ)
    assert cal.add_custody_hours(start, days=days) == end


@pytest.mark.parametrize(
    ("start", "years", "months", "days", "last"),
    [
        ("2024-11-02", 1, 6, 0, "2026-05-01"),  # 1 year 6 months credited from custody
        ("2025-03-15", 1, 0, 0, "2026-03-14"),  # to the day BEFORE the same date
        ("2024-02-29", 1, 0, 0, "2025-02-27"),  # 次年同月同日不存在: before the month's last day
        ("2023-02-28", 1, 0, 0, "2024-02-27"),  # a year keeps the date even in a leap year
        ("2023-02-28", 0, 1, 0, "2023-03-30"),  # month-end start: before the next last day
        ("2024-01-31", 0, 1, 0, "2024-02-28"),  # 下月同日不存在: before the month's last day
        ("2024-03-15", 0, 1, 0, "2024-04-14"),
        ("2026-01-10", 0, 4, 0, "2026-05-09"),  # 拘役 four months
        ("2026-03-15", 0, 1, 15, "2026-04-29"),  # a month, then 15 days with the day counted
        ("2026-05-01", 0, 0, 10, "2026-05-10"),  # days only: start day counted
    ],
)
def test_sentence_ends_the_day_before_the_same_date(
    start: str, years: int, months: int, days: int, last: str
) -> None:
    """SPC-Interp Art.202(2): 刑期 ends the day before the same date; a different function."""
    assert cal.sentence_last_day(D(start), years=years, months=months, days=days) == D(last)


def test_period_and_sentence_of_one_month_end_one_day_apart() -> None:
    """LAW.md §1.1: a period ends ON the same date next month, a sentence the day BEFORE."""
    assert cal.add_period(D("2026-03-15"), months=1) == D("2026-04-15")
    assert cal.sentence_last_day(D("2026-03-15"), months=1) == D("2026-04-14")


@pytest.mark.parametrize(
    ("convention", "expected"),
    [(cal.RESUME_DAY_RUNS, 10), (cal.NEITHER_DAY_RUNS, 11), (cal.BOTH_DAYS_RUN, 9)],
)
def test_suspended_days_follow_the_packs_end_day_convention(convention: str, expected: int) -> None:
    """LAW.md gap 7: evaluation 2026-02-01 to resume 2026-02-11 is 10, 11 or 9 days."""
    assert cal.suspended_day_count(D("2026-02-01"), D("2026-02-11"), convention) == expected


def test_a_suspension_resumed_the_same_day_adds_nothing_by_default() -> None:
    assert cal.suspended_day_count(D("2026-02-01"), D("2026-02-01")) == 0
    assert cal.suspended_day_count(D("2026-02-01"), D("2026-02-01"), cal.BOTH_DAYS_RUN) == 0


def test_local_date_is_the_date_in_shanghai() -> None:
    """16:30 UTC on 1 March is already 2 March in Asia/Shanghai."""
    assert cal.local_date(datetime(2026, 3, 1, 16, 30, tzinfo=UTC)) == D("2026-03-02")


def test_local_date_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="时区"):
        cal.local_date(datetime(2026, 3, 1, 8, 0))  # noqa: DTZ001


def test_day_deadline_is_the_exclusive_midnight_after_its_last_day() -> None:
    end = cal.day_end(D("2026-03-04"))
    assert end == datetime(2026, 3, 5, tzinfo=cal.TZ)
    assert end.utcoffset() == timedelta(hours=8)
    assert cal.last_day_of(end.date()) == D("2026-03-04")


@pytest.mark.parametrize(
    ("year", "month", "length"),
    [(2024, 2, 29), (2023, 2, 28), (2000, 2, 29), (1900, 2, 28), (2026, 4, 30), (2026, 12, 31)],
)
def test_month_length_knows_leap_years(year: int, month: int, length: int) -> None:
    assert cal.month_length(year, month) == length
