"""Re-score one person and their cell after something changed (the incremental path).

Each re-score reads the person's record and facts, applies the model that governs their facility
(and the shadow model beside it, if one is on trial), stores the score with its explanation, and
writes history and an outbox event only when something moved. A rise in the live grade opens a
task for the 管教 post at once (risk/duty_tasks.py).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from jianguan.codes.api import codes_of
from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError
from jianguan.custody.api import HELD_STATUSES, Detainee
from jianguan.housing.api import Cell
from jianguan.outbox.api import event_append
from jianguan.risk.model import (
    Assessment,
    CellOccupant,
    Fact,
    Person,
    RiskModel,
    assess_cell,
    assess_person,
    what_moved,
)
from jianguan.risk.models import CellRisk, RiskChange, RiskFact, RiskOverride, RiskScore, Track
from jianguan.rules.api import LivePack, pack_for

SYSTEM = Actor.system("risk")


@dataclass(frozen=True)
class Was:
    """A stored score as it was before this re-score (the row object is updated in place)."""

    score: float | None
    grade: str
    model_version: str
    factors: list[dict[str, Any]]

    @classmethod
    def of(cls, row: RiskScore | CellRisk | None) -> Was:
        if row is None:
            return cls(None, "", "", [])
        return cls(row.score, row.grade, row.model_version, list(row.factors))


@dataclass(frozen=True)
class Governing:
    """The models that score a facility: the live one and, if on trial, the shadow one."""

    live: LivePack
    shadow: LivePack | None

    def tracks(self) -> list[tuple[str, LivePack]]:
        pairs = [(Track.LIVE.value, self.live)]
        if self.shadow is not None:
            pairs.append((Track.SHADOW.value, self.shadow))
        return pairs


def models_for(unit_path: str) -> Governing:
    try:
        shadow: LivePack | None = pack_for("risk", unit_path, shadow=True)
    except DomainError:
        shadow = None
    return Governing(pack_for("risk", unit_path), shadow)


def live_model(unit_path: str) -> tuple[str, RiskModel]:
    live = pack_for("risk", unit_path)
    return live.version, live.pack


_severities: tuple[float, dict[str, int]] = (0.0, {})
SEVERITY_CACHE_SECONDS = 60.0  # an edited code table reaches scoring within a minute


def case_severities() -> dict[str, int]:
    """案件性质 code → severity (1–5) from the code table; a code without one inherits its parent's.
    Kept for a minute: every re-score reads it, and the table changes rarely."""
    global _severities
    read_at, cached = _severities
    if cached and time.monotonic() - read_at < SEVERITY_CACHE_SECONDS:
        return cached
    _severities = (time.monotonic(), _read_severities())
    return _severities[1]


def _read_severities() -> dict[str, int]:
    rows = codes_of("CASE_NATURE", active_only=False)
    own = {c.code: c.extra.get("severity") for c in rows}
    parents = {c.code: c.parent_code for c in rows}
    out: dict[str, int] = {}
    for code, severity in own.items():
        if severity is None and parents.get(code):
            severity = own.get(parents[code])
        if isinstance(severity, int):
            out[code] = severity
    return out


def prior_custody(detainee: Any) -> int | None:
    """Earlier custodies of the same person on this node (by ID number); None if it is unknown."""
    if not detainee.id_number:
        return None
    return (
        Detainee.objects.filter(id_number=detainee.id_number, admitted_at__lt=detainee.admitted_at)
        .exclude(id=detainee.id)
        .count()
    )


def require_held(detainee: Any) -> None:
    """Facts and manual grades are for people the facility still holds."""
    if detainee.status not in HELD_STATUSES:
        raise DomainError("NOT_HELD", "该人员已不在押，不再评估风险")


def person_of(detainee: Any, severities: dict[str, int], prior: int | None) -> Person:
    return Person(
        birth_date=detainee.birth_date,
        nationality=detainee.nationality or None,
        case_nature=detainee.case_nature or None,
        case_severity=severities.get(detainee.case_nature),
        legal_measure=detainee.legal_measure or None,
        litigation_stage=detainee.litigation_stage or None,
        prior_custody=prior,
    )


def facts_of(
    *, detainee_id: Any = None, cell_id: Any = None, since: dt.datetime | None
) -> list[Fact]:
    qs = (
        RiskFact.objects.filter(detainee_id=detainee_id)
        if detainee_id
        else RiskFact.objects.filter(cell_id=cell_id)
    )
    if since is not None:
        qs = qs.filter(at__gte=since)
    return [
        Fact(str(i), kind, at, label)
        # Ordered as the bulk path reads them, so equal times break the same way in both.
        for i, kind, at, label in qs.order_by("at", "id").values_list("id", "kind", "at", "label")
    ]


def _since(model: RiskModel, now: dt.datetime) -> dt.datetime | None:
    days = model.longest_window_days
    return None if days is None else now - dt.timedelta(days=days)


def active_override(detainee_id: Any, now: dt.datetime) -> RiskOverride | None:
    return (
        RiskOverride.objects.filter(
            detainee_id=detainee_id, ended_at__isnull=True, expires_at__gt=now
        )
        .order_by("-decided_at")
        .first()
    )


def _local_date(now: dt.datetime) -> dt.date:
    return timezone.localtime(now).date()


@transaction.atomic
def rescore_person(
    detainee_id: uuid.UUID | str, *, cause: str, now: dt.datetime | None = None
) -> RiskScore | None:
    """Score a person under every governing track; re-score their cell (and the cell they left)."""
    now = now or timezone.now()
    detainee = Detainee.objects.select_related("unit").filter(id=detainee_id).first()
    if detainee is None:
        return None
    earlier = {
        s.track: s for s in RiskScore.objects.select_for_update().filter(detainee_id=detainee.id)
    }
    old_cells = {s.cell_id for s in earlier.values() if s.cell_id}
    if detainee.status not in HELD_STATUSES:
        RiskScore.objects.filter(detainee_id=detainee.id).delete()
        for cell_id in old_cells:
            rescore_cell(cell_id, cause=cause, now=now)
        return None
    governing = models_for(detainee.unit.path)
    person = person_of(detainee, case_severities(), prior_custody(detainee))
    override = active_override(detainee.id, now)
    live_score = None
    for track, live in governing.tracks():
        model: RiskModel = live.pack
        facts = facts_of(detainee_id=detainee.id, since=_since(model, now))
        result = assess_person(model, person, facts, now, _local_date(now))
        score = _store_person(
            detainee,
            track,
            live,
            result,
            earlier.get(track),
            override if track == Track.LIVE else None,
            cause,
            now,
        )
        if track == Track.LIVE:
            live_score = score
    cells: set[Any] = {detainee.cell_id, *old_cells}
    for cell_id in cells - {None}:
        rescore_cell(cell_id, cause=cause, now=now)
    return live_score


Row = TypeVar("Row", RiskScore, CellRisk)


def _saved(row: Row | None, fields: dict[str, Any], new: Callable[[], Row]) -> Row:
    """Update the stored row in place, or create it."""
    row = row if row is not None else new()
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row


def _store_person(
    detainee: Any,
    track: str,
    live: LivePack,
    result: Assessment,
    before: RiskScore | None,
    override: RiskOverride | None,
    cause: str,
    now: dt.datetime,
) -> RiskScore:
    model: RiskModel = live.pack
    grade = override.grade if override and model.grade(override.grade) else result.grade.code
    factors = result.factors_json()
    fields = {
        "unit_id": detainee.unit_id,
        "cell_id": detainee.cell_id,
        "score": result.score,
        "computed_grade": result.grade.code,
        "grade": grade,
        "override": override,
        "factors": factors,
        "confidence": result.confidence,
        "missing": list(result.missing),
        "model_version": live.version,
        "model_origin": live.origin,
        "computed_at": now,
    }
    was = Was.of(before)
    score = _saved(before, fields, lambda: RiskScore(detainee=detainee, track=track))
    if was.score != result.score or was.grade != grade or was.model_version != live.version:
        moved = what_moved(was.factors, factors)
        RiskChange.objects.create(
            unit_id=detainee.unit_id,
            detainee=detainee,
            track=track,
            at=now,
            score=result.score,
            grade=grade,
            from_score=was.score,
            from_grade=was.grade,
            moved=moved,
            cause=cause[:100],
            model_version=live.version,
        )
        if track == Track.LIVE:
            announce_person(detainee, score, was, moved, cause)
            if was.grade and model.rank(grade) > model.rank(was.grade):
                from jianguan.risk.duty_tasks import grade_rise_task

                grade_rise_task(
                    detainee=detainee, score=score, was=was.grade, moved=moved, model=model, now=now
                )
    return score


def announce_person(
    detainee: Any,
    score: RiskScore,
    was: Was,
    moved: Sequence[dict[str, Any]],
    cause: str,
) -> None:
    event_append(
        actor=SYSTEM,
        type="risk.person_scored",
        aggregate_type="detainee",
        aggregate_id=detainee.id,
        unit_code=detainee.unit.code,
        payload={
            "name": detainee.name,
            "number": detainee.number,
            "score": score.score,
            "grade": score.grade,
            "from_grade": was.grade or None,
            "from_score": was.score,
            "moved": list(moved[:5]),
            "cause": cause,
            "model_version": score.model_version,
        },
    )


def occupants_of(cell_id: Any, track: str) -> list[CellOccupant]:
    held = RiskScore.objects.filter(
        cell_id=cell_id, track=track, detainee__status__in=HELD_STATUSES, detainee__cell_id=cell_id
    ).order_by("detainee_id")  # a tie for the top occupant breaks as in the bulk path
    rows = held.values_list("detainee_id", "detainee__name", "score", "grade")
    return [CellOccupant(str(i), name, score, grade) for i, name, score, grade in rows]


def rescore_cell(cell_id: Any, *, cause: str, now: dt.datetime | None = None) -> CellRisk | None:
    now = now or timezone.now()
    cell = Cell.objects.select_related("unit").filter(id=cell_id).first()
    if cell is None:
        return None
    governing = models_for(cell.unit.path)
    held = Detainee.objects.filter(cell_id=cell.id, status__in=HELD_STATUSES).count()
    result = None
    for track, live in governing.tracks():
        model: RiskModel = live.pack
        occupants = occupants_of(cell.id, track)
        facts = facts_of(cell_id=cell.id, since=_since(model, now))
        assessed = assess_cell(
            model, occupants=occupants, capacity=cell.capacity, facts=facts, now=now
        )
        stored = _store_cell(cell, track, live, assessed, held, cause, now)
        if track == Track.LIVE:
            result = stored
    return result


def _store_cell(
    cell: Any,
    track: str,
    live: LivePack,
    result: Assessment,
    held: int,
    cause: str,
    now: dt.datetime,
) -> CellRisk:
    before = CellRisk.objects.select_for_update().filter(cell_id=cell.id, track=track).first()
    factors = result.factors_json()
    fields = {
        "unit_id": cell.unit_id,
        "score": result.score,
        "grade": result.grade.code,
        "factors": factors,
        "occupants": held,
        "model_version": live.version,
        "computed_at": now,
    }
    was = Was.of(before)
    stored = _saved(before, fields, lambda: CellRisk(cell=cell, track=track))
    if was.score != result.score or was.grade != result.grade.code:
        RiskChange.objects.create(
            unit_id=cell.unit_id,
            cell=cell,
            track=track,
            at=now,
            score=result.score,
            grade=result.grade.code,
            from_score=was.score,
            from_grade=was.grade,
            moved=what_moved(was.factors, factors),
            cause=cause[:100],
            model_version=live.version,
        )
        if track == Track.LIVE:
            event_append(
                actor=SYSTEM,
                type="risk.cell_scored",
                aggregate_type="cell",
                aggregate_id=cell.id,
                unit_code=cell.unit.code,
                payload={
                    "cell": cell.number,
                    "score": result.score,
                    "grade": result.grade.code,
                    "from_grade": was.grade or None,
                    "occupants": held,
                },
            )
    return stored


def distribution(unit_id: Any, track: str = Track.LIVE) -> dict[str, dict[str, int]]:
    """How many people and cells of a facility are at each grade now."""
    people = dict(
        RiskScore.objects.filter(unit_id=unit_id, track=track)
        .values_list("grade")
        .annotate(n=Count("id"))
        .values_list("grade", "n")
    )
    cells = dict(
        CellRisk.objects.filter(unit_id=unit_id, track=track)
        .values_list("grade")
        .annotate(n=Count("id"))
        .values_list("grade", "n")
    )
    return {"people": people, "cells": cells}
