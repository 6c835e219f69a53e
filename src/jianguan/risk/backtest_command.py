"""The `backtest` sub-command of `jianguan risk` (the backtest itself is risk/backtest.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError


def add_backtest_parser(sub: Any) -> None:
    p = sub.add_parser("backtest", help="在记录的历史上回测某个模型版本")
    p.add_argument("--model", required=True, help="模型版本（已发布的或内置的）")


def run_backtest(command: Any, opts: dict[str, Any]) -> None:
    raise CommandError("回测尚未实现")
