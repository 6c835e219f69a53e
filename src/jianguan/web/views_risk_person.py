"""A person's risk page: the score and grade with every point explained, the model's grade beside
a leader's manual one, what is missing, history and trend, the facts counted — and the forms
to record a fact, to adjust the grade (所领导) and to review another leader's adjustment.

The person is fetched through custody's `access_detainee` (audited; another facility's person
is not found). The live part of the page re-fetches itself when the facility's stream moves, and
answers 204 without reading the record again while nothing about the person has changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from jianguan.core.errors import DomainError, NotFound, PermissionDenied
from jianguan.custody.api import HELD_STATUSES, access_detainee, detainee_search
from jianguan.duty.api import post_label
from jianguan.org.api import Perm, has_perm, require_perm
from jianguan.risk.api import (
    INCIDENTS,
    MANUAL_FACTS,
    ReviewStatus,
    RiskFact,
    RiskScore,
    Track,
    changes_of,
    fact_record,
    facts_about,
    may_record_facts,
    models_for,
    override_grant,
    override_review,
    overrides_of,
)
from jianguan.web.custody_common import (
    facility_of,
    local_input,
    parse_moment,
    parse_uuid,
    posted_values,
    request_actor,
)
from jianguan.web.views_risk import (
    FACT_ROWS,
    HISTORY_ROWS,
    Palette,
    change_rows,
    explain,
    fact_rows,
)

TREND_DAYS = 30
DEFAULT_OVERRIDE_DAYS = 7
CHART_W, CHART_H = 600, 120


def _stamp(detainee_id: Any) -> str:
    """Changes whenever anything the live part shows changes: a re-score (every fact and every
    override re-scores), or a review."""
    scored = sorted(
        (t, at.isoformat())
        for t, at in RiskScore.objects.filter(detainee_id=detainee_id).values_list(
            "track", "computed_at"
        )
    )
    latest = overrides_of(detainee_id).values_list("id", "review_status", "ended_at").first()
    return hashlib.sha256(repr((scored, latest)).encode()).hexdigest()[:16]


def _trend(changes: list[Any], model: Any, now: dt.datetime) -> dict[str, Any] | None:
    """The score over the last days as a step line, with the grade thresholds behind it."""
    start = now - dt.timedelta(days=TREND_DAYS)
    older = [c for c in changes if c.at < start]
    recent = sorted((c for c in changes if c.at >= start), key=lambda c: c.at)
    if not recent:
        return None
    steps: list[tuple[dt.datetime, float]] = []
    if older:
        steps.append((start, older[0].score))
    steps += [(c.at, c.score) for c in recent]
    top_line = max((g.min_score for g in model.grades), default=0)
    ceiling = max(max(s for _t, s in steps), top_line) * 1.15 or 1

    def x(at: dt.datetime) -> float:
        return round(CHART_W * (at - start) / (now - start), 1)

    def y(score: float) -> float:
        return round(CHART_H * (1 - score / ceiling), 1)

    points: list[str] = []
    for i, (at, score) in enumerate(steps):
        if i:
            points.append(f"{x(at)},{y(steps[i - 1][1])}")
        points.append(f"{x(at)},{y(score)}")
    points.append(f"{CHART_W},{y(steps[-1][1])}")
    lines = [
        {"y": y(g.min_score), "colour": g.colour, "name": g.name}
        for g in model.grades
        if g.min_score > 0
    ]
    return {"w": CHART_W, "h": CHART_H, "points": " ".join(points), "lines": lines}


def _forms(model: Any) -> dict[str, dict[str, Any]]:
    """Each form's values and errors, blank: a refused form replaces its own entry."""
    return {
        "fact": {"v": {"at": local_input(timezone.now())}, "errors": {}},
        "override": {
            "v": {"days": str(min(DEFAULT_OVERRIDE_DAYS, model.override_max_days))},
            "errors": {},
        },
        "review": {"v": {}, "errors": {}},
    }


def _live_context(user: Any, detainee: Any) -> dict[str, Any]:
    """What the live part shows."""
    governing = models_for(detainee.unit.path)
    palette = Palette(governing.live.pack)
    scores = {s.track: s for s in RiskScore.objects.filter(detainee_id=detainee.id)}
    score, shadow = scores.get(Track.LIVE), scores.get(Track.SHADOW)
    facts = list(facts_about(detainee_id=detainee.id)[:FACT_ROWS])
    factors = score.factors if score else []
    refs = {str(line["fact"]) for line in factors if line.get("fact")}
    linked = {str(f.id): f for f in facts if str(f.id) in refs}
    missed = refs - set(linked)  # counted facts older than the list shows
    if missed:
        linked |= {str(f.id): f for f in RiskFact.objects.filter(id__in=list(missed))}
    changes = list(changes_of(detainee_id=detainee.id)[:HISTORY_ROWS])
    overrides = list(overrides_of(detainee.id)[:10])
    here = f"/risk/people/{detainee.id}/"
    shadow_palette = Palette(governing.shadow.pack) if governing.shadow is not None else None
    now = timezone.now()
    grade = palette.model.grade(score.grade) if score else None
    return {
        "d": detainee,
        "held": detainee.status in HELD_STATUSES,
        "live": governing.live,
        "model": palette.model,
        "score": score,
        "shade": palette.shade(score.grade if score else ""),
        "computed_shade": palette.shade(score.computed_grade) if score else None,
        "active_override": score.override if score and score.override_id else None,
        "shadow": shadow,
        "shadow_shade": shadow_palette.shade(shadow.grade) if shadow and shadow_palette else None,
        "shadow_version": governing.shadow.version if governing.shadow is not None else "",
        "lines": explain(factors, facts=linked, here=here),
        "changes": change_rows(changes, palette),
        "trend": _trend(changes, palette.model, now),
        "facts": fact_rows(facts, here),
        "overrides": [
            {
                "o": o,
                "shade": palette.shade(o.grade),
                "computed": palette.shade(o.computed_grade) if o.computed_grade else None,
            }
            for o in overrides
        ],
        "measures": grade.measures if grade else None,
        "review_post": post_label(grade.measures.review_post) if grade else "",
        "stamp": _stamp(detainee.id),
        "can_cell": detainee.cell_id is not None and facility_of(user) == detainee.unit,
    }


def _person_context(
    user: Any, detainee: Any, forms: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    context = _live_context(user, detainee)
    model = context["model"]
    pending = next(
        (row for row in context["overrides"] if row["o"].review_status == ReviewStatus.PENDING),
        None,
    )
    leader = has_perm(user, Perm.LEAD)
    all_forms = _forms(model)
    all_forms.update(forms or {})
    context |= {
        "may_record": context["held"] and may_record_facts(user),
        "may_override": context["held"] and leader,
        "pending": pending,
        "may_review": leader and pending is not None and pending["o"].decided_by != user.username,
        "manual_kinds": MANUAL_FACTS,
        "incident_kinds": INCIDENTS,
        "grades": Palette(model).highest_first(),
        "max_days": model.override_max_days,
        "forms": all_forms,
    }
    return context


@login_required
def person(request: HttpRequest, detainee_id: str) -> HttpResponse:
    user: Any = request.user
    detainee = access_detainee(user=user, actor=request_actor(request), id=detainee_id)
    return render(request, "web/risk/person.html", _person_context(user, detainee))


@login_required
def person_panel(request: HttpRequest, detainee_id: str) -> HttpResponse:
    """The live part; 204 while nothing changed, so an open page costs one small query."""
    user: Any = request.user
    key = parse_uuid(detainee_id, str(_("在押人员")))
    if not detainee_search(user=user).filter(id=key).exists():
        raise NotFound(str(_("在押人员")))
    if request.GET.get("seen") == _stamp(key):
        return HttpResponse(status=204)
    detainee = access_detainee(user=user, actor=request_actor(request), id=key)
    return render(request, "web/risk/_person.html", _live_context(user, detainee))


def _refused(
    request: HttpRequest, detainee: Any, form: str, values: dict[str, Any], exc: DomainError
) -> HttpResponse:
    """The page again with the refused form's input kept and the reason beside its field."""
    if exc.status not in (400, 409):
        raise exc
    forms = {form: {"v": values, "errors": {exc.field or "__all__": exc.message}}}
    context = _person_context(request.user, detainee, forms)
    offered = {
        "fact": context["may_record"],
        "override": context["may_override"],
        "review": context["may_review"],
    }
    if not offered[form]:  # e.g. a leader reviewing their own adjustment: say it on top
        context["refusal"] = exc.message
    return render(request, "web/risk/person.html", context, status=exc.status)


def _held(detainee: Any) -> None:
    if detainee.status not in HELD_STATUSES:
        raise DomainError("NOT_HELD", str(_("该人员已不在押，不再评估风险")))


@login_required
@require_POST
def fact_add(request: HttpRequest, detainee_id: str) -> HttpResponse:
    user: Any = request.user
    if not may_record_facts(user):
        raise PermissionDenied(str(_("只有管教、医务、巡控民警和所领导可以登记风险事实")))
    actor = request_actor(request)
    detainee = access_detainee(user=user, actor=actor, id=detainee_id)
    values = posted_values(request)
    try:
        _held(detainee)
        at = parse_moment(values.get("at", ""), field="at")
        assert at is not None  # required
        fact = fact_record(
            actor=actor,
            detainee=detainee,
            kind=values.get("kind", ""),
            at=at,
            note=values.get("note", ""),
        )
    except DomainError as exc:
        return _refused(request, detainee, "fact", values, exc)
    messages.success(request, f"{_('已登记')}：{fact.label}")
    return redirect("web:risk_person", detainee_id=detainee.id)


def _days(raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise DomainError("OVERRIDE_DAYS", str(_("请填写有效天数（整数）")), field="days") from None


@login_required
@require_POST
def override_add(request: HttpRequest, detainee_id: str) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.LEAD)
    actor = request_actor(request)
    detainee = access_detainee(user=user, actor=actor, id=detainee_id)
    values = posted_values(request)
    try:
        _held(detainee)
        override = override_grant(
            actor=actor,
            detainee=detainee,
            grade=values.get("grade", ""),
            reason=values.get("reason", ""),
            days=_days(values.get("days", "")),
        )
    except DomainError as exc:
        return _refused(request, detainee, "override", values, exc)
    expires = timezone.localtime(override.expires_at).strftime("%Y-%m-%d %H:%M")
    messages.success(
        request, f"{_('已人工调整风险等级')}，{_('有效期至')} {expires}；{_('待另一位所领导审核')}"
    )
    return redirect("web:risk_person", detainee_id=detainee.id)


@login_required
@require_POST
def override_decide(request: HttpRequest, detainee_id: str) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.LEAD)
    actor = request_actor(request)
    detainee = access_detainee(user=user, actor=actor, id=detainee_id)
    values = posted_values(request)
    key = parse_uuid(values.get("override", ""), str(_("人工调整")))
    override = overrides_of(detainee.id).filter(id=key).first()
    if override is None:
        raise NotFound(str(_("人工调整")))
    try:
        decision = values.get("decision", "")
        if decision not in ("uphold", "revoke"):
            raise DomainError("DECISION_REQUIRED", str(_("请选择同意或撤销")), field="decision")
        done = override_review(
            actor=actor, override=override, uphold=decision == "uphold", note=values.get("note", "")
        )
    except DomainError as exc:
        return _refused(request, detainee, "review", values, exc)
    messages.success(request, f"{_('已审核')}：{done.get_review_status_display()}")
    return redirect("web:risk_person", detainee_id=detainee.id)
