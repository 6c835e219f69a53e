"""Exchange schemas of the org app (also the data standard for units and users)."""

from __future__ import annotations

import uuid

from ninja import Schema


class UnitOut(Schema):
    id: uuid.UUID
    code: str
    name: str
    level: str
    facility_kind: str
    region_code: str
    parent_id: uuid.UUID | None


class UnitIn(Schema):
    code: str
    name: str
    level: str
    region_code: str
    parent_id: uuid.UUID | None = None
    facility_kind: str = ""


class MeOut(Schema):
    id: uuid.UUID
    username: str
    full_name: str
    unit: UnitOut | None
    posts: list[str]
    permissions: list[str]


class UserIn(Schema):
    username: str
    password: str
    full_name: str
    unit_id: uuid.UUID
    posts: list[str]
    police_number: str = ""


class UserOut(Schema):
    id: uuid.UUID
    username: str
    full_name: str
    unit_id: uuid.UUID | None
    posts: list[str]
