"""Shared fixtures: a small unit tree built through the services, users on posts, signed-in
clients and counts of the rows a write leaves behind."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

# Playwright's sync API runs an event loop in the test thread; Django's async guard would
# otherwise refuse the ORM calls the browser tests make for set-up.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


_PARSED: dict[Path, dict[str, Any]] = {}


@pytest.fixture
def codes(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Load the code tables through codes_load, parsing each YAML file once per session.

    Overrides the shared fixture only to save the YAML parsing time; the load itself (rows,
    audit entries, events) runs exactly as in production.
    """
    from jianguan.codes import api
    from jianguan.core.actor import Actor

    real = api._read_table_file

    def cached(path: Path) -> dict[str, Any]:
        if path not in _PARSED:
            _PARSED[path] = real(path)
        return copy.deepcopy(_PARSED[path])

    monkeypatch.setattr(api, "_read_table_file", cached)
    api.codes_load(actor=Actor.system("test"))


@pytest.fixture
def tree(codes: None) -> dict[str, Any]:
    """national → 广东 → 广州 (看守所 K01, 拘留所 J01), 深圳 (看守所 K01)."""
    from jianguan.core.actor import Actor
    from jianguan.org.api import FacilityKind, UnitLevel, posts_ensure_defaults, unit_create

    posts_ensure_defaults()  # a transactional test's flush removes the migration's posts
    actor = Actor.system("test")
    nation = unit_create(
        actor=actor,
        code="000000",
        name="公安部监所管理局",
        level=UnitLevel.NATIONAL,
        region_code="000000",
        parent=None,
    )
    gd = unit_create(
        actor=actor,
        code="440000",
        name="广东省公安厅监管总队",
        level=UnitLevel.PROVINCE,
        region_code="440000",
        parent=nation,
    )
    gz = unit_create(
        actor=actor,
        code="440100",
        name="广州市公安局监管支队",
        level=UnitLevel.CITY,
        region_code="440100",
        parent=gd,
    )
    sz = unit_create(
        actor=actor,
        code="440300",
        name="深圳市公安局监管支队",
        level=UnitLevel.CITY,
        region_code="440300",
        parent=gd,
    )
    gz_k = unit_create(
        actor=actor,
        code="440100K01",
        name="广州市第一看守所",
        level=UnitLevel.FACILITY,
        region_code="440103",
        parent=gz,
        facility_kind=FacilityKind.DETENTION_CENTER,
    )
    gz_j = unit_create(
        actor=actor,
        code="440100J01",
        name="广州市拘留所",
        level=UnitLevel.FACILITY,
        region_code="440106",
        parent=gz,
        facility_kind=FacilityKind.DETENTION_HOUSE,
    )
    sz_k = unit_create(
        actor=actor,
        code="440300K01",
        name="深圳市第一看守所",
        level=UnitLevel.FACILITY,
        region_code="440304",
        parent=sz,
        facility_kind=FacilityKind.DETENTION_CENTER,
    )
    return {
        "nation": nation,
        "gd": gd,
        "gz": gz,
        "sz": sz,
        "gz_k": gz_k,
        "gz_j": gz_j,
        "sz_k": sz_k,
    }


PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def make_user(tree: dict[str, Any]) -> Callable[..., Any]:
    from jianguan.core.actor import Actor
    from jianguan.org.api import user_create

    def make(username: str, post: str, unit: str = "gz_k", **extra: Any) -> Any:
        return user_create(
            actor=Actor.system("test"),
            username=username,
            password=PASSWORD,
            full_name=extra.pop("full_name", username),
            unit=tree[unit],
            posts=[post],
            **extra,
        )

    return make


@pytest.fixture
def make_detainee(tree: dict[str, Any]) -> Callable[..., Any]:
    """Insert a person directly: custody's admission service arrives with the custody core."""
    import datetime as dt

    from django.utils import timezone

    from jianguan.custody.models import Detainee

    counter = {"n": 0}

    def make(unit: str = "gz_k", name: str = "张三", **extra: Any) -> Any:
        counter["n"] += 1
        return Detainee.objects.create(
            unit=tree[unit],
            number=f"{tree[unit].code}-{counter['n']:05d}",
            name=name,
            gender=extra.pop("gender", "1"),
            case_nature=extra.pop("case_nature", "0201"),
            legal_measure=extra.pop("legal_measure", "20"),
            litigation_stage=extra.pop("litigation_stage", "12"),
            admitted_at=extra.pop("admitted_at", timezone.now() - dt.timedelta(days=counter["n"])),
            **extra,
        )

    return make


@pytest.fixture
def sign_in(client: Client) -> Callable[..., Client]:
    """Log `user` into the test client; mark the second factor as passed unless told not to."""
    from jianguan.org.middleware import SECOND_FACTOR_SESSION_KEY

    def do(user: Any, *, second_factor: bool = True) -> Client:
        client.force_login(user)
        if second_factor:
            session = client.session
            session[SECOND_FACTOR_SESSION_KEY] = True
            session.save()
        return client

    return do


@pytest.fixture
def side_effects() -> Callable[[], dict[str, int]]:
    """Count the rows every write leaves behind, to assert that a refused write left none."""
    from jianguan.activity.models import ActivityItem
    from jianguan.audit.models import AuditEntry
    from jianguan.org.models import ApiToken, Unit, User
    from jianguan.outbox.models import Event

    def counts() -> dict[str, int]:
        return {
            "units": Unit.objects.count(),
            "users": User.objects.count(),
            "tokens": ApiToken.objects.count(),
            "audit": AuditEntry.objects.count(),
            "events": Event.objects.count(),
            "activity": ActivityItem.objects.count(),
        }

    return counts


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Hash passwords with MD5 in tests: PBKDF2's cost buys nothing here and slows logins."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
