from __future__ import annotations

import datetime as dt

from ninja import Schema


class CodeOut(Schema):
    code: str
    name: str
    name_en: str
    parent_code: str


class ResidentIdIn(Schema):
    number: str


class ResidentIdOut(Schema):
    number: str
    region_code: str
    birth_date: dt.date
    gender_code: str
