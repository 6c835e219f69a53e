"""`jianguan deadlines recompute [--unit CODE] | watch`."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from jianguan.custody.models import HELD_STATUSES, Detainee
from jianguan.custody.notices import deadline_watch
from jianguan.custody.recompute import deadlines_recompute_all


class Command(BaseCommand):
    help = "羁押期限：按现行规则包重算全部期限；或立即执行一次到期通知检查"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        recompute = sub.add_parser("recompute", help="重算在押人员的全部期限")
        recompute.add_argument("--unit", default="", help="只重算该单位及其下级")
        recompute.add_argument("--quiet", action="store_true")
        sub.add_parser("watch", help="生成到期应发的通知和超期警示")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "watch":
            made = deadline_watch()
            self.stdout.write(f"通知 {made['notices']} 份，超期警示 {made['alerts']} 条")
            return
        held = Detainee.objects.filter(status__in=HELD_STATUSES)
        if opts["unit"]:
            held = held.filter(unit__path__contains=f"/{opts['unit']}/")
        started = time.perf_counter()
        with tqdm(total=held.count(), unit="人", disable=opts["quiet"]) as bar:
            done = deadlines_recompute_all(unit_code=opts["unit"], progress=bar.update)
        seconds = time.perf_counter() - started
        self.stdout.write(f"已重算 {done} 人的羁押期限，用时 {seconds:.1f} 秒")
