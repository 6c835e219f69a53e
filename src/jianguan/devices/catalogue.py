"""The devices rule pack (pure Python, no database): which device events are alerts and how
urgent, the fold window, vital-sign limits, and the parameters of welfare checks, cell duty,
talk reminders and ankle monitors (DESIGN.md §5, §8)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jianguan.rules.schema import PackError, Where, text

__all__ = ["BUILTIN_PATH", "DevicesPack", "EventType", "PackError", "parse_pack"]

BUILTIN_PATH = Path(__file__).parent / "rulepacks" / "devices.yaml"

KINDS = ("VIDEO", "BUTTON", "PERIMETER", "DOOR", "WEARABLE", "ANKLE", "BIOMETRIC", "TERMINAL")
SEVERITIES = ("URGENT", "HIGH", "NORMAL")
POSTS = ("PATROL", "SUBCONTROL", "COMMAND", "CUSTODIAN", "MEDICAL", "LEADER")
TALK_TRIGGERS = (
    "ADMISSION",
    "LAWYER_MEETING",
    "FAMILY_MEETING",
    "STAGE_CHANGE",
    "JUDGMENT",
    "BAD_NEWS",
    "RISK_RISE",
)
HEARTBEAT = "HEARTBEAT"  # every kind may send it; it only says the device is alive
TOP_KEYS = {
    "kind",
    "version",
    "title",
    "basis",
    "fold_seconds",
    "silent_after_seconds",
    "vitals",
    "events",
    "patrol",
    "cell_duty",
    "talk",
    "ankle",
}
VITALS_KEYS = {"heart_rate_min", "heart_rate_max", "spo2_min", "temperature_max"}
EVENT_KEYS = {"kind", "code", "name", "alert", "post"}
CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class EventType:
    kind: str
    code: str
    name: str
    alert: str | None  # severity when the event is an alert, None for data
    post: str


@dataclass(frozen=True)
class Vitals:
    heart_rate_min: float
    heart_rate_max: float
    spo2_min: float
    temperature_max: float

    def out_of_range(self, data: Mapping[str, Any]) -> list[str]:
        """What in a vital-sign reading is outside the limits, in words (empty when fine)."""
        found = []
        hr, spo2, temp = (_reading(data, k) for k in ("heart_rate", "spo2", "temperature"))
        if hr is not None and not self.heart_rate_min <= hr <= self.heart_rate_max:
            found.append(f"心率 {hr:g}")
        if spo2 is not None and spo2 < self.spo2_min:
            found.append(f"血氧 {spo2:g}%")
        if temp is not None and temp > self.temperature_max:
            found.append(f"体温 {temp:g}℃")
        return found


@dataclass(frozen=True)
class Patrol:
    default_minutes: int
    grace_minutes: int


@dataclass(frozen=True)
class CellDuty:
    night_from: dt.time
    night_to: dt.time
    shift_minutes: int
    min_on_duty: int
    checkin_grace_minutes: int


@dataclass(frozen=True)
class TalkTrigger:
    trigger: str
    name: str
    within_hours: int


@dataclass(frozen=True)
class DevicesPack:
    version: str
    title: str
    fold: dt.timedelta
    silent_after: dt.timedelta
    vitals: Vitals
    events: dict[tuple[str, str], EventType]
    patrol: Patrol
    cell_duty: CellDuty
    talk: dict[str, TalkTrigger]
    battery_low_percent: int

    def event(self, kind: str, code: str) -> EventType | None:
        return self.events.get((kind, code))

    def alert_type(self, code: str) -> EventType | None:
        """An alert type by its code, whatever kind of device raises it."""
        return next((e for e in self.events.values() if e.code == code and e.alert), None)


def _reading(data: Mapping[str, Any], key: str) -> float | None:
    value: Any = data.get(key)
    return float(value) if _number(value) else None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _positive(content: Mapping[str, Any], key: str, path: Where) -> int:
    value = content.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PackError((*path, key), "应为正整数")
    return value


def _mapping(content: Mapping[str, Any], key: str, keys: set[str]) -> Mapping[str, Any]:
    value = content.get(key)
    if not isinstance(value, Mapping):
        raise PackError((key,), "缺少此项" if value is None else "应为映射（键: 值）")
    for k in value:
        if k not in keys:
            raise PackError((key, str(k)), f"未知的项；可用：{'、'.join(sorted(keys))}")
    return value


def _clock(content: Mapping[str, Any], key: str, path: Where) -> dt.time:
    value = content.get(key)
    if not isinstance(value, str) or not CLOCK.match(value):
        raise PackError((*path, key), '应为 "HH:MM" 形式的时刻（加引号）')
    return dt.time.fromisoformat(value)


def _events(raw: Any) -> dict[tuple[str, str], EventType]:
    if not isinstance(raw, list) or not raw:
        raise PackError(("events",), "应为事件列表")
    events: dict[tuple[str, str], EventType] = {}
    for i, item in enumerate(raw):
        path: Where = ("events", i)
        if not isinstance(item, Mapping):
            raise PackError(path, "应为映射")
        for k in item:
            if k not in EVENT_KEYS:
                raise PackError((*path, str(k)), "未知的项")
        kind, code = item.get("kind"), item.get("code")
        if kind not in KINDS:
            raise PackError((*path, "kind"), f"未知的设备类型；可用：{'、'.join(KINDS)}")
        if not isinstance(code, str) or not CODE.match(code) or code == HEARTBEAT:
            raise PackError((*path, "code"), "应为大写字母、数字和下划线（HEARTBEAT 为保留字）")
        if (kind, code) in events:
            raise PackError((*path, "code"), f"{kind} 的事件 {code} 重复")
        alert = item.get("alert")
        if alert is not None and alert not in SEVERITIES:
            raise PackError((*path, "alert"), f"应为 {'、'.join(SEVERITIES)} 之一")
        post = item.get("post", "PATROL")
        if post not in POSTS:
            raise PackError((*path, "post"), f"未知的岗位；可用：{'、'.join(POSTS)}")
        events[(kind, code)] = EventType(kind, code, text(item, "name", path), alert, post)
    return events


def _talk(raw: Any) -> dict[str, TalkTrigger]:
    if not isinstance(raw, list):
        raise PackError(("talk",), "应为触发时机列表")
    found: dict[str, TalkTrigger] = {}
    for i, item in enumerate(raw):
        path: Where = ("talk", i)
        if not isinstance(item, Mapping):
            raise PackError(path, "应为映射")
        trigger = item.get("trigger")
        if trigger not in TALK_TRIGGERS:
            raise PackError((*path, "trigger"), f"应为 {'、'.join(TALK_TRIGGERS)} 之一")
        if trigger in found:
            raise PackError((*path, "trigger"), f"{trigger} 重复")
        found[trigger] = TalkTrigger(
            trigger, text(item, "name", path), _positive(item, "within_hours", path)
        )
    return found


def parse_pack(content: Mapping[str, Any]) -> DevicesPack:
    """Validate a parsed YAML pack; raise PackError at the first bad place."""
    if not isinstance(content, Mapping):
        raise PackError((), "规则包应为映射（键: 值）")
    for key in content:
        if key not in TOP_KEYS:
            raise PackError((str(key),), "未知的顶层项")
    if content.get("kind") != "devices":
        raise PackError(("kind",), "应为 devices")
    vitals = _mapping(content, "vitals", VITALS_KEYS)
    for key in VITALS_KEYS:
        if not _number(vitals.get(key)):
            raise PackError(("vitals", key), "应为数值")
    patrol = _mapping(content, "patrol", {"default_minutes", "grace_minutes"})
    duty = _mapping(
        content,
        "cell_duty",
        {"night_from", "night_to", "shift_minutes", "min_on_duty", "checkin_grace_minutes"},
    )
    ankle = _mapping(content, "ankle", {"battery_low_percent"})
    min_on_duty = _positive(duty, "min_on_duty", ("cell_duty",))
    if min_on_duty < 2:
        raise PackError(("cell_duty", "min_on_duty"), "不得少于 2（监室不得单人值班）")
    return DevicesPack(
        version=text(content, "version", ()),
        title=text(content, "title", ()),
        fold=dt.timedelta(seconds=_positive(content, "fold_seconds", ())),
        silent_after=dt.timedelta(seconds=_positive(content, "silent_after_seconds", ())),
        vitals=Vitals(**{k: float(vitals[k]) for k in VITALS_KEYS}),
        events=_events(content.get("events")),
        patrol=Patrol(
            _positive(patrol, "default_minutes", ("patrol",)),
            _positive(patrol, "grace_minutes", ("patrol",)),
        ),
        cell_duty=CellDuty(
            night_from=_clock(duty, "night_from", ("cell_duty",)),
            night_to=_clock(duty, "night_to", ("cell_duty",)),
            shift_minutes=_positive(duty, "shift_minutes", ("cell_duty",)),
            min_on_duty=min_on_duty,
            checkin_grace_minutes=_positive(duty, "checkin_grace_minutes", ("cell_duty",)),
        ),
        talk=_talk(content.get("talk", [])),
        battery_low_percent=_positive(ankle, "battery_low_percent", ("ankle",)),
    )
