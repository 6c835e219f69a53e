"""`jianguan seed`: a believable demo (or a national-scale data set) in a fresh database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from jianguan.custody.api import DetaineeStatus
from jianguan.duty.api import TaskState
from jianguan.synthetic.seeding import (
    DEFAULT_SEED,
    DEMO_PASSWORD,
    SeedOptions,
    SeedRefused,
    SeedResult,
    run_seed,
)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def _moment(value: str) -> dt.datetime:
    """An ISO date-time; without an offset it is taken as local time (Asia/Shanghai)."""
    moment = dt.datetime.fromisoformat(value)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = (
        "合成数据：在新数据库中生成演示单位、账号、监室、在押人员和历史事件；"
        "--facilities N 生成全国规模的单位树"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="随机种子（结果可复现）")
        parser.add_argument(
            "--facilities", type=_positive, help="生成 N 个监所的全国单位树（默认：演示单位树）"
        )
        parser.add_argument(
            "--detainees-per-facility",
            type=_positive,
            dest="per_facility",
            help="每个监所的人员记录数（默认 200-450 随机）",
        )
        parser.add_argument("--months", type=_positive, default=6, help="历史月数（默认 6）")
        parser.add_argument("--now", type=_moment, help="当前时间（ISO 格式，默认取系统时间）")
        parser.add_argument("--no-accounts", action="store_true", help="不创建演示账号")
        parser.add_argument("--append", action="store_true", help="在已有数据上追加规模数据")
        parser.add_argument("--batch-size", type=_positive, default=5000, help="每批写入人数")
        parser.add_argument(
            "--writers", type=_positive, default=2, help="PostgreSQL 并行写入连接数（默认 2）"
        )
        parser.add_argument("--quiet", action="store_true", help="不显示进度")

    def handle(self, *args: Any, **options: Any) -> None:
        seed_options = SeedOptions(
            seed=options["seed"],
            facilities=options["facilities"],
            per_facility=options["per_facility"],
            months=options["months"],
            now=options["now"],
            accounts=not options["no_accounts"],
            append=options["append"],
            quiet=options["quiet"],
            batch_size=options["batch_size"],
            writers=options["writers"],
        )
        try:
            result = run_seed(seed_options, say=self.stdout.write)
        except (SeedRefused, LookupError) as exc:
            raise CommandError(str(exc)) from exc
        self._report(result)

    def _report(self, result: SeedResult) -> None:
        write = self.stdout.write
        if result.accounts:
            write(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
            for a in result.accounts:
                factor = f"  动态口令密钥 {a.totp_secret}" if a.totp_secret else ""
                write(f"  {a.username:<12} {a.full_name}  {a.post}  {a.unit}{factor}")
        if result.duty:
            states = "，".join(
                f"{TaskState(s).label} {n}" for s, n in sorted(result.duty.tasks.items())
            )
            write(
                f"今日勤务：排班 {result.duty.shifts} 个，动态信息 {result.duty.records} 条，"
                f"任务（{states}），出入所 {result.duty.movements} 次"
            )
        by_status = "，".join(
            f"{DetaineeStatus(s).label} {n:,}" for s, n in sorted(result.detainees.items())
        )
        write(
            self.style.SUCCESS(
                f"完成：单位 {result.units:,} 个（监所 {result.facilities:,}），"
                f"监室 {result.cells:,} 间，人员 {result.people:,} 名（{by_status}），"
                f"法律事项 {result.legal_events:,} 条，羁押期限 {result.deadlines:,} 项，"
                f"历史事件 {result.events:,} 条"
                + (f"（已投递 {result.delivered:,}）" if result.delivered else "")
                + f"；用时 {result.seconds:.1f} 秒，"
                f"人员写入 {result.rate:,.0f} 人/秒（{result.method}）"
            )
        )
