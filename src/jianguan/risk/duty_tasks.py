"""Risk work becomes tasks in the duty loop: a grade rise at once, scheduled talks and reviews,
and the review of a leader's manual grade.

The categories (RISK_*) live in the duty pack. A facility that published its own duty pack
before they existed still gets the tasks: the built-in category is used, never silence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from jianguan.core.actor import Actor
from jianguan.duty.api import Task, TaskSource, category_in_force, task_open
from jianguan.risk.model import RiskModel

ACTOR = Actor.system("risk")


def risk_task_open(
    *,
    unit: Any,
    category_code: str,
    title: str,
    detail: str,
    source_ref: str,
    detainee_id: Any = None,
    cell_id: Any = None,
    post_kind: str | None = None,
    now: dt.datetime,
) -> Task | None:
    """Open a task once per `source_ref` (a redelivered event opens nothing new)."""
    if Task.objects.filter(source=TaskSource.RISK, source_ref=source_ref).exists():
        return None
    found = category_in_force(unit, category_code)
    if found is None or not found[2].task:
        return None
    version, pack, category = found
    return task_open(
        actor=ACTOR,
        unit=unit,
        pack_version=version,
        pack=pack,
        category=category,
        urgency=category.urgency,
        title=title,
        detail=detail,
        source=TaskSource.RISK,
        source_ref=source_ref,
        post_kind=post_kind,
        detainee_id=detainee_id,
        cell_id=cell_id,
        now=now,
    )


def grade_rise_task(
    *,
    detainee: Any,
    score: Any,
    was: str,
    moved: Sequence[dict[str, Any]],
    model: RiskModel,
    now: dt.datetime,
) -> Task | None:
    """The grade rose: the 管教 post is told at once, with what moved it and what the new grade
    requires."""
    new, old = model.grade(score.grade), model.grade(was)
    new_name = new.name if new else score.grade
    old_name = old.name if old else was
    causes = "；".join(f"{m['name']} {m['delta']:+g}" for m in moved[:5]) or "（人工调整）"
    measures = ""
    if new is not None:
        m = new.measures
        parts = [f"巡视间隔不超过 {m.patrol_minutes} 分钟"]
        if m.talk_days:
            parts.append(f"每 {m.talk_days} 天谈话教育一次")
        if m.review_days:
            parts.append(f"每 {m.review_days} 天复核一次")
        measures = "分级管理要求：" + "，".join(parts) + (f"。{m.note}" if m.note else "")
    return risk_task_open(
        unit=detainee.unit,
        category_code="RISK_GRADE_RISE",
        title=f"风险等级升高：{detainee.name}（{detainee.number}）{old_name} → {new_name}",
        detail=f"积分 {score.score:g}。变化：{causes}\n{measures}",
        source_ref=f"rise:{detainee.id.hex}:{int(now.timestamp())}",
        detainee_id=detainee.id,
        cell_id=detainee.cell_id,
        now=now,
    )
