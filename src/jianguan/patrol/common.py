"""What the patrol services share: the facility of an officer, the cells and their people."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone

from jianguan.core.actor import Actor
from jianguan.core.errors import NotFound, PermissionDenied
from jianguan.custody.api import Detainee, DetaineeStatus
from jianguan.housing.api import Cell
from jianguan.org.api import Perm, Unit, UnitLevel, has_perm

ACTOR = Actor.system("patrol")


def facility_of(user: Any) -> Unit:
    """The officer's own facility: welfare checks and cell duty are a facility's work."""
    unit = user.unit
    if unit is None or unit.level != UnitLevel.FACILITY:
        raise PermissionDenied("只有监所的民警可以办理巡视和监室值班")
    return unit


# Who sees the welfare-check and cell-duty screens: 巡控 (and 分控), 管教, the leaders.
VIEWERS = (Perm.PATROL, Perm.EDUCATION, Perm.LEAD)


def may_view(user: Any) -> bool:
    return any(has_perm(user, perm) for perm in VIEWERS)


def viewer_facility(user: Any) -> Unit:
    """The facility whose checks and rota the user may read, or PermissionDenied."""
    unit = facility_of(user)
    if not may_view(user):
        raise PermissionDenied("只有巡控、管教民警或所领导可以查看巡视和监室值班")
    return unit


def cell_of(unit: Unit, cell_id: uuid.UUID | str) -> Cell:
    """A cell of the facility; another facility's cell answers like a missing one."""
    try:
        return Cell.objects.get(id=cell_id, unit_id=unit.id)
    except (Cell.DoesNotExist, ValueError, ValidationError):
        raise NotFound("监室") from None


def occupied_cells(unit_id: Any) -> dict[Any, int]:
    """Cells with people in them now (in custody and in the cell, not out of the facility)."""
    rows = (
        Detainee.objects.filter(
            unit_id=unit_id, status=DetaineeStatus.IN_CUSTODY, cell_id__isnull=False
        )
        .values("cell_id")
        .annotate(n=Count("id"))
    )
    return {row["cell_id"]: row["n"] for row in rows}


def units_with_people() -> list[Unit]:
    unit_ids = (
        Detainee.objects.filter(status=DetaineeStatus.IN_CUSTODY, cell_id__isnull=False)
        .values_list("unit_id", flat=True)
        .distinct()
    )
    return list(Unit.objects.filter(id__in=unit_ids).order_by("code"))


def cell_label(cell: Cell) -> str:
    return f"{cell.area}{cell.number}监室" if cell.area else f"{cell.number}监室"


def local(at: dt.datetime) -> dt.datetime:
    return timezone.localtime(at, timezone.get_default_timezone())


def hhmm(at: dt.datetime | None) -> str:
    return local(at).strftime("%H:%M") if at else "—"
