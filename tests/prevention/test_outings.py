"""Out for medical care: the ankle monitor's position outside the ward's fence alerts command once
per excursion; back inside ends it, leaving again is a new one; a low battery alerts once."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.prevention.conftest import T0, WARD, deliver

pytestmark = pytest.mark.django_db

INSIDE = {"lat": WARD[0] + 0.0002, "lon": WARD[1]}  # about 22 m north
OUTSIDE = {"lat": WARD[0] + 0.0050, "lon": WARD[1]}  # about 556 m north


@pytest.fixture
def outing(held, more_staff, ankle, ward, terminal, message):
    """Through the front door: a complete medical pass, the exit check passes, the watch begins."""
    from jianguan.core.actor import Actor
    from jianguan.devices.api import device_wear, ingest
    from jianguan.prevention.api import Outing, pass_approve, pass_prepare

    device_wear(actor=Actor.system("test"), device=ankle, detainee=held)
    p = pass_prepare(
        user=more_staff["admission"],
        detainee_id=held.id,
        kind="OUT_MEDICAL",
        escort="王警官、赵警官",
        destination="市一医院",
        geofence_id=ward.id,
    )
    pass_approve(user=more_staff["leader"], exit_pass=p)
    ingest([message(terminal, "MATCH", {"number": held.number, "matched": True})], now=T0)
    deliver()
    return Outing.objects.get(detainee=held, ended_at=None)


def _send(message, ankle, event, data, minutes):
    from jianguan.devices.api import ingest

    at = T0 + dt.timedelta(minutes=minutes)
    verdicts, _ = ingest([message(ankle, event, data, at=at)], now=at)
    assert verdicts[0].accepted
    deliver()


def _fence_alerts():
    from jianguan.devices.api import Alert

    return list(Alert.objects.filter(type="ANKLE_ALERT", source_ref__startswith="fence:"))


def test_outside_back_and_out_again_alert_once_per_excursion(outing, ankle, message):
    from jianguan.duty.api import Task

    _send(message, ankle, "POSITION", INSIDE, 1)
    assert _fence_alerts() == []
    _send(message, ankle, "POSITION", OUTSIDE, 2)
    _send(message, ankle, "POSITION", OUTSIDE, 3)  # still out: the same excursion
    (alert,) = _fence_alerts()
    task = Task.objects.get(id=alert.task_id)
    assert (task.category, task.post_kind, task.urgency) == ("ANKLE_ALERT", "COMMAND", "URGENT")
    assert "越出电子围栏" in alert.name
    _send(message, ankle, "POSITION", INSIDE, 4)
    _send(message, ankle, "POSITION", OUTSIDE, 5)  # leaving again: a new excursion
    assert len(_fence_alerts()) == 2
    outing.refresh_from_db()
    assert (outing.excursions, outing.outside) == (2, True)
    assert 500 < outing.distance_m < 600


def test_low_battery_alerts_once_per_outing(outing, ankle, message):
    from jianguan.devices.api import Alert

    _send(message, ankle, "BATTERY", {"percent": 45}, 1)
    _send(message, ankle, "BATTERY", {"percent": 15}, 2)
    _send(message, ankle, "BATTERY", {"percent": 10}, 3)
    alerts = Alert.objects.filter(source_ref__startswith="battery:")
    assert alerts.count() == 1
    outing.refresh_from_db()
    assert outing.battery_percent == 10


def test_the_return_ends_the_watch(outing, held, ankle, message, more_staff):
    from jianguan.core.actor import Actor
    from jianguan.custody.api import movement_record
    from jianguan.prevention.api import Outing

    actor = Actor.system("test")
    movement_record(
        actor=actor, detainee=held, kind="OUT_MEDICAL", destination="市一医院", escort="王警官"
    )
    movement_record(actor=actor, detainee=held, kind="RETURN")
    deliver()
    outing = Outing.objects.get(id=outing.id)
    assert outing.ended_at is not None
    ankle.refresh_from_db()
    assert ankle.detainee_id is None
    _send(message, ankle, "POSITION", OUTSIDE, 30)  # no outing: no alert
    assert _fence_alerts() == []


def test_distance():
    from jianguan.prevention.api import distance_m

    assert distance_m(*WARD, WARD[0] + 0.001, WARD[1]) == pytest.approx(111.2, abs=0.5)
