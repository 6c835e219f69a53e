from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from jianguan.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only."""

    list_display = [
        "seq",
        "at",
        "username",
        "unit_code",
        "posts",
        "action",
        "object_type",
        "outcome",
        "address",
    ]
    list_filter = ["action", "outcome"]
    search_fields = ["username", "object_id", "unit_code"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
