"""`jianguan outbox deliver [--follow]`: deliver pending events to the consumers now."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jianguan.outbox.api import consumer_states, deliver


class Command(BaseCommand):
    help = "事件发件箱：deliver 投递待处理事件；status 查看各消费者进度"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["deliver", "status"])
        parser.add_argument("--follow", action="store_true", help="keep delivering every second")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "status":
            for state in consumer_states():
                self.stdout.write(
                    f"{state.consumer}: 已处理 {state.handled}，失败 {state.failures}，"
                    f"游标 {state.cursor}  {state.last_error[:120]}"
                )
            return
        while True:
            handled = deliver()
            if handled or not options["follow"]:
                self.stdout.write(f"已投递 {handled} 个事件")
            if not options["follow"]:
                return
            time.sleep(1)
