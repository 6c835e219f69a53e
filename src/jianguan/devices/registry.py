"""The device registry: register a device with its credentials, re-issue them, take it out of
service, and see which devices went silent."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError
from jianguan.devices.models import Device, DeviceKind, DeviceStatus, LocationKind
from jianguan.outbox.api import change_record

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # it is a topic level: no / + #


def secret_new() -> str:
    return secrets.token_hex(32)


def _record(actor: Actor, device: Device, type: str, **extra: Any) -> None:
    change_record(
        actor=actor,
        type=f"device.{type}",
        aggregate_type="device",
        aggregate_id=device.id,
        unit_code=device.unit.code,
        payload={"code": device.code, "kind": device.kind, "name": device.name, **extra},
    )


@transaction.atomic
def device_register(
    *,
    actor: Actor,
    unit: Any,
    code: str,
    kind: str,
    name: str,
    location_kind: str,
    cell: Any = None,
    area: str = "",
    detainee: Any = None,
    silent_after_seconds: int = 300,
    secret: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[Device, str]:
    """Register a device; return it with its secret (shown once, to configure the device)."""
    if not CODE.match(code):
        raise DomainError(
            "BAD_CODE", "设备编号只能含字母、数字、点、横线和下划线（最长 64）", field="code"
        )
    if kind not in DeviceKind.values:
        raise DomainError("BAD_KIND", f"未知的设备类型 {kind}", field="kind")
    if location_kind not in LocationKind.values:
        raise DomainError("BAD_LOCATION", f"未知的位置类型 {location_kind}", field="location_kind")
    if not name.strip():
        raise DomainError("NAME_REQUIRED", "请填写设备名称", field="name")
    if location_kind == LocationKind.CELL and cell is None:
        raise DomainError("CELL_REQUIRED", "监室设备须指明监室", field="cell")
    if cell is not None and cell.unit_id != unit.id:
        raise DomainError("OTHER_UNIT", "监室不属于本单位", field="cell")
    if silent_after_seconds < 10:
        raise DomainError("BAD_SILENCE", "离线判定不少于 10 秒", field="silent_after_seconds")
    if Device.objects.filter(code=code).exists():
        raise DomainError("DUPLICATE", f"设备编号 {code} 已登记", field="code")
    issued = secret or secret_new()
    device = Device.objects.create(
        unit=unit,
        code=code,
        kind=kind,
        name=name.strip()[:100],
        location_kind=location_kind,
        cell=cell,
        area=area.strip()[:100],
        detainee=detainee,
        secret=issued,
        silent_after_seconds=silent_after_seconds,
        created_at=now or timezone.now(),
    )
    _record(actor, device, "registered", location=location_kind)
    return device, issued


@transaction.atomic
def device_secret_rotate(*, actor: Actor, device: Device) -> str:
    """Issue a new secret; messages signed with the old one are refused from now on."""
    issued = secret_new()
    Device.objects.filter(id=device.id).update(secret=issued)
    device.secret = issued
    _record(actor, device, "secret_rotated")
    return issued


@transaction.atomic
def device_set_status(*, actor: Actor, device: Device, enabled: bool) -> Device:
    device.status = DeviceStatus.ACTIVE if enabled else DeviceStatus.DISABLED
    device.save(update_fields=["status"])
    _record(actor, device, "enabled" if enabled else "disabled")
    return device


@transaction.atomic
def device_wear(*, actor: Actor, device: Device, detainee: Any) -> Device:
    """Put a wearable or ankle monitor on a person (None takes it off)."""
    if device.kind not in (DeviceKind.WEARABLE, DeviceKind.ANKLE):
        raise DomainError("NOT_WORN", "只有手环和脚环可以佩戴")
    device.detainee = detainee
    device.save(update_fields=["detainee"])
    _record(actor, device, "worn", detainee=str(detainee.id) if detainee else None)
    return device


def devices_silent(*, now: dt.datetime) -> list[Device]:
    """Active devices whose last message (or registration) is older than their silence limit."""
    found = []
    for device in Device.objects.filter(status=DeviceStatus.ACTIVE).select_related("unit"):
        last = device.last_seen_at or device.created_at
        if now - last > dt.timedelta(seconds=device.silent_after_seconds):
            found.append(device)
    return found
