"""Periodic device work: devices that went silent get a maintenance alert."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from jianguan.devices.alerts import Raised, alert_raise
from jianguan.devices.models import Device, DeviceStatus


def silent_check(*, now: dt.datetime | None = None) -> int:
    """Mark silent devices and raise one DEVICE_FAULT alert per silence; return how many."""
    from jianguan.devices.registry import devices_silent

    now = now or timezone.now()
    found = 0
    for device in devices_silent(now=now):
        with transaction.atomic():
            if not Device.objects.filter(id=device.id, status=DeviceStatus.ACTIVE).update(
                status=DeviceStatus.SILENT
            ):
                continue
            last = device.last_seen_at or device.created_at
            alert_raise(
                unit=device.unit,
                raised=Raised(
                    type="DEVICE_SILENT",
                    name="设备离线",
                    severity="NORMAL",
                    post="SUBCONTROL",
                    at=now,
                    device=device,
                    cell_id=device.cell_id,
                    detail=f"最近一次消息：{timezone.localtime(last):%Y-%m-%d %H:%M:%S}",
                    category="DEVICE_FAULT",
                    source_ref=f"silent:{device.code}:{int(last.timestamp())}",
                ),
                now=now,
            )
            found += 1
    return found


@db_periodic_task(crontab(minute="*"))
@lock_task("devices-silent-check")
def silent_check_task() -> None:
    silent_check()
