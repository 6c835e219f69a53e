"""`jianguan rules list | check KIND FILE | publish KIND FILE [--unit CODE] [--shadow]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError
from jianguan.rules.api import pack_kinds, pack_publish, packs_published, parse_source


class Command(BaseCommand):
    help = "规则包：列出、校验、发布（DESIGN.md §5）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="列出内置与已发布的规则包")
        for name in ("check", "publish"):
            p = sub.add_parser(name)
            p.add_argument("kind")
            p.add_argument("file", type=Path)
            if name == "publish":
                p.add_argument("--unit", default="", help="适用单位代码；缺省为全国")
                p.add_argument("--shadow", action="store_true", help="作为试运行版本发布")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            getattr(self, f"_{opts['action']}")(opts)
        except DomainError as exc:
            raise CommandError(exc.message) from None

    def _list(self, opts: dict[str, Any]) -> None:
        for name, kind in sorted(pack_kinds().items()):
            self.stdout.write(f"{name}\t{kind.label}\t内置：{kind.builtin_path}")
        for pack in packs_published():
            self.stdout.write(
                f"{pack.kind}\t{pack.version}\t{pack.unit_code or '全国'}\t"
                f"{pack.get_status_display()}\t{pack.published_at:%Y-%m-%d %H:%M}\t{pack.title}"
            )

    def _check(self, opts: dict[str, Any]) -> None:
        content, _ = parse_source(opts["kind"], self._read(opts["file"]))
        self.stdout.write(f"有效：{opts['kind']} {content['version']}")

    def _publish(self, opts: dict[str, Any]) -> None:
        pack = pack_publish(
            actor=Actor.system("rules-cli"),
            kind=opts["kind"],
            text=self._read(opts["file"]),
            unit_code=opts["unit"],
            shadow=opts["shadow"],
        )
        self.stdout.write(f"已发布：{pack.kind} {pack.version}（{pack.get_status_display()}）")

    def _read(self, path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"无法读取 {path}：{exc.strerror}") from None
