"""Public face of risk assessment: scores and their explanations, facts, overrides, history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When

from jianguan.org.api import Perm, has_perm
from jianguan.risk.collect import fact_record
from jianguan.risk.facts import INCIDENTS, MANUAL_FACTS, RECORDED_BY_HAND, fact_label
from jianguan.risk.full import rescore_all
from jianguan.risk.model import Grade, RiskModel
from jianguan.risk.models import (
    CellRisk,
    GradeDaily,
    ReviewStatus,
    RiskChange,
    RiskFact,
    RiskOverride,
    RiskScore,
    Track,
)
from jianguan.risk.overrides import override_grant, override_review, overrides_expire
from jianguan.risk.scoring import distribution, live_model, models_for, rescore_cell, rescore_person
from jianguan.risk.trend import snapshot_today

__all__ = [
    "INCIDENTS",
    "MANUAL_FACTS",
    "RECORDED_BY_HAND",
    "CellRisk",
    "Grade",
    "GradeDaily",
    "ReviewStatus",
    "RiskChange",
    "RiskFact",
    "RiskModel",
    "RiskOverride",
    "RiskScore",
    "Track",
    "distribution",
    "fact_label",
    "fact_record",
    "live_model",
    "models_for",
    "override_grant",
    "override_review",
    "overrides_expire",
    "rescore_all",
    "rescore_cell",
    "rescore_person",
    "snapshot_today",
]


# Selectors the risk pages and the risk API share: reads only, always within one facility or
# one person or cell (the caller has checked the reader's scope).
__all__ += [
    "cell_scores",
    "changes_of",
    "facts_about",
    "grade_rank",
    "may_record_facts",
    "overrides_of",
    "person_scores",
    "trend_of",
]

# The posts that learn what only an officer can know (管教, 医务, 巡控) and the leaders.
FACT_RECORDERS = (Perm.EDUCATION, Perm.MEDICAL, Perm.PATROL, Perm.LEAD)


def may_record_facts(user: Any) -> bool:
    """Whether the user may record a fact or an incident by hand."""
    return any(has_perm(user, perm) for perm in FACT_RECORDERS)


def grade_rank(model: RiskModel, field: str = "grade") -> Case:
    """An ordering expression: a grade's rank in `model` (0 = lowest; unknown codes -1)."""
    return Case(
        *[When(**{field: g.code}, then=Value(g.rank)) for g in model.grades],
        default=Value(-1),
        output_field=IntegerField(),
    )


def person_scores(
    unit_id: Any, model: RiskModel, *, track: str = Track.LIVE, grade: str = ""
) -> QuerySet[RiskScore]:
    """A facility's people with their scores, highest grade first, then highest score."""
    qs = RiskScore.objects.filter(unit_id=unit_id, track=track).select_related(
        "detainee", "cell", "override"
    )
    if grade:
        qs = qs.filter(grade=grade)
    return qs.annotate(rank=grade_rank(model)).order_by("-rank", "-score", "detainee__number")


def cell_scores(unit_id: Any, *, track: str = Track.LIVE, grade: str = "") -> QuerySet[CellRisk]:
    qs = CellRisk.objects.filter(unit_id=unit_id, track=track).select_related("cell")
    if grade:
        qs = qs.filter(grade=grade)
    return qs.order_by("cell__area", "cell__number")


def changes_of(
    *, detainee_id: Any = None, cell_id: Any = None, track: str = Track.LIVE
) -> QuerySet[RiskChange]:
    """A person's or a cell's history, newest first."""
    if detainee_id is not None:
        qs = RiskChange.objects.filter(detainee_id=detainee_id)
    else:
        qs = RiskChange.objects.filter(cell_id=cell_id, detainee__isnull=True)
    return qs.filter(track=track).order_by("-at", "-id")


def facts_about(*, detainee_id: Any = None, cell_id: Any = None) -> QuerySet[RiskFact]:
    """Facts about a person, or recorded in a cell (its occupants' too), newest first."""
    if detainee_id is not None:
        return RiskFact.objects.filter(detainee_id=detainee_id).order_by("-at", "-id")
    return RiskFact.objects.filter(cell_id=cell_id).order_by("-at", "-id")


def overrides_of(detainee_id: Any) -> QuerySet[RiskOverride]:
    return RiskOverride.objects.filter(detainee_id=detainee_id).order_by("-decided_at", "-id")


def trend_of(unit_id: Any, *, since: dt.date, track: str = Track.LIVE) -> QuerySet[GradeDaily]:
    """The facility's daily distributions from `since`, oldest first."""
    return GradeDaily.objects.filter(unit_id=unit_id, track=track, day__gte=since).order_by("day")


# Graded management (分级管理): scheduled talks and reviews, compliance, the patrol interval.
from jianguan.risk.measures import (  # noqa: E402
    Compliance,
    compliance,
    measures_due,
    patrol_minutes_for_cell,
)

__all__ += [
    "Compliance",
    "compliance",
    "measures_due",
    "patrol_minutes_for_cell",
]

# Learning whether the model works: replay the record under a version (backtest), and the
# daily trend replayed from the facts (the synthetic history uses it).
from jianguan.risk.backtest import (  # noqa: E402
    backtest_node,
    known_versions,
    model_version,
    trend_replay,
)

__all__ += ["backtest_node", "known_versions", "model_version", "trend_replay"]
