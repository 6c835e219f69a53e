"""`jianguan duty`: `escalate` moves each due task one level once and says how many moved;
`catalogue` prints the pack in force — the built-in one, or a facility's published version."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from jianguan.core.actor import Actor
from jianguan.duty.api import Task, TaskStep
from jianguan.duty.catalogue import BUILTIN_PATH
from jianguan.rules.api import pack_publish

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("duty", *args, stdout=out)
    return out.getvalue()


def _recorded_ago(task: Any, minutes: int) -> None:
    """Set the task's clock back, as if it had been recorded `minutes` ago (the command reads
    the wall clock)."""
    shift = dt.timedelta(minutes=minutes)
    Task.objects.filter(id=task.id).update(
        created_at=task.created_at - shift,
        dispatched_at=task.dispatched_at - shift,
        accept_due=task.accept_due - shift,
        handle_due=task.handle_due - shift,
        escalate_at=task.escalate_at - shift,
    )


def test_escalate_moves_due_tasks_once_and_says_how_many(staff, anomaly):
    late, fresh = anomaly(), anomaly("又在走动")
    _recorded_ago(late, 6)  # HIGH: accept within 5 minutes
    assert _run("escalate") == "已上报 1 项任务\n"
    late.refresh_from_db()
    assert (late.escalation_level, late.escalated_to) == (1, "SUBCONTROL")
    assert late.escalate_at > timezone.now()  # 分控 now has its own 5 minutes
    fresh.refresh_from_db()
    assert (fresh.escalation_level, fresh.escalated_to) == (0, "")
    assert TaskStep.objects.filter(task=late, action="escalated").count() == 1
    # Run again at once: nothing further is due.
    assert _run("escalate") == "已上报 0 项任务\n"


def test_catalogue_prints_the_builtin_pack(tree):
    out = _run("catalogue")
    lines = out.splitlines()
    assert lines[0] == "动态信息目录与任务路由（全国内置默认，实践做法）"
    assert lines[1] == "版本 2026.3 · 适用 全国 · 来源 内置默认"
    assert "重要：接收 5 分钟，办结 60 分钟，升级后 5 分钟" in lines
    assert "逐级上报：分控 → 指挥中心 → 所领导" in lines
    assert (
        "PATROL_ABNORMAL_BEHAVIOUR\t异常行为\t巡控、分控、指挥中心\t"
        "任务 → 管教（重要，接收 5 分钟，办结 60 分钟）\t实践做法"
    ) in lines
    assert "CUSTODIAN_TALK_FINDING\t谈话发现\t管教\t仅记录\t实践做法" in lines
    assert any(line.startswith("DEADLINE_NOTICE\t") and "\t平台生成\t" in line for line in lines)


def test_catalogue_for_a_unit_prints_its_published_version(tree):
    text = (
        BUILTIN_PATH.read_text(encoding="utf-8")
        .replace('version: "2026.3"', 'version: "2026.2-gz1"')
        .replace(
            "categories:\n",
            "categories:\n"
            "  - code: PATROL_LIGHT_OFF\n"
            '    name: "监室照明故障"\n'
            "    recorded_by: [PATROL]\n"
            "    task: true\n"
            "    handler: SUBCONTROL\n"
            "    urgency: HIGH\n"
            "    verify: true\n"
            "    basis: law\n"
            '    article: "看守所条例第十九条"\n',
            1,
        )
    )
    record = pack_publish(actor=Actor.system("test"), kind="duty", text=text, unit_code="440100K01")
    lines = _run("catalogue", "--unit", "440100K01").splitlines()
    assert lines[1] == f"版本 2026.2-gz1 · 适用 440100K01 · 来源 {record.id}"
    assert (
        "PATROL_LIGHT_OFF\t监室照明故障\t巡控\t"
        "任务 → 分控（重要，接收 5 分钟，办结 60 分钟，须核验）\t法律：看守所条例第十九条"
    ) in lines
    # Another facility still has the built-in pack.
    assert _run("catalogue", "--unit", "440300K01").splitlines()[1].startswith("版本 2026.3 ·")


def test_catalogue_for_an_unknown_unit_is_an_error(tree):
    with pytest.raises(CommandError, match="没有代码为 999999 的单位"):
        _run("catalogue", "--unit", "999999")
