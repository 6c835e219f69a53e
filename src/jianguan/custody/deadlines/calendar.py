"""Counting rules for custody deadlines (LAW.md §1.1), as small pure functions.

Three different arithmetics exist in the law and must not be mixed:

* periods (期间): the start hour or day is not counted (CPL Art.105(2)); a period of n days
  ends on start + n; months follow either the police rule (GA-Custody-Term Art.4: the
  corresponding day, or the month's last day when there is none) or the court rule
  (SPC-Interp Art.202(1): a start on a month's last day ends on the target month's last day);
* police pre-arrest custody: "满二十四小时为一日", so n days end exactly n × 24 h after
  execution (GA-Custody-Term Art.4);
* sentences (刑期, SPC-Interp Art.202(2)): the start day counts, so a year or a month ends the
  day BEFORE the same date.

Dates are local to Asia/Shanghai. A day-precision deadline is represented by the exclusive
local midnight after its last day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
ONE_DAY = timedelta(days=1)
# SPC-Interp Art.202: "半个月一律按十五日计算".
HALF_MONTH_DAYS = 15

# How the end day of a suspension (精神病鉴定, 中止审理, 请假出所) is treated; LAW.md gap 7.
RESUME_DAY_RUNS = "RESUME_DAY_RUNS"  # the start day is suspended, the resume day runs
NEITHER_DAY_RUNS = "NEITHER_DAY_RUNS"  # both the start day and the resume day are suspended
BOTH_DAYS_RUN = "BOTH_DAYS_RUN"  # only the days strictly between are suspended
SUSPENSION_CONVENTIONS = (RESUME_DAY_RUNS, NEITHER_DAY_RUNS, BOTH_DAYS_RUN)


def local_date(at: datetime) -> date:
    """The Asia/Shanghai calendar date of an aware instant."""
    if at.tzinfo is None:
        raise ValueError("时间必须带时区")
    return at.astimezone(TZ).date()


def start_of_day(day: date) -> datetime:
    """Local midnight at the start of `day`."""
    return datetime(day.year, day.month, day.day, tzinfo=TZ)


def day_end(last_day: date) -> datetime:
    """The exclusive end of a day-precision deadline: local midnight after its last day."""
    return start_of_day(last_day + ONE_DAY)


def last_day_of(day: date) -> date:
    """The deadline's last day, given its exclusive midnight."""
    return day - ONE_DAY


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def month_length(year: int, month: int) -> int:
    # A table rather than calendar.monthrange, which also computes a weekday: this runs for
    # every clock of every detainee.
    if month == 2 and is_leap(year):
        return 29
    return _MONTH_DAYS[month - 1]


def is_month_end(day: date) -> bool:
    return day.day == month_length(day.year, day.month)


def _shift_month(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def add_months_police(start: date, months: int) -> date:
    """The corresponding day `months` later, or that month's last day if there is none.

    GA-Custody-Term Art.4: "至下一个月的对应日止为一个月；没有对应日的，以该月的最后一日为截止日".
    """
    year, month = _shift_month(start.year, start.month, months)
    return date(year, month, min(start.day, month_length(year, month)))


def add_months_court(start: date, months: int) -> date:
    """Like the police rule, except that a start on a month's last day ends on a last day.

    SPC-Interp Art.202(1): "期限起算日为本月最后一日的，至下月最后一日为一个月".
    """
    if is_month_end(start):
        year, month = _shift_month(start.year, start.month, months)
        return date(year, month, month_length(year, month))
    return add_months_police(start, months)


def add_period(start: date, *, months: int = 0, days: int = 0, court: bool = False) -> date:
    """The last day of a period that starts (uncounted) on `start`: months first, then days.

    Months first, so that 一个半月 is one month and then fifteen days (SPC-Interp Art.202(1)).
    """
    end = start
    if months:
        end = add_months_court(start, months) if court else add_months_police(start, months)
    return end + timedelta(days=days) if days else end


def add_custody_hours(executed_at: datetime, *, days: int = 0, hours: int = 0) -> datetime:
    """The exact expiry instant of a term counted "满二十四小时为一日" (GA-Custody-Term Art.4)."""
    return executed_at + timedelta(hours=24 * days + hours)


def sentence_last_day(start: date, *, years: int = 0, months: int = 0, days: int = 0) -> date:
    """The last day of a sentence (刑期) whose first day is `start` (SPC-Interp Art.202(2)).

    A year ends the day before the same date next year, or before that month's last day if the
    date does not exist; a month ends the day before the same date next month, and a sentence
    starting on a month's last day ends the day before the last day of the target month.
    Remaining days are then counted with the start day included.
    """
    if not (years or months):
        return start + timedelta(days=days - 1)
    year, month = _shift_month(start.year, start.month, 12 * years + months)
    length = month_length(year, month)
    # The month-end clause is written for month terms only; a whole-year term keeps the date.
    day = length if months and is_month_end(start) else min(start.day, length)
    return date(year, month, day) - ONE_DAY + timedelta(days=days)


def suspended_day_count(started: date, resumed: date, convention: str = RESUME_DAY_RUNS) -> int:
    """Days a suspension adds to a deadline, under the pack's end-day convention."""
    span = (resumed - started).days
    if convention == NEITHER_DAY_RUNS:
        span += 1
    elif convention == BOTH_DAYS_RUN:
        span -= 1
    return max(span, 0)
