"""HTTP endpoints of welfare checks and cell duty (mounted at /patrol).

Thin: each endpoint calls one service of `jianguan.patrol.api`; refusals answer
{"code", "message", "field"} (400 bad input, 403 wrong post, 404 not this facility's).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status

from jianguan.core.http import client_address
from jianguan.custody.api import audit_list_read
from jianguan.devices.api import devices_pack
from jianguan.org.api import actor_for
from jianguan.patrol.api import (
    CellDue,
    CellRota,
    PatrolLapse,
    check_by_hand,
    due_list,
    lapse_explain,
    lapses_explained,
    lapses_unexplained,
    night_of,
    rota_night,
    rota_set,
    viewer_facility,
)

router = Router(tags=["巡视与监室值班"])
EXPLAINED_LOOKBACK = dt.timedelta(days=7)


class CheckIn(Schema):
    cell_id: uuid.UUID


class CheckOut(Schema):
    id: uuid.UUID
    cell_id: uuid.UUID
    at: dt.datetime
    officer: str
    via: str


class DueOut(Schema):
    cell_id: uuid.UUID
    cell: str
    area: str
    people: int
    interval_minutes: int
    grade: str
    why: str
    last_check_at: dt.datetime | None
    last_check_by: str
    due_at: dt.datetime | None
    overdue: bool
    lapse_id: uuid.UUID | None


class LapseOut(Schema):
    id: uuid.UUID
    cell_id: uuid.UUID
    cell: str
    due_at: dt.datetime
    interval_minutes: int
    state: str
    state_label: str
    checked_at: dt.datetime | None
    checked_by: str
    reason: str
    reason_by: str
    reason_at: dt.datetime | None
    task_id: uuid.UUID | None


class ReasonIn(Schema):
    reason: str


class PostOut(Schema):
    detainee_id: uuid.UUID
    name: str
    number: str
    checked_in_at: dt.datetime | None
    in_cell: bool


class ShiftOut(Schema):
    index: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    people: list[PostOut]
    present: int
    checked_in: int


class RotaOut(Schema):
    cell_id: uuid.UUID
    cell: str
    night: dt.date
    shifts: list[ShiftOut]


class RotaIn(Schema):
    night: dt.date
    shifts: list[list[uuid.UUID]]


def _due(row: CellDue) -> dict[str, Any]:
    return {
        "cell_id": row.cell.id,
        "cell": row.cell.number,
        "area": row.cell.area,
        "people": row.people,
        "interval_minutes": row.interval.minutes,
        "grade": row.interval.grade,
        "why": row.interval.why,
        "last_check_at": row.last_check_at,
        "last_check_by": row.last_check_by,
        "due_at": row.due_at,
        "overdue": row.overdue,
        "lapse_id": row.open_lapse.id if row.open_lapse else None,
    }


def _lapse(lapse: PatrolLapse) -> dict[str, Any]:
    return {
        "id": lapse.id,
        "cell_id": lapse.cell_id,
        "cell": lapse.cell.number,
        "due_at": lapse.due_at,
        "interval_minutes": lapse.interval_minutes,
        "state": lapse.state,
        "state_label": lapse.get_state_display(),
        "checked_at": lapse.checked_at,
        "checked_by": lapse.checked_by,
        "reason": lapse.reason,
        "reason_by": lapse.reason_by,
        "reason_at": lapse.reason_at,
        "task_id": lapse.task_id,
    }


def _rota(rota: CellRota, night: dt.date) -> dict[str, Any]:
    return {
        "cell_id": rota.cell.id,
        "cell": rota.cell.number,
        "night": night,
        "shifts": [
            {
                "index": row.shift.index,
                "starts_at": row.shift.starts_at,
                "ends_at": row.shift.ends_at,
                "people": [
                    {
                        "detainee_id": p.detainee_id,
                        "name": p.detainee.name,
                        "number": p.detainee.number,
                        "checked_in_at": p.checked_in_at,
                        "in_cell": p.detainee.cell_id == rota.cell.id
                        and p.detainee.status == "IN_CUSTODY",
                    }
                    for p in row.posts
                ],
                "present": row.present,
                "checked_in": row.checked_in,
            }
            for row in rota.shifts
        ],
    }


def _audit_people(request: HttpRequest, rotas: list[CellRota], night: dt.date) -> None:
    ids = list(dict.fromkeys(p.detainee_id for r in rotas for s in r.shifts for p in s.posts))
    if ids:
        audit_list_read(
            actor=actor_for(request.user, address=client_address(request)),  # type: ignore[arg-type]
            ids=ids,
            query={"view": "patrol.rota", "night": night.isoformat()},
        )


@router.post("/checkins", response={201: CheckOut}, summary="到位签到（手持终端）")
def check_in(request: HttpRequest, payload: CheckIn) -> Status:
    check = check_by_hand(user=request.user, cell_id=payload.cell_id)
    return Status(
        201,
        {
            "id": check.id,
            "cell_id": check.cell_id,
            "at": check.at,
            "officer": check.officer,
            "via": check.via,
        },
    )


@router.get("/due", response=list[DueOut], summary="各监室巡视间隔与下次应巡视时间")
def due(request: HttpRequest) -> list[dict[str, Any]]:
    unit = viewer_facility(request.user)
    return [_due(row) for row in due_list(unit)]


@router.get("/lapses", response=list[LapseOut], summary="巡视逾期（未说明的在前）")
def lapses(request: HttpRequest, explained: bool = False) -> list[dict[str, Any]]:
    unit = viewer_facility(request.user)
    if explained:
        rows = lapses_explained(unit, since=timezone.now() - EXPLAINED_LOOKBACK)
    else:
        rows = lapses_unexplained(unit)
    return [_lapse(lapse) for lapse in rows[:500]]


@router.post("/lapses/{lapse_id}/reason", response=LapseOut, summary="填写巡视逾期原因")
def lapse_reason(request: HttpRequest, lapse_id: str, payload: ReasonIn) -> dict[str, Any]:
    lapse = lapse_explain(user=request.user, lapse_id=lapse_id, reason=payload.reason)
    return _lapse(lapse)


@router.get("/rota", response=list[RotaOut], summary="监室值班表（默认今晚）")
def rota(request: HttpRequest, night: dt.date | None = None) -> list[dict[str, Any]]:
    unit = viewer_facility(request.user)
    night = night or night_of(devices_pack(unit), timezone.now())
    rotas = rota_night(unit, night)
    _audit_people(request, rotas, night)
    return [_rota(r, night) for r in rotas]


@router.put("/rota/{cell_id}", response=RotaOut, summary="编排一个监室一夜的值班")
def rota_put(request: HttpRequest, cell_id: str, payload: RotaIn) -> dict[str, Any]:
    rota_set(user=request.user, cell_id=cell_id, night=payload.night, shifts=payload.shifts)
    unit = viewer_facility(request.user)
    (one,) = rota_night(unit, payload.night, cell_ids=[cell_id])
    return _rota(one, payload.night)
