"""Cell placement under the separation rules (LAW.md §2.2): propose, explain, assign, review.

Legal separations are hard blocks; practice rules warn and may be overridden with a reason,
which the leader reviews.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError, NotFound
from jianguan.custody.models import (
    HELD_STATUSES,
    Detainee,
    Movement,
    MovementKind,
    PlacementOverride,
    ReviewStatus,
)
from jianguan.housing.api import Cell
from jianguan.housing.separation import CellFacts, CellVerdict, Occupant, evaluate
from jianguan.outbox.api import change_record
from jianguan.rules.api import LivePack, pack_for

# 已决: serving a sentence here, or judgment effective and awaiting delivery.
SENTENCED_MEASURES = {"30", "31"}
SENTENCED_STAGES = {"40", "50"}

_OCCUPANT_FIELDS = (
    "id",
    "cell_id",
    "gender",
    "birth_date",
    "nationality",
    "case_number",
    "legal_measure",
    "litigation_stage",
    "id_number",
)


def _occupant(row: dict[str, Any], *, recidivist: bool, new_admission: bool) -> Occupant:
    return Occupant(
        id=str(row["id"]),
        gender=row["gender"],
        birth_date=row["birth_date"],
        nationality=row["nationality"],
        case_number=row["case_number"],
        legal_measure=row["legal_measure"],
        sentenced=row["legal_measure"] in SENTENCED_MEASURES
        or row["litigation_stage"] in SENTENCED_STAGES,
        recidivist=recidivist,
        new_admission=new_admission,
    )


def _recidivists(unit_id: uuid.UUID, id_numbers: set[str]) -> set[str]:
    """ID numbers with an earlier, finished stay at this facility."""
    id_numbers.discard("")
    if not id_numbers:
        return set()
    return set(
        Detainee.objects.filter(unit_id=unit_id, id_number__in=id_numbers)
        .exclude(status__in=HELD_STATUSES)
        .values_list("id_number", flat=True)
    )


def separation_pack(detainee: Detainee) -> LivePack:
    return pack_for("separation", detainee.unit.path)


def cell_verdicts(
    detainee: Detainee, *, cells: QuerySet[Cell] | None = None
) -> tuple[list[CellVerdict], LivePack]:
    """Every active cell of the person's facility with the rules that exclude or warn."""
    cell_rows = list(cells if cells is not None else Cell.objects.filter(unit_id=detainee.unit_id))
    cell_rows = [c for c in cell_rows if c.is_active]
    rows = list(
        Detainee.objects.filter(
            unit_id=detainee.unit_id,
            status__in=HELD_STATUSES,
            cell_id__in=[c.id for c in cell_rows],
        )
        .exclude(id=detainee.id)
        .values(*_OCCUPANT_FIELDS)
    )
    person_row = {f: getattr(detainee, f) for f in _OCCUPANT_FIELDS if f != "cell_id"}
    repeat = _recidivists(detainee.unit_id, {r["id_number"] for r in rows} | {detainee.id_number})
    by_cell: dict[uuid.UUID, list[Occupant]] = defaultdict(list)
    for row in rows:
        occupant = _occupant(row, recidivist=row["id_number"] in repeat, new_admission=False)
        by_cell[row["cell_id"]].append(occupant)
    person = _occupant(
        person_row,
        recidivist=detainee.id_number in repeat,
        new_admission=detainee.cell_id is None,
    )
    facts = [
        CellFacts(
            id=str(c.id),
            number=c.number,
            area=c.area,
            kind=c.kind,
            gender=c.gender,
            capacity=c.capacity,
            occupants=tuple(by_cell.get(c.id, ())),
        )
        for c in cell_rows
    ]
    live = separation_pack(detainee)
    return evaluate(person, facts, live.pack, today=timezone.localdate()), live


def _finding_json(f: Any) -> dict[str, Any]:
    return {"rule": f.rule, "label": f.label, "article": f.article, "reason": f.reason}


@transaction.atomic
def cell_assign(
    *,
    actor: Actor,
    detainee: Detainee,
    cell_id: uuid.UUID | str,
    override_reason: str = "",
    at: dt.datetime | None = None,
) -> Detainee:
    """Place the person in a cell (first placement or a move).

    Refused outright when a legal separation rule excludes the cell; when only practice rules
    warn, the officer must give a reason, which is recorded for the leader's review.
    """
    locked = Detainee.objects.select_for_update().select_related("unit").get(id=detainee.id)
    if locked.status not in HELD_STATUSES:
        raise DomainError("NOT_HELD", f"{locked.name}已不在押，不能安排监室")
    # Lock the cell: two people placed into one cell at once are checked one after the other.
    cell = Cell.objects.select_for_update().filter(id=cell_id, unit_id=locked.unit_id).first()
    if cell is None or not cell.is_active:
        raise NotFound("监室")
    if cell.id == locked.cell_id:
        raise DomainError("SAME_CELL", f"{locked.name}已在{cell.number}监室", field="cell")
    (verdict,), live = cell_verdicts(locked, cells=Cell.objects.filter(id=cell.id))
    hard = [f for f in verdict.findings if f.hard]
    soft = [f for f in verdict.findings if not f.hard]
    if hard:
        reasons = "；".join(f"{f.label}：{f.reason}（{f.article}）" for f in hard)
        raise DomainError(
            "PLACEMENT_REFUSED", f"不能安排到{cell.number}监室 — {reasons}", field="cell"
        )
    override_reason = override_reason.strip()
    if soft and not override_reason:
        warnings = "；".join(f"{f.label}：{f.reason}" for f in soft)
        raise DomainError(
            "PLACEMENT_NEEDS_REASON",
            f"安排到{cell.number}监室不符合管理规定（{warnings}）；如确需安排，请填写理由，"
            "该决定将提交所领导审核",
            field="override_reason",
        )
    now = at or timezone.now()
    override = None
    if soft:
        override = PlacementOverride.objects.create(
            detainee=locked,
            unit_id=locked.unit_id,
            cell=cell,
            findings=[_finding_json(f) for f in soft],
            reason=override_reason,
            decided_by=actor.username,
            decided_at=now,
            pack_version=live.version,
        )
    from_cell = locked.cell
    Movement.objects.create(
        detainee=locked,
        unit_id=locked.unit_id,
        kind=MovementKind.CELL_MOVE,
        at=now,
        from_cell=from_cell,
        to_cell=cell,
        reason=override_reason,
        recorded_by=actor.username,
    )
    locked.cell = cell
    locked.save(update_fields=["cell"])
    change_record(
        actor=actor,
        type="custody.cell_assigned",
        aggregate_type="detainee",
        aggregate_id=locked.id,
        unit_code=locked.unit.code,
        payload={
            "name": locked.name,
            "number": locked.number,
            "from_cell": from_cell.number if from_cell else None,
            "to_cell": cell.number,
            "overridden": [f.rule for f in soft],
            "override": str(override.id) if override else None,
            "reason": override_reason,
            "pack_version": live.version,
        },
    )
    return locked


def overrides_in(unit_ids: Any, *, pending_only: bool = True) -> QuerySet[PlacementOverride]:
    qs = PlacementOverride.objects.filter(unit_id__in=unit_ids).select_related("detainee", "cell")
    if pending_only:
        qs = qs.filter(review_status=ReviewStatus.PENDING)
    return qs.order_by("-decided_at")


@transaction.atomic
def override_review(
    *, actor: Actor, override: PlacementOverride, approve: bool, note: str = ""
) -> PlacementOverride:
    """The leader's review of a placement made against a practice rule."""
    locked = PlacementOverride.objects.select_for_update().get(id=override.id)
    if locked.review_status != ReviewStatus.PENDING:
        raise DomainError("ALREADY_REVIEWED", "该记录已审核")
    if not approve and not note.strip():
        raise DomainError("NOTE_REQUIRED", "不同意时请写明意见（如：调整到哪个监室）", field="note")
    locked.review_status = ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED
    locked.reviewed_by = actor.username
    locked.reviewed_at = timezone.now()
    locked.review_note = note.strip()
    locked.save(update_fields=["review_status", "reviewed_by", "reviewed_at", "review_note"])
    change_record(
        actor=actor,
        type="custody.override_reviewed",
        aggregate_type="detainee",
        aggregate_id=locked.detainee_id,
        unit_code=locked.detainee.unit.code,
        payload={
            "override": str(locked.id),
            "name": locked.detainee.name,
            "cell": locked.cell.number,
            "decision": locked.review_status,
            "note": locked.review_note,
        },
    )
    return locked
