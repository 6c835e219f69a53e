"""Administration of code tables: entries are edited through the codes service (audited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from jianguan.codes.api import code_entry_save
from jianguan.codes.models import CodeEntry, CodeTable
from jianguan.core.actor import actor_of
from jianguan.core.http import client_address


@admin.register(CodeTable)
class CodeTableAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "standard", "version", "revision", "updated_at"]
    readonly_fields = ["key", "standard", "version", "revision", "updated_at"]
    fields = ["key", "name", "name_en", "standard", "version", "revision", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tables arrive with `jianguan codes load`

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CodeEntry)
class CodeEntryAdmin(admin.ModelAdmin):
    list_display = ["table", "code", "name", "name_en", "parent_code", "is_active"]
    list_filter = ["table", "is_active"]
    search_fields = ["code", "name", "name_en"]

    def save_model(self, request: HttpRequest, obj: CodeEntry, form: Any, change: bool) -> None:
        actor = actor_of(request.user, address=client_address(request))
        code_entry_save(actor=actor, entry=obj, created=not change)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: old records keep their codes
