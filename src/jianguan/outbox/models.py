"""Domain events and the record of which consumer has handled which event."""

from __future__ import annotations

from django.db import models

from jianguan.core.models import UUIDModel


class Event(UUIDModel):
    """An immutable fact: who did what, when, in which unit, with a versioned payload."""

    type = models.CharField("事件类型", max_length=64, db_index=True)
    schema_version = models.PositiveSmallIntegerField("数据版本", default=1)
    occurred_at = models.DateTimeField("发生时间")
    recorded_at = models.DateTimeField("写入时间", db_index=True)
    unit_code = models.CharField("单位代码", max_length=32, db_index=True)
    actor_id = models.UUIDField(null=True)
    actor_name = models.CharField(max_length=150)
    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.CharField(max_length=64, db_index=True)
    payload = models.JSONField(default=dict)

    class Meta:
        verbose_name = "领域事件"
        verbose_name_plural = "领域事件"
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.type} {self.aggregate_id}"


class Consumption(models.Model):
    """Consumer `consumer` has handled event `event_id`; written in the handler's transaction."""

    consumer = models.CharField(max_length=64)
    event_id = models.UUIDField()
    recorded_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["consumer", "event_id"], name="consumption_once")
        ]

    def __str__(self) -> str:
        return f"{self.consumer}:{self.event_id}"


class ConsumerState(models.Model):
    """How far a consumer has read, and its last failure (shown to administrators)."""

    consumer = models.CharField(max_length=64, primary_key=True)
    cursor = models.DateTimeField(null=True)
    handled = models.BigIntegerField(default=0)
    failures = models.BigIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_error_event = models.UUIDField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.consumer
