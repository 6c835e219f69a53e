"""Recompute every held person's clocks, in batches: after a deadline rule pack is published,
and on demand (`jianguan deadlines recompute`)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from jianguan.core.bulk import bulk_insert
from jianguan.core.ids import uuid7
from jianguan.custody.deadlines import LegalFact, Person, compute
from jianguan.custody.legal import CLOCK_COLUMNS, clock_values, deadline_pack
from jianguan.custody.models import HELD_STATUSES, Deadline, Detainee, LegalEvent
from jianguan.outbox.api import DomainEvent, consumer
from jianguan.rules.api import LivePack

DEADLINE_COLUMNS = ("id", "detainee_id", "unit_id", *CLOCK_COLUMNS, "pack_version", "computed_at")


def deadlines_recompute_all(
    *,
    unit_code: str = "",
    batch: int = 2000,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Recompute the clocks of everyone held in a unit's subtree (all units when no code)."""
    packs: dict[str, LivePack] = {}
    held = Detainee.objects.filter(status__in=HELD_STATUSES)
    if unit_code:
        held = held.filter(unit__path__contains=f"/{unit_code}/")
    people = held.order_by("id").values_list(
        "id", "unit_id", "unit__path", "legal_measure", "admitted_at"
    )
    done = 0
    after: uuid.UUID | None = None
    while True:
        page = list((people.filter(id__gt=after) if after else people)[:batch])
        if not page:
            return done
        after = page[-1][0]
        _recompute_batch(page, packs)
        done += len(page)
        if progress:
            progress(len(page))


def _recompute_batch(page: list[tuple[Any, ...]], packs: dict[str, LivePack]) -> None:
    facts: dict[uuid.UUID, list[LegalFact]] = defaultdict(list)
    events = (
        LegalEvent.objects.filter(detainee_id__in=[row[0] for row in page])
        .order_by("detainee_id", "at", "id")
        .values_list("detainee_id", "id", "kind", "at", "approval", "params")
    )
    for detainee_id, id, kind, at, approval, params in events:
        facts[detainee_id].append(LegalFact(str(id), kind, at, approval, params))
    now = timezone.now()
    rows: list[tuple[Any, ...]] = []
    for detainee_id, unit_id, path, measure, admitted_at in page:
        live = packs.get(path) or packs.setdefault(path, deadline_pack(path))
        for clock in compute(Person(measure, admitted_at), facts[detainee_id], live.pack):
            rows.append((uuid7(), detainee_id, unit_id, *clock_values(clock), live.version, now))
    with transaction.atomic():
        Deadline.objects.filter(detainee_id__in=[row[0] for row in page]).delete()
        bulk_insert(Deadline, DEADLINE_COLUMNS, rows)


@consumer("deadline-recompute")
def on_pack_published(event: DomainEvent) -> None:
    """A new deadline pack changes every clock under the unit it applies to."""
    if event.type != "rules.pack_published" or event.payload.get("kind") != "deadlines":
        return
    if event.payload.get("status") != "ACTIVE":
        return
    deadlines_recompute_all(unit_code=event.unit_code)
