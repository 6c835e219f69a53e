"""HTTP endpoints of the code tables."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from jianguan.codes.api import codes_of, resident_id_parse
from jianguan.codes.models import CodeTable
from jianguan.codes.schemas import CodeOut, ResidentIdIn, ResidentIdOut
from jianguan.core.errors import NotFound

router = Router(tags=["代码表"])


@router.post("/resident-id/check", response=ResidentIdOut, summary="校验居民身份证号码（GB 11643）")
def resident_id_check(request: HttpRequest, payload: ResidentIdIn) -> Any:
    return resident_id_parse(payload.number, field="number")


@router.get("/{table}", response=list[CodeOut], summary="代码表内容")
def table_entries(request: HttpRequest, table: str) -> Any:
    if not CodeTable.objects.filter(key=table.upper()).exists():
        raise NotFound("代码表")
    return codes_of(table.upper())
