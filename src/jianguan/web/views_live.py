"""The live stream every screen subscribes to: server-sent events of the user's units.

Each message names an event (type, what it is about, when); the page refreshes the panels that
listen for it. A reconnecting browser sends Last-Event-ID and receives what it missed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, StreamingHttpResponse
from django.views.decorators.http import require_GET

from jianguan.activity.api import summarise
from jianguan.org.api import Perm, has_perm, scope_unit_codes
from jianguan.outbox.api import DomainEvent
from jianguan.outbox.live import Follower

KEEPALIVE_SECONDS = 15.0
RETRY_MS = 1000


def _message(event: DomainEvent, *, with_summary: bool) -> str:
    data: dict[str, Any] = {
        "id": str(event.id),
        "type": event.type,
        "about": event.aggregate_type,
        "about_id": event.aggregate_id,
        "unit": event.unit_code,
        "at": event.occurred_at.isoformat(),
    }
    if with_summary:  # names of people only for those who may see them
        data["summary"] = summarise(event.type, event.payload)
    body = json.dumps(data, ensure_ascii=False)
    return f"id: {event.id}\nevent: change\ndata: {body}\n\n"


def _stream(follower: Follower, *, with_summary: bool, seconds: float) -> Iterator[str]:
    yield f"retry: {RETRY_MS}\n: connected\n\n"
    end = time.monotonic() + seconds
    beat = time.monotonic()
    try:
        while (left := end - time.monotonic()) > 0:
            sent = False
            while events := follower.read():
                for event in events:
                    yield _message(event, with_summary=with_summary)
                sent = True
            if not sent and time.monotonic() - beat > KEEPALIVE_SECONDS:
                yield ": keep-alive\n\n"  # lets proxies and dead sockets show themselves
                beat = time.monotonic()
            elif sent:
                beat = time.monotonic()
            follower.wait(min(left, KEEPALIVE_SECONDS))
    finally:
        follower.close()


@login_required
@require_GET
def live_events(request: HttpRequest) -> StreamingHttpResponse:
    user: Any = request.user
    codes = list(scope_unit_codes(user).values_list("code", flat=True))
    after = request.headers.get("Last-Event-ID") or request.GET.get("after")
    follower = Follower(codes, after=after)
    response = StreamingHttpResponse(
        _stream(
            follower,
            with_summary=has_perm(user, Perm.DETAINEE_VIEW),
            seconds=settings.LIVE_STREAM_SECONDS,
        ),
        content_type="text/event-stream; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx must not hold events back
    return response
