"""Custody fixtures: officers on the facility's posts, a person admitted through the admission
services, and a few cells of 广州一看.

Every person here is admitted the way an officer would admit them (admission_start … complete),
so their number, legal events and clocks are the ones production creates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.custody.factories import (
    belongings_step,
    health_step,
    person_step,
    photo,
    search_step,
)


@pytest.fixture
def officers(make_user: Callable[..., Any]) -> dict[str, Any]:
    """广州一看's staff: two 收押 officers (a man and a woman), a leader, a 巡控, a 提讯."""
    return {
        "admission": make_user("gz_shouya", "ADMISSION", gender="1", full_name="陈收押"),
        "admission_f": make_user("gz_shouya_f", "ADMISSION", gender="2", full_name="林女警"),
        "leader": make_user("gz_suozhang", "LEADER", gender="1", full_name="周所长"),
        "patrol": make_user("gz_xunkong", "PATROL", gender="1", full_name="吴巡控"),
        "interrogation": make_user("gz_tixun", "INTERROGATION", gender="1", full_name="郑提讯"),
    }


@pytest.fixture
def actor(officers: dict[str, Any]) -> Any:
    """The 收押 officer as the services see them."""
    from jianguan.org.api import actor_for

    return actor_for(officers["admission"], address="10.0.0.8")


@pytest.fixture
def admission_steps(officers: dict[str, Any]) -> Callable[..., dict[str, dict[str, Any]]]:
    """The four form steps of an admission; a woman is searched by the female officer."""

    def steps(person: dict[str, Any] | None = None, **step_overrides: Any) -> dict[str, Any]:
        person = person or person_step()
        searcher = officers["admission_f"] if person["gender"] == "2" else officers["admission"]
        return {
            "person": person,
            "health": health_step(),
            "search": search_step(searcher),
            "belongings": belongings_step(),
            **step_overrides,
        }

    return steps


@pytest.fixture
def fill(actor: Any, tree: dict[str, Any], admission_steps: Callable[..., Any]) -> Any:
    """Start an admission and save every step and the photo; the admission is left DRAFT."""
    from jianguan.custody.api import admission_add_photo, admission_save_step, admission_start

    def run(unit: str = "gz_k", person: dict[str, Any] | None = None, **step_overrides: Any):
        admission = admission_start(actor=actor, unit=tree[unit])
        for step, data in admission_steps(person, **step_overrides).items():
            admission = admission_save_step(actor=actor, admission=admission, step=step, data=data)
        admission_add_photo(actor=actor, admission=admission, upload=photo())
        admission.refresh_from_db()
        return admission

    return run


@pytest.fixture
def admit(actor: Any, fill: Any) -> Any:
    """Admit a person through the services and return the Detainee."""
    from jianguan.custody.api import admission_complete

    def run(unit: str = "gz_k", person: dict[str, Any] | None = None, **step_overrides: Any):
        admission = fill(unit, person, **step_overrides)
        return admission_complete(actor=actor, admission=admission)

    return run


@pytest.fixture
def cells(tree: dict[str, Any]) -> dict[str, Any]:
    """广州一看: a men's transition cell, two men's cells (101 holds two), a women's cell."""
    from jianguan.housing.api import Cell, CellGender, CellKind

    unit = tree["gz_k"]

    def cell(number: str, gender: str, kind: str = CellKind.ORDINARY, capacity: int = 12) -> Any:
        return Cell.objects.create(
            unit=unit, number=number, area="一监区", gender=gender, kind=kind, capacity=capacity
        )

    return {
        "T1": cell("T1", CellGender.MALE, CellKind.TRANSITION),
        "101": cell("101", CellGender.MALE, capacity=2),
        "102": cell("102", CellGender.MALE),
        "201": cell("201", CellGender.FEMALE),
    }
