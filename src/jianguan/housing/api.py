"""Public face of housing: the cells a user may see, with their occupancy."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from jianguan.housing.models import Cell, CellGender, CellKind

__all__ = ["Cell", "CellGender", "CellKind", "cells_in"]


def cells_in(*, unit_ids: QuerySet[Any] | list[Any]) -> QuerySet[Cell]:
    return Cell.objects.filter(unit_id__in=unit_ids, is_active=True).order_by("number")
