"""Live screens follow the outbox (DESIGN.md §2, §4).

The outbox table is the truth: a screen's stream reads the events of its units that it has not
sent yet, so a screen that reconnects with its last event id catches up on what it missed, and
a web process that dies takes nothing with it. Redis pub/sub, when configured, only rings a bell
after each commit so that a waiting stream reads at once; without Redis (the embedded default)
streams read every POLL_SECONDS. A lost bell costs at most one poll interval either way.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils import timezone

from jianguan.outbox.api import DomainEvent, _as_domain_event
from jianguan.outbox.models import Event

log = logging.getLogger(__name__)

CHANNEL = "jianguan:live"
POLL_SECONDS = 0.25  # embedded default: how often a stream looks for new events
BELL_WAIT_SECONDS = 5.0  # with Redis: re-read at least this often even with no bell
# Events are ordered by the time they were written, but a transaction that began earlier may
# commit a little later; each read looks back this far and skips what it already sent.
LATE_COMMIT = dt.timedelta(seconds=10)
BATCH = 200
MIN_READ_INTERVAL = 0.05  # seconds between two reads of one stream

_clients_lock = threading.Lock()
_clients: dict[str, Any] = {}  # one connection pool per Redis URL, shared by the threads


def _redis() -> Any:
    url = settings.REDIS_URL
    if not url:
        return None
    with _clients_lock:
        if url not in _clients:
            import redis

            _clients[url] = redis.Redis.from_url(
                url, socket_timeout=0.5, socket_connect_timeout=0.5
            )
        return _clients[url]


def ring(unit_code: str) -> None:
    """Tell waiting streams that `unit_code` has a new event (after commit; never raises)."""
    client = _redis()
    if client is None:
        return
    try:
        client.publish(CHANNEL, unit_code)
    except Exception:  # the streams' own re-read will find the event
        log.warning("live bell not rung for %s (Redis unavailable)", unit_code)


class Follower:
    """One screen's position in the outbox: the events of `unit_codes` after a given event."""

    def __init__(self, unit_codes: Iterable[str], *, after: str | None = None) -> None:
        self.unit_codes = set(unit_codes)
        self._pubsub: Any = None
        self._last_read = 0.0
        last = self._last_seen(after) if after else None
        # What the screen already shows: everything up to now for a new screen (it has just
        # rendered), or up to and including its last event for a reconnecting one.
        self.since = last["recorded_at"] if last else timezone.now()
        seen = Event.objects.filter(
            recorded_at__gte=self.since - LATE_COMMIT,
            recorded_at__lte=self.since,
            unit_code__in=self.unit_codes,
        )
        if last:
            seen = seen.filter(id__lte=last["id"])
        self.sent: dict[uuid.UUID, dt.datetime] = dict(seen.values_list("id", "recorded_at"))

    @staticmethod
    def _last_seen(after: str) -> dict[str, Any] | None:
        """The event a reconnecting screen saw last (its SSE Last-Event-ID), if we have it."""
        try:
            row = Event.objects.filter(id=uuid.UUID(after)).values("id", "recorded_at").first()
        except ValueError:
            return None  # unknown: start from now; the screen reloads its panels anyway
        return dict(row) if row else None

    def read(self) -> list[DomainEvent]:
        """Events not sent yet, oldest first (at most BATCH; call again for the rest).

        The look-back window is read as (id, time) pairs only; whole rows are fetched just for
        the events not sent yet, so a busy facility's window costs little per read."""
        self._last_read = time.monotonic()
        window = Event.objects.filter(
            recorded_at__gte=self.since - LATE_COMMIT, unit_code__in=self.unit_codes
        ).order_by("recorded_at", "id")
        new = [
            (event_id, at)
            for event_id, at in window.values_list("id", "recorded_at")
            if event_id not in self.sent
        ][:BATCH]
        fresh: list[DomainEvent] = []
        if new:
            rows = {row.id: row for row in Event.objects.filter(id__in=[i for i, _ in new])}
            fresh = [_as_domain_event(rows[i]) for i, _ in new]
            self.sent.update(new)
            self.since = max(self.since, *(at for _, at in new))
        horizon = self.since - LATE_COMMIT
        self.sent = {k: v for k, v in self.sent.items() if v >= horizon}
        return fresh

    def wait(self, timeout: float) -> None:
        """Sleep until a bell for one of our units rings, or the poll interval, or `timeout`."""
        # A busy facility rings many times a second: read at most every MIN_READ_INTERVAL.
        pause = self._last_read + MIN_READ_INTERVAL - time.monotonic()
        if pause > 0:
            time.sleep(min(pause, timeout))
        client = _redis()
        if client is None:
            time.sleep(min(POLL_SECONDS, timeout))
            return
        try:
            if self._pubsub is None:
                self._pubsub = client.pubsub(ignore_subscribe_messages=True)
                self._pubsub.subscribe(CHANNEL)
            deadline = time.monotonic() + min(BELL_WAIT_SECONDS, timeout)
            while (left := deadline - time.monotonic()) > 0:
                message = self._pubsub.get_message(timeout=left)
                if message and message["data"].decode() in self.unit_codes:
                    return
        except Exception:  # Redis gone: fall back to polling until it is back
            self._pubsub = None
            time.sleep(min(POLL_SECONDS, timeout))

    def close(self) -> None:
        if self._pubsub is not None:
            try:
                self._pubsub.close()
            except Exception:
                log.debug("live pubsub close failed", exc_info=True)
            self._pubsub = None
