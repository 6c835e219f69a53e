"""`jianguan codes load`: load the code tables shipped with the platform (or a directory)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jianguan.codes.api import DATA_DIR, codes_load
from jianguan.core.actor import Actor


class Command(BaseCommand):
    help = "代码表：load 载入或更新代码表数据"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["load"])
        parser.add_argument("--dir", type=Path, default=DATA_DIR)

    def handle(self, *args: Any, **options: Any) -> None:
        loaded = codes_load(actor=Actor.system("codes-load"), directory=options["dir"])
        for table, count in loaded.items():
            self.stdout.write(f"{table}: {count} 项")
        self.stdout.write(
            self.style.SUCCESS(f"已载入 {len(loaded)} 张代码表（版本未变的表保持不动）")
        )
