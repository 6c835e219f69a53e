"""Welfare checks (巡视): officers check in at each cell, at most its interval apart.

Due
    A cell is watched while people are in it. Its next check is due one interval after the
    later of the last check and the moment the watch began (the cell became occupied).
Lapse
    When a cell goes past due + grace (devices pack `patrol.grace_minutes`) the timer opens a
    lapse, once per due moment, and raises an alert whose task goes to 巡控 (PATROL_CHECK_LATE,
    HIGH). The lapse covers the whole gap: no second one opens while it is open. The check
    that ends the gap ends it as LATE; a cell emptied before anyone came ends it as MISSED.
    Either way the officer writes a reason (≥ 10 characters) and the lapse stays on the
    leader's screen until then. A terminal check-in made on time but delivered after the
    lapse opened voids it (the terminal's clock decides).

Basis: practice — 看守所执勤巡视规定每监室定时巡视、不得漏巡；分级管理要求高风险监室缩短巡视间隔.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from jianguan.core.errors import DomainError, NotFound, PermissionDenied
from jianguan.devices.api import Raised, alert_raise, devices_pack
from jianguan.housing.api import Cell
from jianguan.org.api import Perm, Unit, actor_for, has_perm, user_by_username
from jianguan.outbox.api import change_record
from jianguan.patrol.common import (
    ACTOR,
    cell_label,
    cell_of,
    facility_of,
    local,
    occupied_cells,
    units_with_people,
)
from jianguan.patrol.intervals import Interval, intervals_for
from jianguan.patrol.models import CellWatch, CheckVia, LapseState, PatrolCheck, PatrolLapse

REASON_MIN = 10


# --- checking in -------------------------------------------------------------------------


def check_record(
    *,
    unit: Unit,
    cell: Cell,
    at: dt.datetime,
    officer: str,
    via: str,
    source_ref: str,
    device: str = "",
    now: dt.datetime | None = None,
) -> PatrolCheck | None:
    """Record that `officer` was at `cell` at `at`; once per `source_ref` (None if already).
    Runs in the caller's transaction."""
    now = now or timezone.now()
    if PatrolCheck.objects.filter(source_ref=source_ref).exists():
        return None
    at = min(at, now)  # a terminal clock ahead of ours does not date a check in the future
    user = user_by_username(officer) if officer else None
    if user is not None and user.unit_id != unit.id:
        user = None  # a name another facility uses: keep what the terminal said
    name = (user.full_name or user.username) if user is not None else officer
    check = PatrolCheck.objects.create(
        unit=unit,
        cell=cell,
        at=at,
        officer=officer[:150],
        officer_name=(name or "")[:100],
        via=via,
        device=device[:64],
        source_ref=source_ref[:64],
        recorded_at=now,
    )
    watch, _ = CellWatch.objects.select_for_update().get_or_create(
        cell=cell, defaults={"unit": unit, "since": at}
    )
    if watch.last_check_at is None or at > watch.last_check_at:
        watch.last_check_at, watch.last_check_by = at, check.officer_name
    for lapse in PatrolLapse.objects.filter(cell=cell, state=LapseState.OPEN):
        if at <= lapse.due_at + dt.timedelta(minutes=lapse.grace_minutes):
            lapse.state = LapseState.VOID
        else:
            lapse.state = LapseState.LATE
        lapse.checked_at, lapse.checked_by = at, check.officer_name
        lapse.save(update_fields=["state", "checked_at", "checked_by"])
    watch.save()
    change_record(
        actor=ACTOR if via == CheckVia.TERMINAL else actor_for(user) if user else ACTOR,
        type="patrol.checked",
        aggregate_type="cell",
        aggregate_id=cell.id,
        unit_code=unit.code,
        payload={
            "cell": cell.number,
            "officer": check.officer,
            "via": via,
            "device": device,
            "at": at.isoformat(),
        },
    )
    return check


def check_by_hand(
    *, user: Any, cell_id: uuid.UUID | str, now: dt.datetime | None = None
) -> PatrolCheck:
    """An officer on the 巡控 post checks in at a cell from the handheld or the web page."""
    now = now or timezone.now()
    if not has_perm(user, Perm.PATROL):
        raise PermissionDenied("只有巡控民警可以巡视签到")
    unit = facility_of(user)
    cell = cell_of(unit, cell_id)
    with transaction.atomic():
        check = check_record(
            unit=unit,
            cell=cell,
            at=now,
            officer=user.username,
            via=CheckVia.HAND,
            source_ref=f"hand:{uuid.uuid4().hex}",
            now=now,
        )
    assert check is not None
    return check


# --- the timer ---------------------------------------------------------------------------


def _next_due(watch: CellWatch, interval: Interval) -> dt.datetime | None:
    base = [m for m in (watch.since, watch.last_check_at) if m]
    return max(base) + dt.timedelta(minutes=interval.minutes) if base else None


def lapses_open(now: dt.datetime | None = None) -> int:
    """Open a lapse (and its alert) for every occupied cell past due + grace; return how many.
    Idempotent: a due moment opens one lapse only."""
    now = now or timezone.now()
    opened = 0
    watched = CellWatch.objects.filter(since__isnull=False).values_list("unit_id", flat=True)
    units = {u.id: u for u in units_with_people()}
    units.update({u.id: u for u in Unit.objects.filter(id__in=watched)})  # emptied since
    for unit in sorted(units.values(), key=lambda u: u.code):
        opened += _lapses_in_unit(unit, now)
    return opened


def _lapses_in_unit(unit: Unit, now: dt.datetime) -> int:
    grace = dt.timedelta(minutes=devices_pack(unit).patrol.grace_minutes)
    occupied = occupied_cells(unit.id)
    watches = {w.cell_id: w for w in CellWatch.objects.filter(unit_id=unit.id)}
    # An emptied cell needs no checks; when people come back its clock starts again, and a
    # gap nobody closed before it emptied stays a missed check.
    emptied = [w.cell_id for w in watches.values() if w.since and w.cell_id not in occupied]
    if emptied:
        with transaction.atomic():
            CellWatch.objects.filter(cell_id__in=emptied).update(since=None)
            PatrolLapse.objects.filter(cell_id__in=emptied, state=LapseState.OPEN).update(
                state=LapseState.MISSED
            )
    lapsing = set(
        PatrolLapse.objects.filter(unit_id=unit.id, state=LapseState.OPEN).values_list(
            "cell_id", flat=True
        )
    )
    intervals = intervals_for(unit, occupied)
    opened = 0
    for cell_id in occupied:
        watch = watches.get(cell_id)
        if watch is None or watch.since is None:
            CellWatch.objects.update_or_create(
                cell_id=cell_id, defaults={"unit_id": unit.id, "since": now}
            )
            continue
        due = _next_due(watch, intervals[cell_id])
        if cell_id in lapsing or due is None or now <= due + grace:
            continue
        if _lapse_open(unit, cell_id, due, intervals[cell_id], grace, now):
            opened += 1
    return opened


def _lapse_open(
    unit: Unit,
    cell_id: Any,
    due: dt.datetime,
    interval: Interval,
    grace: dt.timedelta,
    now: dt.datetime,
) -> bool:
    with transaction.atomic():
        watch = CellWatch.objects.select_for_update().get(cell_id=cell_id)
        if PatrolLapse.objects.filter(cell_id=cell_id, due_at=due).exists():
            return False
        cell = Cell.objects.get(id=cell_id)
        lapse = PatrolLapse.objects.create(
            unit=unit,
            cell=cell,
            due_at=due,
            interval_minutes=interval.minutes,
            grace_minutes=int(grace.total_seconds() // 60),
            opened_at=now,
        )
        last = (
            f"上次巡视 {local(watch.last_check_at):%m-%d %H:%M}（{watch.last_check_by}）"
            if watch.last_check_at
            else "本监室尚无巡视签到"
        )
        alert = alert_raise(
            unit=unit,
            raised=Raised(
                type="PATROL_LATE",
                name="巡视逾期",
                severity="HIGH",
                post="PATROL",
                at=due + grace,
                cell_id=cell.id,
                area=cell_label(cell),
                detail=(
                    f"应于 {local(due):%H:%M} 前巡视（间隔 {interval.minutes} 分钟，{interval.why}），"
                    f"{last}。请立即到位巡视签到，并在巡视逾期页填写原因。"
                ),
                category="PATROL_CHECK_LATE",
                source_ref=f"patrol:{cell.id.hex}:{int(due.timestamp())}",
            ),
            now=now,
        )
        if alert is not None:
            lapse.alert_id, lapse.task_id = alert.id, alert.task_id
            lapse.save(update_fields=["alert_id", "task_id"])
        change_record(
            actor=ACTOR,
            type="patrol.lapse_opened",
            aggregate_type="cell",
            aggregate_id=cell.id,
            unit_code=unit.code,
            payload={"cell": cell.number, "due": due.isoformat(), "lapse": str(lapse.id)},
        )
    return True


# --- reasons -----------------------------------------------------------------------------


def may_explain(user: Any) -> bool:
    return has_perm(user, Perm.PATROL) or has_perm(user, Perm.LEAD)


def lapse_explain(
    *, user: Any, lapse_id: uuid.UUID | str, reason: str, now: dt.datetime | None = None
) -> PatrolLapse:
    """The officer writes why the check was late or missed; the lapse leaves the leader's list
    of unexplained ones."""
    now = now or timezone.now()
    if not may_explain(user):
        raise PermissionDenied("只有巡控民警或所领导可以填写巡视逾期原因")
    unit = facility_of(user)
    reason = reason.strip()
    if len(reason) < REASON_MIN:
        raise DomainError(
            "REASON_TOO_SHORT",
            f"请写明未按时巡视的原因，不少于 {REASON_MIN} 个字",
            field="reason",
        )
    with transaction.atomic():
        try:
            lapse = (
                PatrolLapse.objects.select_for_update()
                .select_related("cell")
                .get(id=lapse_id, unit_id=unit.id)
            )
        except (PatrolLapse.DoesNotExist, ValueError, ValidationError):
            raise NotFound("巡视逾期记录") from None
        if lapse.state == LapseState.VOID:
            raise DomainError("NOT_A_LAPSE", "该次巡视已按时签到，无需说明")
        if lapse.reason:
            raise DomainError("ALREADY_EXPLAINED", "该次逾期已填写原因", field="reason")
        lapse.reason, lapse.reason_by, lapse.reason_at = reason[:2000], user.username, now
        lapse.save(update_fields=["reason", "reason_by", "reason_at"])
        change_record(
            actor=actor_for(user),
            type="patrol.lapse_explained",
            aggregate_type="cell",
            aggregate_id=lapse.cell_id,
            unit_code=unit.code,
            payload={"cell": lapse.cell.number, "lapse": str(lapse.id), "reason": lapse.reason},
        )
    return lapse


# --- what the screens show ---------------------------------------------------------------


@dataclass(frozen=True)
class CellDue:
    cell: Cell
    people: int
    interval: Interval
    last_check_at: dt.datetime | None
    last_check_by: str
    due_at: dt.datetime | None
    overdue: bool  # past due + grace: a lapse is (or is about to be) open
    late_soon: bool  # past due, within the grace
    open_lapse: PatrolLapse | None


def due_list(unit: Unit, *, now: dt.datetime | None = None) -> list[CellDue]:
    """Every occupied cell with its interval, last check and next due moment, most urgent first."""
    now = now or timezone.now()
    grace = dt.timedelta(minutes=devices_pack(unit).patrol.grace_minutes)
    occupied = occupied_cells(unit.id)
    intervals = intervals_for(unit, occupied)
    watches = {w.cell_id: w for w in CellWatch.objects.filter(cell_id__in=occupied)}
    open_lapses = {
        lapse.cell_id: lapse
        for lapse in PatrolLapse.objects.filter(cell_id__in=occupied, state=LapseState.OPEN)
    }
    rows = []
    for cell in Cell.objects.filter(id__in=occupied).order_by("area", "number"):
        watch = watches.get(cell.id) or CellWatch(cell=cell, unit=unit, since=now)
        if watch.since is None:
            watch.since = now
        due = _next_due(watch, intervals[cell.id])
        rows.append(
            CellDue(
                cell=cell,
                people=occupied[cell.id],
                interval=intervals[cell.id],
                last_check_at=watch.last_check_at,
                last_check_by=watch.last_check_by,
                due_at=due,
                overdue=cell.id in open_lapses or (due is not None and now > due + grace),
                late_soon=due is not None and due < now <= due + grace,
                open_lapse=open_lapses.get(cell.id),
            )
        )
    far = now + dt.timedelta(days=365)
    rows.sort(key=lambda r: (not r.overdue, r.due_at or far, r.cell.number))
    return rows


def lapses_unexplained(unit: Unit) -> QuerySet[PatrolLapse]:
    """Late and missed checks without a reason yet: the leader's list."""
    return (
        PatrolLapse.objects.filter(unit_id=unit.id, reason="")
        .exclude(state=LapseState.VOID)
        .select_related("cell")
        .order_by("-due_at")
    )


def lapses_explained(unit: Unit, *, since: dt.datetime) -> QuerySet[PatrolLapse]:
    return (
        PatrolLapse.objects.filter(unit_id=unit.id, reason_at__gte=since)
        .exclude(reason="")
        .select_related("cell")
        .order_by("-reason_at")
    )
