"""The deadline board, the roll by cell, deadline notices and the leader's review of overrides."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from jianguan.audit.api import audit_record
from jianguan.core.errors import DomainError, NotFound
from jianguan.custody.api import (
    DetaineeStatus,
    NoticeKind,
    access_notice,
    access_override,
    admissions_open,
    audit_list_read,
    case_units_in_scope,
    deadline_board,
    detainee_search,
    notice_handle,
    notices_open,
    override_review,
    overrides_in,
    roll,
    roll_by_cell,
    unplaced,
)
from jianguan.org.api import (
    Perm,
    UnitLevel,
    access_unit,
    has_perm,
    require_perm,
    scope_unit_ids,
    units_facilities,
)
from jianguan.web.custody_common import (
    PAGE_SIZE,
    facility_of,
    form_errors,
    request_actor,
)
from jianguan.web.views_record import clock_row


@login_required
def deadline_board_view(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.DETAINEE_VIEW)
    case_unit = request.GET.get("case_unit", "")
    clock = request.GET.get("clock", "")
    qs = deadline_board(user=user, case_unit=case_unit, clock=clock)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [clock_row(d, now) for d in page.object_list]
    audit_list_read(
        actor=request_actor(request),
        ids=[r.d.detainee_id for r in rows],
        query={"board": True, "case_unit": case_unit, "clock": clock, "page": page.number},
    )
    clocks = sorted(set(deadline_board(user=user).values_list("clock", "label").distinct()))
    context = {
        "page": page,
        "rows": rows,
        "case_unit": case_unit,
        "clock": clock,
        "case_units": case_units_in_scope(user),
        "clocks": clocks,
    }
    return render(request, "web/deadline_board.html", context)


# --- 在押点名 --------------------------------------------------------------------------------


@login_required
def roll_view(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.DETAINEE_VIEW)
    facilities = list(units_facilities(user))
    unit_id = request.GET.get("unit") or None
    facility: Any
    if unit_id:
        facility = access_unit(user=user, id=unit_id)
        if facility.level != UnitLevel.FACILITY:
            raise NotFound("监所")
    else:
        facility = facility_of(user) or (facilities[0] if facilities else None)
    today_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    context: dict[str, Any] = {
        "roll": roll(user=user, today_start=today_start),
        "facilities": facilities,
        "facility": facility,
        "cells": [],
        "unplaced": [],
        "can_place": has_perm(user, Perm.CELL_ASSIGN),
    }
    if facility is not None:
        cells = roll_by_cell(facility.id)
        context["cells"] = cells
        context["totals"] = {
            "capacity": sum(c.capacity for c in cells),
            "present": sum(c.present for c in cells),
            "out": sum(c.out for c in cells),
        }
        context["unplaced_count"] = unplaced(facility.id)
        context["unplaced"] = list(
            detainee_search(user=user, status=DetaineeStatus.IN_CUSTODY, unit_id=facility.id)
            .filter(cell__isnull=True)
            .order_by("admitted_at")[:PAGE_SIZE]
        )
    return render(request, "web/roll.html", context)


# --- 期限通知 --------------------------------------------------------------------------------


def _may_handle_notices(user: Any) -> bool:
    return has_perm(user, Perm.LEAD) or has_perm(user, Perm.LEGAL_RECORD)


@login_required
def notice_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.DETAINEE_VIEW)
    rows = list(notices_open(scope_unit_ids(user))[:200])
    context = {"rows": rows, "can_handle": _may_handle_notices(user), "failed": None}
    return render(request, "web/notice_list.html", context)


@login_required
def notice_print(request: HttpRequest, notice_id: str) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.DETAINEE_VIEW)
    notice = access_notice(user=user, id=notice_id)
    audit_record(
        actor=request_actor(request),
        action="custody.notice_printed",
        object_type="detainee",
        object_id=notice.detainee_id,
        detail={"notice": str(notice.id), "kind": notice.kind},
        wait_for_flush=False,
    )
    title = (
        _("羁押期限即将届满通知书")
        if notice.kind == NoticeKind.BEFORE_EXPIRY
        else _("超期羁押情况报告")
    )
    return render(request, "web/notice_print.html", {"n": notice, "title": title})


@login_required
@require_POST
def notice_handle_view(request: HttpRequest, notice_id: str) -> HttpResponse:
    user: Any = request.user
    if not _may_handle_notices(user):
        require_perm(user, Perm.LEAD)
    notice = access_notice(user=user, id=notice_id)
    note = request.POST.get("note", "")
    try:
        notice_handle(actor=request_actor(request), notice=notice, note=note)
    except DomainError as exc:
        form_errors(exc)  # a 404/403 is not a form error
        context = {
            "rows": list(notices_open(scope_unit_ids(user))[:200]),
            "can_handle": True,
            "failed": {"id": notice.id, "message": exc.message, "note": note},
        }
        return render(request, "web/notice_list.html", context, status=400)
    messages.success(request, f"{_('已登记处理情况')}：{notice.detainee.name}")
    return redirect("web:notices")


# --- 越过规则审核 ----------------------------------------------------------------------------


def _override_context(user: Any, pending_only: bool, **extra: Any) -> dict[str, Any]:
    rows = list(overrides_in(scope_unit_ids(user), pending_only=pending_only)[:200])
    return {"rows": rows, "pending_only": pending_only, "failed": None, **extra}


@login_required
def override_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.LEAD)
    pending_only = request.GET.get("all") != "1"
    return render(request, "web/override_list.html", _override_context(user, pending_only))


@login_required
@require_POST
def override_decide(request: HttpRequest, override_id: str) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.LEAD)
    override = access_override(user=user, id=override_id)
    decision = request.POST.get("decision", "")
    if decision not in ("approve", "reject"):
        raise DomainError("BAD_CHOICE", str(_("请选择同意或不同意")))
    note = request.POST.get("note", "")
    try:
        override_review(
            actor=request_actor(request),
            override=override,
            approve=decision == "approve",
            note=note,
        )
    except DomainError as exc:
        form_errors(exc)  # a 404/403 is not a form error
        failed = {"id": override.id, "message": exc.message, "note": note}
        context = _override_context(user, True, failed=failed)
        return render(request, "web/override_list.html", context, status=400)
    messages.success(request, f"{_('已审核')}：{override.detainee.name} · {override.cell.number}")
    return redirect("web:overrides")


# --- home-page counts ------------------------------------------------------------------------


def home_counts(user: Any) -> dict[str, Any]:
    """The counts a post's home page shows: open admissions and unplaced people for the 收押
    post, open over-term alerts and pending overrides for the leader."""
    context: dict[str, Any] = {}
    facility = facility_of(user)
    if has_perm(user, Perm.DETAINEE_ADMIT):
        context["admission_counts"] = {
            "open": admissions_open(user).count(),
            "unplaced": unplaced(facility.id) if facility else 0,
        }
    if has_perm(user, Perm.LEAD):
        units = scope_unit_ids(user)
        context["lead_counts"] = {
            "expired": notices_open(units).filter(kind=NoticeKind.EXPIRED).count(),
            "notices": notices_open(units).count(),
            "overrides": overrides_in(units, pending_only=True).count(),
        }
    return context
