"""Exchange schemas of rule packs."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Schema


class PackKindOut(Schema):
    name: str
    label: str
    builtin_version: str


class PackOut(Schema):
    id: uuid.UUID
    kind: str
    version: str
    unit_code: str
    title: str
    status: str
    digest: str
    published_at: dt.datetime
    published_by: str


class PacksOut(Schema):
    kinds: list[PackKindOut]
    packs: list[PackOut]


class PublishQuery(Schema):
    unit_code: str = ""
    shadow: bool = False
