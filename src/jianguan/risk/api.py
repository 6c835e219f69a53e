"""Public face of risk assessment: scores and their explanations, facts, overrides, history."""

from __future__ import annotations

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
