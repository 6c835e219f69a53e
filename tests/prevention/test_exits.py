"""The exit check: a complete pass and a matched identity pass; an unknown person, a failed
match, no pass or an incomplete checklist block the exit and alert the command centre at once —
by MQTT reading and by the door controller's HTTP question alike."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.prevention.conftest import T0, deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready_pass(held, more_staff):
    """An 提解 pass with document, escort and the leader's approval."""
    from jianguan.prevention.api import pass_approve, pass_prepare

    p = pass_prepare(
        user=more_staff["admission"],
        detainee_id=held.id,
        kind="OUT_INTERROGATION",
        document_number="穗公提字〔2026〕118号",
        escort="王警官、赵警官",
        destination="市公安局刑侦支队",
    )
    return pass_approve(user=more_staff["leader"], exit_pass=p)


def _match(message, terminal, number, matched=True, **kw):
    return message(terminal, "MATCH", {"number": number, "matched": matched, "score": 0.93}, **kw)


def _via_mqtt(message, terminal, number, matched=True):
    from jianguan.devices.api import ingest
    from jianguan.prevention.api import ExitCheck

    verdicts, _ = ingest([_match(message, terminal, number, matched)], now=T0)
    assert verdicts[0].accepted
    deliver()
    return ExitCheck.objects.order_by("-at", "-id").first()


def _alert_task(check):
    from jianguan.devices.api import Alert
    from jianguan.duty.api import Task

    alert = Alert.objects.get(id=check.alert_id)
    return alert, Task.objects.get(id=alert.task_id)


def test_a_matched_person_with_a_complete_pass_passes(held, terminal, message, ready_pass):
    from jianguan.devices.api import Alert

    check = _via_mqtt(message, terminal, held.number)
    assert (check.result, check.reasons, check.detainee_id) == ("PASS", [], held.id)
    ready_pass.refresh_from_db()
    assert ready_pass.state == "USED"
    assert not Alert.objects.exists()
    # The pass is spent: the same person at the door again is blocked.
    again = _via_mqtt(message, terminal, held.number)
    assert again.result == "BLOCK"
    assert [r["code"] for r in again.reasons] == ["NO_PASS"]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unknown", ["UNKNOWN_PERSON"]),
        ("not_matched", ["NOT_MATCHED"]),
        ("no_pass", ["NO_PASS"]),
        ("incomplete", ["INCOMPLETE"]),
    ],
)
def test_each_cause_blocks_and_alerts_command(held, more_staff, terminal, message, case, expected):
    from jianguan.prevention.api import pass_approve, pass_prepare

    number, matched = held.number, True
    if case != "no_pass":
        p = pass_prepare(
            user=more_staff["admission"],
            detainee_id=held.id,
            kind="OUT_INTERROGATION",
            document_number="穗公提字〔2026〕118号",
            escort="" if case == "incomplete" else "王警官",
        )
        pass_approve(user=more_staff["leader"], exit_pass=p)
    if case == "unknown":
        number = "440100K01-99999"
    if case == "not_matched":
        matched = False
    check = _via_mqtt(message, terminal, number, matched)
    assert check.result == "BLOCK"
    assert [r["code"] for r in check.reasons] == expected
    alert, task = _alert_task(check)
    assert (alert.type, alert.severity) == ("EXIT_BLOCKED", "URGENT")
    assert (task.category, task.post_kind, task.urgency) == ("EXIT_BLOCKED", "COMMAND", "URGENT")
    if case == "incomplete":
        assert "押解民警已指定" in check.reasons[0]["message"]


def test_medical_pass_needs_a_worn_ankle_monitor_and_a_fence(held, more_staff, ankle, ward):
    from jianguan.core.actor import Actor
    from jianguan.devices.api import device_wear
    from jianguan.prevention.api import pass_approve, pass_missing, pass_prepare

    p = pass_prepare(
        user=more_staff["admission"],
        detainee_id=held.id,
        kind="OUT_MEDICAL",
        escort="王警官、赵警官",
        destination="市一医院",
        geofence_id=ward.id,
    )
    p = pass_approve(user=more_staff["leader"], exit_pass=p)
    assert pass_missing(p) == ["已佩戴电子脚环"]
    device_wear(actor=Actor.system("test"), device=ankle, detainee=held)
    assert pass_missing(p) == []


def test_amending_a_pass_takes_back_the_approval(held, more_staff, ready_pass):
    from jianguan.prevention.api import pass_missing, pass_prepare

    p = pass_prepare(
        user=more_staff["admission"],
        detainee_id=held.id,
        kind="OUT_INTERROGATION",
        document_number="穗公提字〔2026〕119号",
        escort="王警官",
    )
    assert p.id == ready_pass.id
    assert pass_missing(p) == ["所领导已批准"]


def test_who_may_prepare_and_approve(held, more_staff):
    from jianguan.core.errors import PermissionDenied
    from jianguan.prevention.api import pass_approve, pass_prepare

    with pytest.raises(PermissionDenied):
        pass_prepare(user=more_staff["patrol"], detainee_id=held.id, kind="RELEASE")
    p = pass_prepare(user=more_staff["admission"], detainee_id=held.id, kind="RELEASE")
    with pytest.raises(PermissionDenied):
        pass_approve(user=more_staff["admission"], exit_pass=p)


def test_the_door_controller_gets_the_verdict_over_http(
    client, held, terminal, message, ready_pass, more_staff
):
    from django.utils import timezone

    from jianguan.devices.api import Alert
    from jianguan.prevention.api import ExitCheck

    now = timezone.now()
    ok = _match(message, terminal, held.number, at=now)
    answer = client.post(
        "/api/v1/prevention/exit-checks", ok.payload, content_type="application/json"
    )
    assert answer.status_code == 200
    assert answer.json()["result"] == "PASS"
    # The MQTT copy of the same message (or the reading it produced) decides nothing new.
    deliver()
    assert ExitCheck.objects.count() == 1
    # Asked again at once with the same message: the same answer (a lost reply).
    again = client.post(
        "/api/v1/prevention/exit-checks", ok.payload, content_type="application/json"
    )
    assert again.json()["result"] == "PASS"
    # A second attempt with no pass left: blocked, with the reason, and command is alerted.
    blocked = client.post(
        "/api/v1/prevention/exit-checks",
        _match(message, terminal, held.number, at=now).payload,
        content_type="application/json",
    )
    body = blocked.json()
    assert body["result"] == "BLOCK"
    assert body["reasons"][0]["code"] == "NO_PASS"
    assert Alert.objects.filter(type="EXIT_BLOCKED").count() == 1


def test_a_forged_or_replayed_message_keeps_the_door_shut(
    client, held, terminal, message, ready_pass
):
    from django.utils import timezone

    now = timezone.now()
    forged = _match(message, terminal, held.number, at=now, secret="not-the-device")
    answer = client.post(
        "/api/v1/prevention/exit-checks", forged.payload, content_type="application/json"
    )
    assert answer.json() == {
        "result": "BLOCK",
        "reasons": [{"code": "BADSIG", "message": "签名与设备密钥不符"}],
        "check": None,
    }
    ok = _match(message, terminal, held.number, at=now - dt.timedelta(minutes=10))
    assert (
        client.post(
            "/api/v1/prevention/exit-checks", ok.payload, content_type="application/json"
        ).json()["result"]
        == "PASS"
    )
    replay = client.post(
        "/api/v1/prevention/exit-checks", ok.payload, content_type="application/json"
    )
    assert replay.json()["result"] == "BLOCK"
    assert replay.json()["reasons"][0]["code"] == "REPLAY"
    junk = client.post("/api/v1/prevention/exit-checks", b"{}", content_type="application/json")
    assert junk.json()["result"] == "BLOCK"
    assert json.loads(junk.content)["reasons"][0]["code"] == "UNKNOWN_DEVICE"
