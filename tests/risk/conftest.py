"""Risk fixtures: 广州一看's officers, two men's cells, and people held in them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def staff(make_user: Callable[..., Any]) -> dict[str, Any]:
    return {
        "patrol": make_user("gz_xunkong", "PATROL", full_name="吴巡控"),
        "custodian": make_user("gz_guanjiao", "CUSTODIAN", full_name="李管教"),
        "medical": make_user("gz_yiwu", "MEDICAL", full_name="赵医生"),
        "leader": make_user("gz_suozhang", "LEADER", full_name="周所长"),
        "leader2": make_user("gz_fusuozhang", "LEADER", full_name="郑副所长"),
    }


@pytest.fixture
def cells(tree: dict[str, Any]) -> dict[str, Any]:
    from jianguan.housing.api import Cell, CellGender, CellKind

    def cell(number: str, capacity: int = 12) -> Any:
        return Cell.objects.create(
            unit=tree["gz_k"],
            number=number,
            area="一监区",
            gender=CellGender.MALE,
            kind=CellKind.ORDINARY,
            capacity=capacity,
        )

    return {"101": cell("101", capacity=2), "102": cell("102")}


@pytest.fixture
def held(make_detainee: Callable[..., Any], cells: dict[str, Any]) -> Any:
    """张三: 放火 (severity 5), investigation stage, no birth date or ID number on record."""
    return make_detainee("gz_k", name="张三", cell=cells["102"], status="IN_CUSTODY")


@pytest.fixture
def record(staff: dict[str, Any]) -> Callable[..., Any]:
    """An officer records dynamic information through the duty loop, and the outbox delivers it."""
    from jianguan.duty.api import info_record
    from jianguan.outbox.api import deliver

    def run(category: str, detainee: Any, *, by: str = "patrol", text: str = "情况记录") -> Any:
        rec = info_record(user=staff[by], category=category, text=text, detainee_id=detainee.id)
        deliver()
        return rec

    return run
