"""The outbox: events commit with their change, reach each consumer exactly once in effect,
survive a failing consumer, and are not missed when a transaction commits late."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from jianguan.activity.consumers import summarise
from jianguan.activity.models import ActivityItem
from jianguan.core.actor import Actor
from jianguan.outbox import api as outbox_api
from jianguan.outbox.api import DomainEvent, deliver, event_append
from jianguan.outbox.models import ConsumerState, Consumption, Event

ACTOR = Actor(user_id=None, username="gz_guanjiao", unit_code="440100K01", posts=("ADMISSION",))
ADMITTED = {"name": "张三", "number": "440100K01-00001", "cell": "101"}


@pytest.fixture(autouse=True)
def only_activity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Count deliveries to the activity consumer alone; other apps register their own."""
    monkeypatch.setattr(outbox_api, "_consumers", {"activity": outbox_api._consumers["activity"]})


@pytest.fixture
def wakes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the after-commit wake-ups instead of enqueueing a huey task."""
    calls: list[int] = []
    monkeypatch.setattr(outbox_api, "_wake_consumers", lambda: calls.append(1))
    return calls


def _append(n: int = 1, **overrides: Any) -> Any:
    fields = {
        "actor": ACTOR,
        "type": "detainee.admitted",
        "aggregate_type": "detainee",
        "aggregate_id": f"d-{n}",
        "unit_code": "440100K01",
        "payload": {**ADMITTED, "number": f"440100K01-{n:05d}"},
    }
    return event_append(**{**fields, **overrides})


def _raw_event(recorded_at: dt.datetime, n: int) -> Event:
    return Event.objects.create(
        type="detainee.admitted",
        occurred_at=recorded_at,
        recorded_at=recorded_at,
        unit_code="440100K01",
        actor_name="late",
        aggregate_type="detainee",
        aggregate_id=f"late-{n}",
        payload={**ADMITTED, "number": f"L{n}"},
    )


# --- appending ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_event_append_outside_a_transaction_raises(wakes):
    """event_append refuses to run in autocommit: the event would not share the change's fate."""
    with pytest.raises(RuntimeError, match="must run inside the transaction"):
        _append()
    assert Event.objects.count() == 0
    assert wakes == []


@pytest.mark.django_db(transaction=True)
def test_rolled_back_event_is_never_stored_woken_or_delivered(wakes):
    """An event appended in a transaction that rolls back leaves no row, no wake-up and
    nothing for deliver() to hand out."""

    def append_and_fail() -> None:
        with transaction.atomic():
            _append()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        append_and_fail()
    assert Event.objects.count() == 0
    assert wakes == []
    assert deliver() == 0
    assert (ActivityItem.objects.count(), Consumption.objects.count()) == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_committed_event_wakes_consumers_once_after_commit(wakes):
    """The wake-up runs after commit (not before), once per appended event."""
    with transaction.atomic():
        _append()
        assert wakes == []
    assert wakes == [1]
    assert Event.objects.count() == 1


# --- delivery -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_deliver_twice_hands_each_event_to_activity_once():
    """Two deliveries of three events yield three Consumption rows and three feed items."""
    ids = [_append(n) for n in (1, 2, 3)]
    assert deliver() == 3
    assert deliver() == 0
    assert sorted(
        Consumption.objects.filter(consumer="activity").values_list("event_id", flat=True)
    ) == sorted(ids)
    assert sorted(ActivityItem.objects.values_list("event_id", flat=True)) == sorted(ids)
    state = ConsumerState.objects.get(consumer="activity")
    last = Event.objects.order_by("-recorded_at").first()
    assert (state.handled, state.failures, state.cursor) == (3, 0, last.recorded_at)


@pytest.mark.django_db
def test_activity_item_reads_the_admission():
    """The feed line of detainee.admitted reads "收押 <name>（<number>）入 <cell>"."""
    event_id = _append(1)
    deliver()
    item = ActivityItem.objects.get(event_id=event_id)
    assert (item.summary, item.unit_code, item.actor_name, item.event_type) == (
        "收押 张三（440100K01-00001）入 101",
        "440100K01",
        "gz_guanjiao",
        "detainee.admitted",
    )


def test_summary_falls_back_to_the_type():
    """An unknown type, or a payload missing a field, reads as the bare event type."""
    assert summarise("detainee.admitted", ADMITTED) == "收押 张三（440100K01-00001）入 101"
    assert summarise("detainee.admitted", {"name": "张三"}) == "detainee.admitted"
    assert summarise("something.new", {"x": 1}) == "something.new"
    assert len(summarise("unit.created", {"name": "长" * 400})) == 300


@pytest.mark.django_db
def test_failing_consumer_is_retried_without_losing_the_event(monkeypatch):
    """A consumer that raises on the first try records the failure, leaves no Consumption,
    holds back later events (order kept) and gets the same event again on the next deliver."""
    seen: list[Any] = []

    def flaky(event: DomainEvent) -> None:
        seen.append(event.id)
        if len(seen) == 1:
            raise RuntimeError("boom")

    monkeypatch.setitem(outbox_api._consumers, "flaky", flaky)
    first, second = _append(1), _append(2)

    assert deliver() == 2  # activity handles both; flaky handles none
    assert seen == [first]
    assert Consumption.objects.filter(consumer="flaky").count() == 0
    state = ConsumerState.objects.get(consumer="flaky")
    assert (state.failures, state.handled, state.last_error_event, state.last_error) == (
        1,
        0,
        first,
        "RuntimeError('boom')",
    )
    assert state.cursor is None

    assert deliver() == 2
    assert seen == [first, first, second]
    assert sorted(
        Consumption.objects.filter(consumer="flaky").values_list("event_id", flat=True)
    ) == sorted([first, second])
    assert deliver() == 0
    state.refresh_from_db()
    assert (state.failures, state.handled) == (1, 2)
    assert ActivityItem.objects.count() == 2


@pytest.mark.django_db
def test_late_committing_event_within_lookback_is_delivered(settings):
    """An event whose recorded_at is before the cursor but within the lookback window (a
    transaction that committed late) is still delivered, and the cursor does not move back."""
    settings.OUTBOX_LOOKBACK_SECONDS = 300
    _append(1)
    deliver()
    cursor = ConsumerState.objects.get(consumer="activity").cursor
    late = _raw_event(cursor - dt.timedelta(seconds=60), 1)
    assert deliver() == 1
    assert ActivityItem.objects.filter(event_id=late.id).exists()
    assert ConsumerState.objects.get(consumer="activity").cursor == cursor
    assert deliver() == 0


@pytest.mark.django_db
def test_events_before_the_first_cursor_are_all_delivered():
    """A consumer with no cursor yet reads from the beginning, however old the events."""
    old = _raw_event(timezone.now() - dt.timedelta(days=30), 1)
    assert deliver() == 1
    assert Consumption.objects.filter(consumer="activity", event_id=old.id).count() == 1


@pytest.mark.django_db
def test_batch_limits_one_delivery_and_the_rest_follow():
    """deliver(batch=2) hands out two events; the next call hands out the third."""
    for n in (1, 2, 3):
        _append(n)
    assert deliver(batch=2) == 2
    assert ActivityItem.objects.count() == 2
    assert deliver(batch=2) == 1
    assert ActivityItem.objects.count() == 3


@pytest.mark.django_db
def test_outbox_command_delivers_and_reports_status():
    """`jianguan outbox deliver` delivers pending events; `status` shows the consumer's count."""
    import io

    from django.core.management import call_command

    _append(1)
    out = io.StringIO()
    call_command("outbox", "deliver", stdout=out)
    assert out.getvalue().strip() == "已投递 1 个事件"
    out = io.StringIO()
    call_command("outbox", "status", stdout=out)
    assert out.getvalue().startswith("activity: 已处理 1，失败 0，")
