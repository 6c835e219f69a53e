from __future__ import annotations

from django.db import models


class ActivityItem(models.Model):
    """One line of the feed, derived from one outbox event."""

    event_id = models.UUIDField(unique=True)
    unit_code = models.CharField(max_length=32, db_index=True)
    at = models.DateTimeField(db_index=True)
    actor_name = models.CharField(max_length=150)
    event_type = models.CharField(max_length=64)
    summary = models.CharField(max_length=300)

    class Meta:
        verbose_name = "动态"
        verbose_name_plural = "动态"
        ordering = ["-at"]

    def __str__(self) -> str:
        return self.summary
