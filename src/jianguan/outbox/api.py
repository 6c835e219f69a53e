"""Append events; register consumers; deliver events to them at least once."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from jianguan.audit.api import audit_record
from jianguan.core.actor import Actor
from jianguan.outbox.models import ConsumerState, Consumption, Event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainEvent:
    """What a consumer receives: a read-only copy of one stored event."""

    id: uuid.UUID
    type: str
    schema_version: int
    occurred_at: dt.datetime
    unit_code: str
    actor_id: uuid.UUID | None
    actor_name: str
    aggregate_type: str
    aggregate_id: str
    payload: dict[str, Any]


Handler = Callable[[DomainEvent], None]
_consumers: dict[str, Handler] = {}


def consumer(name: str) -> Callable[[Handler], Handler]:
    """Register a handler. It must be idempotent in effect; delivery is at least once."""

    def register(handler: Handler) -> Handler:
        _consumers[name] = handler
        return handler

    return register


def event_append(
    *,
    actor: Actor,
    type: str,
    aggregate_type: str,
    aggregate_id: str | uuid.UUID,
    unit_code: str,
    payload: dict[str, Any],
    schema_version: int = 1,
    occurred_at: dt.datetime | None = None,
) -> uuid.UUID:
    """Append an event inside the caller's transaction; wake the consumers after commit."""
    if not connection.in_atomic_block:
        raise RuntimeError("event_append must run inside the transaction of the change it records")
    now = timezone.now()
    event = Event.objects.create(
        type=type,
        schema_version=schema_version,
        occurred_at=occurred_at or now,
        recorded_at=now,
        unit_code=unit_code,
        actor_id=actor.user_id,
        actor_name=actor.username,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        payload=payload,
    )
    transaction.on_commit(_wake_consumers)
    transaction.on_commit(lambda: _ring_live(unit_code))
    return event.id


def change_record(
    *,
    actor: Actor,
    type: str,
    aggregate_type: str,
    aggregate_id: str | uuid.UUID,
    unit_code: str,
    payload: dict[str, Any],
) -> uuid.UUID:
    """Record a change both ways in the caller's transaction: an audit entry of who did it
    and an outbox event for the consumers. Every service write ends with this."""
    audit_record(
        actor=actor,
        action=type,
        object_type=aggregate_type,
        object_id=aggregate_id,
        detail=payload,
    )
    return event_append(
        actor=actor,
        type=type,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        unit_code=unit_code,
        payload=payload,
    )


def _wake_consumers() -> None:
    from jianguan.outbox.tasks import deliver_pending

    try:
        deliver_pending()
    except Exception:  # the periodic sweep will deliver; a queue outage must not fail the write
        log.exception("could not enqueue outbox delivery")


def _ring_live(unit_code: str) -> None:
    from jianguan.outbox.live import ring

    ring(unit_code)


def deliver(*, batch: int = 500, now: dt.datetime | None = None) -> int:
    """Deliver pending events to every registered consumer; return how many were handled."""
    handled = 0
    for name, handler in sorted(_consumers.items()):
        handled += _deliver_to(name, handler, batch=batch, now=now or timezone.now())
    return handled


def _deliver_to(name: str, handler: Handler, *, batch: int, now: dt.datetime) -> int:
    state, _ = ConsumerState.objects.get_or_create(consumer=name)
    lookback = dt.timedelta(seconds=settings.OUTBOX_LOOKBACK_SECONDS)
    # Re-read a window before the cursor: a transaction that began earlier may commit later.
    since = (state.cursor - lookback) if state.cursor else None
    events = Event.objects.order_by("recorded_at", "id")
    if since is not None:
        events = events.filter(recorded_at__gte=since)
        done = set(
            Consumption.objects.filter(consumer=name, recorded_at__gte=since).values_list(
                "event_id", flat=True
            )
        )
    else:
        done = set(Consumption.objects.filter(consumer=name).values_list("event_id", flat=True))
    handled = 0
    cursor = state.cursor
    for event in events.iterator(chunk_size=batch):
        if event.id in done:
            cursor = max(cursor, event.recorded_at) if cursor else event.recorded_at
            continue
        if handled >= batch:
            break
        if not _handle_one(name, handler, event, state):
            break  # keep order: retry this event on the next delivery
        handled += 1
        cursor = max(cursor, event.recorded_at) if cursor else event.recorded_at
    ConsumerState.objects.filter(pk=name).update(
        cursor=cursor, handled=state.handled + handled, updated_at=now
    )
    return handled


def _handle_one(name: str, handler: Handler, event: Event, state: ConsumerState) -> bool:
    try:
        with transaction.atomic():
            Consumption.objects.create(
                consumer=name, event_id=event.id, recorded_at=event.recorded_at
            )
            handler(_as_domain_event(event))
    except IntegrityError:
        return True  # another worker handled it first
    except Exception as exc:
        log.exception("consumer %s failed on event %s", name, event.id)
        ConsumerState.objects.filter(pk=name).update(
            failures=state.failures + 1, last_error=repr(exc)[:2000], last_error_event=event.id
        )
        state.failures += 1
        return False
    return True


def _as_domain_event(event: Event) -> DomainEvent:
    return DomainEvent(
        id=event.id,
        type=event.type,
        schema_version=event.schema_version,
        occurred_at=event.occurred_at,
        unit_code=event.unit_code,
        actor_id=event.actor_id,
        actor_name=event.actor_name,
        aggregate_type=event.aggregate_type,
        aggregate_id=event.aggregate_id,
        payload=event.payload,
    )


def consumer_states() -> list[ConsumerState]:
    return list(ConsumerState.objects.order_by("consumer"))
