"""Devices fixtures: 广州一看's cells, officers, registered devices and a way to send them."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest

from tests.risk.conftest import cells, held, staff  # noqa: F401  (fixtures)

DEVICE_SECRET = "device"  # stands for "the device's own secret"
T0 = dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC)  # 10:00 in Guangzhou


@pytest.fixture
def register(tree: dict[str, Any]) -> Callable[..., Any]:
    """Register a device at 广州一看 (returns the device; its secret is on it)."""
    from jianguan.core.actor import Actor
    from jianguan.devices.api import device_register

    def make(code: str, kind: str = "VIDEO", *, cell: Any = None, **extra: Any) -> Any:
        extra.setdefault("location_kind", "CELL" if cell is not None else "CORRIDOR")
        device, _ = device_register(
            actor=Actor.system("test"),
            unit=tree["gz_k"],
            code=code,
            kind=kind,
            name=extra.pop("name", f"{kind} {code}"),
            cell=cell,
            now=extra.pop("now", T0 - dt.timedelta(days=1)),
            **extra,
        )
        return device

    return make


@pytest.fixture
def message() -> Callable[..., Any]:
    """A device's signed message; each device's sequence numbers grow unless `seq` is given."""
    from jianguan.devices.api import Incoming, encode

    counters: dict[str, itertools.count[int]] = {}

    def make(
        device: Any,
        event: str,
        data: dict[str, Any] | None = None,
        *,
        at: dt.datetime = T0,
        seq: int | None = None,
        secret: str | None = DEVICE_SECRET,
        transport: str = "MQTT",
    ) -> Any:
        if seq is None:
            seq = next(counters.setdefault(device.code, itertools.count(1)))
        topic, payload = encode(
            unit_code=device.unit.code,
            kind=device.kind,
            device_code=device.code,
            event=event,
            seq=seq,
            at=at,
            data=data or {},
            secret=device.secret if secret == DEVICE_SECRET else secret,
        )
        return Incoming(topic, payload, transport)

    return make
