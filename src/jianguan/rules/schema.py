"""What every rule pack's parser shares (pure Python, no Django): the error that points at the
first bad place, a text field, the legal-measure names for messages, and age in full years."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

Where = tuple[str | int, ...]


class PackError(Exception):
    """The pack is invalid at `path` (keys and list indexes from the top)."""

    def __init__(self, path: Sequence[str | int], message: str) -> None:
        self.path: Where = tuple(path)
        self.message = message
        shown = ".".join(str(p) for p in self.path)
        super().__init__(f"{shown}：{message}" if shown else message)


def text(content: Mapping[str, Any], key: str, path: Where) -> str:
    """A required, non-empty string."""
    if key not in content:
        raise PackError((*path, key), "缺少此项")
    value = content[key]
    if not isinstance(value, str) or not value.strip():
        raise PackError((*path, key), "应为非空字符串（加引号）")
    return value.strip()


@dataclass(frozen=True)
class PackHeader:
    """The top of a rules-list pack, checked; `rules` is still raw, for the kind's own parser."""

    version: str
    title: str
    age_counting: str
    rules: list[Any]


def pack_header(content: Mapping[str, Any], *, kind: str, top_keys: set[str]) -> PackHeader:
    """Check what every rules-list pack has: a mapping of known keys, its kind, version, title,
    the age-counting setting and a list of rules."""
    if not isinstance(content, Mapping):
        raise PackError((), "规则包应为映射（键: 值）")
    for key in content:
        if key not in top_keys:
            raise PackError((str(key),), "未知的顶层项")
    if content.get("kind") != kind:
        raise PackError(("kind",), f"应为 {kind}")
    version = text(content, "version", ())
    title = text(content, "title", ())
    age_counting = content.get("age_counting", AGE_BIRTHDAY)
    if age_counting not in (AGE_BIRTHDAY, AGE_DAY_AFTER):
        raise PackError(("age_counting",), f"应为 {AGE_BIRTHDAY} 或 {AGE_DAY_AFTER}")
    rules = content.get("rules")
    if not isinstance(rules, list):
        raise PackError(("rules",), "缺少规则列表" if rules is None else "应为列表")
    return PackHeader(version, title, age_counting, rules)


# Names for messages only; the code table LEGAL_MEASURE is the reference.
MEASURE_NAMES: Final = {
    "10": "刑事拘留",
    "20": "逮捕",
    "30": "留所服刑",
    "31": "拘役",
    "40": "行政拘留",
    "41": "司法拘留",
    "50": "强制隔离戒毒",
    "60": "拘留审查",
    "61": "遣送出境前羁押",
    "99": "其他",
}

AGE_BIRTHDAY: Final = "birthday"
AGE_DAY_AFTER: Final = "day_after_birthday"


def _anniversary(birth: dt.date, year: int) -> dt.date:
    """The birthday in `year`; someone born on 29 February has it on 1 March in other years."""
    try:
        return birth.replace(year=year)
    except ValueError:
        return dt.date(year, 3, 1)


def age_on(birth: dt.date, today: dt.date, *, counting: str = AGE_BIRTHDAY) -> int:
    """Full years (周岁) at `today`.

    With `counting="day_after_birthday"` a year is complete only from the day after the
    birthday (the reading of 法释〔2006〕1号第二条 for criminal-responsibility ages).
    """
    reached = _anniversary(birth, today.year)
    if counting == AGE_DAY_AFTER:
        reached += dt.timedelta(days=1)
    years = today.year - birth.year
    return years - 1 if today < reached else years
