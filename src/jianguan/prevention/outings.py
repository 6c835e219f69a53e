"""Out-of-facility medical care (出所就医): the person wears an ankle monitor tied to a fence
around the hospital ward from the exit until the return. A position outside the fence alerts the
command centre at once, once per excursion (back inside ends it; leaving again is a new one); a
low battery alerts once per outing. Tampering already alerts through the devices pack. Basis:
practice (出所就医的押解看护做法)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.db import transaction
from django.utils import timezone

from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError, PermissionDenied
from jianguan.devices.api import (
    Device,
    DeviceKind,
    DeviceStatus,
    Raised,
    alert_raise,
    device_wear,
    devices_pack,
)
from jianguan.org.api import Perm, actor_for, has_perm
from jianguan.outbox.api import change_record
from jianguan.prevention.models import Geofence, Outing

ACTOR = Actor.system("prevention")
ANKLE_ALERT = "ANKLE_ALERT"
EARTH_RADIUS_M = 6_371_000.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine): exact enough for a fence of tens of metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


# --- fences -----------------------------------------------------------------------------


@transaction.atomic
def geofence_create(
    *, user: Any, name: str, lat: float, lon: float, radius_m: int, address: str | None = None
) -> Geofence:
    if not (has_perm(user, Perm.TASK_DISPATCH) or has_perm(user, Perm.LEAD)):
        raise PermissionDenied("电子围栏由指挥中心或所领导设置")
    if not name.strip():
        raise DomainError("REQUIRED", "请填写围栏名称（医院及病区）", field="name")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise DomainError("BAD_POINT", "中心经纬度超出范围，请核对", field="lat")
    if not 10 <= radius_m <= 5000:
        raise DomainError("BAD_RADIUS", "半径应在 10 至 5000 米之间", field="radius_m")
    fence = Geofence.objects.create(
        unit=user.unit, name=name.strip()[:100], lat=lat, lon=lon, radius_m=radius_m
    )
    change_record(
        actor=actor_for(user, address=address),
        type="prevention.geofence_created",
        aggregate_type="geofence",
        aggregate_id=fence.id,
        unit_code=user.unit.code,
        payload={"name": fence.name, "lat": lat, "lon": lon, "radius_m": radius_m},
    )
    return fence


# --- outings ----------------------------------------------------------------------------


def ankle_of(detainee_id: Any) -> Any:
    return (
        Device.objects.select_related("unit")
        .filter(kind=DeviceKind.ANKLE, detainee_id=detainee_id)
        .exclude(status=DeviceStatus.DISABLED)
        .first()
    )


def outing_start(
    *, detainee: Any, geofence: Geofence, at: dt.datetime, exit_pass: Any = None
) -> Outing:
    """Tie the ankle monitor the person wears to the fence; runs in the caller's transaction.
    Starting again while out is a no-op."""
    current = Outing.objects.filter(detainee=detainee, ended_at=None).first()
    if current is not None:
        return current
    device = ankle_of(detainee.id)
    if device is None:
        raise DomainError("NO_ANKLE", f"{detainee.name}未佩戴电子脚环，不能出所就医")
    if Outing.objects.filter(device_code=device.code, ended_at=None).exists():
        raise DomainError("ANKLE_IN_USE", f"电子脚环 {device.code} 正在其他人员的出所监护中")
    outing = Outing.objects.create(
        unit_id=detainee.unit_id,
        detainee=detainee,
        device_code=device.code,
        geofence=geofence,
        exit_pass=exit_pass,
        started_at=at,
    )
    _record(outing, "started", device.unit.code)
    return outing


@transaction.atomic
def outing_start_by(
    *, user: Any, detainee: Any, geofence_id: Any, address: str | None = None
) -> Outing:
    """An officer starts the watch by hand (a movement recorded without an exit pass)."""
    if not (has_perm(user, Perm.DETAINEE_MOVE) or has_perm(user, Perm.TASK_DISPATCH)):
        raise PermissionDenied("出所就医监护由出入所登记岗位或指挥中心开始")
    fence = Geofence.objects.filter(unit=user.unit, id=geofence_id, is_active=True).first()
    if fence is None:
        raise DomainError("UNKNOWN_FENCE", "请选择本所的电子围栏", field="geofence")
    return outing_start(detainee=detainee, geofence=fence, at=timezone.now())


def outing_end(*, detainee_id: Any, at: dt.datetime, take_off: bool = True) -> Outing | None:
    """The person is back: the watch ends and the monitor comes off. Caller's transaction."""
    outing = (
        Outing.objects.select_related("unit").filter(detainee_id=detainee_id, ended_at=None).first()
    )
    if outing is None:
        return None
    outing.ended_at = at
    outing.save(update_fields=["ended_at"])
    device = Device.objects.filter(code=outing.device_code).first()
    if take_off and device is not None and device.detainee_id == outing.detainee_id:
        device_wear(actor=ACTOR, device=device, detainee=None)
    _record(outing, "ended", outing.unit.code)
    return outing


def _record(outing: Outing, type: str, unit_code: str, **extra: Any) -> None:
    change_record(
        actor=ACTOR,
        type=f"prevention.outing_{type}",
        aggregate_type="outing",
        aggregate_id=outing.id,
        unit_code=unit_code,
        payload={
            "detainee": str(outing.detainee_id),
            "device": outing.device_code,
            "fence": str(outing.geofence_id),
            **extra,
        },
    )


# --- readings ---------------------------------------------------------------------------


def _raise(
    outing: Outing,
    device: Any,
    name: str,
    detail: str,
    ref: str,
    at: dt.datetime,
    now: dt.datetime,
    data: dict[str, Any],
) -> Any:
    person = outing.detainee
    return alert_raise(
        unit=device.unit,
        raised=Raised(
            type=ANKLE_ALERT,
            name=name,
            severity="URGENT",
            post="COMMAND",
            at=at,
            device=device,
            detainee_id=person.id,
            detail=f"{person.name}（{person.number}）{detail}",
            data=data,
            category=ANKLE_ALERT,
            source_ref=ref,
        ),
        now=now,
    )


def ankle_reading(
    *,
    device: Any,
    event: str,
    seq: int,
    data: dict[str, Any],
    at: dt.datetime,
    now: dt.datetime | None = None,
) -> Outing | None:
    """Apply one ankle-monitor reading (POSITION or BATTERY) to the outing it belongs to."""
    now = now or timezone.now()
    with transaction.atomic():
        outing = (
            Outing.objects.select_for_update()
            .select_related("detainee", "geofence")
            .filter(device_code=device.code, ended_at=None)
            .first()
        )
        if outing is None or at < outing.started_at - dt.timedelta(minutes=5):
            return None
        if event == "POSITION":
            _position(outing, device, seq, data, at, now)
        elif event == "BATTERY":
            _battery(outing, device, data, at, now)
        return outing


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _position(
    outing: Outing, device: Any, seq: int, data: dict[str, Any], at: dt.datetime, now: dt.datetime
) -> None:
    lat, lon = _number(data.get("lat")), _number(data.get("lon"))
    if lat is None or lon is None or seq <= outing.last_seq:
        return  # no fix, or an older position delivered late: the newer one stands
    fence = outing.geofence
    distance = distance_m(fence.lat, fence.lon, lat, lon)
    outing.last_seq, outing.last_lat, outing.last_lon = seq, lat, lon
    outing.last_at, outing.distance_m = at, distance
    outside = distance > fence.radius_m
    if outside and not outing.outside:
        outing.excursions += 1
        _raise(
            outing,
            device,
            "出所就医人员越出电子围栏",
            f"离开“{fence.name}”，距中心 {distance:.0f} 米（半径 {fence.radius_m} 米）",
            f"fence:{outing.id.hex}:{outing.excursions}",
            at,
            now,
            {"lat": lat, "lon": lon, "distance_m": round(distance)},
        )
    outing.outside = outside
    outing.save()


def _battery(
    outing: Outing, device: Any, data: dict[str, Any], at: dt.datetime, now: dt.datetime
) -> None:
    percent = _number(data.get("percent"))
    if percent is None:
        return
    outing.battery_percent = max(0, min(100, round(percent)))
    low = devices_pack(device.unit).battery_low_percent
    if percent < low and not outing.battery_alerted:
        outing.battery_alerted = True
        _raise(
            outing,
            device,
            "电子脚环电量低",
            f"的电子脚环 {device.code} 电量 {percent:g}%（低于 {low}%），请立即更换或充电",
            f"battery:{outing.id.hex}",
            at,
            now,
            {"percent": percent},
        )
    outing.save()
