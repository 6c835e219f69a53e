"""Alerts become tasks in the duty loop (F6): one task per alert, for the post the devices pack
names, as urgent as the alert's severity; repeats from the same device fold into the open alert.

Other safeguards (welfare checks, cell duty, the exit check, ankle monitors) raise their alerts
here too, with their own duty category, so the 巡控 screen and the false-alarm figures see every
alert in one place.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from jianguan.core.actor import Actor
from jianguan.devices.catalogue import DevicesPack
from jianguan.devices.models import Alert, AlertState, Device
from jianguan.duty.api import Task, TaskSource, category_in_force, task_open
from jianguan.outbox.api import change_record
from jianguan.rules.api import pack_for

ACTOR = Actor.system("devices")
DEVICE_ALERT = "DEVICE_ALERT"
FOLD_EVENT_LIMIT = 200  # alerts named in one repeats event; the rest are counted


def devices_pack(unit: Any) -> DevicesPack:
    """The devices pack governing a facility."""
    pack: DevicesPack = pack_for("devices", unit.path).pack
    return pack


@dataclass(frozen=True)
class Raised:
    """What a caller wants raised; `at` is when it happened (the device's clock)."""

    type: str
    name: str
    severity: str
    post: str
    at: dt.datetime
    device: Device | None = None
    cell_id: Any = None
    detainee_id: Any = None
    area: str = ""
    detail: str = ""
    data: dict[str, Any] | None = None
    category: str = DEVICE_ALERT
    source_ref: str = ""  # set for alerts that are not from a device message


def _where(raised: Raised) -> str:
    device = raised.device
    if device is not None:
        return device.area or device.name
    return raised.area


def _task(unit: Any, source_ref: str, raised: Raised, now: dt.datetime) -> Task | None:
    found = category_in_force(unit, raised.category)
    if found is None or not found[2].task:
        return None
    version, pack, category = found
    place = _where(raised)
    device_line = f"设备：{raised.device.name}（{raised.device.code}）\n" if raised.device else ""
    return task_open(
        actor=ACTOR,
        unit=unit,
        pack_version=version,
        pack=pack,
        category=category,
        urgency=raised.severity,
        title=f"【{raised.name}】{place}",
        detail=f"{device_line}{raised.detail}".strip(),
        source=TaskSource.DEVICE if raised.device else TaskSource.PREVENT,
        source_ref=source_ref,
        post_kind=raised.post,
        detainee_id=raised.detainee_id,
        cell_id=raised.cell_id,
        now=now,
    )


def _event(alert: Alert, type: str, **extra: Any) -> None:
    change_record(
        actor=ACTOR,
        type=f"device.alert_{type}",
        aggregate_type="alert",
        aggregate_id=alert.id,
        unit_code=alert.unit.code,
        payload={
            "type": alert.type,
            "name": alert.name,
            "severity": alert.severity,
            "count": alert.count,
            "state": alert.state,
            "cell": str(alert.cell_id) if alert.cell_id else None,
            "detainee": str(alert.detainee_id) if alert.detainee_id else None,
            "task": str(alert.task_id) if alert.task_id else None,
            "at": alert.last_at.isoformat(),
            **extra,
        },
    )


def alert_open(*, unit: Any, raised: Raised, source_ref: str, now: dt.datetime) -> Alert:
    """A new alert and its task; runs in the caller's transaction."""
    at = min(raised.at, now)  # a device clock ahead of ours does not date an alert in the future
    task = _task(unit, source_ref, raised, now)
    alert = Alert(
        unit=unit,
        device=raised.device,
        type=raised.type,
        name=raised.name,
        severity=raised.severity,
        cell_id=raised.cell_id,
        detainee_id=raised.detainee_id,
        area=_where(raised),
        detail=raised.detail[:2000],
        data=raised.data or {},
        first_at=at,
        last_at=at,
        source_ref=source_ref,
        task_id=task.id if task is not None else None,
    )
    alert.save(force_insert=True)
    _event(
        alert,
        "raised",
        category=raised.category,
        device=raised.device.code if raised.device else None,
    )
    return alert


def alert_raise(*, unit: Any, raised: Raised, now: dt.datetime | None = None) -> Alert | None:
    """Raise an alert that does not come from a device message (cell duty, exit check…), once
    per `raised.source_ref`; runs in the caller's transaction. None when already raised."""
    now = now or timezone.now()
    if not raised.source_ref:
        raise ValueError("an alert raised by hand needs a source_ref")
    if Alert.objects.filter(source_ref=raised.source_ref).exists():
        return None
    return alert_open(unit=unit, raised=raised, source_ref=raised.source_ref, now=now)


def alert_fold(alert: Alert, *, at: dt.datetime, times: int, data: dict[str, Any]) -> None:
    """Repeats of an open alert: count them, keep the latest data (saved by the caller)."""
    alert.count += times
    alert.last_at = max(alert.last_at, at)
    alert.data = data


def alerts_fold_announce(alerts: list[Alert]) -> None:
    """One event per facility for the repeats a batch folded: a flood is not an event per
    message, and the screens only need to know that counts moved."""
    by_unit: dict[Any, list[Alert]] = defaultdict(list)
    for alert in alerts:
        by_unit[alert.unit_id].append(alert)
    for rows in by_unit.values():
        unit = rows[0].unit
        change_record(
            actor=ACTOR,
            type="device.alerts_repeated",
            aggregate_type="unit",
            aggregate_id=unit.id,
            unit_code=unit.code,
            payload={
                "alerts": {str(a.id): a.count for a in rows[:FOLD_EVENT_LIMIT]},
                "total": len(rows),
            },
        )


def alert_close_for_task(task: Task, *, now: dt.datetime) -> Alert | None:
    """The alert's task was closed or cancelled: the alert is closed, as a false alarm when the
    officer said so (outcome FALSE_ALARM)."""
    alert = Alert.objects.select_related("unit").filter(task_id=task.id).first()
    if alert is None or alert.state == AlertState.CLOSED:
        return None
    alert.state = AlertState.CLOSED
    alert.closed_at = task.closed_at or now
    alert.closed_by = task.assignee.username if task.assignee is not None else ""
    alert.false_alarm = task.outcome == "FALSE_ALARM"
    alert.close_note = (task.feedback or "")[:500]
    alert.save(update_fields=["state", "closed_at", "closed_by", "false_alarm", "close_note"])
    _event(alert, "closed", false_alarm=alert.false_alarm)
    return alert


@dataclass(frozen=True)
class FalseAlarmRate:
    device_id: Any
    device_name: str
    type: str
    name: str
    closed: int
    false: int

    @property
    def rate(self) -> float | None:
        return self.false / self.closed if self.closed else None


def false_alarm_rates(
    unit: Any, *, since: dt.datetime, until: dt.datetime | None = None
) -> list[FalseAlarmRate]:
    """Per device and alert type: closed alerts and how many were false, worst first."""
    qs = Alert.objects.filter(
        unit=unit, state=AlertState.CLOSED, device__isnull=False, first_at__gte=since
    )
    if until is not None:
        qs = qs.filter(first_at__lt=until)
    rows = qs.values("device_id", "device__name", "type", "name").annotate(
        closed=Count("id"), false=Count("id", filter=Q(false_alarm=True))
    )
    found = [
        FalseAlarmRate(
            r["device_id"], r["device__name"], r["type"], r["name"], r["closed"], r["false"]
        )
        for r in rows
    ]
    found.sort(key=lambda f: (-(f.rate or 0), -f.closed, f.device_name, f.type))
    return found
