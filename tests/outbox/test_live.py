"""The live follower: the bell (real Redis) wakes a waiting screen at once, only for its own
units; without Redis, or with Redis gone, screens fall back to polling and miss nothing."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import transaction

from jianguan.core.actor import Actor
from jianguan.outbox import live
from jianguan.outbox.api import change_record
from jianguan.outbox.models import Event

REDIS = "redis://127.0.0.1:6379/0"


def _event(unit_code: str, name: str = "x") -> str:
    with transaction.atomic():
        return str(
            change_record(
                actor=Actor.system("test"),
                type="unit.changed",
                aggregate_type="unit",
                aggregate_id="u",
                unit_code=unit_code,
                payload={"name": name},
            )
        )


def _woken_within(follower: live.Follower, action, timeout: float = 3.0) -> float:
    """Seconds the follower waited while `action` ran 0.2 s into its wait."""
    timer = threading.Timer(0.2, action)
    start = time.monotonic()
    timer.start()
    follower.wait(timeout)
    timer.join()
    return time.monotonic() - start


@pytest.mark.django_db
def test_without_redis_a_wait_is_one_poll(settings):
    settings.REDIS_URL = ""
    follower = live.Follower(["440100K01"])
    start = time.monotonic()
    follower.wait(5.0)
    assert time.monotonic() - start < live.POLL_SECONDS + 0.2


@pytest.mark.django_db
def test_bell_wakes_only_the_screens_of_that_unit(settings):
    settings.REDIS_URL = REDIS
    follower = live.Follower(["440100K01"])
    follower.wait(0.1)  # subscribe
    try:
        assert _woken_within(follower, lambda: live.ring("440100K01")) < 1.0
        # Another facility's bell does not wake it: it waits out its timeout.
        assert _woken_within(follower, lambda: live.ring("440300K01"), timeout=1.5) >= 1.4
    finally:
        follower.close()


@pytest.mark.django_db(transaction=True)
def test_a_commit_rings_the_bell_and_the_event_is_read(settings):
    settings.REDIS_URL = REDIS
    follower = live.Follower(["440100K01"])
    follower.wait(0.1)
    try:
        ids: list[str] = []
        waited = _woken_within(follower, lambda: ids.append(_event("440100K01", "甲")))
        assert waited < 1.0
        assert [str(e.id) for e in follower.read()] == ids
        assert follower.read() == []  # nothing is sent twice
    finally:
        follower.close()


@pytest.mark.django_db
def test_redis_gone_falls_back_to_polling_and_writes_still_commit(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    live.ring("440100K01")  # must not raise
    follower = live.Follower(["440100K01"])
    start = time.monotonic()
    follower.wait(5.0)
    assert time.monotonic() - start < 2.0
    event_id = _event("440100K01")
    assert [str(e.id) for e in follower.read()] == [event_id]


@pytest.mark.django_db
def test_a_late_commit_is_still_sent(settings):
    """A transaction that began earlier may commit after a later one was already sent."""
    settings.REDIS_URL = ""
    follower = live.Follower(["440100K01"])
    later = _event("440100K01", "later")
    assert [str(e.id) for e in follower.read()] == [later]
    early = _event("440100K01", "early")
    Event.objects.filter(id=early).update(
        recorded_at=Event.objects.get(id=later).recorded_at - dt.timedelta(seconds=2)
    )
    assert [str(e.id) for e in follower.read()] == [early]


@pytest.mark.django_db
def test_reconnect_resumes_after_the_last_event_seen(settings):
    settings.REDIS_URL = ""
    first = _event("440100K01", "1")
    second = _event("440100K01", "2")
    third = _event("440100K01", "3")
    resumed = live.Follower(["440100K01"], after=first)
    assert [str(e.id) for e in resumed.read()] == [second, third]
    unknown = live.Follower(["440100K01"], after="not-an-id")
    assert unknown.read() == []
