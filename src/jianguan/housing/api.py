"""Public face of housing: the cell model's choices other apps may use."""

from __future__ import annotations

from jianguan.housing.models import Cell, CellGender, CellKind

__all__ = ["Cell", "CellGender", "CellKind"]
