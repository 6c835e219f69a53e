"""Exchange schemas of the devices API: a device's message answered, the registry, alerts and
refused messages.

Fields a service checks default to empty so that a missing value reaches the service and is
refused with its own message and field (400), rather than as a bare schema error.
"""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Schema

# --- ingest by HTTP -------------------------------------------------------------------------


class IngestOut(Schema):
    accepted: bool
    alert: uuid.UUID | None  # the alert the message raised or folded into


class RefusalOut(Schema):
    code: str  # a RejectReason value, or TOO_LARGE / UNAVAILABLE
    message: str


# --- the registry ---------------------------------------------------------------------------


class DeviceIn(Schema):
    code: str = ""
    kind: str = ""
    name: str = ""
    location_kind: str = ""
    cell_id: uuid.UUID | None = None
    area: str = ""
    detainee_id: uuid.UUID | None = None  # who wears it (wearables and ankle monitors)
    silent_after_seconds: int = 300


class DeviceOut(Schema):
    id: uuid.UUID
    code: str
    kind: str
    kind_name: str
    name: str
    location_kind: str
    cell_id: uuid.UUID | None
    cell_number: str
    area: str
    detainee_id: uuid.UUID | None
    status: str
    status_name: str
    silent_after_seconds: int
    last_seen_at: dt.datetime | None
    last_seq: int
    messages: int
    created_at: dt.datetime


class DeviceFilter(Schema):
    kind: str | None = None
    status: str | None = None
    limit: int = 200
    offset: int = 0


class DevicePage(Schema):
    count: int
    items: list[DeviceOut]


class DeviceIssuedOut(Schema):
    """A device with its secret: shown this once, to configure the device."""

    device: DeviceOut
    secret: str


class SecretOut(Schema):
    secret: str


# --- alerts and refused messages ------------------------------------------------------------


class AlertFilter(Schema):
    state: str | None = "OPEN"  # OPEN / CLOSED; empty for both
    limit: int = 200


class AlertOut(Schema):
    id: uuid.UUID
    type: str
    name: str
    severity: str
    device_code: str | None
    cell_id: uuid.UUID | None
    cell_number: str
    detainee_id: uuid.UUID | None
    area: str
    detail: str
    first_at: dt.datetime
    last_at: dt.datetime
    count: int
    state: str
    false_alarm: bool
    task_id: uuid.UUID | None


class RejectedFilter(Schema):
    reason: str | None = None
    limit: int = 100


class RejectedOut(Schema):
    id: uuid.UUID
    received_at: dt.datetime
    transport: str
    topic: str
    device_code: str
    reason: str
    reason_name: str
    detail: str
    payload: str
