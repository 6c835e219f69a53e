"""Assessment pages (考核统计): the figures by day, week or month, the printable monthly report
and the Excel ledger. Everything shown is computed by duty.api from the task records."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from jianguan.audit.api import audit_record
from jianguan.duty.api import (
    LEDGER_CONTENT_TYPE,
    PERIOD_KINDS,
    assessment_for,
    ledger_filename,
    ledger_workbook,
    month_parse,
    period_parse,
)
from jianguan.web.custody_common import request_actor

PERIOD_CHOICES = {"day": _("按日"), "week": _("按周"), "month": _("按月")}


@login_required
def assessment_view(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    period = period_parse(request.GET.get("period", ""), request.GET.get("date", ""))
    result = assessment_for(user, period)
    context = {
        "a": result,
        "period": period,
        "kinds": [(kind, PERIOD_CHOICES[kind]) for kind in PERIOD_KINDS],
        "previous": period.previous(),
        "following": period.following(),
    }
    return render(request, "web/assessment/index.html", context)


@login_required
def assessment_monthly(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    period = month_parse(request.GET.get("month", ""))
    return render(request, "web/assessment/monthly.html", {"a": assessment_for(user, period)})


@login_required
def assessment_ledger(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    period = period_parse(request.GET.get("period", ""), request.GET.get("date", ""))
    result = assessment_for(user, period)
    body = ledger_workbook(result)
    # Exporting people's work figures is recorded, as any bulk read is.
    audit_record(
        actor=request_actor(request),
        action="assessment.export",
        object_type="unit",
        object_id=str(result.unit.id),
        detail={
            "period": period.kind,
            "from": period.first_day.isoformat(),
            "tasks": len(result.tasks),
        },
    )
    response = HttpResponse(body, content_type=LEDGER_CONTENT_TYPE)
    name = ledger_filename(result)
    # RFC 6266/5987: an ASCII fallback for old clients, the Chinese name for the rest.
    response["Content-Disposition"] = (
        f"attachment; filename=\"assessment-{period.slug}.xlsx\"; filename*=UTF-8''{quote(name)}"
    )
    return response
