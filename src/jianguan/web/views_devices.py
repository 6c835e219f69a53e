"""Device pages (设备告警): the 巡控 / 指挥中心 alert screen, the device registry with false-alarm
figures, and the messages ingest refused.

The alert screen is rendered whole and then re-fetched as a fragment whenever the live stream
says something changed at the facility (an alert raised, repeated or closed, its task accepted),
so a screen left open on the command desk stays current without a reload. A device's secret is
shown once, on the page that issued it, and never again.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from jianguan.core.errors import DomainError, NotFound, PermissionDenied
from jianguan.devices.api import (
    Alert,
    AlertState,
    Device,
    DeviceKind,
    DeviceStatus,
    LocationKind,
    RejectedMessage,
    RejectReason,
    device_register,
    device_secret_rotate,
    device_set_status,
    false_alarm_rates,
)
from jianguan.duty.api import Task
from jianguan.housing.api import Cell
from jianguan.org.api import Perm, Unit, has_perm
from jianguan.web.custody_common import (
    facility_of,
    form_errors,
    parse_uuid,
    posted_values,
    request_actor,
)

# Who watches alerts: 巡控 and 分控 (patrol.handle), 指挥中心 (task.dispatch), 所领导.
WATCHERS = (Perm.PATROL, Perm.TASK_DISPATCH, Perm.LEAD)
# Who may issue device credentials: the facility's leaders and its system administrators.
REGISTRARS = (Perm.LEAD, Perm.ADMINISTER)
SEVERITY_RANK = {"URGENT": 0, "HIGH": 1, "NORMAL": 2}
SEVERITY_LABELS = {"URGENT": _("特急"), "HIGH": _("紧急"), "NORMAL": _("一般")}
FALSE_ALARM_DAYS = 30  # the registry's false-alarm figures cover this many days
REJECTED_ROWS = 200
REJECTED_WINDOW = dt.timedelta(hours=24)


def _facility(user: Any, perms: tuple[Perm, ...], refusal: str) -> Unit:
    """The officer's own facility, if one of `perms` lets them use the page."""
    unit = facility_of(user)
    if unit is None:
        raise PermissionDenied(str(_("设备页面只对监所民警开放")))
    if not any(has_perm(user, p) for p in perms):
        raise PermissionDenied(refusal)
    return unit


def _watching(user: Any) -> Unit:
    return _facility(user, WATCHERS, str(_("当前岗位不能查看设备告警")))


def _local_midnight() -> dt.datetime:
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


# --- 告警 ------------------------------------------------------------------------------------


@dataclass
class AlertRow:
    """An alert as the screen shows it: where, what, how often, and how its task stands."""

    a: Alert
    task: Task | None
    person: str

    @property
    def severity(self) -> str:
        return str(SEVERITY_LABELS.get(self.a.severity, self.a.severity))

    @property
    def place(self) -> str:
        cell = self.a.cell
        parts = [f"{cell.number}{_('监室')}"] if cell is not None else []
        device = self.a.device
        # An alert's area falls back to its device's name, which the device column shows.
        if self.a.area and (device is None or self.a.area != device.name):
            parts.append(self.a.area)
        return " · ".join(parts)


def _alert_rows(user: Any, alerts: Sequence[Alert]) -> list[AlertRow]:
    tasks = {t.id: t for t in Task.objects.filter(id__in=[a.task_id for a in alerts if a.task_id])}
    names = has_perm(user, Perm.DETAINEE_VIEW)  # a person's name only for those who may see it
    return [
        AlertRow(
            a=a,
            task=tasks.get(a.task_id) if a.task_id else None,
            person=a.detainee.name if names and a.detainee is not None else "",
        )
        for a in alerts
    ]


def _alerts_context(user: Any, unit: Unit) -> dict[str, Any]:
    base = Alert.objects.filter(unit=unit).select_related("device", "cell", "detainee")
    urgency = Case(
        *(When(severity=code, then=Value(rank)) for code, rank in SEVERITY_RANK.items()),
        default=Value(len(SEVERITY_RANK)),
        output_field=IntegerField(),
    )
    open_alerts = list(
        base.filter(state=AlertState.OPEN).annotate(rank=urgency).order_by("rank", "-last_at")
    )
    closed = list(
        base.filter(state=AlertState.CLOSED, closed_at__gte=_local_midnight()).order_by(
            "-closed_at"
        )
    )
    return {
        "unit": unit,
        "open_rows": _alert_rows(user, open_alerts),
        "closed_rows": _alert_rows(user, closed),
        "false_today": sum(1 for a in closed if a.false_alarm),
        "now": timezone.now(),
    }


@login_required
def alerts(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    unit = _watching(user)
    return render(request, "web/devices/alerts.html", _alerts_context(user, unit))


@login_required
def alerts_panel(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    unit = _watching(user)
    return render(request, "web/devices/_alerts.html", _alerts_context(user, unit))


# --- 设备登记 --------------------------------------------------------------------------------


def _may_register(user: Any) -> bool:
    return any(has_perm(user, p) for p in REGISTRARS)


def _registry_context(user: Any, unit: Unit, **extra: Any) -> dict[str, Any]:
    now = timezone.now()
    devices = list(
        Device.objects.filter(unit=unit)
        .select_related("cell", "detainee")
        .order_by("kind", "location_kind", "cell__number", "area", "code")
    )
    by_kind: dict[str, list[Device]] = {}
    for device in devices:
        by_kind.setdefault(device.kind, []).append(device)
    labels = dict(DeviceKind.choices)
    statuses = Counter(d.status for d in devices)
    may_register = _may_register(user)
    context: dict[str, Any] = {
        "unit": unit,
        "groups": [(kind, labels.get(kind, kind), rows) for kind, rows in by_kind.items()],
        "total": len(devices),
        "statuses": [(s.label, statuses.get(s.value, 0), s.value) for s in DeviceStatus],
        "rates": false_alarm_rates(unit, since=now - dt.timedelta(days=FALSE_ALARM_DAYS)),
        "rate_days": FALSE_ALARM_DAYS,
        "may_register": may_register,
        "show_names": has_perm(user, Perm.DETAINEE_VIEW),
        "kinds": DeviceKind.choices,
        "locations": LocationKind.choices,
        "cells": list(Cell.objects.filter(unit=unit).order_by("number")) if may_register else [],
        "v": {"silent_after_seconds": "300"},
        "errors": {},
        "issued": None,
    }
    context.update(extra)
    return context


def _registering(user: Any) -> Unit:
    return _facility(user, REGISTRARS, str(_("只有所领导或系统管理员可以登记设备和更换密钥")))


@login_required
@require_http_methods(["GET", "POST"])
def registry(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    unit = _facility(user, (*WATCHERS, Perm.ADMINISTER), str(_("当前岗位不能查看设备")))
    if request.method != "POST":
        return render(request, "web/devices/registry.html", _registry_context(user, unit))
    _registering(user)
    values = posted_values(request)
    try:
        cell = _cell(unit, values.get("cell", ""))
        silent = _seconds(values.get("silent_after_seconds", ""))
        device, secret = device_register(
            actor=request_actor(request),
            unit=unit,
            code=values.get("code", "").strip(),
            kind=values.get("kind", ""),
            name=values.get("name", ""),
            location_kind=values.get("location_kind", ""),
            cell=cell,
            area=values.get("area", ""),
            silent_after_seconds=silent,
        )
    except DomainError as exc:
        context = _registry_context(user, unit, v=values, errors=form_errors(exc))
        return render(request, "web/devices/registry.html", context, status=400)
    # Rendered, not redirected: the secret is on this page only and is kept nowhere else.
    issued = {"device": device, "secret": secret, "new": True}
    return render(
        request, "web/devices/registry.html", _registry_context(user, unit, issued=issued)
    )


def _cell(unit: Unit, raw: str) -> Cell | None:
    if not raw:
        return None
    cell = Cell.objects.filter(unit=unit, id=parse_uuid(raw, str(_("监室")))).first()
    if cell is None:
        raise DomainError("OTHER_UNIT", str(_("请选择本所的监室")), field="cell")
    return cell


def _seconds(raw: str) -> int:
    try:
        return int(raw.strip() or 300)
    except ValueError:
        raise DomainError(
            "BAD_SILENCE", str(_("离线判定应为秒数，例如 300")), field="silent_after_seconds"
        ) from None


def _device(unit: Unit, device_id: str) -> Device:
    device = (
        Device.objects.select_related("unit", "cell")
        .filter(unit=unit, id=parse_uuid(device_id, str(_("设备"))))
        .first()
    )
    if device is None:
        raise NotFound(str(_("设备")))
    return device


@login_required
@require_POST
def device_rotate(request: HttpRequest, device_id: str) -> HttpResponse:
    user: Any = request.user
    unit = _registering(user)
    device = _device(unit, device_id)
    secret = device_secret_rotate(actor=request_actor(request), device=device)
    issued = {"device": device, "secret": secret, "new": False}
    return render(
        request, "web/devices/registry.html", _registry_context(user, unit, issued=issued)
    )


@login_required
@require_POST
def device_status(request: HttpRequest, device_id: str) -> HttpResponse:
    user: Any = request.user
    unit = _registering(user)
    device = _device(unit, device_id)
    enable = posted_values(request).get("enabled") == "1"
    device_set_status(actor=request_actor(request), device=device, enabled=enable)
    said = _("已启用") if enable else _("已停用，该设备的消息将被拒收")
    messages.success(request, f"{device.name}（{device.code}）{said}")
    return redirect("web:devices")


# --- 被拒消息 --------------------------------------------------------------------------------


@login_required
def rejected(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    unit = _facility(user, (*WATCHERS, Perm.ADMINISTER), str(_("当前岗位不能查看设备")))
    since = timezone.now() - REJECTED_WINDOW
    mine = RejectedMessage.objects.filter(unit_code=unit.code)
    labels = dict(RejectReason.choices)
    counted = Counter(mine.filter(received_at__gte=since).values_list("reason", flat=True))
    context = {
        "unit": unit,
        "counts": [(labels.get(r, r), n, r) for r, n in counted.most_common()],
        "total": sum(counted.values()),
        "rows": list(mine.order_by("-received_at")[:REJECTED_ROWS]),
        "limit": REJECTED_ROWS,
    }
    return render(request, "web/devices/rejected.html", context)
