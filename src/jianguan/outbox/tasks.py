"""Background delivery of outbox events (huey): woken after each commit, swept every minute."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task
from huey.exceptions import TaskLockedException

from jianguan.outbox import api


def _deliver_until_idle() -> int:
    """Deliver until nothing is pending. If another run holds the lock, leave it to that run:
    it loops until idle, so it also takes the events whose wake-up found it busy."""
    handled = 0
    try:
        with lock_task("outbox-deliver"):
            while batch := api.deliver():
                handled += batch
    except TaskLockedException:
        return 0
    return handled


@db_task()
def deliver_pending() -> int:
    return _deliver_until_idle()


@db_periodic_task(crontab(minute="*"))
def sweep() -> int:
    """Catch anything a lost wake-up left behind (the queue was down at commit, or an event
    committed just as the busy run finished)."""
    return _deliver_until_idle()
