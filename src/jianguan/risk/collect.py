"""Facts reach the risk model: from other records through the outbox, and by hand.

The consumer `risk-from-events` turns events into facts (once per source record) and re-scores
the person they concern; moves and releases re-score the cells involved. An officer records a
fact that no other record holds (counselling, bad news, an incident) with `fact_record`, which
re-scores at once so the officer sees the effect.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError
from jianguan.custody.api import Admission, Detainee
from jianguan.duty.api import InfoRecord
from jianguan.housing.api import Cell
from jianguan.outbox.api import DomainEvent, change_record, consumer
from jianguan.risk.facts import RECORDED_BY_HAND, fact_label
from jianguan.risk.models import RiskFact
from jianguan.risk.scoring import require_held, rescore_cell, rescore_person

SYSTEM = Actor.system("risk-from-events")

HEALTH_FLAG_FACTS = {"psychosis": "health.PSYCHOSIS", "serious_illness": "health.SERIOUS_ILLNESS"}
NOTE_LIMIT = 2000


def _fact(
    *,
    detainee: Any,
    kind: str,
    at: dt.datetime,
    label: str,
    source_ref: str,
    link: str = "",
    cell_id: Any = None,
    recorded_by: str = "risk-from-events",
) -> RiskFact | None:
    """Store a fact unless this source already gave it (delivery is at least once)."""
    if source_ref and RiskFact.objects.filter(kind=kind, source_ref=source_ref).exists():
        return None
    return RiskFact.objects.create(
        unit_id=detainee.unit_id,
        detainee=detainee,
        cell_id=cell_id if cell_id is not None else detainee.cell_id,
        kind=kind,
        label=label[:200],
        at=at,
        source_ref=source_ref,
        link=link,
        recorded_at=timezone.now(),
        recorded_by=recorded_by,
    )


@consumer("risk-from-events")
def on_event(event: DomainEvent) -> None:
    handler = HANDLERS.get(event.type)
    if handler is not None:
        handler(event)


def _on_info_recorded(event: DomainEvent) -> None:
    record = (
        InfoRecord.objects.select_related("detainee", "cell").filter(id=event.aggregate_id).first()
    )
    if record is None:
        return
    kind = f"duty.{record.category}"
    task = getattr(record, "task", None)
    link = f"/duty/tasks/{task.id}/" if task is not None else ""
    label = f"{record.category_name}：{record.text}"
    if record.detainee is not None:
        _fact(
            detainee=record.detainee,
            kind=kind,
            at=record.recorded_at,
            label=label,
            source_ref=str(record.id),
            link=link,
            cell_id=record.cell_id,
        )
        rescore_person(record.detainee.id, cause=f"动态信息：{record.category_name}")
    elif record.cell is not None:
        if not RiskFact.objects.filter(kind=kind, source_ref=str(record.id)).exists():
            RiskFact.objects.create(
                unit_id=record.unit_id,
                cell=record.cell,
                kind=kind,
                label=label[:200],
                at=record.recorded_at,
                source_ref=str(record.id),
                link=link,
                recorded_at=timezone.now(),
                recorded_by="risk-from-events",
            )
        rescore_cell(record.cell_id, cause=f"动态信息：{record.category_name}")


def _detainee(event: DomainEvent) -> Any:
    return Detainee.objects.filter(id=event.aggregate_id).first()


def _on_legal_event(event: DomainEvent) -> None:
    detainee = _detainee(event)
    if detainee is None:
        return
    p = event.payload
    _fact(
        detainee=detainee,
        kind=f"legal.{p['kind']}",
        at=dt.datetime.fromisoformat(p["at"]),
        label=p.get("label", p["kind"]),
        source_ref=p["event"],
        link=f"/detainees/{detainee.id}/",
    )
    rescore_person(detainee.id, cause=f"法律事件：{p.get('label', p['kind'])}")


def _on_movement(event: DomainEvent) -> None:
    detainee = _detainee(event)
    if detainee is None:
        return
    p = event.payload
    _fact(
        detainee=detainee,
        kind=f"movement.{p['kind']}",
        at=dt.datetime.fromisoformat(p["at"]),
        label=p.get("label", p["kind"])
        + (f"（{p['destination']}）" if p.get("destination") else ""),
        source_ref=p["movement"],
        link=f"/detainees/{detainee.id}/",
    )
    rescore_person(detainee.id, cause=f"出入所：{p.get('label', p['kind'])}")


def _on_interrogation_ended(event: DomainEvent) -> None:
    detainee = _detainee(event)
    if detainee is None:
        return
    _fact(
        detainee=detainee,
        kind="interrogation.ENDED",
        at=event.occurred_at,
        label="提讯结束",
        source_ref=event.payload["interrogation"],
        link=f"/detainees/{detainee.id}/",
    )
    rescore_person(detainee.id, cause="提讯结束")


def _on_admitted(event: DomainEvent) -> None:
    detainee = _detainee(event)
    if detainee is None:
        return
    admission_id = event.payload.get("admission")
    admission = Admission.objects.filter(id=admission_id).first() if admission_id else None
    health = (admission.steps.get("health") or {}) if admission else {}
    for flag, kind in HEALTH_FLAG_FACTS.items():
        if health.get(flag):
            _fact(
                detainee=detainee,
                kind=kind,
                at=detainee.admitted_at,
                label=fact_label(kind),
                source_ref=str(admission.id) if admission else str(detainee.id),
                link=f"/detainees/{detainee.id}/",
            )
    rescore_person(detainee.id, cause="收押入所")


def _on_cell_assigned(event: DomainEvent) -> None:
    rescore_person(event.aggregate_id, cause=f"调整监室：{event.payload.get('to_cell', '')}")


def _on_pack_published(event: DomainEvent) -> None:
    if event.payload.get("kind") != "risk":
        return
    from jianguan.risk.tasks import rescore_unit_later

    transaction.on_commit(lambda: rescore_unit_later(event.unit_code, event.payload["version"]))


def _on_device_alert(event: DomainEvent) -> None:
    """A device's behaviour alert (攀高, 悬挂点…) about a person, or else about a cell, is a fact
    `device.<TYPE>`; maintenance and safeguard alerts are not about behaviour."""
    p = event.payload
    if p.get("category") != "DEVICE_ALERT":
        return
    kind, label, at = (
        f"device.{p['type']}",
        f"设备告警：{p['name']}",
        dt.datetime.fromisoformat(p["at"]),
    )
    detainee = Detainee.objects.filter(id=p["detainee"]).first() if p.get("detainee") else None
    if detainee is not None:
        _fact(
            detainee=detainee,
            kind=kind,
            at=at,
            label=label,
            source_ref=event.aggregate_id,
            link="/devices/alerts/",
        )
        rescore_person(detainee.id, cause=label)
    elif p.get("cell"):
        RiskFact.objects.get_or_create(
            kind=kind,
            source_ref=event.aggregate_id,
            defaults={
                "unit_id": Cell.objects.only("unit_id").get(id=p["cell"]).unit_id,
                "cell_id": p["cell"],
                "label": label,
                "at": at,
                "link": "/devices/alerts/",
                "recorded_at": timezone.now(),
                "recorded_by": "risk-from-events",
            },
        )
        rescore_cell(p["cell"], cause=label)


def _on_device_alert_closed(event: DomainEvent) -> None:
    """An alert the officer found false is not a fact about anyone: its fact goes."""
    if not event.payload.get("false_alarm"):
        return
    facts = list(RiskFact.objects.filter(kind__startswith="device.", source_ref=event.aggregate_id))
    for fact in facts:
        fact.delete()
        if fact.detainee_id is not None:
            rescore_person(fact.detainee_id, cause=f"误报撤销：{fact.label}")
        elif fact.cell_id is not None:
            rescore_cell(fact.cell_id, cause=f"误报撤销：{fact.label}")


HANDLERS = {
    "device.alert_raised": _on_device_alert,
    "device.alert_closed": _on_device_alert_closed,
    "duty.info_recorded": _on_info_recorded,
    "custody.legal_event_recorded": _on_legal_event,
    "custody.movement": _on_movement,
    "custody.interrogation_ended": _on_interrogation_ended,
    "custody.admitted": _on_admitted,
    "custody.cell_assigned": _on_cell_assigned,
    "rules.pack_published": _on_pack_published,
}


@transaction.atomic
def fact_record(
    *,
    actor: Actor,
    detainee: Any,
    kind: str,
    at: dt.datetime,
    note: str = "",
    now: dt.datetime | None = None,
) -> RiskFact:
    """An officer records what only they know (心理咨询, 家庭变故, an incident…); the person is
    re-scored at once."""
    now = now or timezone.now()
    require_held(detainee)
    if kind not in RECORDED_BY_HAND:
        raise DomainError("UNKNOWN_FACT_KIND", f"不能人工登记的事实类别：{kind}", field="kind")
    if at > now + dt.timedelta(minutes=5):
        raise DomainError("FACT_IN_FUTURE", "发生时间不能晚于现在", field="at")
    if at < detainee.admitted_at - dt.timedelta(days=3650):
        raise DomainError("FACT_TOO_OLD", "发生时间过早，请核对", field="at")
    if len(note) > NOTE_LIMIT:
        raise DomainError("NOTE_TOO_LONG", f"说明不能超过 {NOTE_LIMIT} 字", field="note")
    fact = RiskFact.objects.create(
        unit_id=detainee.unit_id,
        detainee=detainee,
        cell_id=detainee.cell_id,
        kind=kind,
        label=fact_label(kind),
        at=at,
        note=note.strip(),
        link=f"/risk/people/{detainee.id}/",
        recorded_at=now,
        recorded_by=actor.username,
    )
    change_record(
        actor=actor,
        type="risk.fact_recorded",
        aggregate_type="detainee",
        aggregate_id=detainee.id,
        unit_code=detainee.unit.code,
        payload={
            "fact": str(fact.id),
            "kind": kind,
            "label": fact.label,
            "at": at.isoformat(),
            "name": detainee.name,
            "number": detainee.number,
        },
    )
    rescore_person(detainee.id, cause=f"人工登记：{fact.label}", now=now)
    return fact
