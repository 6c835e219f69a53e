"""Read the activity feed for the units a user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from jianguan.activity.consumers import summarise
from jianguan.activity.models import ActivityItem

__all__ = ["recent_activity", "summarise"]


def recent_activity(
    *, unit_codes: QuerySet[Any] | list[str], limit: int = 20
) -> list[ActivityItem]:
    return list(ActivityItem.objects.filter(unit_code__in=unit_codes).order_by("-at")[:limit])
