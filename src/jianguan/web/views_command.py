"""The command screen (指挥大屏, F12): a facility's live picture on one wall display.

The page is a frame of panels; each panel is an htmx fragment that reloads on every live event
of the facility (live.js triggers `live` on <body>) and every 30 seconds as a safety net, so a
lost stream never leaves the wall stale for long. Only a facility's command posts (分控,
指挥中心) and its leaders may open it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jianguan.core.errors import NotFound, PermissionDenied
from jianguan.custody.api import (
    DetaineeStatus,
    MovementKind,
    NoticeKind,
    deadline_board,
    detainee_search,
    held_by_unit,
    movements_today,
    notices_open,
    roll,
    roll_by_cell,
    unplaced,
    urgency,
)
from jianguan.duty.api import (
    TaskState,
    Urgency,
    is_overdue,
    post_label,
    task_counts,
    tasks_open,
)
from jianguan.org.api import Perm, has_perm
from jianguan.web.custody_common import facility_of

# How long before its end a custody clock joins the overdue panel (the deadline board's
# "1日内届满" band).
CLOCK_WARNING = dt.timedelta(days=1)
# Rows a panel lists before it says "and N more": the wall must fit 1920×1080 unscrolled.
PANEL_ROWS = 8
TASK_ROWS = 4  # per urgency
ALERT_ROWS = 3
MOVEMENT_ROWS = 10
# How far back to look for the exit that took a person out (a hospital stay may last weeks).
OUT_LOOKBACK = dt.timedelta(days=30)


def _facility(user: Any) -> Any:
    """The facility whose screen this user may see, or a refusal."""
    facility = facility_of(user)
    if facility is None:
        raise PermissionDenied(str(_("指挥大屏只对监所民警开放")))
    if not (has_perm(user, Perm.TASK_DISPATCH) or has_perm(user, Perm.LEAD)):
        raise PermissionDenied(str(_("指挥大屏只对分控、指挥中心和所领导开放")))
    return facility


def _midnight() -> dt.datetime:
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


@login_required
def command_screen(request: HttpRequest) -> HttpResponse:
    facility = _facility(request.user)
    return render(request, "web/command/screen.html", {"facility": facility, "panels": PANEL_NAMES})


@login_required
def command_panel(request: HttpRequest, panel: str) -> HttpResponse:
    facility = _facility(request.user)
    build = PANELS.get(panel)
    if build is None:
        raise NotFound("面板")
    context = build(request.user, facility, timezone.now())
    context["facility"] = facility
    return render(request, f"web/command/_{panel}.html", context)


# --- panels ----------------------------------------------------------------------------------


def _roll(user: Any, facility: Any, now: dt.datetime) -> dict[str, Any]:
    out = list(
        detainee_search(user=user, status=DetaineeStatus.OUT_TEMPORARILY, unit_id=facility.id)
        .select_related(None)
        .only("id", "name", "number")
        .order_by("number")
    )
    # Where each person out of the facility went: their latest temporary exit today or before.
    latest = {
        m.detainee_id: m
        for m in reversed(
            list(
                movements_today(user, now - OUT_LOOKBACK).filter(
                    detainee_id__in=[d.id for d in out],
                    kind__in=(MovementKind.OUT_INTERROGATION, MovementKind.OUT_MEDICAL),
                )
            )
        )
    }
    held = held_by_unit(user=user).get(facility.id, 0)
    return {
        "roll": roll(user=user, today_start=_midnight()),
        "held": held,
        "present": held - len(out),
        "unplaced": unplaced(facility.id),
        "out": [(d, latest.get(d.id)) for d in out[:PANEL_ROWS]],
        "out_more": max(0, len(out) - PANEL_ROWS),
    }


@dataclass(frozen=True)
class CellTile:
    number: str
    area: str
    capacity: int
    present: int
    out: int
    tasks: int

    @property
    def over(self) -> bool:
        return self.present + self.out > self.capacity

    @property
    def load(self) -> int:
        """Occupancy in percent of capacity, for the tile's bar."""
        return (
            min(100, round(100 * (self.present + self.out) / self.capacity)) if self.capacity else 0
        )


def _cells(user: Any, facility: Any, now: dt.datetime) -> dict[str, Any]:
    open_by_cell = Counter(t.cell_id for t in tasks_open(user) if t.cell_id)
    cells = [
        CellTile(c.number, c.area, c.capacity, c.present, c.out, open_by_cell[c.cell_id])
        for c in roll_by_cell(facility.id)
    ]
    return {
        "cells": cells,
        "capacity": sum(c.capacity for c in cells),
        "occupied": sum(c.present + c.out for c in cells),
        "over": sum(1 for c in cells if c.over),
    }


@dataclass(frozen=True)
class TaskRow:
    task: Any
    state: str
    post: str
    overdue: bool


def _task_row(task: Any, now: dt.datetime) -> TaskRow:
    post = task.escalated_to or task.post_kind
    return TaskRow(task, TaskState(task.state).label, post_label(post), is_overdue(task, now))


def _tasks(user: Any, facility: Any, now: dt.datetime) -> dict[str, Any]:
    tasks = tasks_open(user)
    groups = []
    for level in (Urgency.URGENT, Urgency.HIGH, Urgency.NORMAL):
        rows = [_task_row(t, now) for t in tasks if t.urgency == level]
        groups.append(
            {
                "urgency": level.value,
                "label": level.label,
                "count": len(rows),
                "rows": rows[:TASK_ROWS],
                "more": max(0, len(rows) - TASK_ROWS),
            }
        )
    notices = notices_open([facility.id])
    expired = notices.filter(kind=NoticeKind.EXPIRED)
    expired_count = expired.count()
    return {
        "counts": task_counts(facility.id, now),
        "groups": groups,
        "expired_alerts": expired_count,
        "notices": notices.filter(kind=NoticeKind.BEFORE_EXPIRY).count(),
        "alerts": list(expired[:ALERT_ROWS]),
        "alerts_more": max(0, expired_count - ALERT_ROWS),
    }


def _overdue(user: Any, facility: Any, now: dt.datetime) -> dict[str, Any]:
    late = [_task_row(t, now) for t in tasks_open(user) if is_overdue(t, now) or t.escalation_level]
    clocks = list(
        deadline_board(user=user, unit_id=facility.id).filter(
            state="RUNNING", expires_at__lte=now + CLOCK_WARNING
        )
    )
    expired = sum(1 for d in clocks if d.expires_at is not None and d.expires_at <= now)
    return {
        "late": late[:PANEL_ROWS],
        "late_more": max(0, len(late) - PANEL_ROWS),
        "overdue_count": sum(1 for r in late if r.overdue),
        "escalated_count": sum(1 for r in late if r.task.escalation_level),
        "clocks": [(d, urgency(d.expires_at, now)) for d in clocks[:PANEL_ROWS]],
        "clocks_more": max(0, len(clocks) - PANEL_ROWS),
        "clocks_expired": expired,
        "clocks_soon": len(clocks) - expired,
    }


def _movements(user: Any, facility: Any, now: dt.datetime) -> dict[str, Any]:
    moves = list(movements_today(user, _midnight()).filter(unit_id=facility.id))
    kinds = Counter(m.kind for m in moves)
    return {
        "moves": moves[:MOVEMENT_ROWS],
        "moves_more": max(0, len(moves) - MOVEMENT_ROWS),
        "total": len(moves),
        "by_kind": [(MovementKind(k).label, n) for k, n in sorted(kinds.items())],
    }


PANELS = {
    "roll": _roll,
    "cells": _cells,
    "tasks": _tasks,
    "overdue": _overdue,
    "movements": _movements,
}
PANEL_NAMES = tuple(PANELS)
