"""Graded management compliance (分级管理落实情况): whether the talks and reviews each person's
risk grade required were done on time, by day, week or month.

A facility's leaders and command posts see their own facility; a supervisor chooses among the
facilities below their unit. Every figure is computed by risk.api from the grade history and
the duty records; nothing is typed in.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from jianguan.core.errors import NotFound, PermissionDenied
from jianguan.custody.api import audit_list_read
from jianguan.duty.api import PERIOD_KINDS, period_parse
from jianguan.org.api import Perm, Unit, UnitLevel, access_unit, has_perm, units_facilities
from jianguan.risk.api import compliance
from jianguan.web.custody_common import facility_of, request_actor

PERIOD_CHOICES = {"day": _("按日"), "week": _("按周"), "month": _("按月")}


def _facility(user: Any, chosen: str) -> tuple[Unit, list[Unit]]:
    """The facility to report on, and the facilities a supervisor may choose among."""
    own = facility_of(user)
    if own is not None:
        if not (has_perm(user, Perm.LEAD) or has_perm(user, Perm.TASK_DISPATCH)):
            raise PermissionDenied(str(_("分级管理落实情况只对分控、指挥中心和所领导开放")))
        return own, []
    if not has_perm(user, Perm.SUPERVISE):
        raise PermissionDenied(str(_("分级管理落实情况只对监所领导、指挥岗位和上级业务指导开放")))
    facilities = list(units_facilities(user).order_by("code"))
    if not chosen:
        if not facilities:
            raise NotFound(str(_("下辖监所")))
        return facilities[0], facilities
    unit = access_unit(user=user, id=chosen)
    if unit.level != UnitLevel.FACILITY:
        raise NotFound(str(_("监所")))
    return unit, facilities


@login_required
def compliance_view(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    unit, facilities = _facility(user, request.GET.get("unit", ""))
    period = period_parse(request.GET.get("period", ""), request.GET.get("date", ""))
    report = compliance(unit, period.start, period.end)
    # Names of the people in custody were shown: recorded, as any list of people is.
    audit_list_read(
        actor=request_actor(request),
        ids=[uuid.UUID(row.key) for row in report.people],
        query={
            "page": "risk.compliance",
            "unit": unit.code,
            "period": period.kind,
            "from": period.first_day.isoformat(),
        },
    )
    context = {
        "c": report,
        "grade_rows": [*report.grades, report.total],
        "unit": unit,
        "facilities": facilities,
        "period": period,
        "kinds": [(kind, PERIOD_CHOICES[kind]) for kind in PERIOD_KINDS],
        "previous": period.previous(),
        "following": period.following(),
        "unit_query": f"&unit={unit.id}" if facilities else "",
    }
    return render(request, "web/risk/compliance.html", context)
