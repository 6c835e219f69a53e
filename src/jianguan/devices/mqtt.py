"""The MQTT ingest worker: devices' messages from the broker into `ingest`, nothing lost.

Delivery is at-least-once end to end. The worker holds a persistent MQTT v5 session (stable
client id, Clean Start off, a long session expiry) and acknowledges each QoS 1 message only after
the transaction that applied it committed. Whatever happens in between — the worker killed, the
broker restarted, the database away for a while — the broker still holds the message and sends it
again with the DUP flag; ingest recognises a redelivery whose sequence number it already applied
as a duplicate, so nothing is applied twice either.

Two threads besides the caller's: paho's network loop, which only queues what arrives, and the
batcher, which takes up to `batch_size` messages (or what came within `linger` seconds), applies
them in one transaction and then acknowledges them.

Acknowledgements carry the broker's packet id, which is only meaningful on the connection the
message came in on: after a reconnect the broker sends the unacknowledged messages again (same
ids, DUP set), so an acknowledgement from an older connection is never sent — it could settle a
different message that now has that id.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from django.db import InterfaceError, OperationalError, connection
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from jianguan.devices.ingest import Incoming, ingest
from jianguan.devices.protocol import TOPIC_ROOT

log = logging.getLogger("jianguan.devices.mqtt")

SESSION_EXPIRY = 7 * 24 * 3600  # seconds the broker keeps our session (and queue) while we are away
RECEIVE_MAXIMUM = 2000  # unacknowledged messages the broker may have in flight to us
KEEPALIVE = 30
RECONNECT_MIN, RECONNECT_MAX = 1, 30  # seconds between reconnect attempts
RETRY_FIRST, RETRY_MAX = 0.25, 5.0  # database retry backoff, seconds
UNAVAILABLE = (OperationalError, InterfaceError)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


def broker_address(url: str) -> tuple[str, int]:
    """`mqtt://host:port` (settings.MQTT_URL) as host and port."""
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme not in ("mqtt", "tcp"):
        raise ValueError(f"MQTT 地址应为 mqtt://主机:端口，现为 {url}")
    return parts.hostname or "127.0.0.1", parts.port or 1883


@dataclass(frozen=True)
class _Received:
    incoming: Incoming
    mid: int
    qos: int
    connection: int  # which connection it came in on: acks go back only on that one
    arrived: float  # time.monotonic()


@dataclass
class Counters:
    """What the worker has done since it started; read them while it runs."""

    received: int = 0
    accepted: int = 0
    duplicates: int = 0
    refused: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    alerts_new: int = 0
    alerts_folded: int = 0
    batches: int = 0
    failed: int = 0  # messages ingest could not apply for a reason other than the database
    outages: int = 0  # times the database went away
    connects: int = 0
    lag_max: float = 0.0  # seconds from arrival to commit, the most since `lag_take`

    @property
    def refused_total(self) -> int:
        return sum(self.refused.values())


class Subscriber:
    """Subscribe to devices' topics and ingest what arrives, acknowledging after commit.

    `start()` runs it in background threads (returns once subscribed); `run()` blocks until
    `request_stop()` (the command's signal handler) and then stops; `stop()` finishes and
    acknowledges the batch in hand and disconnects; `kill()` drops everything as a crash would.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        unit_code: str | None = None,
        client_id: str,
        batch_size: int = 500,
        linger: float = 0.05,
        receive_maximum: int = RECEIVE_MAXIMUM,
        session_expiry: int = SESSION_EXPIRY,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size 至少为 1")
        self.host, self.port = host, port
        self.unit_code = unit_code
        self.client_id = client_id
        self.batch_size = batch_size
        self.linger = linger
        self.topic = f"{TOPIC_ROOT}/{unit_code or '+'}/#"
        self.counters = Counters()
        self._receive_maximum = receive_maximum
        self._session_expiry = session_expiry
        self._inbox: queue.Queue[_Received] = queue.Queue()
        self._lock = threading.Lock()  # connection number vs acks
        self._connection = 0  # odd while connected, even while not
        self._subscribed = threading.Event()
        self._stopping = threading.Event()  # take no new batch
        self._halt = threading.Event()  # give up the batch in hand (unacknowledged)
        self._stop_requested = threading.Event()
        self._acks = True
        self._batcher: threading.Thread | None = None
        self._client = self._client_new()

    # --- life cycle ---------------------------------------------------------------------

    def start(self, timeout: float | None = 30.0) -> None:
        """Connect and subscribe in the background; return once subscribed. If the broker is not
        reachable within `timeout` seconds, stop and raise TimeoutError."""
        self._launch()
        if not self._subscribed.wait(timeout):
            self.stop()
            raise TimeoutError(f"{timeout} 秒内未能连接 MQTT broker {self.host}:{self.port}")

    def run(self, *, every: float = 60.0, report: Any = None) -> None:
        """Run until `request_stop()`; call `report(self)` every `every` seconds meanwhile."""
        self._launch()
        while not self._stop_requested.wait(every):
            if report is not None:
                report(self)
        self.stop()

    def request_stop(self) -> None:
        """Ask `run()` to stop (safe from a signal handler)."""
        self._stop_requested.set()

    def stop(self, timeout: float = 10.0, *, forget: bool = False) -> None:
        """Finish and acknowledge the batch in hand, then disconnect. Messages still queued
        here stay unacknowledged, so the broker sends them again to the next worker. A batch
        that cannot commit within `timeout` seconds (database away) is given up the same way.
        `forget` ends the session too (a worker taken out of service for good, or a test)."""
        self._stopping.set()
        if self._batcher is not None:
            self._batcher.join(timeout)
            if self._batcher.is_alive():
                self._halt.set()
                self._batcher.join()
        goodbye = None
        if forget:
            goodbye = Properties(PacketTypes.DISCONNECT)
            goodbye.SessionExpiryInterval = 0
        self._client.disconnect(properties=goodbye)
        self._client.loop_stop()
        self._stop_requested.set()
        log.info("MQTT 接入已停止：%s", self.summary())

    def kill(self) -> None:
        """Stop as a crash would: acknowledge nothing more and drop the connection without
        saying goodbye (for drills and tests of redelivery)."""
        self._acks = False
        self._halt.set()
        self._stopping.set()
        self._client.loop_stop()
        sock = self._client.socket()
        if sock is not None:
            sock.close()
        if self._batcher is not None:
            self._batcher.join()
        self._stop_requested.set()

    @property
    def subscribed(self) -> bool:
        return self._subscribed.is_set()

    @property
    def queued(self) -> int:
        """Messages received and not yet applied."""
        return self._inbox.qsize()

    def lag_take(self) -> float:
        """The longest arrival-to-commit time since the last call (seconds), and reset it."""
        lag, self.counters.lag_max = self.counters.lag_max, 0.0
        return lag

    def summary(self) -> str:
        c = self.counters
        refused = "，".join(f"{k} {v}" for k, v in sorted(c.refused.items())) or "0"
        return (
            f"收到 {c.received}，接受 {c.accepted}，重复 {c.duplicates}，拒收 {refused}，"
            f"新告警 {c.alerts_new}，合并 {c.alerts_folded}，批次 {c.batches}，"
            f"待处理 {self.queued}"
        )

    def _launch(self) -> None:
        host, port = self.host, self.port
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self._session_expiry
        props.ReceiveMaximum = self._receive_maximum
        self._client.connect_async(
            host, port, keepalive=KEEPALIVE, clean_start=False, properties=props
        )
        self._batcher = threading.Thread(
            target=self._batch_loop, name=f"mqtt-ingest-{self.client_id}", daemon=True
        )
        self._batcher.start()
        self._client.loop_start()

    # --- network side (paho's thread) -----------------------------------------------------

    def _client_new(self) -> paho.Client:
        client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
        )
        client.reconnect_delay_set(min_delay=RECONNECT_MIN, max_delay=RECONNECT_MAX)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            log.warning("MQTT broker %s:%s 拒绝连接：%s", self.host, self.port, reason)
            return
        with self._lock:
            self._connection += 1 if self._connection % 2 == 0 else 2
        self.counters.connects += 1
        log.info(
            "已连接 MQTT broker %s:%s（客户端 %s，会话%s），订阅 %s",
            self.host,
            self.port,
            self.client_id,
            "保留" if flags.session_present else "新建",
            self.topic,
        )
        # Subscribing again on a kept session is harmless and covers a session the broker lost.
        client.subscribe(self.topic, options=SubscribeOptions(qos=1))

    def _on_subscribe(
        self, client: paho.Client, userdata: Any, mid: int, reasons: Any, properties: Any
    ) -> None:
        if any(r.is_failure for r in reasons):
            log.error("订阅 %s 被拒绝：%s；请检查 broker 的访问控制", self.topic, reasons)
            return
        self._subscribed.set()

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        with self._lock:
            if self._connection % 2 == 1:
                self._connection += 1
        self._subscribed.clear()
        if not self._stopping.is_set():
            log.warning(
                "与 MQTT broker %s:%s 的连接断开（%s），正在自动重连；未确认的消息将由 broker 重发",
                self.host,
                self.port,
                reason,
            )

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        self.counters.received += 1
        self._inbox.put(
            _Received(
                incoming=Incoming(msg.topic, msg.payload, "MQTT", redelivered=bool(msg.dup)),
                mid=msg.mid,
                qos=msg.qos,
                connection=self._connection,
                arrived=time.monotonic(),
            )
        )

    # --- batch side (the batcher thread) --------------------------------------------------

    def _batch_loop(self) -> None:
        try:
            while not self._stopping.is_set():
                batch = self._take()
                if batch:
                    self._apply(batch)
        finally:
            connection.close()  # this thread's connection

    def _take(self) -> list[_Received]:
        try:
            first = self._inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.linger
        while len(batch) < self.batch_size:
            wait = deadline - time.monotonic()
            try:
                batch.append(
                    self._inbox.get(timeout=wait) if wait > 0 else self._inbox.get_nowait()
                )
            except queue.Empty:
                break
        return batch

    def _apply(self, batch: list[_Received]) -> None:
        result = self._ingest([r.incoming for r in batch])
        if result is None:
            return  # halted with the batch uncommitted: the broker will send it again
        committed = time.monotonic()
        c = self.counters
        for verdict in result:
            if verdict is None:
                c.failed += 1
            elif verdict.accepted:
                c.accepted += 1
            elif verdict.reason == "DUPLICATE":
                c.duplicates += 1
            else:
                c.refused[verdict.reason] += 1
        c.batches += 1
        c.lag_max = max(c.lag_max, committed - min(r.arrived for r in batch))
        self._ack(batch)

    def _ingest(self, messages: list[Incoming]) -> list[Any] | None:
        """Verdicts for the batch once committed (None for a message that could not be applied
        at all), or None if halted while the database was away."""
        outage_since: float | None = None
        delay = RETRY_FIRST
        while True:
            try:
                verdicts, tally = ingest(messages)
            except UNAVAILABLE as e:
                if outage_since is None:
                    outage_since = time.monotonic()
                    self.counters.outages += 1
                    log.warning(
                        "数据库不可用（%s）；%d 条消息暂存未确认，恢复后补录。请检查数据库服务",
                        _first_line(e),
                        len(messages) + self.queued,
                    )
                self._connection_drop()
                if self._halt.wait(delay):
                    return None
                delay = min(delay * 2, RETRY_MAX)
                continue
            except Exception:
                log.exception("本批 %d 条消息处理出错，逐条重试以找出问题消息", len(messages))
                return self._one_by_one(messages)
            if outage_since is not None:
                log.warning(
                    "数据库已恢复：中断 %.1f 秒，已补录 %d 条消息（其后积压 %d 条）",
                    time.monotonic() - outage_since,
                    len(messages),
                    self.queued,
                )
            self.counters.alerts_new += tally.alerts_new
            self.counters.alerts_folded += tally.alerts_folded
            return list(verdicts)

    def _one_by_one(self, messages: list[Incoming]) -> list[Any] | None:
        """Isolate a message that breaks ingest: apply the others, log it and let it go, so one
        bad message cannot stop a facility's alarms."""
        verdicts: list[Any] = []
        for message in messages:
            found = self._ingest_single(message)
            if found is self._HALTED:
                return None
            verdicts.append(found)
        return verdicts

    _HALTED = object()

    def _ingest_single(self, message: Incoming) -> Any:
        delay = RETRY_FIRST
        while True:
            try:
                verdicts, tally = ingest([message])
            except UNAVAILABLE:
                self._connection_drop()
                if self._halt.wait(delay):
                    return self._HALTED
                delay = min(delay * 2, RETRY_MAX)
                continue
            except Exception:
                log.exception(
                    "消息无法处理，已跳过（主题 %s，内容 %r）", message.topic, message.payload[:500]
                )
                return None
            self.counters.alerts_new += tally.alerts_new
            self.counters.alerts_folded += tally.alerts_folded
            return verdicts[0]

    @staticmethod
    def _connection_drop() -> None:
        """Let the next attempt open a fresh connection instead of reusing a broken one."""
        try:
            connection.close()
        except Exception:  # closing a connection that is already gone may complain; it is gone
            log.debug("关闭失效的数据库连接时出错", exc_info=True)

    def _ack(self, batch: list[_Received]) -> None:
        with self._lock:
            if not self._acks:
                return
            for r in batch:
                if r.qos > 0 and r.connection == self._connection:
                    self._client.ack(r.mid, r.qos)
