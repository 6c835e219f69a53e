"""The live stream: events of the user's units only, in order, and catch-up after reconnect."""

from __future__ import annotations

import json

import pytest

# Closing a stream ends the request, which closes the database connection: transactional.
pytestmark = pytest.mark.django_db(transaction=True)


def _record(unit, label):
    from django.db import transaction

    from jianguan.core.actor import Actor
    from jianguan.outbox.api import change_record

    with transaction.atomic():
        return change_record(
            actor=Actor.system("test"),
            type="unit.changed",
            aggregate_type="unit",
            aggregate_id=unit.id,
            unit_code=unit.code,
            payload={"name": label},
        )


def _messages(chunks, n):
    """Read `n` change messages from a streaming response."""
    found = []
    buffer = ""
    for chunk in chunks:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            lines = dict(
                line.split(": ", 1)
                for line in block.splitlines()
                if ": " in line and not line.startswith(":")
            )
            if lines.get("event") == "change":
                found.append((lines["id"], json.loads(lines["data"])))
                if len(found) == n:
                    return found
    return found


def test_stream_carries_own_units_events_and_resumes(tree, make_user, sign_in, settings):
    settings.LIVE_STREAM_SECONDS = 2
    officer = make_user("gk_custodian", "CUSTODIAN", unit="gz_k")
    client = sign_in(officer)

    response = client.get("/live/events/")
    assert response["Content-Type"].startswith("text/event-stream")
    chunks = iter(response.streaming_content)
    first = next(chunks).decode()
    assert first.startswith("retry: ")

    mine = _record(tree["gz_k"], "广州一看")
    _record(tree["sz_k"], "深圳看守所")  # not in this officer's scope
    later = _record(tree["gz_k"], "广州一看（二）")
    got = _messages(chunks, 2)
    assert [m[0] for m in got] == [str(mine), str(later)]
    assert got[0][1]["type"] == "unit.changed"
    assert got[0][1]["summary"] == "修改单位 广州一看"
    response.close()

    # A reconnect after the first event receives the second and anything since.
    again = _record(tree["gz_k"], "广州一看（三）")
    resumed = client.get("/live/events/", HTTP_LAST_EVENT_ID=str(mine))
    got = _messages(iter(resumed.streaming_content), 2)
    assert [m[0] for m in got] == [str(later), str(again)]
    resumed.close()


def test_stream_needs_login(client):
    response = client.get("/live/events/")
    assert response.status_code == 302
