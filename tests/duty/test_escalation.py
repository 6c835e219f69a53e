"""Escalation on schedule: a task not accepted or not handled in time moves up the chain
post → 分控 → 指挥中心 → 所领导, each step recorded; tests drive the clock."""

from __future__ import annotations

import datetime as dt

import pytest

from jianguan.duty.api import (
    TaskStep,
    escalate_due,
    is_overdue,
    task_accept,
    task_handle,
    tasks_mine,
)

pytestmark = pytest.mark.django_db

MIN = dt.timedelta(minutes=1)


def test_not_accepted_in_time_climbs_the_chain(staff, anomaly):
    task = anomaly()  # HIGH: accept within 5 min; each level then has 5 min
    start = task.created_at
    assert escalate_due(start + 4 * MIN) == 0
    assert escalate_due(start + 5 * MIN + dt.timedelta(seconds=1)) == 1
    task.refresh_from_db()
    assert (task.escalation_level, task.escalated_to) == (1, "SUBCONTROL")
    assert task in tasks_mine(staff["subcontrol"])
    assert task not in tasks_mine(staff["command"])
    assert is_overdue(task, start + 6 * MIN)

    assert escalate_due(start + 9 * MIN) == 0  # 分控 has until 5 min after its step
    assert escalate_due(start + 11 * MIN) == 1
    task.refresh_from_db()
    assert task.escalated_to == "COMMAND"
    assert escalate_due(start + 17 * MIN) == 1
    task.refresh_from_db()
    assert (task.escalation_level, task.escalated_to, task.escalate_at) == (3, "LEADER", None)
    assert task in tasks_mine(staff["leader"])
    assert escalate_due(start + 60 * MIN) == 0  # the top: it stays on the leader's list

    steps = TaskStep.objects.filter(task=task, action="escalated").order_by("at")
    assert [s.note for s in steps] == [
        "未按时接收，上报分控",
        "未按时接收，上报指挥中心",
        "未按时接收，上报所领导",
    ]
    assert all(s.actor_name == "duty-escalation" for s in steps)


def test_accepted_but_not_handled_escalates_at_the_handling_limit(staff, anomaly):
    task = task_accept(user=staff["custodian"], task=anomaly())
    assert task.escalate_at == task.handle_due
    assert escalate_due(task.handle_due - MIN) == 0
    assert escalate_due(task.handle_due + MIN) == 1
    task.refresh_from_db()
    assert task.escalated_to == "SUBCONTROL"
    note = TaskStep.objects.get(task=task, action="escalated").note
    assert note == "未按时办结，上报分控"


def test_a_closed_task_never_escalates(staff, anomaly):
    task = task_accept(user=staff["custodian"], task=anomaly())
    task_handle(user=staff["custodian"], task=task, feedback="已处置", outcome="RESOLVED")
    assert escalate_due(task.handle_due + 60 * MIN) == 0


def test_escalation_runs_from_the_scheduled_worker(staff, anomaly, monkeypatch):
    from django.utils import timezone

    from jianguan.duty import tasks

    task = anomaly()
    later = task.accept_due + MIN
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert tasks.escalate_overdue.call_local() == 1
    task.refresh_from_db()
    assert task.escalated_to == "SUBCONTROL"
