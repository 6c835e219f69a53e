"""Helpers the custody pages share: who is acting, the form's errors, typed values, photos.

The custody pages are thin: a view reads through a selector and writes through a service. A
refused write renders the same form again with everything that was typed and the service's
message beside the field it names, so an officer on shift never types anything twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import FileResponse, HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from jianguan.audit.api import audit_record
from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError, NotFound
from jianguan.core.http import client_address
from jianguan.org.api import (
    UnitLevel,
    actor_for,
)

PAGE_SIZE = 50
BLANK_ITEM_ROWS = 3


def request_actor(request: HttpRequest) -> Actor:
    return actor_for(request.user, address=client_address(request))  # type: ignore[arg-type]


def form_errors(exc: DomainError) -> dict[str, str]:
    """The refusal as {field: message}; a page-level error (404, 403) is re-raised."""
    if exc.status != 400:
        raise exc
    return {exc.field or "__all__": exc.message}


def facility_of(user: Any) -> Any:
    """The user's own unit when it is a facility, else None."""
    unit = user.unit
    return unit if unit is not None and unit.level == UnitLevel.FACILITY else None


def local_input(value: dt.datetime | str | None) -> str:
    """An instant as the value of a datetime-local input (local time, to the minute)."""
    if not value:
        return ""
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            return value
        value = parsed
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def parse_moment(raw: str, *, field: str, required: bool = True) -> dt.datetime | None:
    """A datetime-local value as an aware instant, or a DomainError on the field."""
    raw = raw.strip()
    if not raw:
        if required:
            raise DomainError("REQUIRED", str(_("请填写时间")), field=field)
        return None
    value = parse_datetime(raw)
    if value is None:
        raise DomainError("BAD_DATETIME", str(_("时间格式应为 年-月-日 时:分")), field=field)
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def parse_uuid(raw: str, what: str) -> uuid.UUID:
    """An id from the URL or a form; a malformed one is the same NotFound as a missing one."""
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise NotFound(what) from None


def posted_values(request: HttpRequest) -> dict[str, Any]:
    return {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}


# --- 收押 ------------------------------------------------------------------------------------


def serve_photo(request: HttpRequest, record: Any, *, admission_id: str) -> FileResponse:
    audit_record(
        actor=request_actor(request),
        action="admission.photo_view",
        object_type="admission",
        object_id=admission_id,
        detail={"file": str(record.id), "purpose": record.purpose},
        wait_for_flush=False,
    )
    response = FileResponse(record.file.open("rb"), content_type=record.content_type)
    response["Cache-Control"] = "private, no-store"
    return response


# --- placement -------------------------------------------------------------------------------
