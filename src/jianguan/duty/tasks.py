"""Background work of the duty loop (huey): escalate overdue tasks every minute."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task
from huey.exceptions import TaskLockedException

from jianguan.duty.lifecycle import escalate_due


@db_periodic_task(crontab(minute="*"))
def escalate_overdue() -> int:
    try:
        with lock_task("duty-escalate"):
            total = 0
            while moved := escalate_due():
                total += moved
            return total
    except TaskLockedException:
        return 0
