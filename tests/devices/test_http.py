"""Devices over HTTP: a signed message is accepted (202) and raises its alert; refusals answer
400/403/409 with a reason and are kept like MQTT ones; the registry is for the facility's own
leaders and administrators, readable by patrol, and never shows another facility's devices."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.devices.conftest import T0

pytestmark = pytest.mark.django_db

BASE = "/api/v1/devices"


def _post(client: Client, incoming: Any, body: bytes | None = None) -> Any:
    path = incoming.topic.removeprefix("jianguan/")
    return client.generic(
        "POST",
        f"{BASE}/ingest/{path}",
        body if body is not None else incoming.payload,
        content_type="application/json",
    )


@pytest.fixture
def device_client() -> Client:
    """A device: no session, and a client that would enforce CSRF if the endpoint used cookies."""
    return Client(enforce_csrf_checks=True)


def test_a_signed_message_is_accepted_and_raises_its_alert(register, message, cells, device_client):
    from jianguan.devices.api import Alert
    from jianguan.duty.api import Task

    camera = register("CAM-101", cell=cells["101"])
    response = _post(device_client, message(camera, "CLIMB"))
    assert response.status_code == 202
    alert = Alert.objects.get()
    assert response.json() == {"accepted": True, "alert": str(alert.id)}
    assert Task.objects.get(id=alert.task_id).category == "DEVICE_ALERT"
    heartbeat = _post(device_client, message(camera, "HEARTBEAT"))
    assert (heartbeat.status_code, heartbeat.json()) == (202, {"accepted": True, "alert": None})
    camera.refresh_from_db()
    assert camera.messages == 2


def test_refusals_answer_by_kind_and_are_kept(register, message, cells, device_client):
    from jianguan.core.actor import Actor
    from jianguan.devices.api import RejectedMessage, device_set_status

    camera = register("CAM-101", cell=cells["101"])
    door = register("DOOR-1", "DOOR")
    first = message(camera, "CLIMB", seq=5)
    assert _post(device_client, first).status_code == 202
    cases = [
        (message(camera, "CLIMB"), b"{not json", 400, "MALFORMED"),
        (message(camera, "CLIMB", seq=6), None, 400, None),  # body device differs: see below
        (message(camera, "NO_SUCH_EVENT", seq=7), None, 400, "EVENT"),
        (message(camera, "CLIMB", seq=8, secret=None), None, 403, "UNSIGNED"),
        (message(camera, "CLIMB", seq=9, secret="not-the-secret"), None, 403, "BADSIG"),
        (message(camera, "CLIMB", seq=5), None, 409, "REPLAY"),
    ]
    # A body naming another device than the path: TOPIC.
    other = json.loads(cases[1][0].payload)
    other["device"] = "CAM-999"
    cases[1] = (cases[1][0], json.dumps(other).encode(), 400, "TOPIC")
    for incoming, body, status, code in cases:
        response = _post(device_client, incoming, body)
        assert (response.status_code, response.json()["code"]) == (status, code), code
        assert response.json()["message"]
    unknown = message(camera, "CLIMB", seq=10)
    response = device_client.generic(
        "POST",
        f"{BASE}/ingest/440100K01/VIDEO/NOT-REGISTERED/CLIMB",
        unknown.payload.replace(b"CAM-101", b"NOT-REGISTERED"),
        content_type="application/json",
    )
    assert (response.status_code, response.json()["code"]) == (403, "UNKNOWN")
    device_set_status(actor=Actor.system("test"), device=door, enabled=False)
    response = _post(device_client, message(door, "FORCED"))
    assert (response.status_code, response.json()["code"]) == (403, "DISABLED")

    kept = RejectedMessage.objects.all()
    assert {r.transport for r in kept} == {"HTTP"}
    assert sorted(r.reason for r in kept) == sorted(
        ["MALFORMED", "TOPIC", "EVENT", "UNSIGNED", "BADSIG", "REPLAY", "UNKNOWN", "DISABLED"]
    )
    assert kept.get(reason="MALFORMED").payload == "{not json"
    camera.refresh_from_db()
    assert (camera.last_seq, camera.messages) == (5, 1)


def test_an_oversized_body_is_refused_unread(register, message, cells, device_client):
    from jianguan.devices.api import RejectedMessage
    from jianguan.devices.protocol import MAX_PAYLOAD

    camera = register("CAM-101", cell=cells["101"])
    response = _post(device_client, message(camera, "CLIMB"), b"x" * (MAX_PAYLOAD + 1))
    assert (response.status_code, response.json()["code"]) == (413, "TOO_LARGE")
    assert RejectedMessage.objects.count() == 0


def test_a_signed_in_browser_session_is_neither_needed_nor_used(
    register, message, cells, make_user, sign_in
):
    """The signature is the credential: an officer's session posting an unsigned message is
    refused just the same (and no CSRF token is asked of a device)."""
    camera = register("CAM-101", cell=cells["101"])
    officer = sign_in(make_user("gz_suozhang", "LEADER"))
    response = _post(officer, message(camera, "CLIMB", secret=None))
    assert (response.status_code, response.json()["code"]) == (403, "UNSIGNED")


# --- the registry ---------------------------------------------------------------------------


@pytest.fixture
def people(make_user: Any, sign_in: Any) -> dict[str, Any]:
    return {
        "leader": make_user("gz_suozhang", "LEADER"),
        "admin": make_user("gz_admin", "ADMINISTRATOR"),
        "patrol": make_user("gz_xunkong", "PATROL"),
        "custodian": make_user("gz_guanjiao", "CUSTODIAN"),
        "sz_leader": make_user("sz_suozhang", "LEADER", unit="sz_k"),
    }


def _as(sign_in: Any, user: Any) -> Client:
    return sign_in(user)


NEW = {
    "code": "CAM-201",
    "kind": "VIDEO",
    "name": "201 监室摄像机",
    "location_kind": "CELL",
}


def test_a_leader_registers_a_device_and_gets_its_secret_once(
    people, sign_in, cells, message, device_client
):
    from jianguan.devices.api import Device

    client = _as(sign_in, people["leader"])
    response = client.post(
        BASE, {**NEW, "cell_id": str(cells["101"].id)}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    secret = body["secret"]
    assert len(secret) == 64
    assert body["device"]["cell_number"] == "101"
    device = Device.objects.get(code="CAM-201")
    listed = client.get(BASE).json()
    assert listed["count"] == 1
    assert "secret" not in json.dumps(listed)
    # The issued secret signs messages; after a rotation it no longer does.
    assert _post(device_client, message(device, "CLIMB")).status_code == 202
    rotated = client.post(f"{BASE}/{device.id}/rotate-secret")
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != secret
    stale = message(device, "CLIMB", secret=secret)
    assert _post(device_client, stale).json()["code"] == "BADSIG"
    device.refresh_from_db()
    assert _post(device_client, message(device, "CLIMB")).status_code == 202


def test_registering_refuses_bad_input_on_its_field(people, sign_in, tree):
    from jianguan.housing.api import Cell

    client = _as(sign_in, people["admin"])
    no_cell = client.post(BASE, NEW, content_type="application/json")
    assert (no_cell.status_code, no_cell.json()["field"]) == (400, "cell")
    far = Cell.objects.create(
        unit=tree["sz_k"], number="301", area="一监区", gender="M", kind="ORDINARY", capacity=8
    )
    other = client.post(BASE, {**NEW, "cell_id": str(far.id)}, content_type="application/json")
    assert (other.status_code, other.json()["field"]) == (400, "cell_id")
    bad = client.post(
        BASE, {**NEW, "code": "a/b", "location_kind": "CORRIDOR"}, content_type="application/json"
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "BAD_CODE")


def test_who_may_read_and_who_may_change_the_registry(people, sign_in, register, cells):
    camera = register("CAM-101", cell=cells["101"])
    body = {**NEW, "location_kind": "CORRIDOR"}
    for who, read, write in [
        ("leader", 200, 201),
        ("admin", 200, 201),
        ("patrol", 200, 403),
        ("custodian", 403, 403),
    ]:
        client = _as(sign_in, people[who])
        assert client.get(BASE).status_code == read, who
        assert client.get(f"{BASE}/alerts").status_code == read, who
        assert client.get(f"{BASE}/rejected").status_code == read, who
        created = client.post(BASE, {**body, "code": f"CAM-{who}"}, content_type="application/json")
        assert created.status_code == write, who
        assert client.post(f"{BASE}/{camera.id}/disable").status_code == (
            200 if write == 201 else 403
        ), who
        client.logout()
    assert Client().get(BASE).status_code == 401


def test_another_facility_sees_none_of_ours(people, sign_in, register, cells, message):
    from jianguan.devices.api import ingest

    camera = register("CAM-101", cell=cells["101"])
    ingest([message(camera, "CLIMB")], now=T0)
    ingest([message(camera, "NO_SUCH_EVENT")], now=T0)
    client = _as(sign_in, people["sz_leader"])
    assert client.get(BASE).json() == {"count": 0, "items": []}
    assert client.get(f"{BASE}/alerts").json() == []
    assert client.get(f"{BASE}/rejected").json() == []
    for action in ("disable", "enable", "rotate-secret"):
        response = client.post(f"{BASE}/{camera.id}/{action}")
        assert (response.status_code, response.json()["code"]) == (404, "NOT_FOUND")
    client.logout()
    ours = _as(sign_in, people["patrol"])
    alerts = ours.get(f"{BASE}/alerts").json()
    assert [(a["type"], a["device_code"], a["cell_number"]) for a in alerts] == [
        ("CLIMB", "CAM-101", "101")
    ]
    assert ours.get(f"{BASE}/alerts?state=CLOSED").json() == []
    rejected = ours.get(f"{BASE}/rejected").json()
    assert [(r["reason"], r["reason_name"]) for r in rejected] == [("EVENT", "未定义的事件")]


def test_disable_and_enable(people, sign_in, register, message, device_client):
    camera = register("CAM-101")
    client = _as(sign_in, people["leader"])
    off = client.post(f"{BASE}/{camera.id}/disable")
    assert (off.status_code, off.json()["status"]) == (200, "DISABLED")
    assert _post(device_client, message(camera, "CLIMB")).json()["code"] == "DISABLED"
    on = client.post(f"{BASE}/{camera.id}/enable")
    assert on.json()["status"] == "ACTIVE"
    assert _post(device_client, message(camera, "CLIMB")).status_code == 202
