"""Cell placement: every cell with the separation rules that exclude or warn, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from jianguan.core.errors import DomainError
from jianguan.custody.api import (
    HELD_STATUSES,
    Detainee,
    access_detainee,
    cell_assign,
    cell_verdicts,
    detainees_visible,
)
from jianguan.housing.api import CellKind
from jianguan.org.api import (
    Perm,
    require_perm,
)
from jianguan.web.custody_common import (
    form_errors,
    parse_uuid,
    request_actor,
)


@dataclass
class CellRow:
    id: str
    number: str
    area: str
    kind: str
    occupants: int
    capacity: int
    verdict: str  # ok | warn | blocked | current
    findings: list[dict[str, Any]] = field(default_factory=list)


def _occupant_names(user: Any, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = detainees_visible(user).filter(id__in=ids).values_list("id", "name", "number")
    return {str(i): f"{name}（{number}）" for i, name, number in rows}


def _cell_rows(user: Any, detainee: Detainee) -> list[CellRow]:
    verdicts, _live = cell_verdicts(detainee)
    names = _occupant_names(user, {o for v in verdicts for f in v.findings for o in f.occupant_ids})
    kinds = dict(CellKind.choices)
    rows = []
    for v in verdicts:
        findings = []
        for f in v.findings:
            reason = f.reason
            for oid in f.occupant_ids:
                reason = reason.replace(oid, names.get(oid, oid))
            findings.append(
                {"label": f.label, "reason": reason, "article": f.article, "hard": f.hard}
            )
        if str(detainee.cell_id) == v.cell.id:
            verdict = "current"
        else:
            verdict = "ok" if v.clean else "warn" if v.allowed else "blocked"
        rows.append(
            CellRow(
                id=v.cell.id,
                number=v.cell.number,
                area=v.cell.area,
                kind=kinds.get(v.cell.kind, v.cell.kind),
                occupants=len(v.cell.occupants),
                capacity=v.cell.capacity,
                verdict=verdict,
                findings=findings,
            )
        )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def placement(request: HttpRequest, detainee_id: str) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.CELL_ASSIGN)
    actor = request_actor(request)
    detainee = access_detainee(user=user, actor=actor, id=detainee_id)
    errors: dict[str, str] = {}
    typed = {"cell": "", "override_reason": ""}
    if request.method == "POST":
        typed = {
            "cell": request.POST.get("cell", ""),
            "override_reason": request.POST.get("override_reason", ""),
        }
        parse_uuid(typed["cell"], "监室")
        try:
            placed = cell_assign(
                actor=actor,
                detainee=detainee,
                cell_id=typed["cell"],
                override_reason=typed["override_reason"],
            )
        except DomainError as exc:
            errors = form_errors(exc)
        else:
            number = placed.cell.number if placed.cell else ""
            messages.success(request, f"{_('已安排监室')}：{placed.name} → {number}")
            return redirect("web:detainee", placed.id)
    context = {
        "d": detainee,
        "rows": _cell_rows(user, detainee),
        "errors": errors,
        "typed": typed,
        "held": detainee.status in HELD_STATUSES,
    }
    return render(request, "web/placement.html", context, status=400 if errors else 200)


# --- the person's record -----------------------------------------------------------------------
