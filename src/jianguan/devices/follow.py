"""The devices app follows the duty loop: when an alert's task is closed or cancelled, so is the
alert (as a false alarm when the officer said so)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from jianguan.devices.alerts import alert_close_for_task
from jianguan.duty.api import Task
from jianguan.outbox.api import DomainEvent, consumer

CLOSING = {"duty.task_closed", "duty.task_cancelled"}


@consumer("devices-follow-tasks")
def on_task_event(event: DomainEvent) -> None:
    if event.type not in CLOSING or event.aggregate_type != "task":
        return
    task = Task.objects.filter(id=event.aggregate_id, source__in=("DEVICE", "PREVENT")).first()
    if task is None:
        return
    with transaction.atomic():
        alert_close_for_task(task, now=timezone.now())
