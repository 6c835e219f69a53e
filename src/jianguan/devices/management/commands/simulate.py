"""`jianguan simulate devices`: publish a facility's device traffic to the MQTT broker."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jianguan.devices.simulator import default_unit_code, describe, run, send_one


def _share(value: str) -> float:
    share = float(value)
    if not 0 <= share <= 1:
        raise ValueError(value)
    return share


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "设备模拟器：按登记的设备向 MQTT 发布心跳、体征、签到、定位、门禁和各类告警，"
        "含连发和一定比例的异常消息；--send 事件 --device 编号 只发一条"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["devices"], help="模拟对象（目前只有 devices）")
        parser.add_argument("--unit", help="监所编码（默认：演示监所，或唯一登记了设备的监所）")
        parser.add_argument("--rate", type=_positive, default=10.0, help="每秒消息数（默认 10）")
        parser.add_argument("--duration", type=_positive, help="运行秒数（默认一直运行）")
        parser.add_argument("--seed", type=int, help="随机种子（默认按时间）")
        parser.add_argument(
            "--bad-share", type=_share, default=0.02, help="异常消息比例 0–1（默认 0.02）"
        )
        parser.add_argument(
            "--alert-share", type=_share, default=0.003, help="告警消息比例 0–1（默认 0.003）"
        )
        parser.add_argument("--send", metavar="EVENT", help="只发送一条该事件，例如 CLIMB")
        parser.add_argument("--device", help="--send 所用的设备编号")
        parser.add_argument("--data", help="--send 的 data（JSON 对象，可选）")
        parser.add_argument("--url", help="MQTT 地址（默认 settings.MQTT_URL）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["send"]:
                self._send_one(options)
                return
            unit_code = options["unit"] or default_unit_code()
            self.stdout.write(
                f"设备模拟器：监所 {unit_code}，每秒 {options['rate']:g} 条（Ctrl-C 停止）"
            )
            run(
                unit_code,
                rate=options["rate"],
                duration=options["duration"],
                seed=options["seed"],
                bad_share=options["bad_share"],
                alert_share=options["alert_share"],
                url=options["url"],
                say=self.stdout.write,
            )
        except (LookupError, ConnectionError, OSError) as e:
            raise CommandError(str(e)) from None
        except KeyboardInterrupt:
            self.stdout.write("已停止")

    def _send_one(self, options: dict[str, Any]) -> None:
        if not options["device"]:
            raise CommandError("--send 需要 --device 设备编号")
        data = None
        if options["data"]:
            try:
                data = json.loads(options["data"])
            except ValueError:
                raise CommandError("--data 应为 JSON 对象") from None
            if not isinstance(data, dict):
                raise CommandError("--data 应为 JSON 对象")
        message = send_one(
            options["device"],
            options["send"].upper(),
            unit_code=options["unit"],
            data=data,
            url=options["url"],
        )
        self.stdout.write(f"已发送：{describe(message)}")
