"""Cell duty (监室值班): detainees take turns to stay awake at night, never one or none alone.

The night (devices pack `cell_duty`: night_from → night_to) is cut into shifts of
`shift_minutes`; each shift of each occupied cell needs at least `min_on_duty` (≥ 2) people
held in that cell. The 管教 sets the rota for a night; shifts already over keep what they had.
People on duty check in at the cell terminal (DUTY_CHECKIN with their numbers).

Basis: practice — 看守所监室值班制度：夜间安排在押人员轮流值班，每班不少于二人，严禁单人值班.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from jianguan.core.errors import DomainError, PermissionDenied
from jianguan.custody.api import Detainee, DetaineeStatus
from jianguan.devices.api import DevicesPack, devices_pack
from jianguan.housing.api import Cell
from jianguan.org.api import Perm, Unit, actor_for, has_perm
from jianguan.outbox.api import change_record
from jianguan.patrol.common import ACTOR, cell_of, facility_of, hhmm, local
from jianguan.patrol.models import DutyPost


@dataclass(frozen=True)
class Shift:
    night: dt.date
    index: int
    starts_at: dt.datetime
    ends_at: dt.datetime

    @property
    def label(self) -> str:
        return f"第{self.index + 1}班 {hhmm(self.starts_at)}–{hhmm(self.ends_at)}"


def _at(day: dt.date, clock: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, clock, tzinfo=timezone.get_default_timezone())


def night_shifts(pack: DevicesPack, night: dt.date) -> list[Shift]:
    """The shifts of the night that begins on local date `night`."""
    duty = pack.cell_duty
    start = _at(night, duty.night_from)
    end_day = night + dt.timedelta(days=1) if duty.night_to <= duty.night_from else night
    end = _at(end_day, duty.night_to)
    step = dt.timedelta(minutes=duty.shift_minutes)
    shifts: list[Shift] = []
    at = start
    while at < end:
        shifts.append(Shift(night, len(shifts), at, min(at + step, end)))
        at += step
    return shifts


def night_of(pack: DevicesPack, at: dt.datetime) -> dt.date:
    """The night a moment belongs to, or the coming night during the day ("tonight")."""
    duty = pack.cell_duty
    moment = local(at)
    overnight = duty.night_to <= duty.night_from
    if overnight and moment.time() < duty.night_to:
        return moment.date() - dt.timedelta(days=1)
    return moment.date()


def shift_at(pack: DevicesPack, at: dt.datetime) -> Shift | None:
    for shift in night_shifts(pack, night_of(pack, at)):
        if shift.starts_at <= at < shift.ends_at:
            return shift
    return None


def may_edit_rota(user: Any) -> bool:
    return has_perm(user, Perm.EDUCATION) or has_perm(user, Perm.LEAD)


def held_in(cell: Cell) -> dict[Any, Detainee]:
    """The people in the cell now (out of the facility does not count: they cannot keep watch)."""
    people = Detainee.objects.filter(cell_id=cell.id, status=DetaineeStatus.IN_CUSTODY)
    return {p.id: p for p in people.order_by("number")}


def rota_set(
    *,
    user: Any,
    cell_id: uuid.UUID | str,
    night: dt.date,
    shifts: Sequence[Sequence[Any]],
    now: dt.datetime | None = None,
) -> list[DutyPost]:
    """Set the night's rota of a cell: for each shift, the people on duty. Shifts already over
    keep what they had; people kept on a running shift keep their check-in."""
    now = now or timezone.now()
    if not may_edit_rota(user):
        raise PermissionDenied("只有管教民警或所领导可以编排监室值班")
    unit = facility_of(user)
    cell = cell_of(unit, cell_id)
    pack = devices_pack(unit)
    planned = night_shifts(pack, night)
    if len(shifts) != len(planned):
        raise DomainError(
            "SHIFT_COUNT",
            f"这一夜有 {len(planned)} 个班次，提交了 {len(shifts)} 个",
            field="shifts",
        )
    if planned[-1].ends_at <= now:
        raise DomainError("NIGHT_OVER", "这一夜的值班已经结束，不能再修改", field="night")
    held = held_in(cell)
    minimum = pack.cell_duty.min_on_duty
    wanted: dict[int, list[Any]] = {}
    for shift, ids in zip(planned, shifts, strict=True):
        if shift.ends_at <= now:
            continue
        people = list(dict.fromkeys(_as_uuid(i, shift) for i in ids))
        strangers = [i for i in people if i not in held]
        if strangers:
            names = "、".join(_name_of(i) for i in strangers)
            raise DomainError(
                "NOT_IN_CELL",
                f"{shift.label}：{names} 不在 {cell.number} 监室，只能安排本监室在押人员值班",
                field=f"shifts.{shift.index}",
            )
        if len(people) < minimum:
            raise DomainError(
                "TOO_FEW_ON_DUTY",
                f"{shift.label} 只安排了 {len(people)} 人，每班至少 {minimum} 人（严禁单人或无人值班）",
                field=f"shifts.{shift.index}",
            )
        wanted[shift.index] = people
    with transaction.atomic():
        existing: dict[int, dict[Any, DutyPost]] = defaultdict(dict)
        for post in DutyPost.objects.select_for_update().filter(cell=cell, night=night):
            existing[post.shift][post.detainee_id] = post
        for shift in planned:
            if shift.index not in wanted:
                continue
            keep = wanted[shift.index]
            gone = [p.id for d, p in existing[shift.index].items() if d not in keep]
            DutyPost.objects.filter(id__in=gone).delete()
            DutyPost.objects.bulk_create(
                DutyPost(
                    unit=unit,
                    cell=cell,
                    night=night,
                    shift=shift.index,
                    starts_at=shift.starts_at,
                    ends_at=shift.ends_at,
                    detainee_id=d,
                    set_by=user.username,
                    set_at=now,
                )
                for d in keep
                if d not in existing[shift.index]
            )
        change_record(
            actor=actor_for(user),
            type="patrol.rota_set",
            aggregate_type="cell",
            aggregate_id=cell.id,
            unit_code=unit.code,
            payload={
                "cell": cell.number,
                "night": night.isoformat(),
                "shifts": {
                    str(i): [held[d].number for d in ids] for i, ids in sorted(wanted.items())
                },
            },
        )
    return list(
        DutyPost.objects.filter(cell=cell, night=night)
        .select_related("detainee")
        .order_by("shift", "detainee__number")
    )


def _as_uuid(raw: Any, shift: Shift) -> uuid.UUID:
    try:
        return raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))
    except ValueError:
        raise DomainError(
            "NOT_IN_CELL", f"{shift.label}：人员编号有误", field=f"shifts.{shift.index}"
        ) from None


def _name_of(detainee_id: Any) -> str:
    person = Detainee.objects.filter(id=detainee_id).only("name", "number").first()
    return f"{person.name}（{person.number}）" if person else "（未知人员）"


# --- check-in at the terminal ------------------------------------------------------------


@dataclass
class DutyCheckin:
    checked_in: list[str] = field(default_factory=list)  # numbers of people now checked in
    not_rostered: list[str] = field(default_factory=list)  # numbers with no shift at this time


def duty_checkin(
    *,
    unit: Unit,
    cell_id: Any,
    numbers: Sequence[str],
    at: dt.datetime,
    device: str = "",
    now: dt.datetime | None = None,
) -> DutyCheckin:
    """People on duty checked in at the cell terminal: each counts for the shift running at
    `at`, or the next one when they come within the check-in grace before it starts.
    Repeats change nothing. Runs in the caller's transaction."""
    now = now or timezone.now()
    at = min(at, now)
    pack = devices_pack(unit)
    early = dt.timedelta(minutes=pack.cell_duty.checkin_grace_minutes)
    wanted = {str(n).strip() for n in numbers if str(n).strip()}
    posts = DutyPost.objects.filter(
        cell_id=cell_id,
        starts_at__lte=at + early,
        ends_at__gt=at,
        detainee__number__in=wanted,
    ).select_related("detainee")
    result = DutyCheckin()
    found: set[str] = set()
    for post in posts:
        found.add(post.detainee.number)
        if post.checked_in_at is None:
            post.checked_in_at, post.checkin_device = at, device[:64]
            post.save(update_fields=["checked_in_at", "checkin_device"])
            result.checked_in.append(post.detainee.number)
    result.not_rostered = sorted(wanted - found)
    if result.checked_in or result.not_rostered:
        change_record(
            actor=ACTOR,
            type="patrol.duty_checked_in",
            aggregate_type="cell",
            aggregate_id=str(cell_id),
            unit_code=unit.code,
            payload={
                "numbers": sorted(result.checked_in),
                "not_rostered": result.not_rostered,
                "at": at.isoformat(),
                "device": device,
            },
        )
    return result


# --- what the rota page shows ------------------------------------------------------------


@dataclass
class ShiftRow:
    shift: Shift
    posts: list[DutyPost]
    present: int  # rostered and in the cell now
    checked_in: int  # of those, checked in
    running: bool
    over: bool


@dataclass
class CellRota:
    cell: Cell
    people: list[Detainee]
    shifts: list[ShiftRow]
    minimum: int

    @property
    def complete(self) -> bool:
        return all(len(row.posts) >= self.minimum for row in self.shifts if not row.over)


def rota_night(
    unit: Unit, night: dt.date, *, now: dt.datetime | None = None, cell_ids: Any = None
) -> list[CellRota]:
    """Every occupied cell (and every cell with a rota that night) with its shifts."""
    now = now or timezone.now()
    pack = devices_pack(unit)
    planned = night_shifts(pack, night)
    posts = DutyPost.objects.filter(unit_id=unit.id, night=night).select_related("detainee")
    if cell_ids is not None:
        posts = posts.filter(cell_id__in=cell_ids)
    by_cell: dict[Any, dict[int, list[DutyPost]]] = defaultdict(lambda: defaultdict(list))
    for post in posts.order_by("detainee__number"):
        by_cell[post.cell_id][post.shift].append(post)
    people: dict[Any, list[Detainee]] = defaultdict(list)
    held = Detainee.objects.filter(
        unit_id=unit.id, status=DetaineeStatus.IN_CUSTODY, cell_id__isnull=False
    )
    if cell_ids is not None:
        held = held.filter(cell_id__in=cell_ids)
    for person in held.order_by("number"):
        people[person.cell_id].append(person)
    cells = Cell.objects.filter(id__in=set(people) | set(by_cell)).order_by("area", "number")
    out = []
    for cell in cells:
        rows = []
        for shift in planned:
            shift_posts = by_cell[cell.id][shift.index]
            in_cell = [
                p
                for p in shift_posts
                if p.detainee.cell_id == cell.id and p.detainee.status == DetaineeStatus.IN_CUSTODY
            ]
            rows.append(
                ShiftRow(
                    shift=shift,
                    posts=shift_posts,
                    present=len(in_cell),
                    checked_in=sum(1 for p in in_cell if p.checked_in_at),
                    running=shift.starts_at <= now < shift.ends_at,
                    over=shift.ends_at <= now,
                )
            )
        out.append(
            CellRota(
                cell=cell,
                people=people[cell.id],
                shifts=rows,
                minimum=pack.cell_duty.min_on_duty,
            )
        )
    return out
