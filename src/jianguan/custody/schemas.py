"""Exchange schemas of custody: people, admissions, clocks, placements and movements."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from ninja import Field, Schema


class DetaineeOut(Schema):
    id: uuid.UUID
    unit_id: uuid.UUID
    number: str
    name: str
    gender: str
    birth_date: dt.date | None
    nationality: str
    case_nature: str
    legal_measure: str
    litigation_stage: str
    case_unit: str
    status: str
    admitted_at: dt.datetime
    left_at: dt.datetime | None
    cell_number: str | None


class DetaineeDetailOut(DetaineeOut):
    ethnicity: str
    id_type: str
    id_number: str
    case_number: str


class DetaineePage(Schema):
    count: int
    page: int
    page_size: int
    items: list[DetaineeOut]


# --- admission (收押) ------------------------------------------------------------------------


class AdmissionStartIn(Schema):
    unit_id: uuid.UUID


class AdmissionFindingOut(Schema):
    rule: str
    label: str
    article: str
    outcome: str  # REFUSE | APPROVAL | WARN
    reason: str
    satisfied_by_approval: bool = False


class AdmissionFileOut(Schema):
    id: uuid.UUID
    purpose: str
    content_type: str
    sha256: str
    uploaded_at: dt.datetime
    uploaded_by: str


class AdmissionSummaryOut(Schema):
    id: uuid.UUID
    unit_id: uuid.UUID
    status: str
    started_at: dt.datetime
    started_by: str
    updated_at: dt.datetime
    name: str
    steps_done: list[str]
    missing_steps: list[str]


class AdmissionOut(AdmissionSummaryOut):
    steps: dict[str, Any]
    findings: list[AdmissionFindingOut]
    refused_reason: str
    detainee_id: uuid.UUID | None
    files: list[AdmissionFileOut]


class AdmissionRefuseIn(Schema):
    reason: str


# --- placement (分押分管) --------------------------------------------------------------------


class CellFindingOut(Schema):
    rule: str
    label: str
    article: str
    hard: bool
    reason: str


class CellVerdictOut(Schema):
    cell_id: uuid.UUID
    number: str
    area: str
    kind: str
    gender: str
    capacity: int
    occupants: int
    free_places: int
    allowed: bool
    findings: list[CellFindingOut]


class CellVerdictsOut(Schema):
    pack_version: str
    cells: list[CellVerdictOut]


class CellAssignIn(Schema):
    cell_id: uuid.UUID
    override_reason: str = ""


class PlacementOut(Schema):
    detainee_id: uuid.UUID
    cell_id: uuid.UUID
    cell_number: str


class OverrideOut(Schema):
    id: uuid.UUID
    detainee_id: uuid.UUID
    detainee_name: str
    detainee_number: str
    cell_id: uuid.UUID
    cell_number: str
    findings: list[dict[str, Any]]
    reason: str
    decided_by: str
    decided_at: dt.datetime
    pack_version: str
    review_status: str
    reviewed_by: str
    reviewed_at: dt.datetime | None
    review_note: str


class OverrideReviewIn(Schema):
    approve: bool
    note: str = ""


# --- legal events and deadlines (法律文书与羁押期限) --------------------------------------------


class DeadlineOut(Schema):
    clock: str
    label: str
    rule: str
    article: str
    started_at: dt.datetime
    expires_at: dt.datetime | None
    precision: str
    state: str
    governs_custody: bool
    notice_at: dt.datetime | None
    flags: list[Any]
    history: list[dict[str, Any]]
    pack_version: str
    computed_at: dt.datetime
    urgency: str
    urgency_label: str


class LegalEventIn(Schema):
    kind: str
    at: dt.datetime
    approval: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    document_kind: str = ""
    document_number: str = ""
    issued_by: str = ""
    note: str = ""


class LegalEventOut(Schema):
    id: uuid.UUID
    kind: str
    label: str
    at: dt.datetime
    approval: str
    params: dict[str, Any]
    document_kind: str
    document_number: str
    issued_by: str
    note: str
    recorded_at: dt.datetime
    recorded_by: str
    pack_version: str


class BoardRowOut(Schema):
    detainee_id: uuid.UUID
    unit_id: uuid.UUID
    number: str
    name: str
    case_unit: str
    litigation_stage: str
    clock: str
    label: str
    article: str
    expires_at: dt.datetime | None
    precision: str
    state: str
    urgency: str
    urgency_label: str


class BoardFilter(Schema):
    case_unit: str = ""
    clock: str = ""
    page: int = 1
    page_size: int = 50


class BoardPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[BoardRowOut]


class NoticeOut(Schema):
    id: uuid.UUID
    detainee_id: uuid.UUID
    detainee_name: str
    detainee_number: str
    clock: str
    kind: str
    expires_at: dt.datetime
    recipient: str
    article: str
    text: str
    created_at: dt.datetime
    handled_at: dt.datetime | None
    handled_by: str
    handling_note: str


class NoticeHandleIn(Schema):
    note: str


# --- movements and 提讯 ----------------------------------------------------------------------


class MovementIn(Schema):
    kind: str
    at: dt.datetime | None = None
    document_number: str = ""
    destination: str = ""
    escort: str = ""
    reason: str = ""


class MovementOut(Schema):
    id: uuid.UUID
    kind: str
    label: str
    at: dt.datetime
    from_cell_number: str | None
    to_cell_number: str | None
    document_number: str
    destination: str
    escort: str
    reason: str
    recorded_by: str


class InterrogationIn(Schema):
    warrant_number: str
    case_unit: str
    officers: str
    at: dt.datetime | None = None


class InterrogationOut(Schema):
    id: uuid.UUID
    detainee_id: uuid.UUID
    warrant_number: str
    case_unit: str
    officers: str
    requested_at: dt.datetime
    admitted: bool
    refusal_reason: str
    ended_at: dt.datetime | None
    recorded_by: str


class CellRollOut(Schema):
    cell_id: uuid.UUID
    number: str
    area: str
    kind: str
    gender: str
    capacity: int
    present: int
    out: int


class RollOut(Schema):
    unit_id: uuid.UUID
    unplaced: int
    cells: list[CellRollOut]
