"""Prevention fixtures: 广州一看's officers on the posts the safeguards involve, a person held,
an exit terminal, an ankle monitor and a fence around a hospital ward."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.devices.conftest import T0, message, register  # noqa: F401  (fixtures)
from tests.risk.conftest import cells, held, staff  # noqa: F401  (fixtures)

WARD = (23.1291, 113.2644)  # the ward's centre, in 广州


@pytest.fixture
def more_staff(make_user: Callable[..., Any], staff: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    return {
        **staff,
        "reception": make_user("gz_jiedai", "RECEPTION", full_name="陈接待"),
        "command": make_user("gz_zhihui", "COMMAND", full_name="王指挥"),
        "admission": make_user("gz_shouya", "ADMISSION", full_name="陈收押"),
        "custodian2": make_user("gz_guanjiao2", "CUSTODIAN", full_name="孙管教"),
    }


@pytest.fixture
def terminal(register: Callable[..., Any]) -> Any:  # noqa: F811
    return register("EXIT-1", "BIOMETRIC", location_kind="EXIT", area="一监区出口")


@pytest.fixture
def ankle(register: Callable[..., Any]) -> Any:  # noqa: F811
    return register("ANK-1", "ANKLE", location_kind="WARD", area="出所就医")


@pytest.fixture
def ward(more_staff: dict[str, Any]) -> Any:
    from jianguan.prevention.api import geofence_create

    return geofence_create(
        user=more_staff["command"],
        name="市一医院住院部 5 楼",
        lat=WARD[0],
        lon=WARD[1],
        radius_m=100,
    )


def deliver() -> int:
    from jianguan.outbox.api import deliver as run

    return run()
