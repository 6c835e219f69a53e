"""Welfare-check and cell-duty pages (巡视、监室值班): the 巡控 officer's list of cells with a
check-in button, the lapses that need a reason (the leader's screen), and tonight's duty rota.

Each list is rendered with the page and re-fetched as a fragment whenever the live stream says
something changed at the facility (live.js), and every 30 seconds so "overdue" turns red on
time even when nothing else happens.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from jianguan.core.errors import DomainError, NotFound
from jianguan.custody.api import audit_list_read
from jianguan.devices.api import devices_pack
from jianguan.org.api import Perm, has_perm
from jianguan.patrol.api import (
    REASON_MIN,
    CellRota,
    check_by_hand,
    due_list,
    held_in,
    lapse_explain,
    lapses_explained,
    lapses_unexplained,
    may_edit_rota,
    may_explain,
    night_of,
    night_shifts,
    rota_night,
    rota_set,
    viewer_facility,
)
from jianguan.web.custody_common import form_errors, parse_uuid, request_actor

EXPLAINED_LOOKBACK = dt.timedelta(days=7)


# --- 巡视 ----------------------------------------------------------------------------------


def _board_context(user: Any) -> dict[str, Any]:
    unit = viewer_facility(user)
    now = timezone.now()
    rows = due_list(unit, now=now)
    return {
        "rows": rows,
        "now": now,
        "overdue": sum(1 for r in rows if r.overdue),
        "can_check_in": has_perm(user, Perm.PATROL),
        "unexplained": lapses_unexplained(unit).count(),
    }


@login_required
def board(request: HttpRequest) -> HttpResponse:
    return render(request, "web/patrol/board.html", _board_context(request.user))


@login_required
def board_panel(request: HttpRequest) -> HttpResponse:
    return render(request, "web/patrol/_board.html", _board_context(request.user))


@login_required
@require_POST
def check_in(request: HttpRequest, cell_id: str) -> HttpResponse:
    check = check_by_hand(user=request.user, cell_id=parse_uuid(cell_id, str(_("监室"))))
    messages.success(
        request,
        f"{_('已签到')}：{check.cell.number}{_('监室')} {timezone.localtime(check.at):%H:%M}",
    )
    return redirect("web:patrol")


# --- 巡视逾期 ------------------------------------------------------------------------------


def _lapses_context(
    user: Any, errors: dict[Any, str] | None = None, typed: dict[Any, str] | None = None
) -> dict[str, Any]:
    unit = viewer_facility(user)
    return {
        "open": list(lapses_unexplained(unit)),
        "explained": list(lapses_explained(unit, since=timezone.now() - EXPLAINED_LOOKBACK)),
        "can_explain": may_explain(user),
        "reason_min": REASON_MIN,
        "errors": errors or {},
        "typed": typed or {},
    }


@login_required
def lapses(request: HttpRequest) -> HttpResponse:
    return render(request, "web/patrol/lapses.html", _lapses_context(request.user))


@login_required
def lapses_panel(request: HttpRequest) -> HttpResponse:
    return render(request, "web/patrol/_lapses.html", _lapses_context(request.user))


@login_required
@require_POST
def lapse_reason(request: HttpRequest, lapse_id: str) -> HttpResponse:
    reason = request.POST.get("reason", "")
    key = parse_uuid(lapse_id, str(_("巡视逾期记录")))
    try:
        lapse_explain(user=request.user, lapse_id=key, reason=reason)
    except DomainError as exc:
        said = " ".join(form_errors(exc).values())
        context = _lapses_context(request.user, {key: said}, {key: reason})
        return render(request, "web/patrol/lapses.html", context, status=400)
    messages.success(request, _("已填写逾期原因"))
    return redirect("web:patrol_lapses")


# --- 监室值班 ------------------------------------------------------------------------------


def _night(request: HttpRequest, unit: Any) -> dt.date:
    raw = request.GET.get("night") or request.POST.get("night") or ""
    return parse_date(raw) or night_of(devices_pack(unit), timezone.now())


def _audit_rota(request: HttpRequest, rotas: list[CellRota], night: dt.date) -> None:
    ids = list(dict.fromkeys(p.detainee_id for r in rotas for s in r.shifts for p in s.posts))
    if ids:
        audit_list_read(
            actor=request_actor(request),
            ids=ids,
            query={"view": "web.patrol_duty", "night": night.isoformat()},
        )


def _duty_context(request: HttpRequest) -> dict[str, Any]:
    user: Any = request.user
    unit = viewer_facility(user)
    night = _night(request, unit)
    rotas = rota_night(unit, night)
    _audit_rota(request, rotas, night)
    return {
        "night": night,
        "prev": night - dt.timedelta(days=1),
        "next": night + dt.timedelta(days=1),
        "shifts": night_shifts(devices_pack(unit), night),
        "rotas": rotas,
        "minimum": devices_pack(unit).cell_duty.min_on_duty,
        "can_edit": may_edit_rota(user),
    }


@login_required
def duty(request: HttpRequest) -> HttpResponse:
    return render(request, "web/patrol/duty.html", _duty_context(request))


@login_required
def duty_panel(request: HttpRequest) -> HttpResponse:
    return render(request, "web/patrol/_duty.html", _duty_context(request))


@login_required
def duty_edit(request: HttpRequest, cell_id: str) -> HttpResponse:
    user: Any = request.user
    unit = viewer_facility(user)
    night = _night(request, unit)
    cell_uuid = parse_uuid(cell_id, str(_("监室")))
    shifts = night_shifts(devices_pack(unit), night)
    errors: dict[str, str] = {}
    chosen: dict[int, list[str]] = {}
    if request.method == "POST":
        chosen = {s.index: request.POST.getlist(f"shift_{s.index}") for s in shifts}
        try:
            rota_set(
                user=user,
                cell_id=cell_uuid,
                night=night,
                shifts=[chosen[s.index] for s in shifts],
            )
        except DomainError as exc:
            errors = form_errors(exc)
        else:
            messages.success(request, _("值班表已保存"))
            return redirect(f"{reverse('web:patrol_duty')}?night={night.isoformat()}")
    found = rota_night(unit, night, cell_ids=[cell_uuid])
    if not found:
        raise NotFound(str(_("有在押人员的监室")))
    rota = found[0]
    if not chosen:
        chosen = {row.shift.index: [str(p.detainee_id) for p in row.posts] for row in rota.shifts}
    people = list(held_in(rota.cell).values())
    _audit_rota(request, found, night)
    now = timezone.now()
    return render(
        request,
        "web/patrol/duty_edit.html",
        {
            "night": night,
            "rota": rota,
            "people": people,
            "rows": [
                {
                    "shift": s,
                    "chosen": chosen.get(s.index, []),
                    "over": s.ends_at <= now,
                    "error": errors.get(f"shifts.{s.index}", ""),
                }
                for s in shifts
            ],
            "errors": errors,
            "shift_error": any(k.startswith("shifts.") for k in errors),
            "can_edit": may_edit_rota(user),
        },
        status=400 if errors else 200,
    )
