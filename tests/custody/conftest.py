"""Fixtures for this folder: sign a client in (past the second factor) and count side effects."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

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
