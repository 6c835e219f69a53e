"""`jianguan duty escalate | catalogue [--unit CODE]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jianguan.core.errors import DomainError
from jianguan.duty.api import Urgency, escalate_due, post_label
from jianguan.org.api import Unit
from jianguan.rules.api import pack_for


class Command(BaseCommand):
    help = "勤务：逐级上报超时任务一次；打印生效的动态信息目录"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("escalate", help="把到时未接收、未办结的任务上报一级（一次）")
        p = sub.add_parser("catalogue", help="打印生效的动态信息目录与任务路由")
        p.add_argument("--unit", default="", help="单位代码；缺省为全国（内置或全国发布的版本）")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            getattr(self, f"_{opts['action']}")(opts)
        except DomainError as exc:
            raise CommandError(exc.message) from None

    def _escalate(self, opts: dict[str, Any]) -> None:
        moved = escalate_due()
        self.stdout.write(f"已上报 {moved} 项任务")

    def _catalogue(self, opts: dict[str, Any]) -> None:
        live = pack_for("duty", self._unit_path(opts["unit"]))
        pack = live.pack
        where = live.unit_code or "全国"
        self.stdout.write(f"{pack.title}")
        self.stdout.write(f"版本 {live.version} · 适用 {where} · 来源 {live.origin}")
        for urgency, limits in pack.limits.items():
            self.stdout.write(
                f"{Urgency(urgency).label}：接收 {_minutes(limits.accept)} 分钟，"
                f"办结 {_minutes(limits.handle)} 分钟，升级后 {_minutes(limits.escalate)} 分钟"
            )
        self.stdout.write("逐级上报：" + " → ".join(post_label(p) for p in pack.escalation))
        for c in pack.categories.values():
            recorded = "、".join(post_label(p) for p in c.recorded_by) or "平台生成"
            if c.task:
                limits = pack.limits_for(c, c.urgency)
                routed = (
                    f"任务 → {post_label(c.handler)}（{Urgency(c.urgency).label}，"
                    f"接收 {_minutes(limits.accept)} 分钟，办结 {_minutes(limits.handle)} 分钟"
                    + ("，须核验" if c.verify else "")
                    + "）"
                )
            else:
                routed = "仅记录"
            basis = f"法律：{c.article}" if c.basis == "law" else "实践做法"
            self.stdout.write(f"{c.code}\t{c.name}\t{recorded}\t{routed}\t{basis}")

    def _unit_path(self, code: str) -> str:
        """The tree path of a unit by code; "" (nationwide) when no code is given."""
        if not code:
            return ""
        unit = Unit.objects.filter(code=code).first()
        if unit is None:
            raise CommandError(f"没有代码为 {code} 的单位")
        return unit.path


def _minutes(delta: Any) -> int:
    return int(delta.total_seconds() // 60)
