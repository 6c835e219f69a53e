"""Single or no person on duty raises an urgent alert at once (监室值班不足).

Three causes, each alerted once per cell and shift (CELL_DUTY_SHORT, URGENT, 巡控):
START    the shift began with fewer than `min_on_duty` rostered people in the cell (no rota,
         too few, or rostered people already gone);
CHECKIN  enough are rostered and present, but `checkin_grace_minutes` after the start fewer
         than `min_on_duty` of them have checked in at the terminal;
LEFT     a rostered person left the cell during the shift (released, moved, taken out) and
         fewer than `min_on_duty` remain.
The minute timer checks every occupied cell; a person's movement is checked at once as well
(follow.py). Basis: practice — 监室值班制度（严禁单人或无人值班）.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from jianguan.custody.api import DetaineeStatus, Movement
from jianguan.devices.api import Raised, alert_raise, devices_pack
from jianguan.housing.api import Cell
from jianguan.org.api import Unit
from jianguan.patrol.common import cell_label, occupied_cells, units_with_people
from jianguan.patrol.models import DutyPost
from jianguan.patrol.rota import Shift, shift_at

START, CHECKIN, LEFT = "START", "CHECKIN", "LEFT"
CAUSES = {
    START: "值班开始时在岗人数不足",
    CHECKIN: "值班人员未按时签到",
    LEFT: "值班人员中途离开监室",
}


def duty_check(now: dt.datetime | None = None) -> int:
    """Check the running shift of every occupied cell; return how many alerts were raised."""
    now = now or timezone.now()
    raised = 0
    for unit in units_with_people():
        pack = devices_pack(unit)
        shift = shift_at(pack, now)
        if shift is None:
            continue
        cells = set(occupied_cells(unit.id))
        cells |= set(
            DutyPost.objects.filter(unit_id=unit.id, starts_at=shift.starts_at).values_list(
                "cell_id", flat=True
            )
        )
        for cell in Cell.objects.filter(id__in=cells).order_by("number"):
            raised += duty_check_cell(unit, cell, shift, now=now)
    return raised


def duty_check_person(detainee_id: Any, *, at: dt.datetime) -> int:
    """A person moved: check the cells where they are on the shift running at `at`."""
    raised = 0
    posts = DutyPost.objects.filter(
        detainee_id=detainee_id, starts_at__lte=at, ends_at__gt=at
    ).select_related("unit", "cell")
    for post in posts:
        shift = Shift(post.night, post.shift, post.starts_at, post.ends_at)
        raised += duty_check_cell(post.unit, post.cell, shift, now=at)
    return raised


def duty_check_cell(unit: Unit, cell: Cell, shift: Shift, *, now: dt.datetime) -> int:
    """Raise what the cell's shift lacks now (each cause once); return how many were raised."""
    duty = devices_pack(unit).cell_duty
    minimum = duty.min_on_duty
    posts = list(
        DutyPost.objects.filter(cell=cell, starts_at=shift.starts_at).select_related("detainee")
    )
    present = [
        p
        for p in posts
        if p.detainee.cell_id == cell.id and p.detainee.status == DetaineeStatus.IN_CUSTODY
    ]
    gone = {p.detainee_id for p in posts} - {p.detainee_id for p in present}
    left = set(
        Movement.objects.filter(
            detainee_id__in=gone, from_cell_id=cell.id, at__gte=shift.starts_at
        ).values_list("detainee_id", flat=True)
    )
    checked = [p for p in present if p.checked_in_at is not None]
    found: list[tuple[str, str]] = []
    if len(present) + len(left) < minimum:
        found.append((START, _start_detail(posts, present, minimum)))
    if left and len(present) < minimum:
        names = "、".join(p.detainee.name for p in posts if p.detainee_id in left)
        found.append((LEFT, f"{names} 已离开监室，现仅 {len(present)} 人在岗"))
    if (
        now >= shift.starts_at + dt.timedelta(minutes=duty.checkin_grace_minutes)
        and len(present) >= minimum
        and len(checked) < minimum
    ):
        missing = "、".join(p.detainee.name for p in present if p.checked_in_at is None)
        found.append(
            (
                CHECKIN,
                f"上岗 {duty.checkin_grace_minutes} 分钟后仅 {len(checked)} 人签到；未签到：{missing}",
            )
        )
    raised = 0
    for cause, detail in found:
        with transaction.atomic():
            alert = alert_raise(
                unit=unit,
                raised=Raised(
                    type=f"CELL_DUTY_{cause}",
                    name="监室值班不足",
                    severity="URGENT",
                    post="PATROL",
                    at=now,
                    cell_id=cell.id,
                    area=cell_label(cell),
                    detail=(
                        f"{shift.label}：{CAUSES[cause]}。{detail}。每班至少 {minimum} 人，"
                        "严禁单人或无人值班：请立即到监室查看并调整值班。"
                    ),
                    category="CELL_DUTY_SHORT",
                    source_ref=f"duty:{cell.id.hex}:{int(shift.starts_at.timestamp())}:{cause}",
                ),
                now=now,
            )
        if alert is not None:
            raised += 1
    return raised


def _start_detail(posts: list[DutyPost], present: list[DutyPost], minimum: int) -> str:
    if not posts:
        return "本班未安排值班人员"
    names = "、".join(p.detainee.name for p in present) or "无人"
    return f"排班 {len(posts)} 人，在监室的仅 {len(present)} 人（{names}）"
