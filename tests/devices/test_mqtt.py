"""The MQTT worker against a real Mosquitto: devices' messages become alerts and tasks, bad ones
are refused and kept, and nothing is lost or applied twice when the worker dies, the broker
restarts or the database goes away for a while."""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import logging
import socket
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from django.conf import settings
from django.db import connection
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from tests.devices.conftest import T0

pytestmark = pytest.mark.django_db(transaction=True)

UNIT = "440100K01"
TOPIC = f"jianguan/{UNIT}/#"
SESSION = 300  # test sessions expire soon after the test, so the shared broker keeps no litter


def _uid() -> str:
    return uuid.uuid4().hex[:8]


def until(condition: Callable[[], Any], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"等待超时：{what}")


def shared_broker() -> tuple[str, int]:
    from jianguan.devices.mqtt import broker_address

    return broker_address(settings.MQTT_URL)


class Device:
    """A device's own MQTT connection: publishes at QoS 1 and waits for the broker's PUBACK."""

    def __init__(self, host: str, port: int) -> None:
        self.client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"test-device-{_uid()}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        self.client.connect(host, port)
        self.client.loop_start()

    def send(self, *messages: Any) -> None:
        for m in messages:
            info = self.client.publish(m.topic, m.payload, qos=1)
            info.wait_for_publish(10)
            assert info.is_published()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextlib.contextmanager
def device_on(host: str, port: int) -> Iterator[Device]:
    device = Device(host, port)
    try:
        yield device
    finally:
        device.close()


@contextlib.contextmanager
def worker(host: str, port: int, client_id: str, **options: Any) -> Iterator[Any]:
    from jianguan.devices.mqtt import Subscriber

    sub = Subscriber(
        host=host, port=port, unit_code=UNIT, client_id=client_id, session_expiry=SESSION, **options
    )
    sub.start(timeout=15)
    try:
        yield sub
    finally:
        if not sub._stop_requested.is_set():
            sub.stop(forget=True)


def _applied(device: Any) -> int:
    device.refresh_from_db()
    return int(device.messages)


def _replays(*codes: str) -> int:
    from jianguan.devices.api import RejectedMessage

    return RejectedMessage.objects.filter(device_code__in=codes, reason="REPLAY").count()


# A private Mosquitto: no other traffic, and one the tests may stop and start.
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Broker:
    """A private Mosquitto with persistence on, to stop and start under a connected worker."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.directory = directory
        self.conf = directory / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            f"user {getpass.getuser()}\n"  # as root it would drop to `mosquitto`: no tmp access
            "persistence true\n"
            f"persistence_location {directory}/\n"
            "max_queued_messages 0\n"  # no limit on what is kept for an absent session
            f"log_dest file {directory}/mosquitto.log\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(["mosquitto", "-c", str(self.conf)])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s, contextlib.suppress(OSError):
                s.connect(("127.0.0.1", self.port))
                return
            time.sleep(0.05)
        raise AssertionError("mosquitto 未能启动")

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()  # SIGTERM: mosquitto saves its sessions and messages
        self.process.wait(10)
        self.process = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    own = Broker(tmp_path)
    own.start()
    try:
        yield own
    finally:
        if own.process is not None:
            own.process.kill()
            own.process.wait()


def test_published_messages_become_alerts_and_tasks_and_bad_ones_are_kept(register, message, cells):
    from jianguan.devices.api import Alert, Incoming, RejectedMessage
    from jianguan.duty.api import Task

    camera = register(f"CAM-{_uid()}", cell=cells["101"])
    button = register(f"BTN-{_uid()}", "BUTTON", cell=cells["102"])
    climb = message(camera, "CLIMB")
    host, port = shared_broker()
    with worker(host, port, f"test-ingest-{_uid()}") as sub, device_on(host, port) as device:
        device.send(
            climb,
            Incoming(climb.topic, b"{not json"),  # malformed
            message(camera, "CLIMB", secret=None),  # unsigned
            message(button, "EMERGENCY"),
            message(camera, "HEARTBEAT"),
        )
        until(lambda: _applied(camera) == 2 and _applied(button) == 1, what="三条有效消息入库")
        until(
            lambda: RejectedMessage.objects.filter(device_code=camera.code).count() == 2,
            what="两条坏消息留存",
        )
        # The counters move just after the commit that the rows above show.
        until(lambda: sub.counters.accepted >= 3, what="计数更新")
        assert sub.counters.refused["MALFORMED"] >= 1
        assert sub.counters.refused["UNSIGNED"] >= 1
    alerts = {a.device_id: a for a in Alert.objects.filter(device__in=[camera, button])}
    assert (alerts[camera.id].type, alerts[button.id].type) == ("CLIMB", "EMERGENCY")
    tasks = Task.objects.filter(id__in=[a.task_id for a in alerts.values()])
    assert {(t.category, t.urgency) for t in tasks} == {("DEVICE_ALERT", "URGENT")}
    kept = RejectedMessage.objects.filter(device_code=camera.code)
    assert {(r.reason, r.transport) for r in kept} == {("MALFORMED", "MQTT"), ("UNSIGNED", "MQTT")}
    assert {r.payload[:9] for r in kept} >= {"{not json"}


def test_a_worker_that_dies_after_commit_and_before_ack_applies_nothing_twice(
    register, message, cells, broker
):
    """What a crash between commit and acknowledgement leaves: the broker sends the messages
    again (DUP), and the next worker with the same client id counts them as duplicates."""
    from jianguan.devices.api import Alert, Incoming, ingest
    from jianguan.devices.mqtt import Subscriber

    camera = register(f"CAM-{_uid()}", cell=cells["101"])
    client_id = f"test-ingest-{_uid()}"
    host, port = "127.0.0.1", broker.port
    received: list[paho.MQTTMessage] = []
    subscribed = threading.Event()
    dying = paho.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=MQTTProtocolVersion.MQTTv5,
        manual_ack=True,
    )
    dying.on_message = lambda c, u, msg: received.append(msg)
    dying.on_subscribe = lambda *args: subscribed.set()
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = SESSION
    dying.connect(host, port, clean_start=False, properties=props)
    dying.loop_start()
    dying.subscribe(TOPIC, options=SubscribeOptions(qos=1))
    assert subscribed.wait(10)
    first = [message(camera, "CLIMB", at=T0 + dt.timedelta(seconds=s)) for s in range(5)]
    with device_on(host, port) as device:
        device.send(*first)
        until(lambda: len(received) == 5, what="收到 5 条")
        ingest([Incoming(m.topic, m.payload) for m in received])  # committed ...
        dying.loop_stop()  # ... and the process dies before acknowledging
        dying.socket().close()  # type: ignore[union-attr]
        assert _applied(camera) == 5

        sub = Subscriber(
            host=host, port=port, unit_code=UNIT, client_id=client_id, session_expiry=SESSION
        )
        sub.start(timeout=15)
        try:
            until(lambda: sub.counters.duplicates >= 5, what="重发的 5 条被认作重复")
            device.send(*[message(camera, "CLIMB", at=T0 + dt.timedelta(seconds=6))])
            until(lambda: _applied(camera) == 6, what="新消息照常入库")
        finally:
            sub.stop(forget=True)
    alert = Alert.objects.get(device=camera)
    assert alert.count == 6
    assert _replays(camera.code) == 0


def test_a_killed_worker_and_its_successor_apply_every_message_exactly_once(
    register, message, cells, broker
):
    from jianguan.devices.api import Alert

    camera = register(f"CAM-{_uid()}", cell=cells["101"])
    stream = [message(camera, "CLIMB", at=T0 + dt.timedelta(seconds=s)) for s in range(60)]
    client_id = f"test-ingest-{_uid()}"
    host, port = "127.0.0.1", broker.port
    with device_on(host, port) as device:
        with worker(host, port, client_id, batch_size=7, linger=0.01) as first:
            device.send(*stream[:40])
            until(lambda: first.counters.accepted > 0, what="第一个进程开始处理")
            first.kill()  # mid-stream: some applied and acknowledged, some perhaps not
        device.send(*stream[40:50])  # while no worker runs: the broker keeps them
        with worker(host, port, client_id) as second:
            device.send(*stream[50:])
            until(lambda: _applied(camera) == 60, what="60 条全部入库")
            time.sleep(0.3)  # anything redelivered late would show up now
            until(lambda: second.counters.accepted + first.counters.accepted == 60)
    assert Alert.objects.get(device=camera).count == 60
    assert _replays(camera.code) == 0


# --- broker restart ----------------------------------------------------------------------


@contextlib.contextmanager
def writes_held() -> Iterator[None]:
    """Another session holds the device table, so the worker's transaction waits (it can
    neither commit nor acknowledge) until released."""
    from jianguan.devices.api import Device

    table = Device._meta.db_table
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        other = sqlite3.connect(db["NAME"], isolation_level=None, timeout=20)
        other.execute("BEGIN IMMEDIATE")
    else:
        import psycopg

        other = psycopg.connect(**_pg_params(db["NAME"]))  # type: ignore[assignment]
        other.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
    try:
        yield
    finally:
        other.rollback()
        other.close()


def _pg_params(name: str) -> dict[str, Any]:
    db = connection.settings_dict
    params = {"dbname": name, "user": db["USER"], "host": db["HOST"] or None}
    if db.get("PORT"):
        params["port"] = db["PORT"]
    if db.get("PASSWORD"):
        params["password"] = db["PASSWORD"]
    return params


def test_a_broker_restart_loses_nothing_and_the_worker_reconnects_by_itself(
    register, message, cells, broker, caplog
):
    from jianguan.devices.api import Alert

    caplog.set_level(logging.INFO, logger="jianguan.devices.mqtt")
    camera = register(f"CAM-{_uid()}", cell=cells["101"])
    stream = [message(camera, "CLIMB", at=T0 + dt.timedelta(seconds=s)) for s in range(30)]
    with worker("127.0.0.1", broker.port, "test-restart") as sub:
        with device_on("127.0.0.1", broker.port) as device:
            device.send(*stream[:10])
            until(lambda: _applied(camera) == 10, what="重启前的消息入库")
            with writes_held():
                device.send(*stream[10:20])  # delivered to the worker, which cannot commit yet
                until(lambda: sub.counters.received >= 20, what="工作进程已收到")
                broker.stop()  # the broker goes down holding them unacknowledged
            # The worker commits them now, but may not acknowledge on a dead connection.
            until(lambda: _applied(camera) == 20, what="暂存的消息提交")
        assert not sub.subscribed
        broker.start()
        until(lambda: sub.subscribed, what="工作进程自动重连")
        with device_on("127.0.0.1", broker.port) as device:
            device.send(*stream[20:])
            until(lambda: _applied(camera) == 30, what="重启后的消息入库")
        until(lambda: sub.counters.duplicates >= 10, what="broker 重发的 10 条被认作重复")
        assert sub.counters.connects >= 2
    assert Alert.objects.get(device=camera).count == 30
    assert _replays(camera.code) == 0
    assert "连接断开" in caplog.text
    assert "正在自动重连" in caplog.text


# --- database outage ---------------------------------------------------------------------


@contextlib.contextmanager
def database_away(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """Make the database refuse the worker until the returned `restore` is called.

    PostgreSQL: no new connections to the database and the worker's connection terminated (this
    test's own connection is spared). SQLite: another connection takes the write lock, and the
    worker's busy timeout is cut to 0.2 s so that it fails rather than waits.
    """
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        other = sqlite3.connect(db["NAME"], isolation_level=None, timeout=20)
        other.execute("BEGIN EXCLUSIVE")

        def restore() -> None:
            if other.in_transaction:
                other.rollback()

        try:
            yield restore
        finally:
            restore()
            other.close()
        return

    import psycopg
    from psycopg import sql

    name = db["NAME"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        mine = cursor.fetchone()[0]
    admin = psycopg.connect(**_pg_params("postgres"), autocommit=True)
    admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(sql.Identifier(name)))
    admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> %s AND pid <> pg_backend_pid()",
        (name, mine),
    )

    def restore_pg() -> None:
        admin.execute(
            sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(sql.Identifier(name))
        )

    try:
        yield restore_pg
    finally:
        restore_pg()
        admin.close()


def test_a_database_outage_is_buffered_and_caught_up_with_nothing_lost(
    register, message, cells, caplog, monkeypatch, broker
):
    from jianguan.devices.api import Alert

    caplog.set_level(logging.INFO, logger="jianguan.devices.mqtt")
    if connection.vendor == "sqlite":
        # The worker's own connection gives up on a held lock after 0.2 s instead of 20 s.
        monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.2)
    camera = register(f"CAM-{_uid()}", cell=cells["101"])
    stream = [message(camera, "CLIMB", at=T0 + dt.timedelta(seconds=s)) for s in range(40)]
    host, port = "127.0.0.1", broker.port
    with worker(host, port, f"test-ingest-{_uid()}", batch_size=5) as sub:
        with device_on(host, port) as device:
            device.send(*stream[:10])
            until(lambda: _applied(camera) == 10, what="中断前的消息入库")
            sub.counters.lag_max = 0.0
            with database_away(monkeypatch) as restore:
                device.send(*stream[10:30])
                until(lambda: sub.counters.outages == 1, what="工作进程发现数据库不可用")
                until(lambda: sub.counters.received >= 30, what="中断期间照常接收")
                time.sleep(2)  # a few seconds away, retrying
                restore()
            device.send(*stream[30:])
            until(lambda: _applied(camera) == 40, what="恢复后全部补录")
        until(lambda: sub.counters.accepted == 40, what="计数更新")
        assert sub.counters.outages == 1
        assert sub.lag_take() >= 2  # the buffered ones waited out the outage
    assert Alert.objects.get(device=camera).count == 40
    assert _replays(camera.code) == 0
    assert caplog.text.count("数据库不可用") == 1
    assert "数据库已恢复" in caplog.text
