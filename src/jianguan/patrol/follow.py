"""The patrol app follows the outbox: terminal check-ins (device.reading) and people leaving
their cell (custody movements), each at least once — the services below are idempotent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from jianguan.housing.api import Cell
from jianguan.org.api import Unit
from jianguan.outbox.api import DomainEvent, consumer
from jianguan.patrol.duty_watch import duty_check_person
from jianguan.patrol.models import CheckVia
from jianguan.patrol.rota import duty_checkin
from jianguan.patrol.welfare import check_record

PATROL_CHECKIN = "PATROL_CHECKIN"
DUTY_CHECKIN = "DUTY_CHECKIN"
MOVES = {"custody.movement", "custody.cell_assigned"}


def _moment(raw: Any, fallback: dt.datetime) -> dt.datetime:
    parsed = parse_datetime(raw) if isinstance(raw, str) else None
    return parsed if parsed is not None else fallback


@consumer("patrol-terminal-checkins")
def on_reading(event: DomainEvent) -> None:
    if event.type != "device.reading":
        return
    data = event.payload
    if data.get("kind") != "TERMINAL" or data.get("event") not in (PATROL_CHECKIN, DUTY_CHECKIN):
        return
    cell_id = data.get("cell")
    cell = Cell.objects.filter(id=str(cell_id)).first() if cell_id else None
    if cell is None:
        return  # a terminal not placed in a cell cannot vouch for one
    unit = Unit.objects.get(id=cell.unit_id)
    at = _moment(data.get("at"), event.occurred_at)
    body = data.get("data") or {}
    with transaction.atomic():
        if data["event"] == PATROL_CHECKIN:
            check_record(
                unit=unit,
                cell=cell,
                at=at,
                officer=str(body.get("officer") or "")[:150],
                via=CheckVia.TERMINAL,
                device=str(data.get("device") or ""),
                source_ref=f"dev:{data.get('device')}:{data.get('seq')}",
                now=max(event.occurred_at, at),
            )
        else:
            numbers = body.get("numbers") or []
            duty_checkin(
                unit=unit,
                cell_id=cell.id,
                numbers=[str(n) for n in numbers] if isinstance(numbers, list) else [],
                at=at,
                device=str(data.get("device") or ""),
                now=max(event.occurred_at, at),
            )


@consumer("patrol-duty-moves")
def on_move(event: DomainEvent) -> None:
    """Someone on duty left the cell: check their shift at once, not at the next minute."""
    if event.type not in MOVES or event.aggregate_type != "detainee":
        return
    at = _moment(event.payload.get("at"), event.occurred_at)
    duty_check_person(event.aggregate_id, at=min(at, timezone.now()))
