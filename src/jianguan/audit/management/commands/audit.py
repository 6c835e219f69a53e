"""`jianguan audit verify`: check the whole audit chain and name every broken entry."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from jianguan.audit.api import audit_count, audit_verify


class Command(BaseCommand):
    help = "审计日志：verify 校验哈希链，指出被改动、删除或插入的记录"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"])
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        total = audit_count()
        with tqdm(total=total, unit="条", disable=options["quiet"], file=self.stderr) as bar:
            checked, problems = audit_verify(progress=bar.update)
        if problems:
            for problem in problems:
                self.stdout.write(f"{problem.kind} seq={problem.seq}: {problem.message}")
            raise CommandError(f"审计链校验失败：{len(problems)} 处问题（共检查 {checked} 条）")
        self.stdout.write(self.style.SUCCESS(f"审计链完整：共 {checked} 条，全部校验通过"))
