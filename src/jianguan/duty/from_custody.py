"""Deadline notices and overdue alerts of the custody core become tasks in the duty loop, and
a notice task's feedback is the notice's handling record (one act, not two)."""

from __future__ import annotations

import uuid

from django.utils import timezone

from jianguan.core.actor import Actor
from jianguan.custody.api import DeadlineNotice, notice_handle
from jianguan.duty.lifecycle import duty_pack, task_open, task_settle
from jianguan.duty.models import Outcome, Task, TaskSource, TaskState
from jianguan.org.api import Unit
from jianguan.outbox.api import DomainEvent, consumer

ACTOR = Actor.system("duty-from-custody")

# Event type → the category of the duty pack it opens.
NOTICE_CATEGORIES = {
    "custody.deadline_notice": "DEADLINE_NOTICE",
    "custody.deadline_expired": "DEADLINE_EXPIRED",
}


@consumer("duty-from-custody")
def on_custody_event(event: DomainEvent) -> None:
    if event.type in NOTICE_CATEGORIES:
        _open_notice_task(event)
    elif event.type == "duty.task_handled":
        _handle_notice(event)
    elif event.type == "custody.notice_handled":
        _settle_task(event)


def _open_notice_task(event: DomainEvent) -> None:
    notice_id = event.payload["notice"]
    if Task.objects.filter(source=TaskSource.NOTICE, source_ref=notice_id).exists():
        return  # delivered before
    notice = DeadlineNotice.objects.filter(id=notice_id).first()
    if notice is None or notice.handled_at is not None:
        return
    unit = Unit.objects.get(code=event.unit_code)
    version, pack = duty_pack(unit)
    category = pack.category(NOTICE_CATEGORIES[event.type])
    if category is None or not category.task:
        return  # this facility's pack does not route deadline notices into the duty loop
    p = event.payload
    title = f"{p['label']}{'即将届满' if category.code == 'DEADLINE_NOTICE' else '已届满'}：{p['name']}（{p['number']}）"
    task_open(
        actor=ACTOR,
        unit=unit,
        pack_version=version,
        pack=pack,
        category=category,
        urgency=category.urgency,
        title=title,
        detail=f"通知对象：{notice.recipient}\n{notice.text}",
        source=TaskSource.NOTICE,
        source_ref=notice_id,
        detainee_id=uuid.UUID(str(notice.detainee_id)),
        now=timezone.now(),
    )


def _handle_notice(event: DomainEvent) -> None:
    task = Task.objects.filter(id=event.aggregate_id, source=TaskSource.NOTICE).first()
    if task is None or task.state not in (TaskState.HANDLED, TaskState.CLOSED):
        return
    notice = DeadlineNotice.objects.filter(id=task.source_ref, handled_at__isnull=True).first()
    if notice is None:
        return
    outcome = Outcome(task.outcome).label if task.outcome else ""
    notice_handle(
        actor=Actor.system(event.actor_name or "duty"),
        notice=notice,
        note=f"{outcome}：{task.feedback}（任务反馈）",
    )


def _settle_task(event: DomainEvent) -> None:
    """The notice was handled on the notices page: its task is done too."""
    task = Task.objects.filter(source=TaskSource.NOTICE, source_ref=event.payload["notice"]).first()
    if task is None or task.state in (TaskState.CLOSED, TaskState.CANCELLED):
        return
    task_settle(
        task=task,
        actor=ACTOR,
        note=f"已在期限通知页处理（{event.actor_name}）：{event.payload.get('note', '')}",
    )
