"""Legal events and the deadlines computed from them (LAW.md §1).

Every change of a clock comes from a recorded legal event; the clocks themselves are always
recomputed from the whole record by the rule pack in force for the facility.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from jianguan.audit.api import audit_record
from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError
from jianguan.custody.deadlines import (
    APPROVAL_LEVELS,
    FACT_KINDS,
    Clock,
    DeadlinePack,
    DeadlineRefused,
    LegalFact,
    Person,
    check,
    compute,
    stage_after,
)
from jianguan.custody.models import Deadline, Detainee, LegalEvent
from jianguan.outbox.api import change_record
from jianguan.rules.api import LivePack, pack_for

# The stage transfers that come with a 换押 notice naming the organ that takes over the case.
CUSTODY_CHANGES = frozenset(
    {"TRANSFERRED_FOR_PROSECUTION", "RETRANSFERRED", "PROSECUTED", "APPEAL_ACCEPTED", "REMANDED"}
)

# A clock may be recorded a little ahead of the server's clock (a decision typed in at once).
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


def deadline_pack(unit_path: str) -> LivePack:
    return pack_for("deadlines", unit_path)


def person_of(detainee: Detainee) -> Person:
    return Person(legal_measure=detainee.legal_measure, admitted_at=detainee.admitted_at)


def fact_of(event: LegalEvent) -> LegalFact:
    return LegalFact(
        id=str(event.id), kind=event.kind, at=event.at, approval=event.approval, params=event.params
    )


def facts_of(detainee: Detainee) -> list[LegalFact]:
    return [fact_of(e) for e in detainee.legal_events.order_by("at", "id")]


def legal_event_record(
    *,
    actor: Actor,
    detainee: Detainee,
    kind: str,
    at: dt.datetime,
    approval: str = "",
    params: dict[str, Any] | None = None,
    document_kind: str = "",
    document_number: str = "",
    issued_by: str = "",
    note: str = "",
) -> LegalEvent:
    """Record a decision, notice or judgment and recompute the person's clocks.

    A contradictory event (an extension after expiry, a third return, the wrong approving
    level…) is refused with the reason and article; the refusal is audited.
    """
    if kind not in FACT_KINDS:
        raise DomainError("UNKNOWN_LEGAL_EVENT", f"未知的法律事项：{kind}", field="kind")
    if approval and approval not in APPROVAL_LEVELS:
        raise DomainError("UNKNOWN_APPROVAL", f"未知的批准机关级别：{approval}", field="approval")
    if at > timezone.now() + FUTURE_TOLERANCE:
        raise DomainError("FUTURE_EVENT", "发生时间不能晚于当前时间", field="at")
    new = LegalFact(id="new", kind=kind, at=at, approval=approval, params=params or {})
    live = deadline_pack(detainee.unit.path)
    try:
        check(person_of(detainee), facts_of(detainee), new, live.pack)
    except DeadlineRefused as refused:
        audit_record(
            actor=actor,
            action="custody.legal_event_refused",
            object_type="detainee",
            object_id=detainee.id,
            detail={"kind": kind, "at": at.isoformat(), "reason": refused.reason},
            outcome="REFUSED",
        )
        raise DomainError(
            "LEGAL_EVENT_REFUSED", f"{refused.reason}（依据：{refused.article}）", field="kind"
        ) from None
    return _record(
        actor=actor,
        detainee=detainee,
        new=new,
        live=live,
        document_kind=document_kind,
        document_number=document_number,
        issued_by=issued_by,
        note=note,
    )


@transaction.atomic
def _record(
    *,
    actor: Actor,
    detainee: Detainee,
    new: LegalFact,
    live: LivePack,
    document_kind: str,
    document_number: str,
    issued_by: str,
    note: str,
) -> LegalEvent:
    # Lock the person so two events recorded at once are checked one after the other.
    locked = Detainee.objects.select_for_update().select_related("unit").get(id=detainee.id)
    try:
        check(person_of(locked), facts_of(locked), new, live.pack)
    except DeadlineRefused as refused:
        raise DomainError(
            "LEGAL_EVENT_REFUSED", f"{refused.reason}（依据：{refused.article}）", field="kind"
        ) from None
    event = LegalEvent.objects.create(
        detainee=locked,
        kind=new.kind,
        at=new.at,
        approval=new.approval,
        params=dict(new.params),
        document_kind=document_kind,
        document_number=document_number,
        issued_by=issued_by,
        note=note,
        recorded_at=timezone.now(),
        recorded_by=actor.username,
        pack_version=live.version,
    )
    facts = facts_of(locked)
    stage = stage_after(person_of(locked), facts)
    if stage and stage != locked.litigation_stage:
        locked.litigation_stage = stage
        locked.save(update_fields=["litigation_stage"])
    if new.kind in CUSTODY_CHANGES and issued_by.strip():
        # 换押 (看守所条例第十五条): the organ that now handles the case becomes the case unit.
        locked.case_unit = issued_by.strip()[:100]
        locked.save(update_fields=["case_unit"])
    clocks = deadlines_recompute(locked, live=live, facts=facts)
    change_record(
        actor=actor,
        type="custody.legal_event_recorded",
        aggregate_type="detainee",
        aggregate_id=locked.id,
        unit_code=locked.unit.code,
        payload={
            "event": str(event.id),
            "kind": event.kind,
            "label": FACT_KINDS[event.kind],
            "at": event.at.isoformat(),
            "name": locked.name,
            "number": locked.number,
            "document_number": document_number,
            "stage": locked.litigation_stage,
            "clocks": {c.clock: _iso(c.expires_at) for c in clocks},
            "pack_version": live.version,
        },
    )
    detainee.litigation_stage = locked.litigation_stage
    detainee.case_unit = locked.case_unit
    return event


def _iso(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when else None


# The stored columns of a computed clock, in this order (the bulk writers use it too).
CLOCK_COLUMNS = (
    "clock",
    "label",
    "rule",
    "article",
    "started_at",
    "expires_at",
    "precision",
    "state",
    "governs_custody",
    "notice_at",
    "inputs",
    "history",
    "flags",
)


def clock_values(c: Clock) -> tuple[Any, ...]:
    return (
        c.clock,
        c.label,
        c.rule,
        c.article[:300],
        c.started_at,
        c.expires_at,
        c.precision,
        c.state,
        c.governs_custody,
        c.notice_at,
        dict(c.inputs),
        [_step_json(s) for s in c.history],
        list(c.flags),
    )


def deadline_rows(
    detainee_id: Any, unit_id: Any, clocks: Iterable[Clock], version: str, now: dt.datetime
) -> list[Deadline]:
    """The rows that store computed clocks (also used by the bulk recompute)."""
    return [
        Deadline(
            detainee_id=detainee_id,
            unit_id=unit_id,
            pack_version=version,
            computed_at=now,
            **dict(zip(CLOCK_COLUMNS, clock_values(c), strict=True)),
        )
        for c in clocks
    ]


def _step_json(step: Any) -> dict[str, Any]:
    return {
        "fact_id": step.fact_id,
        "fact_kind": step.fact_kind,
        "label": FACT_KINDS.get(step.fact_kind, step.fact_kind),
        "at": step.at.isoformat(),
        "expires_at": _iso(step.expires_at),
        "article": step.article,
        "note": step.note,
    }


def deadlines_recompute(
    detainee: Detainee, *, live: LivePack | None = None, facts: Sequence[LegalFact] | None = None
) -> list[Clock]:
    """Replace the person's stored clocks with a fresh computation. Runs in the caller's
    transaction; notices are keyed by clock and expiry, so they survive the replacement."""
    live = live or deadline_pack(detainee.unit.path)
    pack: DeadlinePack = live.pack
    facts = facts if facts is not None else facts_of(detainee)
    clocks = compute(person_of(detainee), facts, pack)
    Deadline.objects.filter(detainee=detainee).delete()
    Deadline.objects.bulk_create(
        deadline_rows(detainee.id, detainee.unit_id, clocks, live.version, timezone.now())
    )
    return clocks
