"""The `backtest` sub-command of `jianguan risk` (the backtest itself is risk/backtest.py)."""

from __future__ import annotations

from typing import Any


def add_backtest_parser(sub: Any) -> None:
    """Registered by the backtest work; until then `jianguan risk` has no backtest."""
