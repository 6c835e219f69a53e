"""HTTP endpoints of the devices app (mounted at /devices): a device's message by HTTP, the
registry, a facility's alerts and the messages refused at the door.

A device posting a message has no session and no token: the HMAC signature over the body, with
the device's own secret, is its credential (DESIGN.md §8), so that endpoint has `auth=None`.
It reads no cookie and acts for no user, so a forged cross-site request gains nothing that a
valid signature would not already have — CSRF is not a concern there, and ninja does not check
it for an operation without cookie auth. Everything else is for signed-in officers of one
facility: reading for the facility's leaders, administrators and patrol; changing the registry
for leaders and administrators only. Another facility's device answers 404 like a missing one.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest
from ninja import Query, Router, Status

from jianguan.core.errors import DomainError, NotFound, PermissionDenied
from jianguan.core.http import client_address
from jianguan.custody.api import access_detainee, audit_list_read
from jianguan.devices.api import (
    Alert,
    AlertState,
    Device,
    DeviceKind,
    DeviceStatus,
    Incoming,
    RejectedMessage,
    RejectReason,
    device_register,
    device_secret_rotate,
    device_set_status,
    ingest,
    topic_for,
)
from jianguan.devices.protocol import MAX_PAYLOAD
from jianguan.devices.schemas import (
    AlertFilter,
    AlertOut,
    DeviceFilter,
    DeviceIn,
    DeviceIssuedOut,
    DeviceOut,
    DevicePage,
    IngestOut,
    RefusalOut,
    RejectedFilter,
    RejectedOut,
    SecretOut,
)
from jianguan.housing.api import Cell
from jianguan.org.api import Perm, Unit, User, actor_for, has_perm

router = Router(tags=["设备"])

# How a refusal answers: the device's own fault in the message (400), a credential that does not
# hold (403), or a sequence number already used (409: a replay, or a resend of one applied).
REFUSAL_STATUS: dict[str, int] = {
    RejectReason.MALFORMED: 400,
    RejectReason.SCHEMA: 400,
    RejectReason.TOPIC_MISMATCH: 400,
    RejectReason.UNKNOWN_EVENT: 400,
    RejectReason.UNKNOWN_DEVICE: 403,
    RejectReason.DISABLED: 403,
    RejectReason.UNSIGNED: 403,
    RejectReason.BAD_SIGNATURE: 403,
    RejectReason.REPLAY: 409,
}
READERS = (Perm.LEAD, Perm.ADMINISTER, Perm.PATROL)
MANAGERS = (Perm.LEAD, Perm.ADMINISTER)
MAX_ROWS = 1000


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _actor(request: HttpRequest) -> Any:
    return actor_for(_user(request), address=client_address(request))


# --- a device's message ---------------------------------------------------------------------


@router.post(
    "/ingest/{unit}/{kind}/{device}/{event}",
    auth=None,
    response={
        202: IngestOut,
        400: RefusalOut,
        403: RefusalOut,
        409: RefusalOut,
        413: RefusalOut,
        503: RefusalOut,
    },
    summary="设备经 HTTP 上报一条消息（与 MQTT 相同的签名 JSON）",
)
def ingest_http(request: HttpRequest, unit: str, kind: str, device: str, event: str) -> Any:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_PAYLOAD:
        # Not read, so not kept: like a broker refusing a packet over its size limit.
        return Status(
            413,
            {"code": "TOO_LARGE", "message": f"消息过大（上限 {MAX_PAYLOAD} 字节），请精简 data"},
        )
    message = Incoming(topic_for(unit, kind, device, event), request.body, "HTTP")
    try:
        verdicts, _tally = ingest([message])
    except (OperationalError, InterfaceError):
        return Status(
            503, {"code": "UNAVAILABLE", "message": "暂时无法入库，请保留该消息并稍后按原序号重发"}
        )
    verdict = verdicts[0]
    if verdict.accepted:
        return Status(202, {"accepted": True, "alert": verdict.alert_id})
    return Status(
        REFUSAL_STATUS.get(verdict.reason, 400), {"code": verdict.reason, "message": verdict.detail}
    )


# --- the registry ---------------------------------------------------------------------------


def _facility(request: HttpRequest, perms: tuple[Perm, ...], doing: str) -> Unit:
    """The caller's own facility, if one of their posts may do this."""
    user = _user(request)
    if not any(has_perm(user, p) for p in perms):
        raise PermissionDenied(f"只有{'、'.join(p.label for p in perms)}岗位可以{doing}")
    unit = user.unit
    if unit is None or unit.level != "FACILITY":
        raise PermissionDenied(f"只有监所的民警可以{doing}")
    return unit


def _device_of(unit: Unit, device_id: uuid.UUID) -> Device:
    device = Device.objects.select_related("unit", "cell").filter(unit=unit, id=device_id).first()
    if device is None:
        raise NotFound("设备")
    return device


def _device(d: Device) -> dict[str, Any]:
    return {
        "id": d.id,
        "code": d.code,
        "kind": d.kind,
        "kind_name": DeviceKind(d.kind).label,
        "name": d.name,
        "location_kind": d.location_kind,
        "cell_id": d.cell_id,
        "cell_number": d.cell.number if d.cell else "",
        "area": d.area,
        "detainee_id": d.detainee_id,
        "status": d.status,
        "status_name": DeviceStatus(d.status).label,
        "silent_after_seconds": d.silent_after_seconds,
        "last_seen_at": d.last_seen_at,
        "last_seq": d.last_seq,
        "messages": d.messages,
        "created_at": d.created_at,
    }


def _audit_people(request: HttpRequest, view: str, ids: list[Any]) -> None:
    """Record whose records a list showed (DESIGN.md §4: reads of personal data)."""
    ids = list(dict.fromkeys(i for i in ids if i))
    if ids:
        audit_list_read(actor=_actor(request), ids=ids, query={"view": view})


@router.get("", response=DevicePage, summary="本所登记的设备")
def device_list(request: HttpRequest, filters: Query[DeviceFilter]) -> dict[str, Any]:
    unit = _facility(request, READERS, "查看设备")
    rows = Device.objects.select_related("cell").filter(unit=unit).order_by("kind", "code")
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.status:
        rows = rows.filter(status=filters.status)
    limit, offset = max(1, min(filters.limit, MAX_ROWS)), max(0, filters.offset)
    page = list(rows[offset : offset + limit])
    _audit_people(request, "devices", [d.detainee_id for d in page])
    return {"count": rows.count(), "items": [_device(d) for d in page]}


@router.post("", response={201: DeviceIssuedOut}, summary="登记设备（密钥只在此时给出一次）")
def device_new(request: HttpRequest, payload: DeviceIn) -> Any:
    unit = _facility(request, MANAGERS, "登记设备")
    cell = None
    if payload.cell_id is not None:
        cell = Cell.objects.filter(unit=unit, id=payload.cell_id).first()
        if cell is None:
            raise DomainError("NOT_IN_UNIT", "本所没有该监室", field="cell_id")
    detainee = None
    if payload.detainee_id is not None:
        detainee = access_detainee(
            user=_user(request), actor=_actor(request), id=payload.detainee_id
        )
        if detainee.unit_id != unit.id:
            raise DomainError("NOT_IN_UNIT", "该人员不在本所羁押", field="detainee_id")
    device, secret = device_register(
        actor=_actor(request),
        unit=unit,
        code=payload.code.strip(),
        kind=payload.kind,
        name=payload.name,
        location_kind=payload.location_kind,
        cell=cell,
        area=payload.area,
        detainee=detainee,
        silent_after_seconds=payload.silent_after_seconds,
    )
    return Status(201, {"device": _device(device), "secret": secret})


@router.post(
    "/{device_id}/rotate-secret", response=SecretOut, summary="重新签发设备密钥（旧密钥即时失效）"
)
def device_rotate(request: HttpRequest, device_id: uuid.UUID) -> dict[str, Any]:
    unit = _facility(request, MANAGERS, "更换设备密钥")
    device = _device_of(unit, device_id)
    return {"secret": device_secret_rotate(actor=_actor(request), device=device)}


@router.post("/{device_id}/disable", response=DeviceOut, summary="停用设备（其消息被拒收）")
def device_disable(request: HttpRequest, device_id: uuid.UUID) -> dict[str, Any]:
    unit = _facility(request, MANAGERS, "停用设备")
    device = _device_of(unit, device_id)
    return _device(device_set_status(actor=_actor(request), device=device, enabled=False))


@router.post("/{device_id}/enable", response=DeviceOut, summary="启用设备")
def device_enable(request: HttpRequest, device_id: uuid.UUID) -> dict[str, Any]:
    unit = _facility(request, MANAGERS, "启用设备")
    device = _device_of(unit, device_id)
    return _device(device_set_status(actor=_actor(request), device=device, enabled=True))


# --- alerts and refused messages ------------------------------------------------------------


def _alert(a: Alert) -> dict[str, Any]:
    return {
        **{f: getattr(a, f) for f in AlertOut.model_fields if hasattr(a, f)},
        "device_code": a.device.code if a.device else None,
        "cell_number": a.cell.number if a.cell else "",
    }


@router.get("/alerts", response=list[AlertOut], summary="本所设备告警（默认处置中的）")
def alert_list(request: HttpRequest, filters: Query[AlertFilter]) -> list[dict[str, Any]]:
    unit = _facility(request, READERS, "查看设备告警")
    rows = Alert.objects.select_related("device", "cell").filter(unit=unit)
    if filters.state:
        if filters.state not in AlertState.values:
            raise DomainError("BAD_STATE", "state 应为 OPEN 或 CLOSED", field="state")
        rows = rows.filter(state=filters.state)
    alerts = list(rows.order_by("-last_at")[: max(1, min(filters.limit, MAX_ROWS))])
    _audit_people(request, "device_alerts", [a.detainee_id for a in alerts])
    return [_alert(a) for a in alerts]


@router.get("/rejected", response=list[RejectedOut], summary="本所被拒收的设备消息（留存备查）")
def rejected_list(request: HttpRequest, filters: Query[RejectedFilter]) -> list[dict[str, Any]]:
    unit = _facility(request, READERS, "查看被拒消息")
    rows = RejectedMessage.objects.filter(unit_code=unit.code)
    if filters.reason:
        rows = rows.filter(reason=filters.reason)
    return [
        {
            **{f: getattr(r, f) for f in RejectedOut.model_fields if hasattr(r, f)},
            "reason_name": RejectReason(r.reason).label,
        }
        for r in rows.order_by("-received_at")[: max(1, min(filters.limit, MAX_ROWS))]
    ]
