"""The simulator: its traffic is what ingest accepts, its bad share is refused for the reasons it
was made bad, its bursts fold into one alert, sequence numbers carry on across runs, and a message
sent through the real broker arrives as published."""

from __future__ import annotations

import datetime as dt
import queue
import threading
import uuid
from collections import Counter
from typing import Any

import pytest

from tests.devices.conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def facility(register, cells, held, staff) -> Any:
    """广州一看 with a camera and a terminal per cell and one device of every other kind."""
    for number, cell in cells.items():
        register(f"CAM-{number}", "VIDEO", cell=cell)
        register(f"TRM-{number}", "TERMINAL", cell=cell)
    register("BTN-1", "BUTTON")
    register("PER-1", "PERIMETER", location_kind="PERIMETER")
    register("DOOR-1", "DOOR")
    register("BAND-1", "WEARABLE", cell=cells["102"], detainee=held)
    register("ANK-1", "ANKLE", location_kind="WARD")
    register("BIO-EXIT", "BIOMETRIC", location_kind="EXIT")
    return register


def _traffic(unit_code: str = "440100K01", **options: Any) -> Any:
    from jianguan.devices.api import devices_pack
    from jianguan.devices.simulator import Traffic, load_facility
    from jianguan.org.api import Unit

    unit = Unit.objects.get(code=unit_code)
    return Traffic(load_facility(unit_code, now=T0), devices_pack(unit), **options)


def _ingest(messages: list[Any], now: dt.datetime = T0) -> Any:
    from jianguan.devices.api import Incoming, ingest

    return ingest([Incoming(m.topic, m.payload) for m in messages], now=now)


def test_good_traffic_is_accepted_and_covers_every_kind(facility, tree):
    from jianguan.devices.api import Device

    traffic = _traffic(seed=7, bad_share=0, alert_share=0.02)
    sent = [traffic.next(T0 + dt.timedelta(milliseconds=100 * i)) for i in range(600)]
    verdicts, tally = _ingest(sent)
    assert all(v.accepted for v in verdicts), [v for v in verdicts if not v.accepted][:3]
    assert tally.accepted == 600
    events = Counter(m.event for m in sent)
    for event in ("HEARTBEAT", "VITALS", "PATROL_CHECKIN", "DUTY_CHECKIN", "POSITION", "ACCESS"):
        assert events[event] > 0, event
    assert events["MATCH"] > 0
    assert tally.alerts_new > 0
    # Heartbeats go round every device, so none of them looks silent.
    assert not Device.objects.filter(messages=0).exists()


def test_the_bad_share_is_refused_for_the_reason_it_was_made_bad(facility):
    from jianguan.devices.api import RejectedMessage
    from jianguan.devices.simulator import BAD_KINDS

    traffic = _traffic(seed=3, bad_share=0)
    good = [traffic.next(T0) for _ in range(30)]
    bad = [traffic.bad(T0, sort) for sort in BAD_KINDS for _ in range(3)]
    verdicts, tally = _ingest(good + bad)
    assert all(v.accepted for v in verdicts[: len(good)])
    reasons = [v.reason for v in verdicts[len(good) :]]
    assert reasons == [BAD_KINDS[m.sort] for m in bad]
    assert sum(tally.refused.values()) == len(bad)
    assert RejectedMessage.objects.count() == len(bad)


def test_a_share_of_the_stream_is_bad_and_never_stops_the_batch(facility):
    traffic = _traffic(seed=11, bad_share=0.2)
    sent = [traffic.next(T0) for _ in range(500)]
    verdicts, tally = _ingest(sent)
    bad = [m for m in sent if m.sort not in ("good", "alert", "burst")]
    assert 60 <= len(bad) <= 140
    assert sum(tally.refused.values()) == len(bad)
    assert tally.accepted == len(sent) - len(bad)
    assert all(v.accepted for v, m in zip(verdicts, sent, strict=True) if m not in bad)


def test_a_burst_from_one_camera_folds_into_one_alert(facility):
    from jianguan.devices.api import Alert
    from jianguan.duty.api import Task

    traffic = _traffic(seed=5, bad_share=0, alert_share=0, burst_share=1.0)
    first = traffic.next(T0)
    assert first.sort == "burst"
    traffic.burst_share = 0.0  # one burst only
    burst = [first]
    while traffic.burst:
        message = traffic.next(T0 + dt.timedelta(seconds=len(burst)))
        if message.sort == "burst":
            burst.append(message)
    _ingest(burst, now=T0 + dt.timedelta(seconds=60))
    alert = Alert.objects.get(device__code=first.device, type=first.event)
    assert alert.count == len(burst) >= 8
    assert Task.objects.filter(id=alert.task_id).count() == 1


def test_sequence_numbers_carry_on_across_runs(facility):
    from jianguan.devices.api import Device

    first = _traffic(seed=1, bad_share=0)
    _ingest([first.next(T0) for _ in range(50)])
    # A second run a moment later, with an earlier clock: it starts above what was stored.
    from jianguan.devices.api import devices_pack
    from jianguan.devices.simulator import Traffic, load_facility
    from jianguan.org.api import Unit

    unit = Unit.objects.get(code="440100K01")
    again = Traffic(load_facility("440100K01", now=T0 - dt.timedelta(hours=1)), devices_pack(unit))
    verdicts, _tally = _ingest([again.next(T0) for _ in range(50)])
    assert all(v.accepted for v in verdicts)
    assert min(Device.objects.values_list("last_seq", flat=True)) > 0


def test_default_unit_is_the_only_facility_with_devices(facility):
    from jianguan.devices.simulator import default_unit_code

    assert default_unit_code() == "440100K01"


def test_send_one_goes_through_the_real_broker(facility):
    """Subscribe to the device's topics on the real Mosquitto, send one 攀高, and ingest what
    arrived: it is the signed message the simulator built, and it raises the alert."""
    import paho.mqtt.client as mqtt

    from jianguan.devices.api import Alert, Incoming, ingest
    from jianguan.devices.simulator import broker_address, send_one

    host, port, _user, _password = broker_address()
    received: queue.Queue[Any] = queue.Queue()
    subscribed = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-sim-{uuid.uuid4().hex}")
    # The broker is shared: listen only to this device's topics, not the whole unit's traffic.
    client.on_connect = lambda c, *_a: c.subscribe("jianguan/440100K01/VIDEO/CAM-101/#", qos=1)
    client.on_subscribe = lambda *_a: subscribed.set()
    client.on_message = lambda _c, _u, m: received.put(m)
    client.connect(host, port)
    client.loop_start()
    try:
        assert subscribed.wait(10)
        sent = send_one("CAM-101", "CLIMB")
        message = received.get(timeout=10)
    finally:
        client.disconnect()
        client.loop_stop()
    assert message.topic == sent.topic == "jianguan/440100K01/VIDEO/CAM-101/CLIMB"
    assert message.payload == sent.payload
    verdicts, tally = ingest([Incoming(message.topic, message.payload)])
    assert verdicts[0].accepted
    assert tally.alerts_new == 1
    assert Alert.objects.get().name == "攀高/超高"


def test_the_command_refuses_send_without_a_device(facility):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="--device"):
        call_command("simulate", "devices", "--send", "CLIMB")


def test_the_command_runs_for_a_duration(facility, capsys):
    from django.core.management import call_command

    call_command("simulate", "devices", "--rate", "50", "--duration", "0.5", "--seed", "1")
    out = capsys.readouterr().out
    assert "监所 440100K01" in out
    assert "已发送" in out


def test_demo_devices_cover_every_kind(tree, cells, held):
    from jianguan.devices.api import Device, DeviceKind
    from jianguan.synthetic.devices import demo_devices, demo_secret

    result = demo_devices(unit=tree["gz_k"], seed=1, now=T0)
    kinds = Counter(Device.objects.values_list("kind", flat=True))
    assert set(kinds) == set(DeviceKind.values)
    assert kinds["VIDEO"] >= len(cells)
    assert kinds["TERMINAL"] == len(cells)
    assert kinds["ANKLE"] == 2
    assert Device.objects.filter(kind="ANKLE", detainee__isnull=False).count() == 0
    assert Device.objects.get(kind="WEARABLE").detainee_id == held.id
    assert Device.objects.get(location_kind="EXIT", kind="BIOMETRIC")
    camera = Device.objects.get(code="440100K01-CAM-101")
    assert camera.secret == demo_secret(1, camera.code)
    assert result.total == sum(kinds.values())
