"""Graded management (分级管理): each grade's talks and reviews become duty tasks on schedule,
nothing is opened twice, what was done satisfies the schedule, compliance is counted from the
history, and a cell's patrol interval is the strictest its occupants and its own grade require.

The clock is the tests': `now` is passed to the risk services, and the duty services read it
through django.utils.timezone.now.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock(local(3, 2, 8))
    monkeypatch.setattr(timezone, "now", c)
    return c


@pytest.fixture
def normal(clock: Clock, held: Any) -> Any:
    """张三 (放火, 18 points): 常规 — a talk and a 管教 review every 30 days."""
    from jianguan.risk.api import rescore_person

    rescore_person(held.id, cause="收押入所", now=clock.now)
    return held


@pytest.fixture
def level1(clock: Clock, make_detainee: Callable[..., Any], cells: dict[str, Any]) -> Any:
    """李四: 死刑复核 30 + 放火 18 + 自杀史 20 + 精神疾病 15 = 83 → 一级 — a talk and a 所领导
    review every day."""
    from jianguan.core.actor import Actor
    from jianguan.risk.api import RiskScore, fact_record

    person = make_detainee(
        "gz_k", name="李四", cell=cells["101"], status="IN_CUSTODY", litigation_stage="33"
    )
    officer = Actor.system("test")
    for kind in ("manual.SUICIDE_HISTORY", "manual.MENTAL_ILLNESS"):
        fact_record(actor=officer, detainee=person, kind=kind, at=clock.now, now=clock.now)
    assert RiskScore.objects.get(detainee_id=person.id, track="LIVE").grade == "LEVEL1"
    return person


def _risk_tasks() -> list[tuple[str, str, str, str]]:
    from jianguan.duty.api import Task, TaskSource

    rows = Task.objects.filter(source=TaskSource.RISK, category__in=("RISK_TALK", "RISK_REVIEW"))
    return sorted(
        (t.detainee.name, t.category, t.post_kind, t.source_ref.rsplit(":", 1)[1])
        for t in rows.select_related("detainee")
    )


def _finish(task: Any, user: Any, clock: Clock, at: dt.datetime) -> None:
    """The officer takes the task and reports back at `at`; without verification it closes."""
    from jianguan.duty.api import task_accept, task_handle

    clock.now = at
    task = task_accept(user=user, task=task)
    task_handle(user=user, task=task, feedback="已个别谈话，情绪稳定", outcome="RESOLVED")


def _open(category: str, person: Any, post: str) -> Any:
    from jianguan.duty.api import Task, TaskState

    return Task.objects.get(
        category=category, detainee_id=person.id, post_kind=post, state=TaskState.DISPATCHED
    )


# --- scheduling ---------------------------------------------------------------------------


def test_a_level1_person_gets_a_talk_every_day_and_a_leader_review(clock, level1, staff):
    from jianguan.risk.api import measures_due

    assert measures_due(clock.now) == 2
    assert _risk_tasks() == [
        ("李四", "RISK_REVIEW", "LEADER", "2026-03-02"),
        ("李四", "RISK_TALK", "CUSTODIAN", "2026-03-02"),
    ]
    talk = _open("RISK_TALK", level1, "CUSTODIAN")
    assert talk.title == "谈话教育：李四（440100K01-00001） · 一级风险"
    assert "每 1 天谈话教育一次" in talk.detail
    assert "上次谈话：无记录" in talk.detail
    review = _open("RISK_REVIEW", level1, "LEADER")
    assert "每 1 天由所领导复核一次" in review.detail
    assert "所领导每日复核" in review.detail

    _finish(talk, staff["custodian"], clock, local(3, 2, 10))
    _finish(review, staff["leader"], clock, local(3, 2, 11))
    assert measures_due(local(3, 2, 23, 30)) == 0  # today is covered

    assert measures_due(local(3, 3, 0, 7)) == 2  # a new day: both again
    assert _risk_tasks()[-2:] == [
        ("李四", "RISK_TALK", "CUSTODIAN", "2026-03-02"),
        ("李四", "RISK_TALK", "CUSTODIAN", "2026-03-03"),
    ]
    assert [r for r in _risk_tasks() if r[1] == "RISK_REVIEW"][-1][3] == "2026-03-03"


def test_the_hourly_risk_task_opens_what_fell_due(clock, normal):
    from jianguan.risk import tasks

    tasks.hourly.call_local()
    assert _risk_tasks() == [
        ("张三", "RISK_REVIEW", "CUSTODIAN", "2026-03-02"),
        ("张三", "RISK_TALK", "CUSTODIAN", "2026-03-02"),
    ]


def test_a_second_run_opens_nothing_and_an_open_task_is_not_repeated(clock, level1, normal):
    from jianguan.duty.api import Task
    from jianguan.risk.api import measures_due

    assert measures_due(clock.now) == 4
    assert measures_due(clock.now + dt.timedelta(minutes=5)) == 0
    assert Task.objects.filter(category__in=("RISK_TALK", "RISK_REVIEW")).count() == 4
    # Days later, the tasks still open: nothing piles up on top of them.
    assert measures_due(local(3, 5, 0, 7)) == 0
    assert Task.objects.filter(category__in=("RISK_TALK", "RISK_REVIEW")).count() == 4


def test_a_cancelled_task_is_not_reopened_the_same_day(clock, normal, staff):
    from jianguan.duty.api import task_cancel
    from jianguan.risk.api import measures_due

    measures_due(clock.now)
    task_cancel(user=staff["leader"], task=_open("RISK_TALK", normal, "CUSTODIAN"), reason="重复")
    assert measures_due(local(3, 2, 20)) == 0
    assert measures_due(local(3, 3, 0, 7)) == 1
    assert _risk_tasks()[-1] == ("张三", "RISK_TALK", "CUSTODIAN", "2026-03-03")


def test_a_normal_person_is_talked_to_and_reviewed_every_30_days(clock, normal, staff):
    from jianguan.risk.api import measures_due

    assert measures_due(clock.now) == 2
    assert _risk_tasks() == [
        ("张三", "RISK_REVIEW", "CUSTODIAN", "2026-03-02"),
        ("张三", "RISK_TALK", "CUSTODIAN", "2026-03-02"),
    ]
    _finish(_open("RISK_TALK", normal, "CUSTODIAN"), staff["custodian"], clock, local(3, 2, 15))
    _finish(_open("RISK_REVIEW", normal, "CUSTODIAN"), staff["custodian"], clock, local(3, 2, 16))

    assert measures_due(local(3, 31, 23, 7)) == 0  # day 30 (2 March + 29 days) is still covered
    assert measures_due(local(4, 1, 0, 7)) == 2
    assert [r[3] for r in _risk_tasks()] == ["2026-03-02", "2026-04-01"] * 2


def test_a_talk_recorded_by_the_custodian_satisfies_the_talk(clock, normal, staff):
    from jianguan.duty.api import info_record
    from jianguan.risk.api import measures_due

    info_record(
        user=staff["custodian"],
        category="CUSTODIAN_TALK_FINDING",
        text="个别谈话：对案件判决有顾虑",
        detainee_id=normal.id,
    )
    assert measures_due(clock.now + dt.timedelta(hours=1)) == 1
    assert _risk_tasks() == [("张三", "RISK_REVIEW", "CUSTODIAN", "2026-03-02")]


def test_a_talk_about_someone_else_does_not_count(clock, normal, level1, staff):
    from jianguan.duty.api import info_record
    from jianguan.risk.api import measures_due

    info_record(
        user=staff["custodian"],
        category="CUSTODIAN_TALK_FINDING",
        text="谈话",
        detainee_id=level1.id,
    )
    measures_due(clock.now)
    assert ("张三", "RISK_TALK", "CUSTODIAN", "2026-03-02") in _risk_tasks()
    assert ("李四", "RISK_TALK", "CUSTODIAN", "2026-03-02") not in _risk_tasks()


def test_a_review_by_the_wrong_post_does_not_satisfy_a_leader_review(clock, normal, staff):
    """张三's 管教 review was done; a rise to 一级 needs a 所领导 review at once."""
    from jianguan.core.actor import Actor
    from jianguan.risk.api import measures_due, override_grant

    measures_due(clock.now)
    _finish(_open("RISK_REVIEW", normal, "CUSTODIAN"), staff["custodian"], clock, local(3, 2, 9))
    clock.now = local(3, 2, 10)
    override_grant(
        actor=Actor.system("test"),
        detainee=normal,
        grade="LEVEL1",
        reason="家属反映其流露轻生念头",
        days=7,
        now=clock.now,
    )
    assert measures_due(local(3, 2, 11)) == 1  # the talk task is still open
    assert _open("RISK_REVIEW", normal, "LEADER").source_ref.endswith("2026-03-02")


# --- compliance ---------------------------------------------------------------------------

WEEK = (local(3, 2), local(3, 9))  # Monday 2 March to Monday 9 March 2026 (exclusive)
AFTER = local(3, 9, 10)  # when the report is read


@pytest.fixture
def history(
    clock: Clock, make_detainee: Callable[..., Any], cells: dict[str, Any], staff: dict[str, Any]
) -> dict[str, Any]:
    return build_history(clock, make_detainee, cells, staff)


def build_history(
    clock: Clock, make_detainee: Callable[..., Any], cells: dict[str, Any], staff: dict[str, Any]
) -> dict[str, Any]:
    """A week at 广州一看, built by hand (the duty services run on `clock`):

    李四  三级 from 20 Feb, 一级 from Wed 4 Mar 12:00. Talk 27 Feb (covers 三级 to 5 Mar).
          一级 talks: 4 Mar 15:00 (task), 5 Mar 20:00 (谈话发现), 7 Mar 09:00 (task).
          所领导 reviews 4 Mar 18:00, 5 Mar 10:00, 7 Mar 10:00, 8 Mar 10:00; a 管教 review
          6 Mar 09:00 (the wrong post). 管教 review 25 Feb (三级, covers to 3 Mar).
    张三  常规 since January. Talk 31 Jan 14:00 (covers to 1 Mar); next talk 4 Mar 11:00.
          Review 10 Feb (covers to 11 Mar).
    王五  admitted Thu 5 Mar 08:00, 常规; no talk; review 5 Mar 15:00.
    赵六  二级; talk 27 Feb (covers to 1 Mar); review 1 Mar; released Tue 3 Mar 12:00.
    """
    from jianguan.duty.api import info_record
    from jianguan.risk.api import RiskChange
    from jianguan.risk.duty_tasks import risk_task_open

    unit = cells["101"].unit
    clock.now = local(1, 1)
    li = make_detainee("gz_k", name="李四", cell=cells["101"], status="IN_CUSTODY")
    zhang = make_detainee("gz_k", name="张三", cell=cells["102"], status="IN_CUSTODY")
    zhao = make_detainee("gz_k", name="赵六", cell=cells["102"], status="IN_CUSTODY")
    wang = make_detainee(
        "gz_k", name="王五", cell=cells["102"], status="IN_CUSTODY", admitted_at=local(3, 5, 8)
    )

    def graded(person: Any, at: dt.datetime, grade: str, was: str = "") -> None:
        RiskChange.objects.create(
            unit=unit,
            detainee=person,
            track="LIVE",
            at=at,
            score=0,
            grade=grade,
            from_grade=was,
            cause="测试历史",
            model_version="2026.1",
        )

    graded(zhang, local(1, 2), "NORMAL")
    graded(li, local(2, 20), "LEVEL3")
    graded(li, local(3, 4, 12), "LEVEL1", "LEVEL3")
    graded(zhao, local(2, 1), "LEVEL2")
    graded(wang, local(3, 5, 8), "NORMAL")

    refs = itertools.count()

    def task_done(category: str, person: Any, post: str, at: dt.datetime) -> None:
        task = risk_task_open(
            unit=unit,
            category_code=category,
            title="测试",
            detail="",
            source_ref=f"test:{next(refs)}",
            detainee_id=person.id,
            post_kind=post,
            now=at - dt.timedelta(hours=1),
        )
        who = staff["leader"] if post == "LEADER" else staff["custodian"]
        _finish(task, who, clock, at)

    def talk_recorded(person: Any, at: dt.datetime) -> None:
        clock.now = at
        info_record(
            user=staff["custodian"],
            category="CUSTODIAN_TALK_FINDING",
            text="个别谈话",
            detainee_id=person.id,
        )

    talk_recorded(li, local(2, 27, 10))
    task_done("RISK_REVIEW", li, "CUSTODIAN", local(2, 25, 10))
    task_done("RISK_TALK", li, "CUSTODIAN", local(3, 4, 15))
    talk_recorded(li, local(3, 5, 20))
    task_done("RISK_TALK", li, "CUSTODIAN", local(3, 7, 9))
    for at in (local(3, 4, 18), local(3, 5, 10), local(3, 7, 10), local(3, 8, 10)):
        task_done("RISK_REVIEW", li, "LEADER", at)
    task_done("RISK_REVIEW", li, "CUSTODIAN", local(3, 6, 9))

    talk_recorded(zhang, local(1, 31, 14))
    task_done("RISK_TALK", zhang, "CUSTODIAN", local(3, 4, 11))
    task_done("RISK_REVIEW", zhang, "CUSTODIAN", local(2, 10, 9))

    task_done("RISK_REVIEW", wang, "CUSTODIAN", local(3, 5, 15))

    talk_recorded(zhao, local(2, 27, 9))
    task_done("RISK_REVIEW", zhao, "CUSTODIAN", local(3, 1, 9))
    zhao.status, zhao.left_at = "RELEASED", local(3, 3, 12)
    zhao.save(update_fields=["status", "left_at"])

    clock.now = AFTER
    return {"unit": unit, "li": li, "zhang": zhang, "wang": wang, "zhao": zhao}


def _tally(t: Any) -> tuple[int, int, int, int]:
    return (t.on_time, t.late, t.missed, t.pending)


def test_compliance_counts_on_time_late_and_missed_from_the_history(history):
    from jianguan.risk.api import compliance

    report = compliance(history["unit"], *WEEK, now=AFTER)

    people = {line.name.split("（")[0]: line for line in report.people}
    assert set(people) == {"李四", "张三", "王五", "赵六"}
    assert _tally(people["李四"].talks) == (3, 0, 2, 0)
    assert _tally(people["李四"].reviews) == (4, 0, 1, 0)  # the 管教 review does not count
    assert people["李四"].grades == ["三级风险", "一级风险"]
    assert _tally(people["张三"].talks) == (0, 1, 0, 0)  # due 2 Mar, done 4 Mar
    assert _tally(people["张三"].reviews) == (0, 0, 0, 0)
    assert _tally(people["王五"].talks) == (0, 0, 1, 0)
    assert _tally(people["王五"].reviews) == (1, 0, 0, 0)
    assert _tally(people["赵六"].talks) == (0, 0, 1, 0)  # due 2 Mar, released 3 Mar
    assert _tally(people["赵六"].reviews) == (0, 0, 0, 0)

    grades = {line.key: line for line in report.grades}
    assert [line.key for line in report.grades] == ["LEVEL1", "LEVEL2", "LEVEL3", "NORMAL"]
    assert (grades["LEVEL1"].people, grades["LEVEL2"].people) == (1, 1)
    assert (grades["LEVEL3"].people, grades["NORMAL"].people) == (1, 2)
    assert _tally(grades["LEVEL1"].talks) == (3, 0, 2, 0)
    assert _tally(grades["LEVEL1"].reviews) == (4, 0, 1, 0)
    assert _tally(grades["LEVEL2"].talks) == (0, 0, 1, 0)
    assert _tally(grades["LEVEL3"].both) == (0, 0, 0, 0)  # 三级 was covered, then gave way
    assert _tally(grades["NORMAL"].talks) == (0, 1, 1, 0)
    assert _tally(grades["NORMAL"].reviews) == (1, 0, 0, 0)

    assert _tally(report.total.talks) == (3, 1, 4, 0)
    assert _tally(report.total.reviews) == (5, 0, 1, 0)
    assert report.total.people == 4
    assert report.rate == 57.1  # 8 on time of 14

    failures = [(d.name, d.measure, d.status, d.due, d.done_at) for d in report.failures]
    assert failures == [  # the earliest time limit first
        ("张三", "RISK_TALK", "LATE", local(3, 2), local(3, 4, 11)),
        ("赵六", "RISK_TALK", "MISSED", local(3, 2), None),
        ("王五", "RISK_TALK", "MISSED", local(3, 5, 8), None),
        ("李四", "RISK_REVIEW", "MISSED", local(3, 6), None),
        ("李四", "RISK_TALK", "MISSED", local(3, 6), None),
        ("李四", "RISK_TALK", "MISSED", local(3, 8), None),
    ]
    first = report.dues[0]
    assert first.deadline == first.due + dt.timedelta(days=1)  # the RISK_TALK limit, 1440 min


def test_compliance_before_the_limit_counts_as_pending(history):
    from jianguan.risk.api import compliance

    now = local(3, 8, 10)
    report = compliance(history["unit"], local(3, 8), local(3, 9), now=now)
    li = next(line for line in report.people if line.name.startswith("李四"))
    assert _tally(li.talks) == (0, 0, 0, 1)  # due at midnight, the day not yet over
    assert _tally(li.reviews) == (1, 0, 0, 0)  # the leader reviewed at 10:00
    assert _tally(report.total.talks) == (0, 0, 0, 2)  # 王五's is pending too
    assert report.total.talks.rate is None
    assert report.rate == 100.0
    assert report.as_of == now


# --- the patrol interval of a cell ----------------------------------------------------------


def test_a_cells_patrol_interval_is_the_strictest_of_its_people_and_itself(
    clock, level1, normal, make_detainee, cells, tree
):
    from jianguan.core.errors import NotFound
    from jianguan.housing.api import Cell, CellGender, CellKind
    from jianguan.risk.api import CellRisk, patrol_minutes_for_cell, rescore_person

    assert patrol_minutes_for_cell(cells["101"].id) == 5  # 李四, 一级
    assert patrol_minutes_for_cell(cells["102"].id) == 60  # 张三, 常规

    # Three 常规 people in 103 (capacity 2): crowded, so the cell itself is 三级.
    crowded = Cell.objects.create(
        unit=tree["gz_k"],
        number="103",
        area="一监区",
        gender=CellGender.MALE,
        kind=CellKind.ORDINARY,
        capacity=2,
    )
    for name in ("王五", "赵六", "孙七"):
        person = make_detainee("gz_k", name=name, cell=crowded, status="IN_CUSTODY")
        rescore_person(person.id, cause="收押入所", now=clock.now)
    assert CellRisk.objects.get(cell=crowded, track="LIVE").grade == "LEVEL3"
    assert patrol_minutes_for_cell(crowded.id) == 30

    empty = Cell.objects.create(
        unit=tree["gz_k"],
        number="104",
        area="一监区",
        gender=CellGender.MALE,
        kind=CellKind.ORDINARY,
        capacity=8,
    )
    assert patrol_minutes_for_cell(empty.id) == 60
    with pytest.raises(NotFound):
        patrol_minutes_for_cell("00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFound):
        patrol_minutes_for_cell("not-a-cell")
