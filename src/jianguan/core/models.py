"""Base model with a UUIDv7 primary key."""

from __future__ import annotations

from django.db import models

from jianguan.core.ids import uuid7


class UUIDModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)

    class Meta:
        abstract = True
