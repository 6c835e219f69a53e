"""Public face of custody: find people in custody within the user's scope; every read is audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, QuerySet

from jianguan.audit.api import audit_record
from jianguan.core.actor import Actor
from jianguan.core.errors import NotFound
from jianguan.custody.models import HELD_STATUSES, Detainee, DetaineeStatus
from jianguan.org.api import Perm, has_perm, scope_unit_ids

__all__ = ["HELD_STATUSES", "Detainee", "DetaineeStatus"]


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
