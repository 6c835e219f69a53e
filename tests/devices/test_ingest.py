"""Ingest: alerts become tasks for the right post with time limits by severity, repeats fold,
readings go out as events, and bad messages are refused, kept and never stop the batch."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.devices.conftest import T0

pytestmark = pytest.mark.django_db


def _task(alert):
    from jianguan.duty.api import Task

    return Task.objects.get(id=alert.task_id)


@pytest.mark.parametrize(
    ("kind", "event", "post", "urgency", "name"),
    [
        ("VIDEO", "CLIMB", "PATROL", "URGENT", "攀高/超高"),
        ("VIDEO", "LONE", "PATROL", "HIGH", "单人滞留"),
        ("VIDEO", "DANGER_DWELL", "PATROL", "HIGH", "危险区域滞留"),
        ("VIDEO", "HANGING", "PATROL", "URGENT", "悬挂点接触"),
        ("VIDEO", "BED_LEAVE", "PATROL", "NORMAL", "离床/夜间起身"),
        ("VIDEO", "FIGHT", "PATROL", "URGENT", "打架斗殴"),
        ("VIDEO", "FALL", "PATROL", "HIGH", "人员倒地"),
        ("BUTTON", "EMERGENCY", "PATROL", "URGENT", "紧急报警"),
        ("PERIMETER", "BREACH", "COMMAND", "URGENT", "周界报警"),
        ("DOOR", "FORCED", "PATROL", "URGENT", "门禁被强行打开"),
        ("DOOR", "HELD_OPEN", "PATROL", "HIGH", "门禁长时间未关闭"),
        ("WEARABLE", "REMOVED", "PATROL", "HIGH", "手环被摘除"),
        ("ANKLE", "TAMPER", "COMMAND", "URGENT", "电子脚环被破坏"),
    ],
)
def test_each_alert_type_becomes_a_task_for_its_post(
    register, message, cells, kind, event, post, urgency, name
):
    from jianguan.devices.api import Alert, ingest

    device = register("D1", kind, cell=cells["101"])
    verdicts, tally = ingest([message(device, event)], now=T0)
    assert verdicts[0].accepted
    assert tally.alerts_new == 1
    alert = Alert.objects.get()
    task = _task(alert)
    assert (alert.type, alert.name, alert.severity) == (event, name, urgency)
    assert (task.post_kind, task.urgency, task.category, task.state) == (
        post,
        urgency,
        "DEVICE_ALERT",
        "DISPATCHED",
    )
    assert task.cell_id == cells["101"].id
    assert name in task.title
    limits = {"URGENT": 15, "HIGH": 60, "NORMAL": 480}[urgency]
    assert task.handle_due - task.created_at == dt.timedelta(minutes=limits)


def test_a_flood_from_one_device_folds_into_one_alert_with_a_count(register, message, cells):
    from jianguan.devices.api import Alert, ingest
    from jianguan.duty.api import Task

    camera = register("CAM-101", cell=cells["101"])
    other = register("CAM-102", cell=cells["102"])
    burst = [message(camera, "CLIMB", at=T0 + dt.timedelta(seconds=s)) for s in range(40)]
    verdicts, _tally = ingest([*burst[:25], message(other, "CLIMB")], now=T0)
    assert all(v.accepted for v in verdicts)
    ingest(burst[25:], now=T0 + dt.timedelta(seconds=40))
    alerts = {a.device_id: a for a in Alert.objects.all()}
    assert alerts[camera.id].count == 40
    assert alerts[other.id].count == 1
    assert alerts[camera.id].last_at == T0 + dt.timedelta(seconds=39)
    assert Task.objects.count() == 2
    # After five quiet minutes the same thing again is a new alert with a new task.
    later = T0 + dt.timedelta(seconds=39 + 301)
    ingest([message(camera, "CLIMB", at=later)], now=later)
    assert Alert.objects.filter(device=camera).count() == 2
    assert Task.objects.count() == 3


def test_vital_signs_alert_only_out_of_range(register, message, held):
    from jianguan.devices.api import Alert, ingest

    band = register("BAND-1", "WEARABLE", detainee=held)
    ingest([message(band, "VITALS", {"heart_rate": 80, "spo2": 98, "temperature": 36.6})], now=T0)
    assert not Alert.objects.exists()
    ingest([message(band, "VITALS", {"heart_rate": 150, "spo2": 86})], now=T0)
    alert = Alert.objects.get()
    assert (alert.type, alert.detainee_id) == ("VITALS_ABNORMAL", held.id)
    assert alert.detail == "心率 150、血氧 86%"
    assert _task(alert).post_kind == "MEDICAL"


def test_readings_go_out_as_events_and_keep_the_device_alive(register, message, cells):
    from jianguan.devices.api import Device, ingest
    from jianguan.outbox.models import Event

    terminal = register("TERM-101", "TERMINAL", cell=cells["101"])
    ingest(
        [
            message(terminal, "HEARTBEAT"),
            message(terminal, "PATROL_CHECKIN", {"officer": "gz_xunkong"}),
        ],
        now=T0,
    )
    event = Event.objects.get(type="device.reading")
    assert event.payload["event"] == "PATROL_CHECKIN"
    assert event.payload["cell"] == str(cells["101"].id)
    assert event.payload["data"] == {"officer": "gz_xunkong"}
    terminal = Device.objects.get(id=terminal.id)
    assert (terminal.last_seq, terminal.messages, terminal.last_seen_at) == (2, 2, T0)


def test_bad_messages_are_refused_kept_and_do_not_stop_the_batch(register, message, cells):
    from jianguan.devices.api import Alert, Incoming, RejectedMessage, ingest

    camera = register("CAM-101", cell=cells["101"])
    good = message(camera, "CLIMB", seq=5)
    wrong_kind_topic = good.topic.replace("/VIDEO/", "/DOOR/")
    batch = [
        Incoming("jianguan/x", b"{}"),
        Incoming(good.topic, b"\xff\xfe not json"),
        message(camera, "CLIMB", secret=None, seq=1),
        message(camera, "CLIMB", secret="0" * 64, seq=2),
        message(camera, "EMERGENCY", seq=3),
        Incoming(wrong_kind_topic, good.payload),
        Incoming(good.topic.replace("CAM-101", "CAM-999"), good.payload),
        good,
        message(camera, "CLIMB", seq=4),  # older than 5: a replay
        Incoming(good.topic, json.dumps({**json.loads(good.payload), "v": 2}).encode()),
    ]
    verdicts, tally = ingest(batch, now=T0)
    reasons = [v.reason for v in verdicts]
    assert reasons == [
        "MALFORMED",
        "MALFORMED",
        "UNSIGNED",
        "BADSIG",
        "EVENT",
        "TOPIC",
        "TOPIC",
        "",
        "REPLAY",
        "SCHEMA",
    ]
    assert Alert.objects.count() == 1
    kept = RejectedMessage.objects.order_by("received_at", "id")
    assert kept.count() == 9
    assert {r.reason for r in kept} == set(reasons) - {""}
    replay = kept.get(reason="REPLAY")
    assert replay.device_code == "CAM-101"
    assert '"seq":4' in replay.payload
    assert dict(tally.refused) == {
        "MALFORMED": 2,
        "UNSIGNED": 1,
        "BADSIG": 1,
        "EVENT": 1,
        "TOPIC": 2,
        "REPLAY": 1,
        "SCHEMA": 1,
    }


def test_a_redelivery_of_an_applied_message_is_a_duplicate_not_a_replay(register, message, cells):
    from jianguan.devices.api import Alert, Incoming, RejectedMessage, ingest

    camera = register("CAM-101", cell=cells["101"])
    first = message(camera, "CLIMB")
    ingest([first], now=T0)
    again = Incoming(first.topic, first.payload, redelivered=True)
    verdicts, tally = ingest([again], now=T0)
    assert verdicts[0].reason == "DUPLICATE"
    assert tally.duplicates == 1
    assert Alert.objects.get().count == 1
    assert not RejectedMessage.objects.exists()


def test_unknown_devices_and_disabled_ones_are_refused(register, message, cells):
    from jianguan.core.actor import Actor
    from jianguan.devices.api import device_set_status, ingest

    camera = register("CAM-101", cell=cells["101"])
    device_set_status(actor=Actor.system("test"), device=camera, enabled=False)
    verdicts, _ = ingest([message(camera, "CLIMB")], now=T0)
    assert verdicts[0].reason == "DISABLED"


def test_closing_the_task_closes_the_alert_and_false_alarms_are_counted(
    register, message, cells, staff
):
    from jianguan.devices.api import Alert, false_alarm_rates, ingest
    from jianguan.duty.api import task_accept, task_handle
    from jianguan.outbox.api import deliver

    camera = register("CAM-101", cell=cells["101"], name="101监室摄像机")
    for n in range(4):
        at = T0 + dt.timedelta(minutes=10 * n)
        ingest([message(camera, "CLIMB", at=at)], now=at)
        alert = Alert.objects.order_by("-first_at").first()
        task = task_accept(user=staff["patrol"], task=_task(alert))
        outcome = "FALSE_ALARM" if n < 3 else "RESOLVED"
        task_handle(user=staff["patrol"], task=task, feedback="到场查看", outcome=outcome)
        deliver()
    closed = Alert.objects.filter(state="CLOSED")
    assert closed.count() == 4
    assert closed.filter(false_alarm=True).count() == 3
    assert closed.first().closed_by == "gz_xunkong"
    [rate] = false_alarm_rates(camera.unit, since=T0 - dt.timedelta(days=1))
    assert (rate.device_name, rate.type, rate.closed, rate.false) == (
        "101监室摄像机",
        "CLIMB",
        4,
        3,
    )
    assert rate.rate == 0.75


def test_a_silent_device_gets_one_maintenance_alert_and_comes_back(register, message, cells):
    from jianguan.devices.api import Alert, Device, ingest, silent_check

    camera = register("CAM-101", cell=cells["101"])
    ingest([message(camera, "HEARTBEAT")], now=T0)
    assert silent_check(now=T0 + dt.timedelta(seconds=299)) == 0
    assert silent_check(now=T0 + dt.timedelta(seconds=301)) == 1
    assert silent_check(now=T0 + dt.timedelta(seconds=400)) == 0
    alert = Alert.objects.get()
    assert (alert.type, _task(alert).category, _task(alert).post_kind) == (
        "DEVICE_SILENT",
        "DEVICE_FAULT",
        "SUBCONTROL",
    )
    ingest([message(camera, "HEARTBEAT")], now=T0 + dt.timedelta(seconds=500))
    assert Device.objects.get(id=camera.id).status == "ACTIVE"
