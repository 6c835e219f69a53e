from __future__ import annotations

import datetime as dt
import uuid

from ninja import Schema


class DetaineeOut(Schema):
    id: uuid.UUID
    unit_id: uuid.UUID
    number: str
    name: str
    gender: str
    birth_date: dt.date | None
    nationality: str
    case_nature: str
    legal_measure: str
    litigation_stage: str
    case_unit: str
    status: str
    admitted_at: dt.datetime
    left_at: dt.datetime | None
    cell_number: str | None


class DetaineeDetailOut(DetaineeOut):
    ethnicity: str
    id_type: str
    id_number: str
    case_number: str


class DetaineePage(Schema):
    count: int
    page: int
    page_size: int
    items: list[DetaineeOut]
