"""HTTP endpoints of risk assessment (mounted at /risk): a facility's scores and cells and its
distribution, one person's score with its explanation and history, recording a fact by hand,
and a leader's manual grade with its review.

Thin: people are fetched through custody's `access_detainee` (audited; another facility's person
answers 404 like a missing one), facilities through `access_unit`; each write calls one
service, which refuses bad input with 400 naming the field. Lists that name people are audited.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from jianguan.core.errors import DomainError, NotFound, PermissionDenied
from jianguan.core.http import client_address
from jianguan.custody.api import access_detainee, audit_list_read
from jianguan.housing.api import Cell
from jianguan.org.api import Perm, Unit, UnitLevel, User, access_unit, actor_for, require_perm
from jianguan.risk.api import (
    CellRisk,
    RiskChange,
    RiskFact,
    RiskModel,
    RiskOverride,
    RiskScore,
    Track,
    cell_scores,
    changes_of,
    distribution,
    fact_record,
    facts_about,
    may_record_facts,
    models_for,
    override_grant,
    override_review,
    overrides_of,
    person_scores,
    trend_of,
)
from jianguan.risk.schemas import (
    CellDetailOut,
    CellFilter,
    CellPage,
    DistributionFilter,
    DistributionOut,
    FactIn,
    FactRecordedOut,
    OverrideIn,
    OverrideOut,
    PersonRiskOut,
    ReviewIn,
    ScoreFilter,
    ScorePage,
)
from jianguan.rules.api import LivePack

router = Router(tags=["风险评估"])

HISTORY_ROWS = 100
FACT_ROWS = 100
UNSCORED = "#9aa5b1"


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _actor(request: HttpRequest) -> Any:
    return actor_for(_user(request), address=client_address(request))


def _facility(request: HttpRequest, unit_id: uuid.UUID | None) -> Unit:
    """The facility asked for (in the caller's scope), or the caller's own."""
    user = _user(request)
    require_perm(user, Perm.DETAINEE_VIEW)
    if unit_id is None:
        unit = user.unit
        if unit is None or unit.level != UnitLevel.FACILITY:
            raise DomainError("UNIT_REQUIRED", "请指定监所（unit_id）", field="unit_id")
        return unit
    unit = access_unit(user=user, id=unit_id)
    if unit.level != UnitLevel.FACILITY:
        raise DomainError("NOT_A_FACILITY", f"{unit.name}不是监所", field="unit_id")
    return unit


def _track_model(unit: Unit, track: str) -> LivePack:
    """The model whose grades a track's rows are in."""
    governing = models_for(unit.path)
    if track == Track.LIVE:
        return governing.live
    if track == Track.SHADOW:
        if governing.shadow is None:
            raise DomainError("NO_SHADOW_MODEL", "本所没有试运行中的风险模型", field="track")
        return governing.shadow
    raise DomainError("BAD_TRACK", "track 应为 LIVE 或 SHADOW", field="track")


def _model(live: LivePack) -> dict[str, Any]:
    model: RiskModel = live.pack
    return {
        "version": live.version,
        "title": model.title,
        "origin": live.origin,
        "grades": [
            {
                "code": g.code,
                "name": g.name,
                "colour": g.colour,
                "min_score": g.min_score,
                "rank": g.rank,
            }
            for g in model.grades
        ],
        "override_max_days": model.override_max_days,
    }


def _grade(model: RiskModel, code: str) -> dict[str, str]:
    grade = model.grade(code)
    if grade is None:
        return {"grade_name": code or "未评估", "colour": UNSCORED}
    return {"grade_name": grade.name, "colour": grade.colour}


def _factors(factors: list[dict[str, Any]], people: set[str] | None = None) -> list[dict[str, Any]]:
    """Explanation lines with where each fact can be read (a cell's top occupant: their page)."""
    refs = [str(line["fact"]) for line in factors if line.get("fact")]
    links = {
        str(fact_id): link
        for fact_id, link in RiskFact.objects.filter(id__in=refs).values_list("id", "link")
    }
    rows = []
    for line in factors:
        ref = str(line.get("fact") or "")
        link = links.get(ref, "")
        if not link and ref and people is not None and ref in people:
            link = f"/risk/people/{ref}/"
        rows.append(
            {
                "code": line["code"],
                "name": line["name"],
                "points": line["points"],
                "fact": ref or None,
                "label": line.get("label"),
                "at": line.get("at"),
                "link": link,
            }
        )
    return rows


def _score(s: RiskScore, model: RiskModel) -> dict[str, Any]:
    d = s.detainee
    return {
        "detainee_id": s.detainee_id,
        "name": d.name,
        "number": d.number,
        "cell_id": s.cell_id,
        "cell_number": s.cell.number if s.cell else "",
        "track": s.track,
        "score": s.score,
        "grade": s.grade,
        "computed_grade": s.computed_grade,
        "overridden": s.override_id is not None,
        "confidence": s.confidence,
        "missing": list(s.missing),
        "model_version": s.model_version,
        "computed_at": s.computed_at,
        **_grade(model, s.grade),
    }


def _override(o: RiskOverride) -> dict[str, Any]:
    return {
        **{f: getattr(o, f) for f in OverrideOut.model_fields if hasattr(o, f)},
        "review_status_label": o.get_review_status_display(),
    }


def _score_detail(s: RiskScore, model: RiskModel) -> dict[str, Any]:
    return _score(s, model) | {
        "model_origin": s.model_origin,
        "factors": _factors(s.factors),
        "override": _override(s.override) if s.override is not None else None,
    }


def _change(c: RiskChange) -> dict[str, Any]:
    return {
        f: getattr(c, f)
        for f in (
            "at",
            "track",
            "from_grade",
            "grade",
            "from_score",
            "score",
            "moved",
            "cause",
            "model_version",
        )
    }


def _fact(f: RiskFact) -> dict[str, Any]:
    return {
        **{
            k: getattr(f, k)
            for k in ("id", "kind", "label", "at", "note", "link", "recorded_at", "recorded_by")
        },
        "by_hand": not f.source_ref,
    }


# --- a facility ---------------------------------------------------------------------------


@router.get(
    "/scores",
    response=ScorePage,
    summary="监所人员风险等级（最高等级在前；可按等级筛选；track=SHADOW 为影子模型）",
)
def score_list(request: HttpRequest, filters: Query[ScoreFilter]) -> dict[str, Any]:
    unit = _facility(request, filters.unit_id)
    live = _track_model(unit, filters.track)
    page, page_size = max(1, filters.page), max(1, min(filters.page_size, 500))
    qs = person_scores(unit.id, live.pack, track=filters.track, grade=filters.grade)
    rows = list(qs[(page - 1) * page_size : page * page_size])
    audit_list_read(
        actor=_actor(request),
        ids=[s.detainee_id for s in rows],
        query={"view": "risk-scores", "grade": filters.grade, "track": filters.track, "page": page},
    )
    return {
        "unit_id": unit.id,
        "model": _model(live),
        "count": qs.count(),
        "page": page,
        "page_size": page_size,
        "items": [_score(s, live.pack) for s in rows],
    }


def _cell_row(r: CellRisk, model: RiskModel) -> dict[str, Any]:
    return {
        "cell_id": r.cell_id,
        "number": r.cell.number,
        "area": r.cell.area,
        "capacity": r.cell.capacity,
        "track": r.track,
        "score": r.score,
        "grade": r.grade,
        "occupants": r.occupants,
        "model_version": r.model_version,
        "computed_at": r.computed_at,
        **_grade(model, r.grade),
    }


@router.get("/cells", response=CellPage, summary="监所各监室风险等级")
def cell_list(request: HttpRequest, filters: Query[CellFilter]) -> dict[str, Any]:
    unit = _facility(request, filters.unit_id)
    live = _track_model(unit, filters.track)
    rows = cell_scores(unit.id, track=filters.track, grade=filters.grade)
    return {
        "unit_id": unit.id,
        "model": _model(live),
        "items": [_cell_row(r, live.pack) for r in rows],
    }


@router.get("/cells/{cell_id}", response=CellDetailOut, summary="一个监室的积分构成与变化")
def cell_detail(request: HttpRequest, cell_id: str) -> dict[str, Any]:
    user = _user(request)
    require_perm(user, Perm.DETAINEE_VIEW)
    try:
        key = uuid.UUID(cell_id)
    except ValueError:
        raise NotFound("监室") from None
    cell = Cell.objects.select_related("unit").filter(id=key).first()
    if cell is None:
        raise NotFound("监室")
    try:
        unit = _facility(request, cell.unit_id)
    except NotFound:
        raise NotFound("监室") from None
    governing = models_for(unit.path)
    scored = {r.track: r for r in CellRisk.objects.filter(cell_id=cell.id)}
    occupants = {
        str(i)
        for i in RiskScore.objects.filter(cell_id=cell.id).values_list("detainee_id", flat=True)
    }

    def risk(track: str, live: LivePack | None) -> dict[str, Any] | None:
        r = scored.get(track)
        if r is None or live is None:
            return None
        return _cell_row(r, live.pack) | {"factors": _factors(r.factors, occupants)}

    return {
        "cell_id": cell.id,
        "number": cell.number,
        "area": cell.area,
        "capacity": cell.capacity,
        "model": _model(governing.live),
        "live": risk(Track.LIVE, governing.live),
        "shadow": risk(Track.SHADOW, governing.shadow),
        "history": [_change(c) for c in changes_of(cell_id=cell.id)[:HISTORY_ROWS]],
    }


@router.get(
    "/distribution",
    response=DistributionOut,
    summary="监所风险等级分布（人员、监室）与近若干日的趋势",
)
def grade_distribution(request: HttpRequest, filters: Query[DistributionFilter]) -> dict[str, Any]:
    unit = _facility(request, filters.unit_id)
    governing = models_for(unit.path)
    days = max(1, min(filters.days, 366))
    since = timezone.localdate() - dt.timedelta(days=days - 1)
    shadow = governing.shadow
    return {
        "unit_id": unit.id,
        "model": _model(governing.live),
        "live": distribution(unit.id),
        "shadow_model": _model(shadow) if shadow is not None else None,
        "shadow": distribution(unit.id, Track.SHADOW) if shadow is not None else None,
        "trend": [
            {"day": r.day, "people": r.people, "cells": r.cells, "model_version": r.model_version}
            for r in trend_of(unit.id, since=since)
        ],
    }


# --- a person -----------------------------------------------------------------------------


def _person(detainee: Any) -> dict[str, Any]:
    governing = models_for(detainee.unit.path)
    scores = {
        s.track: s
        for s in RiskScore.objects.filter(detainee_id=detainee.id).select_related(
            "detainee", "cell", "override"
        )
    }
    live, shadow = scores.get(Track.LIVE), scores.get(Track.SHADOW)
    return {
        "detainee_id": detainee.id,
        "name": detainee.name,
        "number": detainee.number,
        "status": detainee.status,
        "cell_number": detainee.cell.number if detainee.cell else "",
        "model": _model(governing.live),
        "live": _score_detail(live, governing.live.pack) if live else None,
        "shadow": (
            _score_detail(shadow, governing.shadow.pack)
            if shadow is not None and governing.shadow is not None
            else None
        ),
        "overrides": [_override(o) for o in overrides_of(detainee.id)],
        "history": [_change(c) for c in changes_of(detainee_id=detainee.id)[:HISTORY_ROWS]],
        "facts": [_fact(f) for f in facts_about(detainee_id=detainee.id)[:FACT_ROWS]],
    }


@router.get(
    "/people/{detainee_id}",
    response=PersonRiskOut,
    summary="一名在押人员的风险积分、构成、人工调整、变化与事实（查看留痕）",
)
def person_detail(request: HttpRequest, detainee_id: str) -> dict[str, Any]:
    detainee = access_detainee(user=_user(request), actor=_actor(request), id=detainee_id)
    return _person(detainee)


def _live_detail(detainee: Any) -> dict[str, Any] | None:
    s = (
        RiskScore.objects.select_related("detainee", "cell", "override")
        .filter(detainee_id=detainee.id, track=Track.LIVE)
        .first()
    )
    return _score_detail(s, models_for(detainee.unit.path).live.pack) if s else None


@router.post(
    "/people/{detainee_id}/facts",
    response={201: FactRecordedOut},
    summary="人工登记风险事实或事件（管教、医务、巡控、所领导）；立即重新评估",
)
def fact_new(request: HttpRequest, detainee_id: str, payload: FactIn) -> Any:
    user = _user(request)
    if not may_record_facts(user):
        raise PermissionDenied("只有管教、医务、巡控民警和所领导可以登记风险事实")
    actor = _actor(request)
    detainee = access_detainee(user=user, actor=actor, id=detainee_id)
    at = payload.at or timezone.now()
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    fact = fact_record(actor=actor, detainee=detainee, kind=payload.kind, at=at, note=payload.note)
    return Status(201, {"fact": _fact(fact), "live": _live_detail(detainee)})


@router.post(
    "/people/{detainee_id}/override",
    response={201: OverrideOut},
    summary="人工调整风险等级（所领导；须写明理由，限期，由另一位所领导审核）",
)
def override_new(request: HttpRequest, detainee_id: str, payload: OverrideIn) -> Any:
    user = _user(request)
    require_perm(user, Perm.LEAD)
    actor = _actor(request)
    detainee = access_detainee(user=user, actor=actor, id=detainee_id)
    override = override_grant(
        actor=actor,
        detainee=detainee,
        grade=payload.grade,
        reason=payload.reason,
        days=payload.days,
    )
    return Status(201, _override(override))


@router.post(
    "/overrides/{override_id}/review",
    response=OverrideOut,
    summary="审核人工调整：uphold 同意，revoke 撤销（须写意见；恢复模型等级）",
)
def override_decide(request: HttpRequest, override_id: str, payload: ReviewIn) -> dict[str, Any]:
    user = _user(request)
    require_perm(user, Perm.LEAD)
    actor = _actor(request)
    try:
        override = RiskOverride.objects.get(id=uuid.UUID(override_id))
        access_detainee(user=user, actor=actor, id=override.detainee_id)
    except (ValueError, RiskOverride.DoesNotExist, NotFound):
        raise NotFound("人工调整") from None
    if payload.decision not in ("uphold", "revoke"):
        raise DomainError("DECISION_REQUIRED", "decision 应为 uphold 或 revoke", field="decision")
    done = override_review(
        actor=actor, override=override, uphold=payload.decision == "uphold", note=payload.note
    )
    return _override(done)
