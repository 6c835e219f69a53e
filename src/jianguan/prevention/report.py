"""The talk report (谈话教育落实情况): per trigger and officer, how many talks were held on time,
held late, missed (past the deadline and still not held) and pending; and the open ones with their
deadlines. Computed from the reminders; nothing is typed in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from jianguan.duty.api import Task
from jianguan.prevention.models import TalkReminder, TalkState, TalkTrigger

NOBODY = "（未接收）"


@dataclass
class Line:
    trigger: str
    trigger_name: str
    officer: str
    on_time: int = 0
    late: int = 0
    missed: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.on_time + self.late + self.missed + self.pending


@dataclass
class TalkReport:
    since: dt.datetime
    until: dt.datetime
    as_of: dt.datetime
    lines: list[Line] = field(default_factory=list)
    total: Line = field(default_factory=lambda: Line("", "合计", ""))
    open: list[TalkReminder] = field(default_factory=list)


def status_of(reminder: TalkReminder, now: dt.datetime) -> str:
    if reminder.state == TalkState.DONE and reminder.done_at is not None:
        return "on_time" if reminder.done_at <= reminder.due_at else "late"
    return "missed" if now > reminder.due_at else "pending"


def talk_report(
    unit: Any, *, since: dt.datetime, until: dt.datetime, now: dt.datetime
) -> TalkReport:
    report = TalkReport(since=since, until=until, as_of=now)
    reminders = list(
        TalkReminder.objects.filter(unit=unit, triggered_at__gte=since, triggered_at__lt=until)
        .exclude(state=TalkState.CANCELLED)
        .select_related("detainee")
        .order_by("due_at")
    )
    task_ids = [r.task_id for r in reminders if r.task_id and r.state == TalkState.OPEN]
    holders = {
        t.id: (t.assignee.full_name or t.assignee.username) if t.assignee else NOBODY
        for t in Task.objects.filter(id__in=task_ids).select_related("assignee")
    }
    lines: dict[tuple[str, str], Line] = {}
    order = {code: i for i, code in enumerate(TalkTrigger.values)}
    for r in reminders:
        officer = (
            r.done_by
            if r.state == TalkState.DONE
            else holders.get(r.task_id, NOBODY)
            if r.task_id
            else NOBODY
        )
        officer = officer or NOBODY
        key = (r.trigger, officer)
        if key not in lines:
            lines[key] = Line(r.trigger, TalkTrigger(r.trigger).label, officer)
        status = status_of(r, now)
        setattr(lines[key], status, getattr(lines[key], status) + 1)
        setattr(report.total, status, getattr(report.total, status) + 1)
        if r.state == TalkState.OPEN:
            r.officer = officer  # type: ignore[attr-defined]
            r.overdue = now > r.due_at  # type: ignore[attr-defined]
            report.open.append(r)
    report.lines = sorted(lines.values(), key=lambda x: (order.get(x.trigger, 99), x.officer))
    return report


def talks_of(detainee_id: Any) -> list[TalkReminder]:
    return list(TalkReminder.objects.filter(detainee_id=detainee_id).order_by("-triggered_at")[:50])
