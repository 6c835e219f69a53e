"""Background delivery of outbox events (huey): woken after each commit, swept every minute."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from jianguan.outbox import api


@db_task(retries=3, retry_delay=1)  # a locked run means another delivery is under way
def deliver_pending() -> int:
    with lock_task("outbox-deliver"):
        return api.deliver()


@db_periodic_task(crontab(minute="*"))
def sweep() -> int:
    """Catch anything a lost wake-up left behind (e.g. the queue was down at commit)."""
    with lock_task("outbox-deliver"):
        return api.deliver()
