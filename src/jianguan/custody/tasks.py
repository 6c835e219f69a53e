"""Background work of custody (huey): the deadline watch runs every minute."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task
from huey.exceptions import TaskLockedException

from jianguan.custody.notices import deadline_watch


@db_periodic_task(crontab(minute="*"))
def watch_deadlines() -> dict[str, int]:
    try:
        with lock_task("deadline-watch"):
            return deadline_watch()
    except TaskLockedException:
        return {}
