"""The prevention app follows the outbox: triggers of talks and the talks themselves, exit
terminals' match results, ankle-monitor readings, and returns to the facility. At-least-once:
every handler is keyed so a redelivered event changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from jianguan.custody.api import Detainee
from jianguan.devices.api import Device, LocationKind
from jianguan.duty.api import InfoRecord, Task
from jianguan.outbox.api import DomainEvent, consumer
from jianguan.prevention import exits, outings, talks
from jianguan.prevention.models import MeetingKind, TalkTrigger

MEETING_TRIGGERS: dict[str, str] = {
    MeetingKind.LAWYER.value: TalkTrigger.LAWYER_MEETING.value,
    MeetingKind.FAMILY.value: TalkTrigger.FAMILY_MEETING.value,
}


def _person(event: DomainEvent) -> Detainee | None:
    return Detainee.objects.select_related("unit").filter(id=event.aggregate_id).first()


def _trigger(event: DomainEvent, trigger: str, label: str) -> None:
    person = _person(event)
    if person is not None:
        talks.talk_trigger(
            detainee=person,
            trigger=trigger,
            source_ref=f"ev:{event.id.hex}",
            label=label,
            at=event.occurred_at,
        )


def _admitted(event: DomainEvent) -> None:
    _trigger(event, TalkTrigger.ADMISSION, "新收押入所")


def _legal(event: DomainEvent) -> None:
    trigger = talks.trigger_of_legal_event(str(event.payload.get("kind", "")))
    if trigger is not None:
        _trigger(event, trigger, str(event.payload.get("label", "")))


def _fact(event: DomainEvent) -> None:
    if event.payload.get("kind") in talks.BAD_NEWS:
        _trigger(event, TalkTrigger.BAD_NEWS, str(event.payload.get("label", "")))


def _meeting(event: DomainEvent) -> None:
    trigger = MEETING_TRIGGERS.get(str(event.payload.get("kind", "")))
    if trigger is not None:
        label = f"{event.payload.get('label', '')}：{event.payload.get('visitor', '')}"
        _trigger(event, trigger, label)


def _info(event: DomainEvent) -> None:
    if event.payload.get("category") != talks.TALK_FINDING:
        return
    record = InfoRecord.objects.select_related("recorded_by").filter(id=event.aggregate_id).first()
    if record is None or record.detainee_id is None:
        return
    officer = record.recorded_by
    talks.talk_recorded(
        detainee_id=record.detainee_id,
        at=record.recorded_at,
        by=officer.full_name or officer.username,
        record_ref=f"谈话发现 {timezone.localtime(record.recorded_at):%m-%d %H:%M}",
    )


def _task(event: DomainEvent) -> None:
    if event.aggregate_type != "task":
        return
    task = Task.objects.select_related("assignee").filter(id=event.aggregate_id).first()
    if task is None:
        return
    if event.type == "duty.task_created" and task.category == talks.RISE_CATEGORY:
        talks.rise_task_seen(task, task.created_at)
    elif event.type in ("duty.task_handled", "duty.task_closed", "duty.task_cancelled"):
        with transaction.atomic():
            talks.talk_task_done(task)


def _reading(event: DomainEvent) -> None:
    p = event.payload
    device = Device.objects.select_related("unit").filter(code=p.get("device")).first()
    if device is None:
        return
    at = dt.datetime.fromisoformat(str(p.get("at")))
    seq, data = int(p.get("seq") or 0), p.get("data") or {}
    if p.get("kind") == "BIOMETRIC" and p.get("event") == exits.MATCH:
        if device.location_kind == LocationKind.EXIT:
            exits.exit_decide(device=device, seq=seq, data=data, at=at)
    elif p.get("kind") == "ANKLE":
        outings.ankle_reading(device=device, event=str(p.get("event")), seq=seq, data=data, at=at)


def _movement(event: DomainEvent) -> None:
    if event.payload.get("kind") == "RETURN":
        at = dt.datetime.fromisoformat(str(event.payload.get("at")))
        with transaction.atomic():
            outings.outing_end(detainee_id=event.aggregate_id, at=at)


HANDLERS: dict[str, Callable[[DomainEvent], None]] = {
    "custody.admitted": _admitted,
    "custody.legal_event_recorded": _legal,
    "custody.movement": _movement,
    "risk.fact_recorded": _fact,
    "prevention.meeting_recorded": _meeting,
    "duty.info_recorded": _info,
    "duty.task_created": _task,
    "duty.task_handled": _task,
    "duty.task_closed": _task,
    "duty.task_cancelled": _task,
    "device.reading": _reading,
}


@consumer("prevention")
def on_event(event: DomainEvent) -> None:
    handler = HANDLERS.get(event.type)
    if handler is not None:
        handler(event)
