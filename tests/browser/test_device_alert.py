"""Acceptance, in Chromium: the simulator sends a 攀高 from a cell camera through the real
Mosquitto broker; the ingest worker (h1's Subscriber, on a thread as in production) turns it into
an alert and a task for 巡控; the 巡控 officer's alert screen shows it without a reload; the
officer accepts the task and reports it as 设备误报; the outbox consumer (played by a thread, as
the worker would) closes the alert, and the 所领导's alert screen moves it to today's closed list,
marked 误报, without a reload."""

from __future__ import annotations

import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(tempfile.gettempdir())  # pictures of the screens, to look at after a run
UNIT = "440100K01"


@pytest.fixture
def screens(browser: Any, live_server: Any) -> Iterator[Callable[[], Any]]:
    """Open more browsers on the same live server: each context is one officer's screen."""
    contexts: list[Any] = []

    def open_screen() -> Any:
        context = browser.new_context(
            base_url=live_server.url, locale="zh-CN", viewport={"width": 1366, "height": 900}
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    try:
        yield open_screen
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def cell(tree: dict[str, Any]) -> Any:
    from jianguan.housing.api import Cell, CellGender, CellKind

    return Cell.objects.create(
        unit=tree["gz_k"],
        number="101",
        area="一监区",
        gender=CellGender.MALE,
        kind=CellKind.ORDINARY,
        capacity=12,
    )


@pytest.fixture
def outbox_worker() -> Iterator[None]:
    """Play the worker: deliver the outbox every 0.2 s on a thread of its own."""
    stop = threading.Event()

    def run() -> None:
        from django.db import connection

        from jianguan.outbox.api import deliver

        try:
            while not stop.is_set():
                deliver()
                stop.wait(0.2)
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="outbox-worker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the outbox worker did not stop"


@pytest.fixture
def ingest_worker() -> Iterator[Any]:
    """The device ingest, subscribed to this unit's topic with a client id of its own."""
    from jianguan.devices.mqtt import Subscriber
    from jianguan.devices.simulator import broker_address

    host, port, _user, _password = broker_address()
    subscriber = Subscriber(
        host=host, port=port, unit_code=UNIT, client_id=f"test-browser-{uuid.uuid4().hex[:12]}"
    )
    subscriber.start(timeout=15)
    try:
        yield subscriber
    finally:
        subscriber.stop(forget=True)


def _log_in(page: Any, username: str, *, totp_secret: str | None = None) -> None:
    from tests.conftest import PASSWORD

    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    if totp_secret is not None:
        import pyotp

        page.fill("input[name=code]", pyotp.TOTP(totp_secret).now())
        with page.expect_navigation():
            page.get_by_role("button", name="验证").click()
    assert "/login" not in page.url


def _wait_until_live(page: Any) -> None:
    page.wait_for_function("document.body.dataset.live === 'open'")
    page.evaluate("window.__sameDocument = true")  # lost if the page were reloaded


def _was_not_reloaded(page: Any) -> bool:
    return bool(page.evaluate("window.__sameDocument === true"))


def test_a_climb_alert_reaches_patrol_live_is_handled_and_the_leader_sees_it_closed(
    page, screens, make_user, tree, cell, outbox_worker, ingest_worker
):
    import pyotp
    from playwright.sync_api import expect

    from jianguan.core.actor import Actor
    from jianguan.devices.api import Alert, device_register
    from jianguan.devices.simulator import send_one
    from jianguan.org.api import totp_enrol

    make_user("gz_xunkong", "PATROL", full_name="吴巡控")
    leader = make_user("gz_suozhang", "LEADER", full_name="周所长")
    secret = totp_enrol(actor=Actor.system("test"), user=leader, secret=pyotp.random_base32())
    camera_code = f"BRW-CAM-{uuid.uuid4().hex[:8]}"
    device_register(
        actor=Actor.system("test"),
        unit=tree["gz_k"],
        code=camera_code,
        kind="VIDEO",
        name="101监室摄像机",
        location_kind="CELL",
        cell=cell,
    )

    # The 巡控 officer's alert screen, open and quiet.
    _log_in(page, "gz_xunkong")
    page.locator("header nav").get_by_role("link", name="设备告警").click()
    page.wait_for_url("**/devices/alerts/")
    expect(page.get_by_test_id("no-alerts")).to_be_visible()
    _wait_until_live(page)

    # The 所领导's screen, open before anything happens.
    leader_screen = screens()
    _log_in(leader_screen, "gz_suozhang", totp_secret=secret)
    leader_screen.goto("/devices/alerts/")
    expect(leader_screen.locator("#closed-alerts")).not_to_contain_text("攀高/超高")
    _wait_until_live(leader_screen)

    # The simulator's one-shot 攀高 goes to the real broker.
    sent = send_one(camera_code, "CLIMB")
    assert sent.topic == f"jianguan/{UNIT}/VIDEO/{camera_code}/CLIMB"

    # It reaches the 巡控 screen without a reload.
    row = page.locator("#open-alerts tr.alert-row", has_text="攀高/超高")
    expect(row).to_be_visible()
    expect(row).to_contain_text("101监室")
    expect(row).to_contain_text("待接收")
    expect(row).to_contain_text("特急")
    assert _was_not_reloaded(page)
    page.screenshot(path=SHOTS / "jianguan_browser_device_alert_patrol.png", full_page=True)
    alert = Alert.objects.get(device__code=camera_code)
    assert alert.type == "CLIMB"
    assert alert.state == "OPEN"
    expect(leader_screen.locator("#open-alerts")).to_contain_text("攀高/超高")

    # The officer opens the task, accepts it, and reports a false alarm.
    with page.expect_navigation():
        row.get_by_test_id("task-link").click()
    with page.expect_navigation():
        page.get_by_role("button", name="接收").click()
    expect(page.get_by_test_id("task-state")).to_have_text("处置中")
    page.fill("textarea[name=feedback]", "到场查看，人员在整理上铺被褥，未攀爬，系视频分析误报")
    page.select_option("select[name=outcome]", "FALSE_ALARM")
    with page.expect_navigation():
        page.get_by_role("button", name="提交反馈").click()
    expect(page.get_by_test_id("task-state")).to_have_text("已办结")

    # The leader's screen moves it to today's closed list, marked 误报, without a reload.
    closed = leader_screen.locator("#closed-alerts tr.alert-row", has_text="攀高/超高")
    expect(closed).to_be_visible()
    expect(closed.get_by_test_id("false-alarm")).to_be_visible()
    expect(leader_screen.locator("#open-alerts")).not_to_contain_text("攀高/超高")
    expect(leader_screen.get_by_test_id("count-false")).to_have_text("1")
    assert _was_not_reloaded(leader_screen)
    leader_screen.screenshot(
        path=SHOTS / "jianguan_browser_device_alert_leader.png", full_page=True
    )
    alert.refresh_from_db()
    assert alert.state == "CLOSED"
    assert alert.false_alarm
