"""Lawyer and family meetings (律师会见、家属会见): recorded by 接待 when one ends, so the 管教 is
reminded to talk with the person afterwards. There is no meetings module yet; this is the least
record that says who met whom and when it ended."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from jianguan.core.errors import DomainError, PermissionDenied
from jianguan.custody.api import held_in_unit
from jianguan.org.api import Perm, actor_for, has_perm
from jianguan.outbox.api import change_record
from jianguan.prevention.models import Meeting, MeetingKind

FUTURE_TOLERANCE = dt.timedelta(minutes=5)


@transaction.atomic
def meeting_record(
    *,
    user: Any,
    detainee_id: Any,
    kind: str,
    visitor: str,
    ended_at: dt.datetime,
    address: str | None = None,
    now: dt.datetime | None = None,
) -> Meeting:
    now = now or timezone.now()
    if not has_perm(user, Perm.RECEPTION):
        raise PermissionDenied("会见由接待岗登记")
    unit = user.unit
    detainee = held_in_unit(unit.id, detainee_id) if unit is not None else None
    if detainee is None:
        raise DomainError("NOT_HELD", "该人员不在本所在押", field="detainee")
    if kind not in MeetingKind.values:
        raise DomainError("BAD_KIND", "请选择律师会见或家属会见", field="kind")
    visitor = visitor.strip()
    if not visitor:
        raise DomainError(
            "REQUIRED", "请填写会见人（律师姓名及律所，或家属姓名及关系）", field="visitor"
        )
    if ended_at > now + FUTURE_TOLERANCE:
        raise DomainError("FUTURE_EVENT", "会见结束时间不能晚于当前时间", field="ended_at")
    if ended_at < detainee.admitted_at:
        raise DomainError("BEFORE_ADMISSION", "会见结束时间早于入所时间，请核对", field="ended_at")
    meeting = Meeting.objects.create(
        unit=unit,
        detainee=detainee,
        kind=kind,
        visitor=visitor[:100],
        ended_at=ended_at,
        recorded_by=user.username,
        recorded_at=now,
    )
    change_record(
        actor=actor_for(user, address=address),
        type="prevention.meeting_recorded",
        aggregate_type="detainee",
        aggregate_id=detainee.id,
        unit_code=unit.code,
        payload={
            "meeting": str(meeting.id),
            "kind": kind,
            "label": MeetingKind(kind).label,
            "visitor": meeting.visitor,
            "ended_at": ended_at.isoformat(),
            "name": detainee.name,
            "number": detainee.number,
        },
    )
    return meeting
