"""Public face of custody: find people in custody within the user's scope (every read is
audited), and the services of the custody core — admission, legal events and deadlines,
placement, movements, 提讯 and the deadline notices — for the edges (web, API) to call."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, QuerySet

from jianguan.audit.api import audit_record
from jianguan.core.actor import Actor
from jianguan.core.errors import NotFound
from jianguan.custody.admission import (
    DISPOSITIONS,
    HEALTH_FLAGS,
    HEALTH_ITEMS,
    INTERVIEW_ITEMS,
    STEPS,
    admission_add_photo,
    admission_complete,
    admission_refuse,
    admission_save_step,
    admission_start,
    steps_missing,
)
from jianguan.custody.admission_rules import DOCUMENT_KINDS
from jianguan.custody.deadlines import APPROVAL_LEVELS, FACT_KINDS
from jianguan.custody.interrogation import interrogation_end, interrogation_request
from jianguan.custody.legal import legal_event_record
from jianguan.custody.models import (
    HELD_STATUSES,
    Admission,
    AdmissionFile,
    AdmissionStatus,
    Deadline,
    DeadlineNotice,
    Detainee,
    DetaineeStatus,
    Interrogation,
    LegalEvent,
    Movement,
    MovementKind,
    NoticeKind,
    PlacementOverride,
    ReviewStatus,
)
from jianguan.custody.movements import movement_record, roll_by_cell, unplaced
from jianguan.custody.notices import deadline_watch, notice_handle, notices_open
from jianguan.custody.placement import cell_assign, cell_verdicts, override_review, overrides_in
from jianguan.org.api import Perm, has_perm, scope_unit_ids

__all__ = [
    "APPROVAL_LEVELS",
    "DISPOSITIONS",
    "DOCUMENT_KINDS",
    "FACT_KINDS",
    "HEALTH_FLAGS",
    "HEALTH_ITEMS",
    "HELD_STATUSES",
    "INTERVIEW_ITEMS",
    "STEPS",
    "Admission",
    "AdmissionFile",
    "AdmissionStatus",
    "Deadline",
    "DeadlineNotice",
    "Detainee",
    "DetaineeStatus",
    "Interrogation",
    "LegalEvent",
    "Movement",
    "MovementKind",
    "NoticeKind",
    "PlacementOverride",
    "ReviewStatus",
    "admission_add_photo",
    "admission_complete",
    "admission_refuse",
    "admission_save_step",
    "admission_start",
    "cell_assign",
    "cell_verdicts",
    "deadline_watch",
    "interrogation_end",
    "interrogation_request",
    "legal_event_record",
    "movement_record",
    "notice_handle",
    "notices_open",
    "override_review",
    "overrides_in",
    "roll_by_cell",
    "steps_missing",
    "unplaced",
]


def detainees_visible(user: Any) -> QuerySet[Detainee]:
    """Everyone the user may see: their units' people, and only with the view permission."""
    if not has_perm(user, Perm.DETAINEE_VIEW):
        return Detainee.objects.none()
    return Detainee.objects.filter(unit_id__in=scope_unit_ids(user))


def detainee_search(
    *,
    user: Any,
    status: str | None = None,
    unit_id: uuid.UUID | None = None,
    text: str = "",
) -> QuerySet[Detainee]:
    qs = detainees_visible(user).select_related("unit", "cell")
    if status == "HELD":
        qs = qs.filter(status__in=HELD_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if unit_id:
        qs = qs.filter(unit_id=unit_id)
    text = text.strip()
    if text:
        qs = qs.filter(Q(name__contains=text) | Q(number__startswith=text) | Q(case_number=text))
    return qs.order_by("-admitted_at", "id")


def audit_list_read(*, actor: Actor, ids: list[uuid.UUID], query: dict[str, Any]) -> None:
    """Record which people's records a list showed."""
    audit_record(
        actor=actor,
        action="detainee.list",
        object_type="detainee",
        detail={"query": query, "ids": [str(i) for i in ids]},
        wait_for_flush=False,
    )


# The columns a list row shows; read as plain values, the list builds no model objects.
LIST_COLUMNS = (
    "id",
    "unit_id",
    "number",
    "name",
    "gender",
    "birth_date",
    "nationality",
    "case_nature",
    "legal_measure",
    "litigation_stage",
    "case_unit",
    "status",
    "admitted_at",
    "left_at",
)


def detainee_rows(qs: QuerySet[Detainee], *, offset: int, limit: int) -> list[dict[str, Any]]:
    return list(qs.values(*LIST_COLUMNS, cell_number=F("cell__number"))[offset : offset + limit])


def access_detainee(*, user: Any, actor: Actor, id: uuid.UUID | str) -> Detainee:
    """One person's record, audited; missing and out-of-scope both answer NotFound (and are audited).

    Not wrapped in a transaction: the audit entry of a refused look-up must survive the NotFound.
    """
    try:
        detainee = detainee_search(user=user).get(id=id)
    except (Detainee.DoesNotExist, ValueError, ValidationError):
        exists = _exists(id)
        audit_record(
            actor=actor,
            action="detainee.view",
            object_type="detainee",
            object_id=str(id)[:64],
            outcome="DENIED" if exists else "NOT_FOUND",
        )
        raise NotFound("在押人员") from None
    audit_record(
        actor=actor,
        action="detainee.view",
        object_type="detainee",
        object_id=detainee.id,
        wait_for_flush=False,
    )
    return detainee


def _exists(id: uuid.UUID | str) -> bool:
    try:
        return Detainee.objects.filter(id=id).exists()
    except (ValueError, ValidationError):
        return False


@dataclass(frozen=True)
class Roll:
    """The live roll (在押数): held now, of whom out of the facility, by status."""

    held: int
    out_temporarily: int
    admitted_today: int


def roll(*, user: Any, today_start: Any) -> Roll:
    counts = detainees_visible(user).aggregate(
        held=Count("id", filter=Q(status__in=HELD_STATUSES)),
        out=Count("id", filter=Q(status=DetaineeStatus.OUT_TEMPORARILY)),
        today=Count("id", filter=Q(admitted_at__gte=today_start)),
    )
    return Roll(held=counts["held"], out_temporarily=counts["out"], admitted_today=counts["today"])


def held_by_unit(*, user: Any) -> dict[uuid.UUID, int]:
    rows = (
        detainees_visible(user)
        .filter(status__in=HELD_STATUSES)
        .values("unit_id")
        .annotate(n=Count("id"))
    )
    return {r["unit_id"]: r["n"] for r in rows}


# --- custody core selectors ------------------------------------------------------------------


def admissions_open(user: Any) -> QuerySet[Admission]:
    """Admissions in progress at the user's facilities (收押 post)."""
    if not has_perm(user, Perm.DETAINEE_ADMIT):
        return Admission.objects.none()
    return Admission.objects.filter(
        unit_id__in=scope_unit_ids(user), status=AdmissionStatus.DRAFT
    ).order_by("-updated_at")


def access_admission(*, user: Any, id: uuid.UUID | str) -> Admission:
    if not has_perm(user, Perm.DETAINEE_ADMIT):
        raise NotFound("收押登记")
    try:
        return (
            Admission.objects.select_related("unit", "detainee")
            .filter(unit_id__in=scope_unit_ids(user))
            .get(id=id)
        )
    except (Admission.DoesNotExist, ValueError, ValidationError):
        raise NotFound("收押登记") from None


# Board colours: how close a clock is to its end. The law sets the notice times; these bands
# are a display setting (practice).
URGENCY_BANDS = (
    (dt.timedelta(0), "expired", "已超期"),
    (dt.timedelta(days=1), "critical", "1日内届满"),
    (dt.timedelta(days=3), "urgent", "3日内届满"),
    (dt.timedelta(days=7), "soon", "7日内届满"),
)


def urgency(expires_at: dt.datetime | None, now: dt.datetime) -> tuple[str, str]:
    if expires_at is None:
        return "suspended", "暂停计算"
    left = expires_at - now
    for limit, key, label in URGENCY_BANDS:
        if left <= limit:
            return key, label
    return "normal", "正常"


def deadline_board(
    *, user: Any, case_unit: str = "", clock: str = "", unit_id: uuid.UUID | None = None
) -> QuerySet[Deadline]:
    """Every running custody clock in scope, the nearest end first (期限看板)."""
    if not has_perm(user, Perm.DETAINEE_VIEW):
        return Deadline.objects.none()
    qs = Deadline.objects.filter(
        unit_id__in=scope_unit_ids(user),
        state__in=("RUNNING", "SUSPENDED"),
        governs_custody=True,
        detainee__status__in=HELD_STATUSES,
    ).select_related("detainee", "unit")
    if case_unit:
        qs = qs.filter(detainee__case_unit=case_unit)
    if clock:
        qs = qs.filter(clock=clock)
    if unit_id:
        qs = qs.filter(unit_id=unit_id)
    return qs.order_by(F("expires_at").asc(nulls_last=True), "detainee__number")


def case_units_in_scope(user: Any) -> list[str]:
    return list(
        detainees_visible(user)
        .filter(status__in=HELD_STATUSES)
        .exclude(case_unit="")
        .order_by("case_unit")
        .values_list("case_unit", flat=True)
        .distinct()
    )


def deadlines_of(detainee: Detainee) -> QuerySet[Deadline]:
    return detainee.deadlines.order_by(F("expires_at").asc(nulls_last=True))


def legal_events_of(detainee: Detainee) -> QuerySet[LegalEvent]:
    return detainee.legal_events.order_by("at", "id")


def movements_of(detainee: Detainee) -> QuerySet[Movement]:
    return detainee.movements.select_related("from_cell", "to_cell").order_by("-at")


def access_notice(*, user: Any, id: uuid.UUID | str) -> DeadlineNotice:
    try:
        return (
            DeadlineNotice.objects.select_related("detainee", "unit")
            .filter(unit_id__in=scope_unit_ids(user))
            .get(id=id)
        )
    except (DeadlineNotice.DoesNotExist, ValueError, ValidationError):
        raise NotFound("期限通知") from None


def access_override(*, user: Any, id: uuid.UUID | str) -> PlacementOverride:
    try:
        return overrides_in(scope_unit_ids(user), pending_only=False).get(id=id)
    except (PlacementOverride.DoesNotExist, ValueError, ValidationError):
        raise NotFound("越过记录") from None


def interrogations_running(user: Any) -> QuerySet[Interrogation]:
    return Interrogation.objects.filter(
        unit_id__in=scope_unit_ids(user), admitted=True, ended_at__isnull=True
    ).select_related("detainee")


def access_interrogation(*, user: Any, id: uuid.UUID | str) -> Interrogation:
    """A 提讯 at one of the user's facilities; missing and foreign both answer NotFound."""
    if not has_perm(user, Perm.INTERROGATION):
        raise NotFound("提讯登记")
    try:
        return (
            Interrogation.objects.select_related("detainee__unit")
            .filter(unit_id__in=scope_unit_ids(user))
            .get(id=id)
        )
    except (Interrogation.DoesNotExist, ValueError, ValidationError):
        raise NotFound("提讯登记") from None


def held_in_unit(unit_id: uuid.UUID, id: uuid.UUID | str) -> Detainee | None:
    """A person held at this facility now, or None (a wrong or foreign id is not an error)."""
    try:
        return (
            Detainee.objects.select_related("cell")
            .filter(unit_id=unit_id, status__in=HELD_STATUSES, id=id)
            .first()
        )
    except (ValueError, ValidationError):
        return None


def movements_today(user: Any, since: dt.datetime) -> QuerySet[Movement]:
    """Movements at the user's facilities since a moment (the command screen: since local
    midnight), newest first; nothing without the view permission."""
    if not has_perm(user, Perm.DETAINEE_VIEW):
        return Movement.objects.none()
    return (
        Movement.objects.filter(unit_id__in=scope_unit_ids(user), at__gte=since)
        .select_related("detainee", "from_cell", "to_cell")
        .order_by("-at", "-id")
    )
