"""Ingest: a batch of device messages, from MQTT or HTTP, checked and applied in one transaction.

Every message is either accepted — the device is alive, its sequence number moves on, and an
alert is raised or folded or a reading is passed on as an outbox event — or refused and kept with
its reason (DESIGN.md §8). A bad message never stops the batch. The caller acknowledges the batch
to the broker only after this returns, so a crash or a database outage loses nothing: the broker
sends the unacknowledged messages again.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from jianguan.core.bulk import bulk_set
from jianguan.devices.alerts import (
    ACTOR,
    Raised,
    alert_fold,
    alert_open,
    alerts_fold_announce,
    devices_pack,
)
from jianguan.devices.catalogue import HEARTBEAT, DevicesPack
from jianguan.devices.models import (
    Alert,
    AlertState,
    Device,
    DeviceKind,
    DeviceStatus,
    RejectedMessage,
    RejectReason,
)
from jianguan.devices.protocol import PAYLOAD_KEEP, Envelope, Refused, decode, signature_ok
from jianguan.outbox.api import change_record

VITALS = "VITALS"
VITALS_ABNORMAL = "VITALS_ABNORMAL"


@dataclass(frozen=True)
class Incoming:
    """One message as it arrived. `redelivered` is MQTT's DUP flag: the broker sending again a
    message it had sent before (we may have applied it and died before acknowledging)."""

    topic: str
    payload: bytes
    transport: str = "MQTT"
    redelivered: bool = False


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reason: str = ""  # a RejectReason value, or "DUPLICATE" for a redelivery already applied
    detail: str = ""
    alert_id: Any = None


@dataclass
class Tally:
    accepted: int = 0
    duplicates: int = 0
    refused: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    alerts_new: int = 0
    alerts_folded: int = 0


def _refusal(
    message: Incoming, refused: Refused, envelope: Envelope | None, now: dt.datetime
) -> RejectedMessage:
    unit_code = device_code = ""
    parts = message.topic.split("/")
    if len(parts) == 5:
        unit_code, device_code = parts[1][:32], parts[3][:64]
    if envelope is not None:
        unit_code, device_code = envelope.unit_code[:32], envelope.device_code[:64]
    return RejectedMessage(
        received_at=now,
        transport=message.transport,
        topic=message.topic[:200],
        unit_code=unit_code,
        device_code=device_code,
        reason=refused.reason,
        detail=refused.detail[:300],
        payload=message.payload[:PAYLOAD_KEEP].decode("utf-8", errors="replace"),
    )


def _check(envelope: Envelope, device: Device | None, pack_of: Any) -> None:
    """Raise Refused if a decoded message may not be applied for this device."""
    if device is None:
        raise Refused(RejectReason.UNKNOWN_DEVICE, f"设备 {envelope.device_code} 未登记")
    if device.unit.code != envelope.unit_code or device.kind != envelope.kind:
        raise Refused(
            RejectReason.TOPIC_MISMATCH,
            f"设备登记为 {device.unit.code}/{device.kind}，主题为 {envelope.unit_code}/{envelope.kind}",
        )
    if device.status == DeviceStatus.DISABLED:
        raise Refused(RejectReason.DISABLED, f"设备 {device.code} 已停用")
    if not signature_ok(envelope, device.secret):
        raise Refused(RejectReason.BAD_SIGNATURE, "签名与设备密钥不符")
    if envelope.event != HEARTBEAT and pack_of(device).event(device.kind, envelope.event) is None:
        raise Refused(RejectReason.UNKNOWN_EVENT, f"{device.kind} 设备没有事件 {envelope.event}")


def _as_alert(envelope: Envelope, device: Device, pack: DevicesPack) -> Raised | None:
    """The alert this message raises, if any (a vital-sign reading out of range is one)."""
    event = pack.event(device.kind, envelope.event) if envelope.event != HEARTBEAT else None
    if event is None:
        return None
    detail = ""
    if device.kind == DeviceKind.WEARABLE and envelope.event == VITALS:
        found = pack.vitals.out_of_range(envelope.data)
        event = pack.event(device.kind, VITALS_ABNORMAL) if found else None
        if event is None:
            return None
        detail = "、".join(found)
    if event.alert is None:
        return None
    return Raised(
        type=event.code,
        name=event.name,
        severity=event.alert,
        post=event.post,
        at=envelope.at,
        device=device,
        cell_id=device.cell_id,
        detainee_id=device.detainee_id,
        detail=detail,
        data=envelope.data,
    )


def _reading(envelope: Envelope, device: Device) -> None:
    """Data other safeguards act on (check-ins, positions, identity matches) goes out as an
    event; heartbeats and normal vital signs only keep the device alive."""
    change_record(
        actor=ACTOR,
        type="device.reading",
        aggregate_type="device",
        aggregate_id=device.id,
        unit_code=device.unit.code,
        payload={
            "device": device.code,
            "kind": device.kind,
            "event": envelope.event,
            "seq": envelope.seq,
            "at": envelope.at.isoformat(),
            "cell": str(device.cell_id) if device.cell_id else None,
            "detainee": str(device.detainee_id) if device.detainee_id else None,
            "location": device.location_kind,
            "data": envelope.data,
        },
    )


def ingest(
    messages: list[Incoming], *, now: dt.datetime | None = None
) -> tuple[list[Verdict], Tally]:
    """Apply a batch in one transaction; return a verdict per message, in order."""
    now = now or timezone.now()
    with transaction.atomic():
        return _apply(messages, now)


def _apply(messages: list[Incoming], now: dt.datetime) -> tuple[list[Verdict], Tally]:
    tally = Tally()
    decoded: list[Envelope | Refused] = []
    for message in messages:
        try:
            decoded.append(decode(message.topic, message.payload))
        except Refused as refused:
            decoded.append(refused)
    codes = {e.device_code for e in decoded if isinstance(e, Envelope)}
    devices = {
        d.code: d
        for d in Device.objects.select_for_update(of=("self",))
        .select_related("unit")
        .filter(code__in=codes)
        .order_by("id")
    }
    packs: dict[Any, DevicesPack] = {}

    def pack_of(device: Device) -> DevicesPack:
        if device.unit_id not in packs:
            packs[device.unit_id] = devices_pack(device.unit)
        return packs[device.unit_id]

    verdicts: list[Verdict | None] = [None] * len(messages)
    refusals: list[RejectedMessage] = []
    changed: dict[str, Device] = {}
    alerts_wanted: dict[tuple[Any, str], list[tuple[int, Raised, str]]] = defaultdict(list)
    for i, (message, item) in enumerate(zip(messages, decoded, strict=True)):
        envelope = item if isinstance(item, Envelope) else None
        try:
            if envelope is None:
                raise item  # type: ignore[misc]
            device = devices.get(envelope.device_code)
            _check(envelope, device, pack_of)
            assert device is not None
            if envelope.seq <= device.last_seq:
                if message.redelivered:
                    tally.duplicates += 1
                    verdicts[i] = Verdict(False, "DUPLICATE", "重复投递（已处理）")
                    continue
                raise Refused(
                    RejectReason.REPLAY, f"序号 {envelope.seq} 不大于已收到的 {device.last_seq}"
                )
        except Refused as refused:
            refusals.append(_refusal(message, refused, envelope, now))
            tally.refused[refused.reason] += 1
            verdicts[i] = Verdict(False, refused.reason, refused.detail)
            continue
        device.last_seq = envelope.seq
        device.last_seen_at = now
        device.messages += 1
        if device.status == DeviceStatus.SILENT:
            device.status = DeviceStatus.ACTIVE
        changed[device.code] = device
        tally.accepted += 1
        raised = _as_alert(envelope, device, pack_of(device))
        if raised is not None:
            source_ref = f"dev:{device.code}:{envelope.seq}"
            alerts_wanted[(device.id, raised.type)].append((i, raised, source_ref))
        else:
            if envelope.event not in (HEARTBEAT, VITALS):
                _reading(envelope, device)
            verdicts[i] = Verdict(True)

    if changed:
        bulk_set(Device, ("last_seq", "last_seen_at", "messages", "status"), list(changed.values()))
    if refusals:
        RejectedMessage.objects.bulk_create(refusals)
    if alerts_wanted:
        _raise_or_fold(alerts_wanted, verdicts, tally, pack_of, now)
    return [v or Verdict(True) for v in verdicts], tally


def _raise_or_fold(
    wanted: dict[tuple[Any, str], list[tuple[int, Raised, str]]],
    verdicts: list[Verdict | None],
    tally: Tally,
    pack_of: Any,
    now: dt.datetime,
) -> None:
    """Each (device, type) folds into its open alert while the repeats keep coming within the
    fold window; otherwise a new alert and task."""
    device_ids = {device_id for device_id, _ in wanted}
    types = {type_ for _, type_ in wanted}
    open_alerts: dict[tuple[Any, str], Alert] = {}
    for row in (
        Alert.objects.select_related("unit")
        .filter(device_id__in=device_ids, type__in=types, state=AlertState.OPEN)
        .order_by("last_at")
    ):
        open_alerts[(row.device_id, row.type)] = row  # the latest wins
    folded: dict[Any, Alert] = {}
    for key, items in wanted.items():
        alert: Alert | None = open_alerts.get(key)
        for i, raised, source_ref in items:
            assert raised.device is not None
            fold = pack_of(raised.device).fold
            if alert is not None and raised.at - alert.last_at <= fold:
                alert_fold(alert, at=min(raised.at, now), times=1, data=raised.data or {})
                folded[alert.id] = alert
                tally.alerts_folded += 1
            else:
                alert = alert_open(
                    unit=raised.device.unit,
                    raised=raised,
                    source_ref=source_ref,
                    now=now,
                )
                tally.alerts_new += 1
            verdicts[i] = Verdict(True, alert_id=alert.id)
    if folded:
        rows = list(folded.values())
        bulk_set(Alert, ("count", "last_at", "data"), rows)
        alerts_fold_announce(rows)
