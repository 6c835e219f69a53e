"""Public face of the duty loop: record, route, move tasks along, and the selectors screens use."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from jianguan.duty.catalogue import Category, DutyPack
from jianguan.duty.lifecycle import (
    TaskConflict,
    access_task,
    category_in_force,
    duty_pack,
    escalate_due,
    is_overdue,
    post_label,
    task_accept,
    task_cancel,
    task_create_manual,
    task_dispatch,
    task_handle,
    task_open,
    task_return,
    task_set_urgency,
    task_settle,
    task_verify,
)
from jianguan.duty.models import (
    OPEN_STATES,
    InfoRecord,
    Outcome,
    ShiftAssignment,
    Task,
    TaskSource,
    TaskState,
    TaskStep,
    Urgency,
)
from jianguan.duty.records import catalogue_for, info_record
from jianguan.duty.roster import on_shift, shift_add, shifts_between
from jianguan.org.api import Perm, User, has_perm, post_kinds

__all__ = [
    "OPEN_STATES",
    "Category",
    "DutyPack",
    "InfoRecord",
    "Outcome",
    "ShiftAssignment",
    "Task",
    "TaskConflict",
    "TaskSource",
    "TaskState",
    "TaskStep",
    "Urgency",
    "access_task",
    "catalogue_for",
    "category_in_force",
    "duty_pack",
    "escalate_due",
    "info_record",
    "is_overdue",
    "on_shift",
    "post_label",
    "shift_add",
    "shifts_between",
    "task_accept",
    "task_cancel",
    "task_create_manual",
    "task_dispatch",
    "task_handle",
    "task_open",
    "task_return",
    "task_set_urgency",
    "task_settle",
    "task_verify",
]

# Most urgent first, then the nearest time limit.
URGENCY_ORDER = ["URGENT", "HIGH", "NORMAL"]


def _ordered(qs: QuerySet[Task]) -> list[Task]:
    rows = list(qs.select_related("assignee", "detainee", "cell"))
    rows.sort(key=lambda t: (URGENCY_ORDER.index(t.urgency), t.handle_due))
    return rows


def tasks_mine(user: User) -> list[Task]:
    """Open tasks waiting for this officer: sent to a post they hold (and to nobody in
    particular or to them), taken by them, or escalated to a post they hold."""
    if user.unit_id is None:
        return []
    posts = post_kinds(user)
    qs = Task.objects.filter(unit_id=user.unit_id, state__in=OPEN_STATES).filter(
        Q(post_kind__in=posts, assignee__isnull=True) | Q(assignee=user) | Q(escalated_to__in=posts)
    )
    return _ordered(qs)


def tasks_open(user: User) -> list[Task]:
    """Every open task of the officer's facility (for command posts and leaders)."""
    if user.unit_id is None or not has_perm(user, Perm.TASK_DISPATCH):
        return []
    return _ordered(Task.objects.filter(unit_id=user.unit_id, state__in=OPEN_STATES))


def tasks_closed_recently(user: User, *, since: dt.datetime) -> QuerySet[Task]:
    if user.unit_id is None or not has_perm(user, Perm.TASK_DISPATCH):
        return Task.objects.none()
    return (
        Task.objects.filter(
            unit_id=user.unit_id,
            state__in=(TaskState.CLOSED, TaskState.CANCELLED),
            closed_at__gte=since,
        )
        .select_related("assignee")
        .order_by("-closed_at")
    )


def task_steps(task: Task) -> QuerySet[TaskStep]:
    return task.steps.select_related("actor").order_by("at", "id")


def records_recent(user: User, *, limit: int = 20) -> QuerySet[InfoRecord]:
    """What this officer recorded lately, with the task each became."""
    return (
        InfoRecord.objects.filter(recorded_by=user)
        .select_related("detainee", "cell", "task")
        .order_by("-recorded_at")[:limit]
    )


def task_counts(unit_id: Any, now: dt.datetime | None = None) -> dict[str, int]:
    """Open, overdue and escalated tasks of a facility (the command screen's headline)."""
    now = now or timezone.now()
    open_ = Task.objects.filter(unit_id=unit_id, state__in=OPEN_STATES)
    waiting = open_.exclude(state=TaskState.HANDLED)
    overdue = waiting.filter(
        Q(state=TaskState.DISPATCHED, accept_due__lt=now) | Q(handle_due__lt=now)
    )
    return {
        "open": open_.count(),
        "overdue": overdue.count(),
        "escalated": waiting.filter(escalation_level__gt=0).count(),
        "urgent": waiting.filter(urgency=Urgency.URGENT).count(),
    }


# --- assessment (监督考核): generated from the task records ---------------------------------

from jianguan.duty.assessment import (  # noqa: E402
    PERIOD_KINDS,
    Assessment,
    Figures,
    Period,
    TaskLine,
    assessment_for,
    facility_assessment,
    may_see_facility,
    month_parse,
    p90,
    period_of,
    period_parse,
)
from jianguan.duty.ledger import CONTENT_TYPE as LEDGER_CONTENT_TYPE  # noqa: E402
from jianguan.duty.ledger import ledger_filename, ledger_workbook  # noqa: E402

__all__ += [
    "LEDGER_CONTENT_TYPE",
    "PERIOD_KINDS",
    "Assessment",
    "Figures",
    "Period",
    "TaskLine",
    "assessment_for",
    "facility_assessment",
    "ledger_filename",
    "ledger_workbook",
    "may_see_facility",
    "month_parse",
    "p90",
    "period_of",
    "period_parse",
]
