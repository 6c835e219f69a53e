"""Scheduled risk work (huey): re-score after a new model, hourly decay, expiring overrides and
the day's distribution."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from jianguan.org.api import Unit
from jianguan.risk.full import rescore_all
from jianguan.risk.overrides import overrides_expire
from jianguan.risk.trend import snapshot_today

log = logging.getLogger(__name__)


@db_task()
def rescore_unit(unit_code: str, version: str) -> int:
    unit = Unit.objects.filter(code=unit_code).first() if unit_code else None
    with lock_task("risk-rescore"):
        return rescore_all(unit.path if unit else "", cause=f"风险模型 {version} 发布")


def rescore_unit_later(unit_code: str, version: str) -> None:
    try:
        rescore_unit(unit_code, version)
    except Exception:  # the hourly re-score applies the model anyway
        log.exception("could not enqueue the re-score for %s", unit_code)


@db_periodic_task(crontab(minute="7"))
def hourly() -> None:
    overrides_expire()
    with lock_task("risk-rescore"):
        rescore_all(cause="定时重算（动态因子衰减）")
    snapshot_today()
    from jianguan.risk.measures import measures_due

    with lock_task("risk-measures"):
        measures_due()  # graded management: talks and reviews that fell due
