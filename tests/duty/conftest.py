"""Duty fixtures: 广州一看's officers on the posts of the duty loop, and a held person."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def staff(make_user: Callable[..., Any]) -> dict[str, Any]:
    return {
        "patrol": make_user("gz_xunkong", "PATROL", full_name="吴巡控"),
        "custodian": make_user("gz_guanjiao", "CUSTODIAN", full_name="李管教"),
        "custodian2": make_user("gz_guanjiao2", "CUSTODIAN", full_name="王管教"),
        "medical": make_user("gz_yiwu", "MEDICAL", full_name="赵医生"),
        "subcontrol": make_user("gz_fenkong", "SUBCONTROL", full_name="钱分控"),
        "command": make_user("gz_zhihui", "COMMAND", full_name="孙指挥"),
        "leader": make_user("gz_suozhang", "LEADER", full_name="周所长"),
        "sz_custodian": make_user("sz_guanjiao", "CUSTODIAN", unit="sz_k", full_name="深圳管教"),
    }


@pytest.fixture
def held(make_detainee: Callable[..., Any]) -> Any:
    return make_detainee("gz_k", name="张三")


@pytest.fixture
def anomaly(staff: dict[str, Any], held: Any) -> Callable[..., Any]:
    """The 巡控 officer records 异常行为 about the held person; returns the task it became."""
    from jianguan.duty.api import info_record

    def record(text: str = "凌晨2时在监室内来回走动，情绪激动", **extra: Any) -> Any:
        rec = info_record(
            user=staff["patrol"],
            category="PATROL_ABNORMAL_BEHAVIOUR",
            text=text,
            detainee_id=held.id,
            **extra,
        )
        return rec.task

    return record
