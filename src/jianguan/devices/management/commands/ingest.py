"""`jianguan ingest`: the MQTT ingest worker, until SIGTERM or Ctrl-C, with a line a minute.

One worker per client id: the broker keeps that id's session (and its unacknowledged messages)
while the worker is away, and a second process with the same id would take the session over.
"""

from __future__ import annotations

import signal
from collections import Counter
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jianguan.devices.mqtt import SESSION_EXPIRY, Subscriber, broker_address


class Command(BaseCommand):
    help = "设备消息接入：订阅 MQTT，校验入库并生成告警，提交后才确认（停止：Ctrl-C 或 SIGTERM）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url", help="MQTT broker, mqtt://host:port (default settings.MQTT_URL)"
        )
        parser.add_argument("--unit", default=None, help="only this facility's code (default all)")
        parser.add_argument("--client-id", default=None, help="stable MQTT client id (session)")
        parser.add_argument("--batch", type=int, default=500, help="messages per transaction")
        parser.add_argument("--linger", type=float, default=0.05, help="seconds to fill a batch")
        parser.add_argument("--every", type=float, default=60.0, help="seconds between log lines")
        parser.add_argument(
            "--session-expiry",
            type=int,
            default=SESSION_EXPIRY,
            help="seconds the broker keeps this client's session and queue while it is away",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            host, port = broker_address(options["url"] or settings.MQTT_URL)
        except ValueError as e:
            raise CommandError(str(e)) from None
        unit = options["unit"] or None
        subscriber = Subscriber(
            host=host,
            port=port,
            unit_code=unit,
            client_id=options["client_id"] or f"jianguan-ingest-{unit or 'all'}",
            batch_size=options["batch"],
            linger=options["linger"],
            session_expiry=options["session_expiry"],
        )
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: subscriber.request_stop())
        self.stdout.write(
            f"设备接入：{host}:{port} 主题 {subscriber.topic}，客户端 {subscriber.client_id}"
        )
        last = _Snapshot(subscriber)
        every = options["every"]

        def report(sub: Subscriber) -> None:
            nonlocal last
            now = _Snapshot(sub)
            refused = now.refused - last.refused
            reasons = "，".join(f"{k} {v}" for k, v in sorted(refused.items())) or "0"
            self.stdout.write(
                f"近 {every:.0f} 秒：接受 {now.accepted - last.accepted}，"
                f"重复 {now.duplicates - last.duplicates}，拒收 {reasons}，"
                f"新告警 {now.alerts - last.alerts}；最大延迟 {sub.lag_take():.2f} 秒，"
                f"待处理 {sub.queued}" + ("" if sub.subscribed else "（未连接 broker）")
            )
            self.stdout.flush()
            last = now

        subscriber.run(every=every, report=report)
        self.stdout.write(f"已停止：{subscriber.summary()}")


class _Snapshot:
    def __init__(self, sub: Subscriber) -> None:
        c = sub.counters
        self.accepted = c.accepted
        self.duplicates = c.duplicates
        self.alerts = c.alerts_new
        self.refused = Counter(dict(c.refused))
