"""Movements: temporary exits and returns, and leaving for good (release, transfer, delivery
for execution). Leaving ends every legal clock through a recorded legal event."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError
from jianguan.custody.legal import legal_event_record
from jianguan.custody.models import (
    HELD_STATUSES,
    Deadline,
    Detainee,
    DetaineeStatus,
    LegalEvent,
    Movement,
    MovementKind,
)
from jianguan.housing.api import Cell
from jianguan.outbox.api import change_record

TEMPORARY_EXITS = {MovementKind.OUT_INTERROGATION, MovementKind.OUT_MEDICAL}

# Leaving for good: the status it leaves the person in and the legal event that ends the clocks.
DEPARTURES: dict[str, tuple[str, str]] = {
    MovementKind.RELEASE: (DetaineeStatus.RELEASED, "RELEASED"),
    MovementKind.TRANSFER: (DetaineeStatus.TRANSFERRED, "TRANSFERRED_OUT"),
    MovementKind.DELIVER: (DetaineeStatus.DELIVERED, "DELIVERED"),
}

# Delivery for execution needs an effective judgment or the execution notice (刑事诉讼法第二百六十四条).
DELIVERY_BASIS = {"JUDGMENT_EFFECTIVE", "EXECUTION_NOTICE_RECEIVED"}

# The 提讯证/提解证 is void once the custody clock has run out (公安机关适用刑事羁押期限规定第二十八条).
EXPIRED_WARRANT_ARTICLE = "公安机关适用刑事羁押期限规定第二十八条"


def custody_expired(detainee: Detainee, now: dt.datetime) -> Deadline | None:
    """The clock of custody that has run out with no lawful change, if any."""
    return (
        Deadline.objects.filter(
            detainee=detainee, governs_custody=True, state="RUNNING", expires_at__lte=now
        )
        .order_by("expires_at")
        .first()
    )


@transaction.atomic
def movement_record(
    *,
    actor: Actor,
    detainee: Detainee,
    kind: str,
    at: dt.datetime | None = None,
    document_number: str = "",
    destination: str = "",
    escort: str = "",
    reason: str = "",
) -> Movement:
    if kind not in MovementKind.values or kind == MovementKind.CELL_MOVE:
        raise DomainError("UNKNOWN_MOVEMENT", f"未知的出入所类别：{kind}", field="kind")
    now = timezone.now()
    at = at or now
    if at > now + dt.timedelta(minutes=5):
        raise DomainError("FUTURE_EVENT", "时间不能晚于当前时间", field="at")
    # Lock only the person's row: PostgreSQL refuses FOR UPDATE on the nullable side of the
    # outer join to the cell.
    locked = (
        Detainee.objects.select_for_update(of=("self",))
        .select_related("unit", "cell")
        .get(id=detainee.id)
    )
    _check(locked, kind, document_number=document_number, destination=destination, escort=escort)
    if kind == MovementKind.OUT_INTERROGATION:
        expired = custody_expired(locked, at)
        if expired:
            raise DomainError(
                "CUSTODY_EXPIRED",
                f"{expired.label}已于{timezone.localtime(expired.expires_at):%Y-%m-%d %H:%M}届满，"
                f"未收到延长或变更羁押期限的法律文书，原提解证不能使用（{EXPIRED_WARRANT_ARTICLE}）",
                field="kind",
            )
    from_cell = locked.cell
    movement = Movement.objects.create(
        detainee=locked,
        unit_id=locked.unit_id,
        kind=kind,
        at=at,
        from_cell=from_cell,
        document_number=document_number.strip(),
        destination=destination.strip(),
        escort=escort.strip(),
        reason=reason.strip(),
        recorded_by=actor.username,
    )
    if kind in TEMPORARY_EXITS:
        locked.status = DetaineeStatus.OUT_TEMPORARILY
    elif kind == MovementKind.RETURN:
        locked.status = DetaineeStatus.IN_CUSTODY
    else:
        status, fact_kind = DEPARTURES[kind]
        legal_event_record(
            actor=actor,
            detainee=locked,
            kind=fact_kind,
            at=at,
            document_number=document_number,
            note=reason,
        )
        locked.status, locked.left_at, locked.cell = status, at, None
    locked.save(update_fields=["status", "left_at", "cell"])
    change_record(
        actor=actor,
        type="custody.movement",
        aggregate_type="detainee",
        aggregate_id=locked.id,
        unit_code=locked.unit.code,
        payload={
            "movement": str(movement.id),
            "kind": kind,
            "label": MovementKind(kind).label,
            "name": locked.name,
            "number": locked.number,
            "cell": from_cell.number if from_cell else None,
            "destination": movement.destination,
            "at": at.isoformat(),
        },
    )
    return movement


def _check(
    detainee: Detainee, kind: str, *, document_number: str, destination: str, escort: str
) -> None:
    if kind == MovementKind.RETURN:
        if detainee.status != DetaineeStatus.OUT_TEMPORARILY:
            raise DomainError("NOT_OUT", f"{detainee.name}不在出所状态，无需登记回所")
        return
    if detainee.status != DetaineeStatus.IN_CUSTODY:
        label = DetaineeStatus(detainee.status).label
        raise DomainError("NOT_IN_FACILITY", f"{detainee.name}当前状态为「{label}」，不能办理")
    if kind in TEMPORARY_EXITS:
        if not destination.strip():
            raise DomainError("REQUIRED", "请填写去向（医院、办案单位等）", field="destination")
        if not escort.strip():
            raise DomainError("REQUIRED", "请填写押解民警", field="escort")
        return
    if not document_number.strip():
        raise DomainError("REQUIRED", "请填写出所依据的法律文书编号", field="document_number")
    if (
        kind == MovementKind.DELIVER
        and not LegalEvent.objects.filter(detainee=detainee, kind__in=DELIVERY_BASIS).exists()
    ):
        raise DomainError(
            "NO_JUDGMENT",
            "尚未登记生效判决或执行通知书，不能交付执行（刑事诉讼法第二百六十四条）",
            field="kind",
        )


@dataclass(frozen=True)
class CellRoll:
    cell_id: Any
    number: str
    area: str
    kind: str
    gender: str
    capacity: int
    present: int
    out: int


def roll_by_cell(unit_id: Any) -> list[CellRoll]:
    """Each cell with how many of its people are here and how many are out (在押数)."""
    counts = {
        r["cell_id"]: r
        for r in Detainee.objects.filter(unit_id=unit_id, status__in=HELD_STATUSES)
        .values("cell_id")
        .annotate(
            present=Count("id", filter=Q(status=DetaineeStatus.IN_CUSTODY)),
            out=Count("id", filter=Q(status=DetaineeStatus.OUT_TEMPORARILY)),
        )
    }
    return [
        CellRoll(
            cell_id=c.id,
            number=c.number,
            area=c.area,
            kind=c.get_kind_display(),
            gender=c.get_gender_display(),
            capacity=c.capacity,
            present=counts.get(c.id, {}).get("present", 0),
            out=counts.get(c.id, {}).get("out", 0),
        )
        for c in Cell.objects.filter(unit_id=unit_id, is_active=True).order_by("area", "number")
    ]


def unplaced(unit_id: Any) -> int:
    """People held with no cell yet (admitted, awaiting placement)."""
    return Detainee.objects.filter(
        unit_id=unit_id, status=DetaineeStatus.IN_CUSTODY, cell__isnull=True
    ).count()
