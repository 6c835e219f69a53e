"""A device simulator (DESIGN.md §8): realistic traffic from a facility's registered devices, for
demos, tests and benchmarks, published to the MQTT broker at QoS 1.

What a facility's devices send, roughly as they do on a quiet shift: heartbeats from every
device in turn, vital signs from wearables (nearly always normal), check-ins at cell terminals,
ankle-monitor positions and battery levels, door access, identity matches at the exit terminal;
now and then an alert of any type the devices pack defines, and sometimes a burst — one camera
sending the same alert again and again, which ingest must fold into one alert. A share of the
messages is bad on purpose: malformed JSON, a wrong schema version, unsigned, signed with the
wrong secret, from an unknown device, or a replay of a message already sent.

Data fields of the reading events (what the safeguards read):
    TERMINAL PATROL_CHECKIN  {"officer": <username>}
    TERMINAL DUTY_CHECKIN    {"numbers": [<在押编号>, …]}  (the people on night duty)
    BIOMETRIC MATCH          {"detainee": <id>, "number": …, "matched": bool, "score": 0..1}
    ANKLE POSITION           {"lat": …, "lon": …, "accuracy_m": …}
    ANKLE BATTERY            {"percent": 0..100}
    DOOR ACCESS              {"card": …, "direction": "IN"|"OUT", "granted": bool}
    WEARABLE VITALS          {"heart_rate": …, "spo2": …, "temperature": …}

Each device's sequence number carries on from where the last run left it: it starts above both
the device's `last_seq` in the database and a millisecond clock, so messages still in flight from
an earlier run are never overtaken by a restarted simulator.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from jianguan.custody.api import HELD_STATUSES, Detainee
from jianguan.devices.alerts import devices_pack
from jianguan.devices.catalogue import HEARTBEAT, DevicesPack
from jianguan.devices.models import Device, DeviceKind, DeviceStatus
from jianguan.devices.protocol import canonical, encode, topic_for
from jianguan.org.api import Unit, UnitLevel, users_of_unit

DEMO_FACILITY = "440100K01"  # 广州市第一看守所, the demo seed's facility
GOOD, ALERT, BURST = "good", "alert", "burst"
# The bad kinds and the refusal ingest gives each (RejectReason values).
BAD_KINDS = {
    "malformed": "MALFORMED",
    "schema": "SCHEMA",
    "unsigned": "UNSIGNED",
    "badsig": "BADSIG",
    "unknown": "UNKNOWN",
    "replay": "REPLAY",
}
HEARTBEAT_SHARE = 0.4  # of the good traffic: every device in turn says it is alive
ABNORMAL_VITALS_SHARE = 0.003
BURST_LENGTH = (8, 30)
WARD = (23.1291, 113.2644)  # a hospital ward in Guangzhou, for ankle positions


@dataclass
class SimDevice:
    code: str
    kind: str
    secret: str
    seq: int
    cell_id: Any = None
    detainee: tuple[str, str] | None = None  # (id, number) of the person wearing it


@dataclass(frozen=True)
class Outgoing:
    """One message to publish; `sort` says what it is (good, alert, burst or a bad kind)."""

    topic: str
    payload: bytes
    sort: str
    device: str = ""
    event: str = ""


@dataclass
class Facility:
    """What the simulator knows of a facility: its devices, who is in each cell, its officers."""

    unit_code: str
    devices: list[SimDevice]
    people_by_cell: dict[Any, list[tuple[str, str]]] = field(default_factory=dict)
    officers: list[str] = field(default_factory=list)


def _seq_floor(now: dt.datetime) -> int:
    return int(now.timestamp() * 1000)


def default_unit_code() -> str:
    """The demo facility if it has devices, else the only facility that has any."""
    codes = sorted(
        set(
            Device.objects.exclude(status=DeviceStatus.DISABLED).values_list(
                "unit__code", flat=True
            )
        )
    )
    if DEMO_FACILITY in codes:
        return DEMO_FACILITY
    if len(codes) == 1:
        return codes[0]
    if not codes:
        raise LookupError("没有登记任何设备：请先在「设备登记」页面登记设备，或运行演示数据")
    raise LookupError(f"有多个监所登记了设备（{'、'.join(codes)}），请用 --unit 指明")


def load_facility(unit_code: str, *, now: dt.datetime | None = None) -> Facility:
    """Read a facility's devices (not the disabled ones), its people by cell and its officers."""
    unit = Unit.objects.filter(code=unit_code, level=UnitLevel.FACILITY).first()
    if unit is None:
        raise LookupError(f"没有编码为 {unit_code} 的监所")
    floor = _seq_floor(now or timezone.now())
    rows = (
        Device.objects.filter(unit=unit)
        .exclude(status=DeviceStatus.DISABLED)
        .select_related("detainee")
        .order_by("code")
    )
    devices = [
        SimDevice(
            code=d.code,
            kind=d.kind,
            secret=d.secret,
            seq=max(d.last_seq, floor),
            cell_id=d.cell_id,
            detainee=(str(d.detainee.id), d.detainee.number) if d.detainee else None,
        )
        for d in rows
    ]
    people: dict[Any, list[tuple[str, str]]] = {}
    for id_, number, cell_id in Detainee.objects.filter(
        unit=unit, status__in=HELD_STATUSES, cell__isnull=False
    ).values_list("id", "number", "cell_id"):
        people.setdefault(cell_id, []).append((str(id_), number))
    officers = sorted(users_of_unit(unit).values_list("username", flat=True))
    return Facility(unit_code, devices, people, officers)


class Traffic:
    """Endless device messages for one facility, deterministic for a seed and a clock."""

    def __init__(
        self,
        facility: Facility,
        pack: DevicesPack,
        *,
        seed: int = 0,
        bad_share: float = 0.02,
        alert_share: float = 0.003,
        burst_share: float = 0.0005,
    ) -> None:
        if not facility.devices:
            raise LookupError(f"监所 {facility.unit_code} 没有可用的设备")
        self.facility = facility
        self.rng = random.Random(seed)  # noqa: S311  (traffic, not secrets)
        self.bad_share = bad_share
        self.alert_share = alert_share
        self.burst_share = burst_share
        self.by_code = {d.code: d for d in facility.devices}
        self.alerts: dict[str, list[str]] = {}
        self.readings: dict[str, list[str]] = {}
        for event in pack.events.values():
            group = self.alerts if event.alert else self.readings
            group.setdefault(event.kind, []).append(event.code)
        self.alerting = [d for d in facility.devices if d.kind in self.alerts]
        self.reading = [d for d in facility.devices if self._reading_events(d)]
        self.cameras = [d for d in facility.devices if d.kind == DeviceKind.VIDEO]
        self.next_heartbeat = 0
        self.burst: deque[tuple[SimDevice, str]] = deque()
        self.sent: deque[Outgoing] = deque(maxlen=50)  # good messages, to replay

    # --- building messages ----------------------------------------------------------------

    def _message(
        self,
        device: SimDevice,
        event: str,
        data: dict[str, Any],
        at: dt.datetime,
        *,
        sort: str = GOOD,
        secret: str | None = "",
    ) -> Outgoing:
        device.seq += 1
        topic, payload = encode(
            unit_code=self.facility.unit_code,
            kind=device.kind,
            device_code=device.code,
            event=event,
            seq=device.seq,
            at=at,
            data=data,
            secret=device.secret if secret == "" else secret,
        )
        message = Outgoing(topic, payload, sort, device.code, event)
        if sort in (GOOD, ALERT, BURST):
            self.sent.append(message)
        return message

    def send(
        self, device_code: str, event: str, at: dt.datetime, data: dict[str, Any] | None = None
    ) -> Outgoing:
        """One signed message from a named device (the one-shot `--send`)."""
        device = self.by_code.get(device_code)
        if device is None:
            raise LookupError(f"监所 {self.facility.unit_code} 没有设备 {device_code}（或已停用）")
        sort = ALERT if event in self.alerts.get(device.kind, ()) else GOOD
        return self._message(device, event, data or self._data(device, event), at, sort=sort)

    def _reading_events(self, device: SimDevice) -> list[str]:
        events = [e for e in self.readings.get(device.kind, []) if e != "VITALS_ABNORMAL"]
        if device.kind == DeviceKind.TERMINAL and device.cell_id is None:
            events = [e for e in events if e != "DUTY_CHECKIN"]
        return events

    def _data(self, device: SimDevice, event: str) -> dict[str, Any]:
        rng = self.rng
        if event == "VITALS":
            if rng.random() < ABNORMAL_VITALS_SHARE:
                return {"heart_rate": rng.choice([38, 142, 155]), "spo2": 88, "temperature": 38.9}
            return {
                "heart_rate": rng.randint(58, 96),
                "spo2": rng.randint(95, 99),
                "temperature": round(rng.uniform(36.1, 37.2), 1),
            }
        if event == "PATROL_CHECKIN":
            return {"officer": rng.choice(self.facility.officers) if self.facility.officers else ""}
        if event == "DUTY_CHECKIN":
            people = self.facility.people_by_cell.get(device.cell_id, [])
            on_duty = rng.sample(people, min(len(people), 2))  # two on duty, as the rule wants
            return {"numbers": [number for _id, number in on_duty]}
        if event == "MATCH":
            everyone = [p for ps in self.facility.people_by_cell.values() for p in ps]
            if not everyone:
                return {"matched": False, "score": round(rng.uniform(0.2, 0.5), 2)}
            id_, number = rng.choice(everyone)
            matched = rng.random() > 0.05
            score = rng.uniform(0.9, 0.99) if matched else rng.uniform(0.3, 0.6)
            return {"detainee": id_, "number": number, "matched": matched, "score": round(score, 2)}
        if event == "POSITION":
            return {
                "lat": round(WARD[0] + rng.gauss(0, 0.00005), 6),
                "lon": round(WARD[1] + rng.gauss(0, 0.00005), 6),
                "accuracy_m": rng.randint(3, 15),
            }
        if event == "BATTERY":
            return {"percent": rng.randint(35, 100)}
        if event == "ACCESS":
            return {
                "card": f"C{rng.randint(1000, 9999)}",
                "direction": rng.choice(["IN", "OUT"]),
                "granted": rng.random() > 0.03,
            }
        if device.kind == DeviceKind.VIDEO:
            return {"confidence": round(rng.uniform(0.7, 0.99), 2)}
        return {}

    # --- the stream -----------------------------------------------------------------------

    def next(self, at: dt.datetime) -> Outgoing:
        """The next message of the stream, dated `at`."""
        rng = self.rng
        if self.burst and rng.random() < 0.6:
            device, event = self.burst.popleft()
            return self._message(device, event, self._data(device, event), at, sort=BURST)
        if rng.random() < self.bad_share:
            return self.bad(at)
        roll = rng.random()
        if roll < self.burst_share and self.cameras:
            camera = rng.choice(self.cameras)
            event = rng.choice(self.alerts[DeviceKind.VIDEO])
            self.burst.extend([(camera, event)] * rng.randint(*BURST_LENGTH))
            device, event = self.burst.popleft()
            return self._message(device, event, self._data(device, event), at, sort=BURST)
        if roll < self.burst_share + self.alert_share and self.alerting:
            device = rng.choice(self.alerting)
            event = rng.choice(self.alerts[device.kind])
            return self._message(device, event, self._data(device, event), at, sort=ALERT)
        if rng.random() < HEARTBEAT_SHARE or not self.reading:
            device = self.facility.devices[self.next_heartbeat % len(self.facility.devices)]
            self.next_heartbeat += 1
            return self._message(device, HEARTBEAT, {}, at)
        device = rng.choice(self.reading)
        event = rng.choice(self._reading_events(device))
        return self._message(device, event, self._data(device, event), at)

    def bad(self, at: dt.datetime, sort: str | None = None) -> Outgoing:
        """A message ingest must refuse; `sort` picks the kind (a BAD_KINDS key)."""
        rng = self.rng
        sort = sort or rng.choice(list(BAD_KINDS))
        device = rng.choice(self.facility.devices)
        if sort == "replay":
            if self.sent:
                original = rng.choice(list(self.sent))
                return Outgoing(original.topic, original.payload, sort, original.device)
            sort = "unsigned"  # nothing sent yet to replay
        if sort == "malformed":
            topic = topic_for(self.facility.unit_code, device.kind, device.code, HEARTBEAT)
            payload = rng.choice([b'{"v":1,"device":', b"\xff\xfe not json", b"[]", b""])
            return Outgoing(topic, payload, sort, device.code, HEARTBEAT)
        if sort == "schema":
            topic = topic_for(self.facility.unit_code, device.kind, device.code, HEARTBEAT)
            body = {"v": 2, "device": device.code, "event": HEARTBEAT, "seq": 1, "sig": "0"}
            return Outgoing(topic, canonical(body), sort, device.code, HEARTBEAT)
        if sort == "unknown":
            guess = "0" * 64  # an unregistered device signs with whatever it has
            ghost = SimDevice(f"GHOST-{rng.randint(100, 999)}", device.kind, guess, 0)
            return self._message(ghost, HEARTBEAT, {}, at, sort=sort)
        if sort == "unsigned":
            return self._message(device, HEARTBEAT, {}, at, sort=sort, secret=None)
        # badsig: a message signed with a secret that is not the device's
        return self._message(device, HEARTBEAT, {}, at, sort="badsig", secret="0" * 64)


# --- the broker ---------------------------------------------------------------------------


def broker_address(url: str | None = None) -> tuple[str, int, str | None, str | None]:
    """Host, port, user and password of the broker (settings.MQTT_URL by default)."""
    parts = urlsplit(str(url or getattr(settings, "MQTT_URL", "mqtt://127.0.0.1:1883")))
    return parts.hostname or "127.0.0.1", parts.port or 1883, parts.username, parts.password


class Publisher:
    """A paho-mqtt client publishing at QoS 1; `close` waits until the broker has everything."""

    def __init__(self, url: str | None = None, *, client_id: str = "") -> None:
        import paho.mqtt.client as mqtt

        host, port, user, password = broker_address(url)
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"jianguan-sim-{random.getrandbits(32):08x}",
        )
        if user:
            self.client.username_pw_set(user, password)
        self.client.max_inflight_messages_set(200)
        self.connected = threading.Event()
        self.client.on_connect = lambda *_a: self.connected.set()
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()
        if not self.connected.wait(10):
            self.client.loop_stop()
            raise ConnectionError(f"无法连接 MQTT 服务 {host}:{port}")
        self.pending: deque[Any] = deque()

    def publish(self, message: Outgoing) -> None:
        self.pending.append(self.client.publish(message.topic, message.payload, qos=1))
        while len(self.pending) > 1000:  # keep memory bounded under a fast rate
            self.pending.popleft().wait_for_publish(10)

    def close(self) -> None:
        while self.pending:
            self.pending.popleft().wait_for_publish(10)
        self.client.disconnect()
        self.client.loop_stop()


def send_one(
    device_code: str,
    event: str,
    *,
    unit_code: str | None = None,
    data: dict[str, Any] | None = None,
    url: str | None = None,
    at: dt.datetime | None = None,
) -> Outgoing:
    """Publish one signed message from a device (the browser test's 攀高) and wait for the
    broker to take it."""
    now = at or timezone.now()
    device = Device.objects.select_related("unit").filter(code=device_code).first()
    if device is None:
        raise LookupError(f"设备 {device_code} 未登记")
    code = unit_code or device.unit.code
    facility = load_facility(code, now=now)
    traffic = Traffic(facility, devices_pack(device.unit), bad_share=0)
    message = traffic.send(device_code, event, now, data)
    publisher = Publisher(url)
    try:
        publisher.publish(message)
    finally:
        publisher.close()
    return message


def run(
    unit_code: str,
    *,
    rate: float = 10.0,
    duration: float | None = None,
    seed: int | None = None,
    bad_share: float = 0.02,
    alert_share: float = 0.003,
    url: str | None = None,
    say: Callable[[str], None] = print,
    stop: threading.Event | None = None,
) -> Counter[str]:
    """Publish a facility's traffic at `rate` messages a second until `duration` is over (or
    forever); return how many of each sort were sent."""
    unit = Unit.objects.get(code=unit_code)
    traffic = Traffic(
        load_facility(unit_code),
        devices_pack(unit),
        seed=seed if seed is not None else time.time_ns(),
        bad_share=bad_share,
        alert_share=alert_share,
    )
    publisher = Publisher(url)
    sent: Counter[str] = Counter()
    stop = stop or threading.Event()
    started = time.monotonic()
    report = started + 10
    try:
        while not stop.is_set():
            elapsed = time.monotonic() - started
            if duration is not None and elapsed >= duration:
                break
            due = int(elapsed * rate) + 1 - sum(sent.values())
            for _ in range(max(due, 0)):
                message = traffic.next(timezone.now())
                publisher.publish(message)
                sent[message.sort] += 1
            if time.monotonic() >= report:
                say(_summary(sent, time.monotonic() - started))
                report += 10
            stop.wait(min(0.05, 1 / rate))
    finally:
        publisher.close()
    say(_summary(sent, time.monotonic() - started))
    return sent


def _summary(sent: Counter[str], seconds: float) -> str:
    total = sum(sent.values())
    bad = sum(n for sort, n in sent.items() if sort in BAD_KINDS)
    return (
        f"已发送 {total} 条（{total / max(seconds, 1e-9):.1f} 条/秒）：告警 {sent[ALERT]}，"
        f"连发 {sent[BURST]}，异常消息 {bad}"
    )


def describe(message: Outgoing) -> str:
    body = message.payload.decode("utf-8", errors="replace")
    with contextlib.suppress(ValueError):
        body = json.dumps(json.loads(body), ensure_ascii=False)
    return f"{message.topic} {body}"
