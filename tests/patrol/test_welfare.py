"""Welfare checks: intervals follow the risk grades, check-ins come from the cell terminal or
by hand, a cell past due + grace opens one lapse with one alert and task, and the lapse needs
a written reason before it leaves the leader's list."""

from __future__ import annotations

from typing import Any

import pytest

from tests.devices.conftest import T0
from tests.patrol.conftest import minutes

pytestmark = pytest.mark.django_db


@pytest.fixture
def level1(person: Any) -> Any:
    """李四 in 101: 死刑复核 + 放火 + 自杀史 + 精神疾病 → 一级 (checked every 5 minutes)."""
    from jianguan.core.actor import Actor
    from jianguan.risk.api import RiskScore, fact_record

    li = person("李四", "101", litigation_stage="33")
    for kind in ("manual.SUICIDE_HISTORY", "manual.MENTAL_ILLNESS"):
        fact_record(actor=Actor.system("test"), detainee=li, kind=kind, at=T0, now=T0)
    assert RiskScore.objects.get(detainee_id=li.id, track="LIVE").grade == "LEVEL1"
    return li


def _unit(cells: dict[str, Any]) -> Any:
    return cells["102"].unit


def _lapses() -> list[Any]:
    from jianguan.patrol.api import PatrolLapse

    return list(PatrolLapse.objects.order_by("due_at"))


def test_the_interval_follows_the_strictest_grade_and_ungraded_cells_use_the_pack(
    level1, held, cells
):
    from jianguan.patrol.api import intervals_for
    from jianguan.risk.api import patrol_minutes_for_cell, rescore_person

    found = intervals_for(_unit(cells), [cells["101"].id, cells["102"].id])
    assert (found[cells["101"].id].minutes, found[cells["101"].id].grade) == (5, "LEVEL1")
    assert found[cells["101"].id].minutes == patrol_minutes_for_cell(cells["101"].id)
    assert "一级" in found[cells["101"].id].why
    # 张三 is not graded yet: the devices pack's default interval, and the page says why.
    assert (found[cells["102"].id].minutes, found[cells["102"].id].grade) == (60, "")
    assert "未评定" in found[cells["102"].id].why
    rescore_person(held.id, cause="收押入所", now=T0)
    graded = intervals_for(_unit(cells), [cells["102"].id])[cells["102"].id]
    assert (graded.minutes, graded.grade) == (60, "NORMAL")
    assert graded.minutes == patrol_minutes_for_cell(cells["102"].id)


def test_a_terminal_check_in_is_recorded_and_moves_the_next_due(
    held, cells, terminals, send, staff
):
    from jianguan.patrol.api import PatrolCheck, due_list, lapses_open

    assert lapses_open(now=T0) == 0  # the watch of 102 begins
    send(terminals["102"], "PATROL_CHECKIN", {"officer": "gz_xunkong"}, at=T0 + minutes(30))
    check = PatrolCheck.objects.get()
    assert (check.via, check.officer, check.officer_name, check.device) == (
        "TERMINAL",
        "gz_xunkong",
        "吴巡控",
        "TERM-102",
    )
    assert check.cell_id == cells["102"].id
    assert check.at == T0 + minutes(30)
    (row,) = due_list(_unit(cells), now=T0 + minutes(31))
    assert row.cell.number == "102"
    assert row.people == 1
    assert row.due_at == T0 + minutes(90)
    assert not row.overdue
    assert row.last_check_by == "吴巡控"
    assert lapses_open(now=T0 + minutes(95)) == 0  # due + grace, not past it
    assert lapses_open(now=T0 + minutes(95.5)) == 1


def test_a_cell_past_due_opens_one_lapse_with_one_alert_and_a_patrol_task(held, cells):
    from jianguan.devices.api import Alert
    from jianguan.duty.api import Task
    from jianguan.patrol.api import due_list, lapses_open

    lapses_open(now=T0)
    assert lapses_open(now=T0 + minutes(64)) == 0
    row = due_list(_unit(cells), now=T0 + minutes(62))[0]
    assert row.late_soon
    assert not row.overdue
    assert lapses_open(now=T0 + minutes(66)) == 1
    # The lapse covers the whole gap: later runs open nothing more, however long it lasts.
    assert lapses_open(now=T0 + minutes(67)) == 0
    assert lapses_open(now=T0 + minutes(300)) == 0
    (lapse,) = _lapses()
    assert (lapse.state, lapse.due_at, lapse.interval_minutes) == ("OPEN", T0 + minutes(60), 60)
    alert = Alert.objects.get()
    task = Task.objects.get(id=alert.task_id)
    assert (alert.severity, alert.cell_id, alert.name) == ("HIGH", cells["102"].id, "巡视逾期")
    assert (task.category, task.post_kind, task.urgency) == ("PATROL_CHECK_LATE", "PATROL", "HIGH")
    assert lapse.alert_id == alert.id
    assert lapse.task_id == task.id
    assert "102" in task.title
    assert due_list(_unit(cells), now=T0 + minutes(70))[0].open_lapse == lapse


def test_a_late_check_ends_the_lapse_as_late_and_the_next_due_counts_from_it(held, cells, staff):
    from jianguan.patrol.api import check_by_hand, lapses_open, lapses_unexplained

    lapses_open(now=T0)
    lapses_open(now=T0 + minutes(66))
    check = check_by_hand(user=staff["patrol"], cell_id=cells["102"].id, now=T0 + minutes(80))
    assert check.via == "HAND"
    assert check.officer_name == "吴巡控"
    (lapse,) = _lapses()
    assert (lapse.state, lapse.checked_at, lapse.checked_by) == (
        "LATE",
        T0 + minutes(80),
        "吴巡控",
    )
    assert list(lapses_unexplained(_unit(cells))) == [lapse]  # still needs its reason
    assert lapses_open(now=T0 + minutes(145)) == 0
    assert lapses_open(now=T0 + minutes(146)) == 1  # 80 + 60 + 5 passed
    assert [x.state for x in _lapses()] == ["LATE", "OPEN"]


def test_a_terminal_check_made_in_time_but_delivered_late_voids_the_lapse(
    held, cells, terminals, message
):
    from jianguan.devices.api import ingest
    from jianguan.outbox.api import deliver
    from jianguan.patrol.api import lapses_open, lapses_unexplained

    lapses_open(now=T0)
    late_news = message(
        terminals["102"], "PATROL_CHECKIN", {"officer": "gz_x"}, at=T0 + minutes(63)
    )
    assert lapses_open(now=T0 + minutes(66)) == 1
    ingest([late_news], now=T0 + minutes(67))
    deliver()
    (lapse,) = _lapses()
    assert lapse.state == "VOID"
    assert not lapses_unexplained(_unit(cells)).exists()


def test_the_reason_is_required_and_at_least_ten_characters(held, cells, staff):
    from jianguan.core.errors import DomainError, PermissionDenied
    from jianguan.patrol.api import lapse_explain, lapses_explained, lapses_open

    lapses_open(now=T0)
    lapses_open(now=T0 + minutes(66))
    (lapse,) = _lapses()
    with pytest.raises(DomainError) as short:
        lapse_explain(user=staff["patrol"], lapse_id=lapse.id, reason="  忙  ", now=T0)
    assert short.value.code == "REASON_TOO_SHORT"
    assert short.value.field == "reason"
    with pytest.raises(PermissionDenied):
        lapse_explain(
            user=staff["custodian"], lapse_id=lapse.id, reason="处置三监室打架事件，未能按时巡视"
        )
    reason = "处置三监室打架事件，未能按时巡视本监室"
    done = lapse_explain(
        user=staff["patrol"], lapse_id=lapse.id, reason=reason, now=T0 + minutes(90)
    )
    assert (done.reason, done.reason_by) == (reason, "gz_xunkong")
    with pytest.raises(DomainError) as again:
        lapse_explain(user=staff["leader"], lapse_id=lapse.id, reason=reason)
    assert again.value.code == "ALREADY_EXPLAINED"
    assert list(lapses_explained(_unit(cells), since=T0)) == [done]


def test_who_may_check_in_by_hand(held, cells, staff, make_user):
    from jianguan.core.errors import NotFound, PermissionDenied
    from jianguan.patrol.api import check_by_hand

    with pytest.raises(PermissionDenied):
        check_by_hand(user=staff["custodian"], cell_id=cells["102"].id, now=T0)
    elsewhere = make_user("sz_xunkong", "PATROL", unit="sz_k")
    with pytest.raises(NotFound):
        check_by_hand(user=elsewhere, cell_id=cells["102"].id, now=T0)
    with pytest.raises(NotFound):
        check_by_hand(user=staff["patrol"], cell_id="not-a-cell", now=T0)


def test_a_cell_emptied_during_a_lapse_ends_it_as_missed_and_stops_watching(held, cells, staff):
    from jianguan.core.actor import Actor
    from jianguan.custody.api import movement_record
    from jianguan.patrol.api import due_list, lapses_open

    lapses_open(now=T0)
    lapses_open(now=T0 + minutes(66))
    movement_record(
        actor=Actor.system("test"),
        detainee=held,
        kind="RELEASE",
        at=T0 + minutes(70),
        document_number="释字 2026-1",
    )
    assert lapses_open(now=T0 + minutes(71)) == 0
    assert [x.state for x in _lapses()] == ["MISSED"]
    assert due_list(_unit(cells), now=T0 + minutes(71)) == []
