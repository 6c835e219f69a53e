"""Exchange schemas of risk assessment: scores with their explanations, cells, history, facts,
overrides, and the facility's distribution.

Fields a service checks default to empty so that a missing value reaches the service and is
refused with its own message and field (400), rather than as a bare schema error.
"""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Schema

# --- the model ------------------------------------------------------------------------------


class GradeOut(Schema):
    code: str
    name: str
    colour: str
    min_score: float
    rank: int  # 0 = lowest


class ModelOut(Schema):
    version: str
    title: str
    origin: str  # 内置默认, or the publishing record's id
    grades: list[GradeOut]  # lowest first
    override_max_days: int


# --- people ---------------------------------------------------------------------------------


class FactorOut(Schema):
    """One line of an explanation: the factor, its points and the fact it came from."""

    code: str
    name: str
    points: float
    fact: str | None  # a fact id; for a cell's top occupant, the person's id
    label: str | None
    at: dt.datetime | None
    link: str  # where the fact can be read ("" when nowhere else)


class ScoreOut(Schema):
    detainee_id: uuid.UUID
    name: str
    number: str
    cell_id: uuid.UUID | None
    cell_number: str
    track: str
    score: float
    grade: str  # what applies: a leader's override wins
    grade_name: str
    colour: str
    computed_grade: str  # what the model says
    overridden: bool
    confidence: float
    missing: list[str]
    model_version: str
    computed_at: dt.datetime


class ScorePage(Schema):
    unit_id: uuid.UUID
    model: ModelOut
    count: int
    page: int
    page_size: int
    items: list[ScoreOut]


class ScoreFilter(Schema):
    unit_id: uuid.UUID | None = None  # default: the caller's own facility
    grade: str = ""
    track: str = "LIVE"
    page: int = 1
    page_size: int = 100


class OverrideOut(Schema):
    id: uuid.UUID
    detainee_id: uuid.UUID
    grade: str
    computed_grade: str
    reason: str
    decided_by: str
    decided_at: dt.datetime
    expires_at: dt.datetime
    ended_at: dt.datetime | None
    model_version: str
    review_status: str
    review_status_label: str
    reviewed_by: str
    reviewed_at: dt.datetime | None
    review_note: str


class ScoreDetailOut(ScoreOut):
    model_origin: str
    factors: list[FactorOut]
    override: OverrideOut | None


class ChangeOut(Schema):
    at: dt.datetime
    track: str
    from_grade: str
    grade: str
    from_score: float | None
    score: float
    moved: list[dict[str, object]]  # {code, name, from, to, delta}
    cause: str
    model_version: str


class FactOut(Schema):
    id: uuid.UUID
    kind: str
    label: str
    at: dt.datetime
    note: str
    link: str
    recorded_at: dt.datetime
    recorded_by: str
    by_hand: bool


class PersonRiskOut(Schema):
    detainee_id: uuid.UUID
    name: str
    number: str
    status: str
    cell_number: str
    model: ModelOut
    live: ScoreDetailOut | None  # None until scored (or once released)
    shadow: ScoreDetailOut | None  # a trial model's score, deciding nothing
    overrides: list[OverrideOut]
    history: list[ChangeOut]
    facts: list[FactOut]


class FactIn(Schema):
    kind: str = ""
    at: dt.datetime | None = None  # when it happened; now if absent; local time without offset
    note: str = ""


class FactRecordedOut(Schema):
    fact: FactOut
    live: ScoreDetailOut | None


class OverrideIn(Schema):
    grade: str = ""
    reason: str = ""
    days: int = 0


class ReviewIn(Schema):
    decision: str = ""  # uphold | revoke
    note: str = ""


# --- cells ----------------------------------------------------------------------------------


class CellScoreOut(Schema):
    cell_id: uuid.UUID
    number: str
    area: str
    capacity: int
    track: str
    score: float
    grade: str
    grade_name: str
    colour: str
    occupants: int
    model_version: str
    computed_at: dt.datetime


class CellPage(Schema):
    unit_id: uuid.UUID
    model: ModelOut
    items: list[CellScoreOut]


class CellFilter(Schema):
    unit_id: uuid.UUID | None = None
    grade: str = ""
    track: str = "LIVE"


class CellRiskOut(Schema):
    track: str
    score: float
    grade: str
    grade_name: str
    colour: str
    occupants: int
    model_version: str
    computed_at: dt.datetime
    factors: list[FactorOut]


class CellDetailOut(Schema):
    cell_id: uuid.UUID
    number: str
    area: str
    capacity: int
    model: ModelOut
    live: CellRiskOut | None  # None until the cell is scored
    shadow: CellRiskOut | None
    history: list[ChangeOut]


# --- distribution ---------------------------------------------------------------------------


class Counts(Schema):
    people: dict[str, int]
    cells: dict[str, int]


class DayOut(Counts):
    day: dt.date
    model_version: str


class DistributionOut(Schema):
    unit_id: uuid.UUID
    model: ModelOut
    live: Counts
    shadow_model: ModelOut | None
    shadow: Counts | None
    trend: list[DayOut]  # the live track's daily snapshots, oldest first


class DistributionFilter(Schema):
    unit_id: uuid.UUID | None = None
    days: int = 30
