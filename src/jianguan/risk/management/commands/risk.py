"""`jianguan risk rescore [--unit CODE] | explain NUMBER | backtest --model VERSION`."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jianguan.core.errors import DomainError
from jianguan.custody.api import Detainee
from jianguan.org.api import Unit
from jianguan.risk.api import RiskScore, Track, rescore_all, rescore_person
from jianguan.risk.backtest_command import add_backtest_parser, run_backtest


class Command(BaseCommand):
    help = "风险评估：重算积分、解释某人的积分、在历史上回测模型"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("rescore", help="按生效模型重算在押人员和监室的风险积分")
        p.add_argument("--unit", default="", help="单位代码；缺省为本节点全部")
        p = sub.add_parser("explain", help="打印某人的积分构成")
        p.add_argument("number", help="在押人员编号")
        add_backtest_parser(sub)

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            if opts["action"] == "backtest":
                run_backtest(self, opts)
            else:
                getattr(self, f"_{opts['action']}")(opts)
        except DomainError as exc:
            raise CommandError(exc.message) from None

    def _rescore(self, opts: dict[str, Any]) -> None:
        path = ""
        if opts["unit"]:
            unit = Unit.objects.filter(code=opts["unit"]).first()
            if unit is None:
                raise CommandError(f"没有单位 {opts['unit']}")
            path = unit.path

        def progress(done: int, total: int) -> None:
            if done == total or done % 1000 == 0:
                sys.stderr.write(f"\r已重算 {done}/{total}")
                sys.stderr.flush()

        count = rescore_all(path, cause="命令行重算", progress=progress)
        sys.stderr.write("\n")
        self.stdout.write(f"已重算 {count} 人")

    def _explain(self, opts: dict[str, Any]) -> None:
        detainee = Detainee.objects.filter(number=opts["number"]).first()
        if detainee is None:
            raise CommandError(f"没有编号为 {opts['number']} 的人员")
        rescore_person(detainee.id, cause="命令行查看")
        for score in RiskScore.objects.filter(detainee_id=detainee.id).order_by("track"):
            label = Track(score.track).label
            override = f"（人工调整，模型评定 {score.computed_grade}）" if score.override_id else ""
            self.stdout.write(
                f"{detainee.name} {detainee.number} · {label} {score.model_version} · "
                f"积分 {score.score:g} · 等级 {score.grade}{override} · "
                f"完整度 {score.confidence:.0%}"
            )
            for line in score.factors:
                fact = (
                    f"\t{line.get('label', '')}\t{line.get('at', '')}" if line.get("fact") else ""
                )
                self.stdout.write(f"  {line['points']:+g}\t{line['name']}{fact}")
            if score.missing:
                self.stdout.write("  缺少：" + "、".join(score.missing))
