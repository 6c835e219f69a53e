"""Cell duty: the night's shifts, a rota of people held in the cell with at least two on every
shift, check-ins at the terminal, and an urgent alert at once for each way a shift can be left
with one or nobody on duty — start, check-in and someone leaving — once per shift and cause."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.patrol.conftest import N22, NIGHT, minutes

pytestmark = pytest.mark.django_db

BEFORE = N22 - dt.timedelta(hours=3)  # 19:00: the rota is set in the evening


def _ids(*people: Any) -> list[str]:
    return [str(p.id) for p in people]


def _alerts() -> list[tuple[str, str]]:
    from jianguan.devices.api import Alert
    from jianguan.duty.api import Task

    out = []
    for alert in Alert.objects.order_by("first_at", "type"):
        task = Task.objects.get(id=alert.task_id)
        assert (task.category, task.post_kind, task.urgency) == (
            "CELL_DUTY_SHORT",
            "PATROL",
            "URGENT",
        )
        out.append((alert.type, alert.cell.number))
    return out


@pytest.fixture
def rota(staff, cells, trio) -> Any:
    """张三 and 李四 on every shift of 102 tonight."""
    from jianguan.patrol.api import rota_set

    zhang, li, _wang = trio
    return rota_set(
        user=staff["custodian"],
        cell_id=cells["102"].id,
        night=NIGHT,
        shifts=[_ids(zhang, li)] * 4,
        now=BEFORE,
    )


def test_the_night_is_cut_into_shifts_from_the_pack(cells):
    from jianguan.devices.api import devices_pack
    from jianguan.patrol.api import night_of, night_shifts, shift_at

    pack = devices_pack(cells["102"].unit)
    shifts = night_shifts(pack, NIGHT)
    assert [s.label for s in shifts] == [
        "第1班 22:00–00:00",
        "第2班 00:00–02:00",
        "第3班 02:00–04:00",
        "第4班 04:00–06:00",
    ]
    assert shifts[0].starts_at == N22
    assert shifts[-1].ends_at == N22 + dt.timedelta(hours=8)
    assert night_of(pack, N22 + dt.timedelta(hours=5)) == NIGHT  # 03:00 belongs to last night
    assert night_of(pack, N22 - dt.timedelta(hours=10)) == NIGHT  # 12:00: tonight
    assert shift_at(pack, N22 + minutes(150)) == shifts[1]
    assert shift_at(pack, N22 - minutes(1)) is None


def test_the_rota_takes_only_people_held_in_the_cell_and_at_least_two_a_shift(
    staff, cells, trio, person
):
    from jianguan.core.errors import DomainError, PermissionDenied
    from jianguan.patrol.api import DutyPost, rota_set

    zhang, li, wang = trio
    stranger = person("赵六", "101")

    def try_set(shifts: list[list[str]], user: Any = None) -> Any:
        return rota_set(
            user=user or staff["custodian"],
            cell_id=cells["102"].id,
            night=NIGHT,
            shifts=shifts,
            now=BEFORE,
        )

    with pytest.raises(DomainError) as outsider:
        try_set([_ids(zhang, li), _ids(zhang, stranger), _ids(li, wang), _ids(zhang, wang)])
    assert outsider.value.code == "NOT_IN_CELL"
    assert outsider.value.field == "shifts.1"
    assert "赵六" in outsider.value.message
    with pytest.raises(DomainError) as alone:
        try_set([_ids(zhang, li), _ids(wang), _ids(li, wang), _ids(zhang, wang)])
    assert alone.value.code == "TOO_FEW_ON_DUTY"
    assert alone.value.field == "shifts.1"
    with pytest.raises(DomainError) as twice:  # the same person twice is still one person
        try_set([_ids(zhang, zhang), _ids(li, wang), _ids(li, wang), _ids(zhang, wang)])
    assert twice.value.code == "TOO_FEW_ON_DUTY"
    with pytest.raises(DomainError) as count:
        try_set([_ids(zhang, li)])
    assert count.value.code == "SHIFT_COUNT"
    with pytest.raises(PermissionDenied):
        try_set([_ids(zhang, li)] * 4, user=staff["patrol"])
    assert not DutyPost.objects.exists()

    posts = try_set([_ids(zhang, li), _ids(li, wang), _ids(zhang, wang), _ids(zhang, li, wang)])
    assert [(p.shift, p.detainee.name) for p in posts] == [
        (0, "张三"),
        (0, "李四"),
        (1, "李四"),
        (1, "王五"),
        (2, "张三"),
        (2, "王五"),
        (3, "张三"),
        (3, "李四"),
        (3, "王五"),
    ]
    # The leader may set it too; a night that is over may not be changed.
    with pytest.raises(DomainError) as over:
        rota_set(
            user=staff["leader"],
            cell_id=cells["102"].id,
            night=NIGHT,
            shifts=[_ids(zhang, li)] * 4,
            now=N22 + dt.timedelta(hours=9),
        )
    assert over.value.code == "NIGHT_OVER"


def test_changing_a_running_night_keeps_the_past_and_the_check_ins(
    staff, cells, trio, rota, terminals, send
):
    from jianguan.patrol.api import DutyPost, rota_set

    zhang, _li, wang = trio
    send(terminals["102"], "DUTY_CHECKIN", {"numbers": [zhang.number]}, at=N22 + minutes(2))
    rota_set(
        user=staff["custodian"],
        cell_id=cells["102"].id,
        night=NIGHT,
        shifts=[_ids(zhang, wang)] * 4,
        now=N22 + minutes(150),  # in the second shift: the first is over
    )
    rows = DutyPost.objects.order_by("shift", "detainee__number")
    assert [(p.shift, p.detainee.name) for p in rows if p.shift < 2] == [
        (0, "张三"),
        (0, "李四"),
        (1, "张三"),
        (1, "王五"),
    ]
    assert DutyPost.objects.get(shift=0, detainee=zhang).checked_in_at == N22 + minutes(2)


def test_a_shift_that_starts_with_nobody_rostered_alerts_at_once(cells, trio):
    from jianguan.patrol.api import duty_check

    assert duty_check(now=N22 - minutes(1)) == 0  # day time: no shift
    assert duty_check(now=N22) == 1
    assert duty_check(now=N22 + minutes(1)) == 0  # once per shift and cause
    assert _alerts() == [("CELL_DUTY_START", "102")]
    from jianguan.devices.api import Alert

    assert "本班未安排值班人员" in Alert.objects.get().detail
    assert duty_check(now=N22 + minutes(120)) == 1  # the next shift is short too


def test_a_shift_that_starts_with_one_rostered_person_left_in_the_cell_alerts(cells, trio, rota):
    from jianguan.core.actor import Actor
    from jianguan.custody.api import movement_record
    from jianguan.patrol.api import duty_check

    zhang, _li, _wang = trio
    movement_record(
        actor=Actor.system("test"),
        detainee=zhang,
        kind="RELEASE",
        at=N22 - minutes(30),  # before the shift: it starts short
        document_number="释字 2026-7",
    )
    assert duty_check(now=N22) == 1
    assert _alerts() == [("CELL_DUTY_START", "102")]


def test_fewer_than_two_checked_in_after_the_grace_alerts(cells, trio, rota, terminals, send):
    from jianguan.devices.api import Alert
    from jianguan.patrol.api import DutyPost, duty_check

    zhang, li, wang = trio
    send(
        terminals["102"],
        "DUTY_CHECKIN",
        {"numbers": [zhang.number, wang.number]},  # 王五 is not on this shift
        at=N22 + minutes(3),
    )
    assert DutyPost.objects.get(shift=0, detainee=zhang).checked_in_at == N22 + minutes(3)
    assert not DutyPost.objects.filter(detainee=wang).exists()
    assert duty_check(now=N22 + minutes(9)) == 0  # within the check-in grace
    assert duty_check(now=N22 + minutes(10)) == 1
    assert duty_check(now=N22 + minutes(11)) == 0
    assert _alerts() == [("CELL_DUTY_CHECKIN", "102")]
    assert "李四" in Alert.objects.get().detail
    # The next shift: both check in (one a few minutes early), nothing to alert.
    send(terminals["102"], "DUTY_CHECKIN", {"numbers": [zhang.number]}, at=N22 + minutes(115))
    send(terminals["102"], "DUTY_CHECKIN", {"numbers": [li.number]}, at=N22 + minutes(121))
    assert duty_check(now=N22 + minutes(131)) == 0


def test_a_rostered_person_leaving_mid_shift_alerts_at_once(cells, trio, rota, terminals, send):
    from jianguan.core.actor import Actor
    from jianguan.custody.api import movement_record
    from jianguan.outbox.api import deliver
    from jianguan.patrol.api import duty_check

    zhang, li, _wang = trio
    send(terminals["102"], "DUTY_CHECKIN", {"numbers": [zhang.number, li.number]}, at=N22)
    assert duty_check(now=N22 + minutes(15)) == 0
    movement_record(
        actor=Actor.system("test"),
        detainee=li,
        kind="OUT_MEDICAL",
        at=N22 + minutes(40),
        destination="市第一人民医院",
        escort="吴巡控",
    )
    deliver()  # the movement reaches the patrol app: checked at once, not at the next minute
    assert _alerts() == [("CELL_DUTY_LEFT", "102")]
    assert duty_check(now=N22 + minutes(41)) == 0
    deliver()
    assert len(_alerts()) == 1
