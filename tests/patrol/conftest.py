"""Patrol fixtures: 广州一看's cells with people in them, a cell terminal in each, and a clock
the tests drive (`now=`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from tests.devices.conftest import T0, message, register  # noqa: F401  (fixtures)
from tests.risk.conftest import cells, held, staff  # noqa: F401  (fixtures)

NIGHT = dt.date(2026, 11, 20)  # the night that begins at 22:00 local on 20 November
N22 = dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.UTC)  # 22:00 in Guangzhou: the first shift
ADMITTED = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


@pytest.fixture
def person(make_detainee: Callable[..., Any], cells: dict[str, Any]) -> Callable[..., Any]:  # noqa: F811
    """Someone in custody in a cell (admitted well before the tests' clock)."""

    def make(name: str, cell: str = "102", **extra: Any) -> Any:
        return make_detainee(
            "gz_k",
            name=name,
            cell=cells[cell],
            status="IN_CUSTODY",
            admitted_at=extra.pop("admitted_at", ADMITTED),
            **extra,
        )

    return make


@pytest.fixture
def trio(person: Callable[..., Any]) -> list[Any]:
    """Three men in cell 102, enough for a night's rota."""
    return [person("张三"), person("李四"), person("王五")]


@pytest.fixture
def terminals(register: Callable[..., Any], cells: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    return {
        number: register(f"TERM-{number}", "TERMINAL", cell=cell) for number, cell in cells.items()
    }


@pytest.fixture
def send(message: Callable[..., Any]) -> Callable[..., Any]:  # noqa: F811
    """A terminal's message through ingest, then the outbox delivered to the consumers."""
    from jianguan.devices.api import ingest
    from jianguan.outbox.api import deliver

    def run(device: Any, event: str, data: dict[str, Any], *, at: dt.datetime) -> Any:
        verdicts, _ = ingest([message(device, event, data, at=at)], now=at)
        assert verdicts[0].accepted, verdicts[0]
        deliver()
        return verdicts[0]

    return run
