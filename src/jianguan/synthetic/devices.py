"""The demo facility's devices, so that `make demo` has screens that come alive.

A camera and a terminal in every cell, emergency buttons and doors on each area's corridor, the
perimeter zones, the exit biometric terminal and door, wearables on the people of highest risk
(二级 and above, else the highest scores), and two ankle monitors in the store for
out-of-facility medical care. Registered through the devices service (audited, evented) with
secrets derived from the seed, so a demo can be rebuilt and its simulator keeps working.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any, Final

from django.db import transaction

from jianguan.core.actor import Actor
from jianguan.custody.api import HELD_STATUSES, Detainee
from jianguan.devices.api import DeviceKind, device_register
from jianguan.housing.api import Cell
from jianguan.org.api import Unit
from jianguan.risk.api import RiskScore

ACTOR: Final = Actor.system("synthetic")
HIGH_GRADES: Final = ("LEVEL1", "LEVEL2")  # 一级、二级风险 in the built-in model
WEARABLES: Final = 4
ANKLES: Final = 2
PERIMETER_ZONES: Final = ("东", "南", "西", "北")


@dataclass
class DevicesResult:
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


def demo_secret(seed: int, code: str) -> str:
    """A device's secret, the same for the same seed (a demo only: real devices get random
    secrets from the registry)."""
    return hmac.new(f"jianguan-demo-{seed}".encode(), code.encode(), hashlib.sha256).hexdigest()


def demo_devices(*, unit: Unit, seed: int, now: dt.datetime) -> DevicesResult:
    """Register the demo facility's devices (one transaction)."""
    result = DevicesResult()
    prefix = unit.code

    def add(code: str, kind: str, name: str, location: str, **extra: Any) -> None:
        full = f"{prefix}-{code}"
        device_register(
            actor=ACTOR,
            unit=unit,
            code=full,
            kind=kind,
            name=name,
            location_kind=location,
            secret=demo_secret(seed, full),
            now=now,
            **extra,
        )
        result.by_kind[kind] = result.by_kind.get(kind, 0) + 1

    cells = list(Cell.objects.filter(unit=unit).order_by("number"))
    with transaction.atomic():
        for cell in cells:
            add(
                f"CAM-{cell.number}",
                DeviceKind.VIDEO,
                f"{cell.number}监室摄像机",
                "CELL",
                cell=cell,
                area=cell.area,
            )
            add(
                f"TRM-{cell.number}",
                DeviceKind.TERMINAL,
                f"{cell.number}监室终端",
                "CELL",
                cell=cell,
                area=cell.area,
            )
        areas = sorted({c.area for c in cells if c.area}) or ["监区"]
        for i, area in enumerate(areas, start=1):
            add(f"BTN-{i:02d}", DeviceKind.BUTTON, f"{area}紧急报警按钮", "CORRIDOR", area=area)
            add(f"DOOR-{i:02d}", DeviceKind.DOOR, f"{area}通道门禁", "CORRIDOR", area=area)
            add(f"CAM-C{i:02d}", DeviceKind.VIDEO, f"{area}通道摄像机", "CORRIDOR", area=area)
        add("CAM-YARD", DeviceKind.VIDEO, "放风场摄像机", "YARD", area="放风场")
        for i, side in enumerate(PERIMETER_ZONES, start=1):
            add(
                f"PER-{i:02d}",
                DeviceKind.PERIMETER,
                f"{side}侧周界",
                "PERIMETER",
                area=f"{side}侧围墙",
            )
        add("BIO-EXIT", DeviceKind.BIOMETRIC, "监区出口生物特征核验终端", "EXIT", area="监区出口")
        add("DOOR-EXIT", DeviceKind.DOOR, "监区出口门禁", "EXIT", area="监区出口")
        for i, person in enumerate(_highest_risk(unit), start=1):
            add(
                f"BAND-{i:02d}",
                DeviceKind.WEARABLE,
                f"智能手环 {i:02d}",
                "CELL",
                cell=person.cell,
                area=person.cell.area if person.cell else "",
                detainee=person,
            )
        for i in range(1, ANKLES + 1):
            add(f"ANK-{i:02d}", DeviceKind.ANKLE, f"电子脚环 {i:02d}", "OTHER", area="装备库")
    return result


def _highest_risk(unit: Unit) -> list[Detainee]:
    """Up to WEARABLES people in cells: graded 二级 or above first, then the highest scores."""
    held = Detainee.objects.filter(unit=unit, status__in=HELD_STATUSES, cell__isnull=False)
    ids = set(held.values_list("id", flat=True))
    scores = RiskScore.objects.filter(unit=unit, track="LIVE", detainee_id__in=ids)
    high = list(scores.filter(grade__in=HIGH_GRADES).order_by("-score", "detainee_id"))
    rest = list(scores.exclude(grade__in=HIGH_GRADES).order_by("-score", "detainee_id"))
    chosen = [s.detainee_id for s in (high + rest)[:WEARABLES]]
    if not chosen:  # no scores yet: the first people on the roll
        chosen = list(held.order_by("number").values_list("id", flat=True)[:WEARABLES])
    people = {p.id: p for p in held.select_related("cell").filter(id__in=chosen)}
    return [people[i] for i in chosen if i in people]
