"""How often each cell must be checked (巡视间隔): closer watch for higher risk grades.

The interval of a cell is the strictest `patrol_minutes` among the live grades of the people
held in it and of the cell itself — the rule of `risk.api.patrol_minutes_for_cell`, read here
for many cells at once. A cell where nobody is graded yet uses the devices pack's
`patrol.default_minutes` (basis: practice — 看守所巡视每小时不少于一次).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jianguan.custody.api import HELD_STATUSES
from jianguan.devices.api import devices_pack
from jianguan.org.api import Unit
from jianguan.risk.api import CellRisk, RiskScore, Track, live_model


@dataclass(frozen=True)
class Interval:
    minutes: int
    grade: str  # the grade that sets it; "" when nobody is graded
    grade_name: str

    @property
    def why(self) -> str:
        if not self.grade:
            return "未评定风险等级（默认间隔）"
        return f"风险等级：{self.grade_name}"


def intervals_for(unit: Unit, cell_ids: Iterable[Any]) -> dict[Any, Interval]:
    """The interval of each cell, in three queries whatever the number of cells."""
    ids = list(cell_ids)
    if not ids:
        return {}
    _, model = live_model(unit.path)
    codes: dict[Any, set[str]] = defaultdict(set)
    people = RiskScore.objects.filter(
        track=Track.LIVE, detainee__cell_id__in=ids, detainee__status__in=HELD_STATUSES
    ).values_list("detainee__cell_id", "grade")
    for cell_id, grade in people:
        codes[cell_id].add(grade)
    for cell_id, grade in CellRisk.objects.filter(cell_id__in=ids, track=Track.LIVE).values_list(
        "cell_id", "grade"
    ):
        codes[cell_id].add(grade)
    default = Interval(devices_pack(unit).patrol.default_minutes, "", "")
    out: dict[Any, Interval] = {}
    for cell_id in ids:
        grades = [g for g in model.grades if g.code in codes.get(cell_id, ())]
        if not grades:
            out[cell_id] = default
            continue
        strictest = min(grades, key=lambda g: (g.measures.patrol_minutes, -g.rank))
        out[cell_id] = Interval(strictest.measures.patrol_minutes, strictest.code, strictest.name)
    return out
