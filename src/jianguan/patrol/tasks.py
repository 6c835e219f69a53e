"""The minute timers of welfare checks and cell duty (the services take `now=` for tests)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from jianguan.patrol.duty_watch import duty_check
from jianguan.patrol.welfare import lapses_open


@db_periodic_task(crontab(minute="*"))
@lock_task("patrol-lapses-open")
def lapses_open_task() -> None:
    lapses_open()


@db_periodic_task(crontab(minute="*"))
@lock_task("patrol-duty-check")
def duty_check_task() -> None:
    duty_check()
