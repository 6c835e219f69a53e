"""Device pages: who may open them, the alert screen's order and figures, the registry's secret
shown once, rotating and disabling, refused messages shown escaped, and 设备误报 offered only for
a device's alert."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db


@pytest.fixture
def officers(staff: dict[str, Any], make_user: Callable[..., Any]) -> dict[str, Any]:
    return staff | {
        "command": make_user("gz_zhihui", "COMMAND", full_name="孙指挥"),
        "admin": make_user("gz_admin", "ADMINISTRATOR", full_name="系统管理员"),
        "city": make_user("gz_zhidao", "SUPERVISOR", unit="gz", full_name="市局指导"),
    }


@pytest.fixture
def as_user() -> Callable[[Any], Client]:
    from jianguan.org.middleware import SECOND_FACTOR_SESSION_KEY

    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        session = client.session
        session[SECOND_FACTOR_SESSION_KEY] = True
        session.save()
        return client

    return make


def _text(response: Any) -> str:
    return response.content.decode()


def _raise(register, message, cells, held):
    """A 攀高 in 101 (urgent), 离床 ×3 in 102 by 张三's camera (normal), a 倒地 (high)."""
    from jianguan.devices.api import ingest

    now = timezone.now()
    climb = register("CAM-101", cell=cells["101"])
    bed = register("CAM-102", cell=cells["102"])
    band = register("BAND-1", "WEARABLE", cell=cells["102"], detainee=held)
    ingest(
        [
            message(bed, "BED_LEAVE", at=now - dt.timedelta(minutes=3)),
            message(bed, "BED_LEAVE", at=now - dt.timedelta(minutes=2)),
            message(bed, "BED_LEAVE", at=now - dt.timedelta(minutes=1)),
            message(climb, "CLIMB", at=now - dt.timedelta(minutes=5)),
            message(band, "REMOVED", at=now - dt.timedelta(seconds=30)),
        ],
        now=now,
    )
    return climb, bed, band


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        ("patrol", "/devices/alerts/", 200),
        ("command", "/devices/alerts/", 200),
        ("leader", "/devices/alerts/", 200),
        ("custodian", "/devices/alerts/", 403),
        ("medical", "/devices/alerts/", 403),
        ("admin", "/devices/alerts/", 403),
        ("city", "/devices/alerts/", 403),
        ("patrol", "/devices/", 200),
        ("admin", "/devices/", 200),
        ("custodian", "/devices/", 403),
        ("patrol", "/devices/rejected/", 200),
        ("custodian", "/devices/rejected/", 403),
        ("city", "/devices/", 403),
    ],
)
def test_pages_open_for_the_right_posts(officers, as_user, who, url, status):
    response = as_user(officers[who]).get(url)
    assert response.status_code == status
    if status == 403:
        assert 'role="alert"' in _text(response)


def test_anonymous_is_sent_to_login(db):
    for url in ("/devices/", "/devices/alerts/", "/devices/alerts/panel/", "/devices/rejected/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_nav_links_the_alert_screen_for_those_who_watch(officers, as_user):
    assert 'href="/devices/alerts/"' in _text(as_user(officers["patrol"]).get("/"))
    assert 'href="/devices/alerts/"' in _text(as_user(officers["leader"]).get("/"))
    assert 'href="/devices/alerts/"' not in _text(as_user(officers["custodian"]).get("/"))
    assert 'href="/devices/"' in _text(as_user(officers["admin"]).get("/"))


def test_alert_screen_lists_open_alerts_most_urgent_first_with_counts(
    officers, as_user, register, message, cells, held
):
    from jianguan.devices.api import Alert

    _raise(register, message, cells, held)
    page = _text(as_user(officers["patrol"]).get("/devices/alerts/"))
    assert 'hx-get="/devices/alerts/panel/"' in page
    panel = _text(as_user(officers["patrol"]).get("/devices/alerts/panel/"))
    order = [panel.index(name) for name in ("攀高/超高", "手环被摘除", "离床/夜间起身")]
    assert order == sorted(order)
    assert "×3" in panel
    assert "101监室" in panel
    assert "张三" in panel  # the wearer, for an officer who may see people
    for alert in Alert.objects.all():
        assert f'href="/duty/tasks/{alert.task_id}/"' in panel
    assert "待接收" in panel


def test_closed_alerts_of_today_show_below_with_false_alarms_marked(
    officers, as_user, register, message, cells, held
):
    from jianguan.devices.api import Alert
    from jianguan.devices.follow import on_task_event
    from jianguan.duty.api import Task, task_accept, task_handle
    from jianguan.outbox.api import deliver

    _raise(register, message, cells, held)
    alert = Alert.objects.get(type="BED_LEAVE")
    task = Task.objects.get(id=alert.task_id)
    task_accept(user=officers["patrol"], task=task)
    task_handle(
        user=officers["patrol"],
        task=Task.objects.get(id=task.id),
        feedback="现场查看，人员正常如厕",
        outcome="FALSE_ALARM",
    )
    assert on_task_event  # the consumer closes the alert when the outbox delivers
    deliver()
    alert.refresh_from_db()
    assert alert.state == "CLOSED"
    assert alert.false_alarm
    panel = _text(as_user(officers["leader"]).get("/devices/alerts/panel/"))
    closed = panel[panel.index('id="closed-alerts"') :]
    assert "离床/夜间起身" in closed
    assert 'data-testid="false-alarm"' in closed
    opened = panel[: panel.index('id="closed-alerts"')]
    assert "离床/夜间起身" not in opened
    assert 'data-testid="count-false">1<' in panel


def test_registry_lists_devices_with_status_and_false_alarm_rates(
    officers, as_user, register, message, cells, held
):
    from jianguan.devices.api import Alert

    _raise(register, message, cells, held)
    Alert.objects.filter(type="BED_LEAVE").update(
        state="CLOSED", false_alarm=True, closed_at=timezone.now()
    )
    Alert.objects.filter(type="CLIMB").update(state="CLOSED", closed_at=timezone.now())
    page = _text(as_user(officers["patrol"]).get("/devices/"))
    assert "CAM-101" in page
    assert "BAND-1" in page
    assert "在线" in page
    rates = page[page.index('id="false-alarm-rates"') :]
    assert "离床/夜间起身" in rates
    assert "100%" in rates
    assert "攀高/超高" in rates
    assert "0%" in rates
    assert "登记设备" not in page  # a 巡控 officer does not issue credentials
    assert "更换密钥" not in page


def test_registering_shows_the_secret_once(officers, as_user, cells):
    from jianguan.devices.api import Device
    from jianguan.outbox.api import Event

    client = as_user(officers["leader"])
    response = client.post(
        "/devices/",
        {
            "code": "CAM-201",
            "kind": "VIDEO",
            "name": "201监室摄像机",
            "location_kind": "CELL",
            "cell": str(cells["101"].id),
            "silent_after_seconds": "120",
        },
    )
    assert response.status_code == 200
    device = Device.objects.get(code="CAM-201")
    assert device.cell_id == cells["101"].id
    assert device.silent_after_seconds == 120
    assert f'data-testid="secret">{device.secret}<' in _text(response)
    assert device.secret not in _text(client.get("/devices/"))
    assert Event.objects.filter(type="device.registered").exists()


def test_a_refused_registration_keeps_what_was_typed(officers, as_user):
    response = as_user(officers["leader"]).post(
        "/devices/",
        {"code": "CAM 1/#", "kind": "VIDEO", "name": "摄像机甲", "location_kind": "CORRIDOR"},
    )
    assert response.status_code == 400
    text = _text(response)
    assert "设备编号只能含字母" in text
    assert 'value="摄像机甲"' in text


def test_only_leaders_and_administrators_register_rotate_and_disable(officers, as_user, register):
    from jianguan.devices.api import Device

    camera = register("CAM-9")
    patrol = as_user(officers["patrol"])
    assert patrol.post("/devices/", {"code": "X1", "kind": "VIDEO"}).status_code == 403
    assert patrol.post(f"/devices/{camera.id}/rotate/").status_code == 403
    assert patrol.post(f"/devices/{camera.id}/status/", {"enabled": "0"}).status_code == 403
    admin = as_user(officers["admin"])
    old = camera.secret
    rotated = admin.post(f"/devices/{camera.id}/rotate/")
    assert rotated.status_code == 200
    camera.refresh_from_db()
    assert camera.secret != old
    assert camera.secret in _text(rotated)
    assert admin.post(f"/devices/{camera.id}/status/", {"enabled": "0"}).status_code == 302
    assert Device.objects.get(id=camera.id).status == "DISABLED"
    assert admin.post(f"/devices/{camera.id}/status/", {"enabled": "1"}).status_code == 302
    assert Device.objects.get(id=camera.id).status == "ACTIVE"


def test_another_facilitys_device_is_not_found(officers, as_user, tree):
    from jianguan.core.actor import Actor
    from jianguan.devices.api import device_register

    elsewhere, _secret = device_register(
        actor=Actor.system("test"),
        unit=tree["sz_k"],
        code="SZ-CAM-1",
        kind="VIDEO",
        name="深圳摄像机",
        location_kind="CORRIDOR",
    )
    response = as_user(officers["leader"]).post(f"/devices/{elsewhere.id}/rotate/")
    assert response.status_code == 404


def test_rejected_messages_are_counted_by_reason_and_shown_escaped(
    officers, as_user, register, message
):
    from jianguan.devices.api import Incoming, ingest

    camera = register("CAM-1")
    ingest(
        [
            message(camera, "CLIMB", secret=None),
            message(camera, "CLIMB", secret=None),
            Incoming("jianguan/440100K01/VIDEO/CAM-1/CLIMB", b"<script>alert(1)</script>"),
        ]
    )
    page = _text(as_user(officers["patrol"]).get("/devices/rejected/"))
    assert 'data-testid="rejected-total">3<' in page
    assert "未签名" in page
    assert "格式错误" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_false_alarm_is_offered_and_accepted_only_for_a_device_alert(
    officers, as_user, register, message, cells, held
):
    from jianguan.duty.api import Task, info_record, task_accept

    _raise(register, message, cells, held)
    device_task = Task.objects.filter(source="DEVICE").first()
    saved = info_record(
        user=officers["patrol"],
        category="PATROL_ABNORMAL_BEHAVIOUR",
        text="情绪激动",
        detainee_id=held.id,
    )
    other = saved.task  # type: ignore[attr-defined]
    patrol, custodian = as_user(officers["patrol"]), as_user(officers["custodian"])
    task_accept(user=officers["patrol"], task=device_task)
    task_accept(user=officers["custodian"], task=other)
    assert 'value="FALSE_ALARM"' in _text(patrol.get(f"/duty/tasks/{device_task.id}/"))
    assert 'value="FALSE_ALARM"' not in _text(custodian.get(f"/duty/tasks/{other.id}/"))
    refused = custodian.post(
        f"/duty/tasks/{other.id}/handle/", {"feedback": "已谈话", "outcome": "FALSE_ALARM"}
    )
    assert refused.status_code == 400
    assert "只有设备告警可以反馈为设备误报" in _text(refused)
    assert Task.objects.get(id=other.id).state == "ACCEPTED"
    done = patrol.post(
        f"/duty/tasks/{device_task.id}/handle/",
        {"feedback": "现场核实为误报", "outcome": "FALSE_ALARM"},
    )
    assert done.status_code == 302
    assert Task.objects.get(id=device_task.id).outcome == "FALSE_ALARM"
