"""Assessment (监督考核) is generated from the task records: a small hand-made history built
through the real services on a controlled clock, and the exact figures it must give."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from jianguan.duty.api import (
    Task,
    escalate_due,
    facility_assessment,
    info_record,
    p90,
    period_of,
    period_parse,
    task_accept,
    task_cancel,
    task_handle,
    task_return,
    task_verify,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 3, 10)  # a Tuesday; its ISO week runs 9–15 March


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


class Clock:
    """The time the duty services read through django.utils.timezone.now."""

    def __init__(self) -> None:
        self.now = local(DAY, 0)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(timezone, "now", c)
    return c


def build_history(staff: dict[str, Any], held: Any, clock: Clock) -> dict[str, Task]:
    """Ten tasks and two information-only records around 10 March 2026 (local time).

    Time limits of the default pack: HIGH accept 5 / handle 60 minutes, URGENT 2 / 15,
    NORMAL 30 / 480.
    """
    patrol, custodian, custodian2 = staff["patrol"], staff["custodian"], staff["custodian2"]
    medical, subcontrol = staff["medical"], staff["subcontrol"]
    tasks: dict[str, Task] = {}

    def at(day: dt.date, hour: int, minute: int = 0) -> None:
        clock.now = local(day, hour, minute)

    def record(name: str, user: Any, category: str, **extra: Any) -> None:
        rec = info_record(user=user, category=category, text=f"{name} 情况", **extra)
        tasks[name] = rec.task

    def fresh(name: str) -> Task:
        return Task.objects.get(id=tasks[name].id)

    abnormal = {"category": "PATROL_ABNORMAL_BEHAVIOUR", "detainee_id": held.id}
    sunday_before = DAY - dt.timedelta(days=2)
    nextday = DAY + dt.timedelta(days=1)

    # T9: Sunday 8 March 23:00, the week before; never accepted.
    at(sunday_before, 23)
    record("T9", patrol, **abnormal)

    # T1: on time. Accepted in 3 minutes, handled (and so closed) after 40.
    at(DAY, 8)
    record("T1", patrol, **abnormal)
    at(DAY, 8, 3)
    task_accept(user=custodian, task=fresh("T1"))
    at(DAY, 8, 40)
    task_handle(user=custodian, task=fresh("T1"), feedback="谈话安抚", outcome="RESOLVED")

    # T2: urgent, handled in time, returned once, handled again, verified after 25 minutes.
    at(DAY, 9)
    record("T2", patrol, category="PATROL_EMERGENCY", detainee_id=held.id)
    at(DAY, 9, 1)
    task_accept(user=custodian, task=fresh("T2"))
    at(DAY, 9, 10)
    task_handle(user=custodian, task=fresh("T2"), feedback="已制止", outcome="RESOLVED")
    at(DAY, 9, 12)
    task_return(user=subcontrol, task=fresh("T2"), reason="未写明伤情")
    at(DAY, 9, 20)
    task_handle(user=custodian, task=fresh("T2"), feedback="已制止，无伤", outcome="RESOLVED")
    at(DAY, 9, 25)
    task_verify(user=subcontrol, task=fresh("T2"))

    # T3: escalated for not being accepted, accepted by the second custodian after 10
    # minutes, handled late (due 11:00, handled 11:30).
    at(DAY, 10)
    record("T3", patrol, **abnormal)
    assert escalate_due(local(DAY, 10, 6)) == 2  # T3 and the week-old T9
    at(DAY, 10, 10)
    task_accept(user=custodian2, task=fresh("T3"))
    at(DAY, 11, 30)
    task_handle(user=custodian2, task=fresh("T3"), feedback="已处置", outcome="WATCH")

    # T4: normal, due 20:00, never accepted: overdue and still open at the day's end.
    at(DAY, 12)
    record("T4", patrol, category="PATROL_CELL_VIOLATION", detainee_id=held.id)
    escalate_due(local(DAY, 12, 31))

    # Information only, no task; then a record that becomes a task for 医务.
    at(DAY, 14)
    info_record(
        user=custodian, category="CUSTODIAN_TALK_FINDING", text="家中有变故", detainee_id=held.id
    )
    at(DAY, 15)
    record("T7", custodian, category="CUSTODIAN_MOOD", detainee_id=held.id)
    at(DAY, 15, 10)
    task_accept(user=medical, task=fresh("T7"))
    at(DAY, 15, 20)
    task_handle(user=medical, task=fresh("T7"), feedback="已诊治", outcome="RESOLVED")

    # T8: cancelled before its time limit: counted as received, never on time nor overdue.
    at(DAY, 16)
    record("T8", patrol, category="PATROL_CELL_VIOLATION", detainee_id=held.id)
    at(DAY, 16, 30)
    task_cancel(user=subcontrol, task=fresh("T8"), reason="重复登记")

    # T5 at 23:59 belongs to 10 March; T6 at 00:01 to 11 March.
    at(DAY, 23, 59)
    record("T5", patrol, **abnormal)
    at(nextday, 0, 1)
    record("T6", patrol, **abnormal)
    at(nextday, 0, 3)
    task_accept(user=custodian, task=fresh("T5"))  # 4 minutes
    at(nextday, 0, 5)
    task_accept(user=custodian, task=fresh("T6"))  # 4 minutes; never handled
    at(nextday, 0, 30)
    task_handle(user=custodian, task=fresh("T5"), feedback="已处置", outcome="NO_ISSUE")

    # The last minute of March and the first of April.
    at(dt.date(2026, 3, 31), 23, 59)
    record("T10", patrol, **abnormal)
    at(dt.date(2026, 4, 1), 0, 1)
    record("T11", patrol, **abnormal)
    return {name: fresh(name) for name in tasks}


@pytest.fixture
def history(staff: dict[str, Any], held: Any, clock: Clock) -> dict[str, Task]:
    return build_history(staff, held, clock)


def _figures(row: Any) -> dict[str, Any]:
    return {
        "received": row.received,
        "on_time": row.on_time,
        "overdue": row.overdue,
        "returned": row.returned,
        "accept": (row.accept_mean, row.accept_p90),
        "close": (row.close_mean, row.close_p90),
        "records": row.records,
    }


def _by_key(rows: list[Any]) -> dict[str, Any]:
    return {row.key: row for row in rows}


def test_nearest_rank_p90() -> None:
    assert p90([]) is None
    assert p90([7.0]) == 7.0
    assert p90([float(n) for n in range(1, 11)]) == 9.0  # ⌈0.9·10⌉ = 9th
    assert p90([float(n) for n in range(1, 12)]) == 10.0  # ⌈0.9·11⌉ = 10th
    assert p90([10.0, 1.0, 4.0, 3.0]) == 10.0  # ⌈3.6⌉ = 4th


def test_periods_are_local_days_iso_weeks_and_calendar_months() -> None:
    day = period_of("day", DAY)
    assert (day.start, day.end) == (local(DAY, 0), local(DAY + dt.timedelta(days=1), 0))
    assert day.start.astimezone(dt.UTC).hour == 16  # local midnight is 16:00 UTC the day before
    week = period_of("week", DAY)
    assert (week.first_day, week.last_day) == (dt.date(2026, 3, 9), dt.date(2026, 3, 15))
    assert week.label == "2026年第11周（3月9日—3月15日）"
    assert week.previous().first_day == dt.date(2026, 3, 2)
    assert week.following().first_day == dt.date(2026, 3, 16)
    month = period_of("month", dt.date(2026, 2, 14))
    assert (month.first_day, month.last_day) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert month.following().first_day == dt.date(2026, 3, 1)
    assert month.previous().slug == "2026-01"
    assert period_parse("month", "2026-03-31").label == "2026年3月"


def test_a_day_per_post_and_per_officer(staff, history, clock):
    clock.now = local(DAY + dt.timedelta(days=1), 3)
    result = facility_assessment(staff["patrol"].unit, period_of("day", DAY))
    assert result.as_of == local(DAY + dt.timedelta(days=1), 0)  # the day's end, before now
    ids = {line.id for line in result.tasks}
    assert ids == {str(history[n].id) for n in ("T1", "T2", "T3", "T4", "T5", "T7", "T8")}

    posts = _by_key(result.posts)
    # T1, T2, T5 on time; T3 handled late; T4 open past its limit at the day's end; T8 cancelled.
    # Accept minutes 3, 1, 10, 4; close minutes 40, 25, 90, 31 (T5 closed at 00:30 next day).
    assert _figures(posts["CUSTODIAN"]) == {
        "received": 6,
        "on_time": 3,
        "overdue": 2,
        "returned": 1,
        "accept": (4.5, 10.0),
        "close": (46.5, 90.0),
        "records": 2,
    }
    assert _figures(posts["MEDICAL"]) == {
        "received": 1,
        "on_time": 1,
        "overdue": 0,
        "returned": 0,
        "accept": (10.0, 10.0),
        "close": (20.0, 20.0),
        "records": 0,
    }
    assert _figures(posts["PATROL"]) == {
        "received": 0,
        "on_time": 0,
        "overdue": 0,
        "returned": 0,
        "accept": (None, None),
        "close": (None, None),
        "records": 6,
    }
    # T4 was escalated to 分控 but still counts for the post that must handle it.
    assert "SUBCONTROL" not in posts

    officers = _by_key(result.officers)
    me = str(staff["custodian"].id)
    assert _figures(officers[me]) == {
        "received": 3,
        "on_time": 3,
        "overdue": 0,
        "returned": 1,
        "accept": (2.7, 4.0),  # 3, 1, 4
        "close": (32.0, 40.0),  # 40, 25, 31
        "records": 2,
    }
    assert officers[me].name == "李管教"
    assert _figures(officers[str(staff["custodian2"].id)]) == {
        "received": 1,
        "on_time": 0,
        "overdue": 1,
        "returned": 0,
        "accept": (10.0, 10.0),
        "close": (90.0, 90.0),
        "records": 0,
    }
    assert officers[str(staff["patrol"].id)].records == 6
    assert officers[str(staff["subcontrol"].id)].received == 0  # returned, verified, cancelled

    assert _figures(result.total) == {
        "received": 7,
        "on_time": 4,
        "overdue": 2,
        "returned": 1,
        "accept": (5.6, 10.0),  # 1, 3, 4, 10, 10
        "close": (41.2, 90.0),  # 20, 25, 31, 40, 90
        "records": 8,
    }
    assert result.pack_versions == ["2026.3"]


def test_the_task_ledger_lines(staff, history, clock):
    clock.now = local(DAY + dt.timedelta(days=1), 3)
    result = facility_assessment(staff["patrol"].unit, period_of("day", DAY))
    lines = {line.id: line for line in result.tasks}
    t2 = lines[str(history["T2"].id)]
    assert (t2.post, t2.officer, t2.urgency, t2.returns, t2.outcome) == (
        "管教",
        "李管教",
        "紧急",
        1,
        "已处置",
    )
    assert (t2.dispatched_at, t2.accepted_at, t2.handled_at, t2.closed_at) == (
        local(DAY, 9),
        local(DAY, 9, 1),
        local(DAY, 9, 10),  # the first feedback, not the one after the return
        local(DAY, 9, 25),
    )
    assert (t2.verdict_label, t2.on_time) == ("按时", "是")
    assert lines[str(history["T3"].id)].on_time == "否"
    t4 = lines[str(history["T4"].id)]
    assert (t4.verdict_label, t4.officer, t4.accepted_at) == ("超时未办结", "", None)
    t8 = lines[str(history["T8"].id)]
    assert (t8.verdict_label, t8.on_time, t8.closed_at) == ("已撤销", "", None)


def test_23_59_and_00_01_fall_on_different_days(staff, history, clock):
    clock.now = local(DAY + dt.timedelta(days=1), 3)
    unit = staff["patrol"].unit
    day = facility_assessment(unit, period_of("day", DAY))
    following = facility_assessment(unit, period_of("day", DAY + dt.timedelta(days=1)))
    assert str(history["T5"].id) in {line.id for line in day.tasks}
    assert [line.id for line in following.tasks] == [str(history["T6"].id)]
    # T6 (due 01:01) is accepted but not handled by 03:00: overdue for its holder.
    me = _by_key(following.officers)[str(staff["custodian"].id)]
    assert (me.received, me.on_time, me.overdue, me.accept_p90) == (1, 0, 1, 4.0)
    assert following.as_of == local(DAY + dt.timedelta(days=1), 3)  # now, before the end
    assert following.total.records == 1


def test_week_and_month_grouping(staff, history, clock):
    clock.now = local(dt.date(2026, 4, 2), 12)
    unit = staff["patrol"].unit
    names = {str(task.id): name for name, task in history.items()}

    def tasks_of(kind: str, day: dt.date) -> set[str]:
        return {names[line.id] for line in facility_assessment(unit, period_of(kind, day)).tasks}

    day_tasks = {"T1", "T2", "T3", "T4", "T5", "T7", "T8"}
    assert tasks_of("week", DAY) == day_tasks | {"T6"}
    assert tasks_of("week", dt.date(2026, 3, 8)) == {"T9"}  # Sunday closes the week before
    assert tasks_of("week", dt.date(2026, 4, 1)) == {"T10", "T11"}  # a week across two months
    assert tasks_of("month", DAY) == day_tasks | {"T6", "T9", "T10"}
    assert tasks_of("month", dt.date(2026, 4, 1)) == {"T11"}

    march = facility_assessment(unit, period_of("month", DAY))
    assert march.as_of == local(dt.date(2026, 4, 1), 0)
    # Overdue at the end of March: T3 (late), T4, T6, T9 (open past their limits). T10 (due
    # 00:59 on 1 April) is pending for March though it is past due now.
    assert (march.total.received, march.total.on_time, march.total.overdue) == (10, 4, 4)
    assert march.total.records == 11
    t10 = next(line for line in march.tasks if names[line.id] == "T10")
    assert t10.verdict_label == "未到期"
    week = facility_assessment(unit, period_of("week", dt.date(2026, 4, 1)))
    assert (week.total.received, week.total.overdue) == (2, 2)  # both past due by now


def test_an_officer_sees_only_their_own_row(staff, history, clock):
    from jianguan.duty.api import assessment_for

    clock.now = local(DAY + dt.timedelta(days=1), 3)
    period = period_of("day", DAY)
    mine = assessment_for(staff["custodian2"], period)
    assert not mine.whole_facility
    assert [row.name for row in mine.officers] == ["王管教"]
    assert mine.posts == []
    assert [line.id for line in mine.tasks] == [str(history["T3"].id)]
    assert (mine.total.received, mine.total.overdue) == (1, 1)

    for lead in ("subcontrol", "command", "leader"):
        whole = assessment_for(staff[lead], period)
        assert whole.whole_facility
        assert len(whole.tasks) == 7


def test_a_user_without_a_facility_is_refused(make_user, clock):
    from jianguan.core.errors import PermissionDenied
    from jianguan.duty.api import assessment_for

    city = make_user("gz_city", "SUPERVISOR", unit="gz")
    with pytest.raises(PermissionDenied):
        assessment_for(city, period_of("day", DAY))


def test_a_facility_without_tasks_gives_zeros_not_errors(staff, clock):
    result = facility_assessment(staff["patrol"].unit, period_of("month", DAY))
    assert result.tasks == []
    assert _figures(result.total)["received"] == 0
    assert result.total.accept_mean is None
    # Every duty officer is listed, with zeros, so an idle officer shows as such.
    assert {row.name for row in result.officers} >= {"李管教", "王管教", "吴巡控", "周所长"}


def test_a_few_queries_whatever_the_number_of_tasks(
    staff, history, clock, django_assert_max_num_queries
):
    """Tasks, their steps, the officers (with their posts) and the grouped records: not one
    query per officer or per task."""
    clock.now = local(dt.date(2026, 4, 2), 12)
    with django_assert_max_num_queries(6):
        result = facility_assessment(staff["patrol"].unit, period_of("month", DAY))
    assert result.total.received == 10
