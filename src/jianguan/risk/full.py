"""Re-score everyone held in a subtree: after a new model is published, and hourly so that
dynamic facts fade on time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils import timezone

from jianguan.custody.api import HELD_STATUSES, Detainee
from jianguan.risk.scoring import rescore_person

Progress = Callable[[int, int], None]


def rescore_all(
    unit_path: str = "",
    *,
    cause: str,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> int:
    """Re-score every person held under `unit_path` ("" = the whole node); return how many."""
    now = now or timezone.now()
    people = Detainee.objects.filter(status__in=HELD_STATUSES)
    if unit_path:
        people = people.filter(unit__path__startswith=unit_path)
    ids = list(people.order_by("id").values_list("id", flat=True))
    for done, detainee_id in enumerate(ids, start=1):
        rescore_person(detainee_id, cause=cause, now=now)
        if progress is not None:
            progress(done, len(ids))
    return len(ids)
