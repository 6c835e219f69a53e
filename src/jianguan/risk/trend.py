"""History over time: the facility's distribution by grade, one row per day."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from jianguan.risk.models import CellRisk, GradeDaily, RiskScore
from jianguan.risk.scoring import distribution


def snapshot_today(now: dt.datetime | None = None) -> int:
    """Write (or refresh) today's distribution for every facility that has scores."""
    now = now or timezone.now()
    day = timezone.localtime(now).date()
    keys = set(RiskScore.objects.values_list("unit_id", "track").distinct()) | set(
        CellRisk.objects.values_list("unit_id", "track").distinct()
    )
    for unit_id, track in keys:
        counts = distribution(unit_id, track)
        version = (
            RiskScore.objects.filter(unit_id=unit_id, track=track)
            .values_list("model_version", flat=True)
            .first()
            or ""
        )
        with transaction.atomic():
            GradeDaily.objects.update_or_create(
                unit_id=unit_id,
                day=day,
                track=track,
                defaults={
                    "people": counts["people"],
                    "cells": counts["cells"],
                    "model_version": version,
                    "taken_at": now,
                },
            )
    return len(keys)
