"""提讯 at the facility: admitted on a valid 提讯证, refused once the custody clock has run out."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError
from jianguan.custody.models import Detainee, DetaineeStatus, Interrogation
from jianguan.custody.movements import EXPIRED_WARRANT_ARTICLE, custody_expired
from jianguan.outbox.api import change_record


def interrogation_request(
    *,
    actor: Actor,
    detainee: Detainee,
    warrant_number: str,
    case_unit: str,
    officers: str,
    at: dt.datetime | None = None,
) -> Interrogation:
    """Register a 提讯. A refusal is itself recorded (and raises afterwards): the leader and the
    resident prosecutor see every attempt on a void warrant."""
    for field, value, label in (
        ("warrant_number", warrant_number, "提讯证号"),
        ("case_unit", case_unit, "办案单位"),
        ("officers", officers, "提讯人员"),
    ):
        if not value.strip():
            raise DomainError("REQUIRED", f"请填写{label}", field=field)
    if detainee.status != DetaineeStatus.IN_CUSTODY:
        label = DetaineeStatus(detainee.status).label
        raise DomainError("NOT_IN_FACILITY", f"{detainee.name}当前状态为「{label}」，不能提讯")
    at = at or timezone.now()
    expired = custody_expired(detainee, at)
    reason = ""
    if expired:
        reason = (
            f"{expired.label}已于{timezone.localtime(expired.expires_at):%Y-%m-%d %H:%M}届满，"
            "未收到延长或变更羁押期限的法律文书，原提讯证不能使用"
            f"（{EXPIRED_WARRANT_ARTICLE}）"
        )
    record = _record(
        actor=actor,
        detainee=detainee,
        warrant_number=warrant_number.strip(),
        case_unit=case_unit.strip(),
        officers=officers.strip(),
        at=at,
        refusal_reason=reason,
    )
    if reason:
        raise DomainError("WARRANT_VOID", reason, field="warrant_number")
    return record


@transaction.atomic
def _record(
    *,
    actor: Actor,
    detainee: Detainee,
    warrant_number: str,
    case_unit: str,
    officers: str,
    at: dt.datetime,
    refusal_reason: str,
) -> Interrogation:
    record = Interrogation.objects.create(
        detainee=detainee,
        unit_id=detainee.unit_id,
        warrant_number=warrant_number,
        case_unit=case_unit,
        officers=officers,
        requested_at=at,
        admitted=not refusal_reason,
        refusal_reason=refusal_reason,
        recorded_by=actor.username,
    )
    change_record(
        actor=actor,
        type="custody.interrogation_refused" if refusal_reason else "custody.interrogation_started",
        aggregate_type="detainee",
        aggregate_id=detainee.id,
        unit_code=detainee.unit.code,
        payload={
            "interrogation": str(record.id),
            "name": detainee.name,
            "number": detainee.number,
            "warrant_number": warrant_number,
            "case_unit": case_unit,
            "reason": refusal_reason,
        },
    )
    return record


@transaction.atomic
def interrogation_end(*, actor: Actor, interrogation: Interrogation) -> Interrogation:
    locked = (
        Interrogation.objects.select_for_update()
        .select_related("detainee__unit")
        .get(id=interrogation.id)
    )
    if not locked.admitted or locked.ended_at:
        raise DomainError("NOT_RUNNING", "该提讯未在进行中")
    locked.ended_at = timezone.now()
    locked.save(update_fields=["ended_at"])
    change_record(
        actor=actor,
        type="custody.interrogation_ended",
        aggregate_type="detainee",
        aggregate_id=locked.detainee_id,
        unit_code=locked.detainee.unit.code,
        payload={"interrogation": str(locked.id), "name": locked.detainee.name},
    )
    return locked
