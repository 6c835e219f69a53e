"""The duty rule pack (pure Python, no database): the catalogue of dynamic information per post, which
items become tasks for which post, and the time limits and escalation chain (DESIGN.md §5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jianguan.org.permissions import PostKind
from jianguan.rules.schema import PackError, text

__all__ = ["BUILTIN_PATH", "Category", "DutyPack", "Limits", "PackError", "parse_pack"]

BUILTIN_PATH = Path(__file__).parent / "rulepacks" / "duty.yaml"

URGENCIES = ("URGENT", "HIGH", "NORMAL")
BASES = ("law", "practice")
TOP_KEYS = {"kind", "version", "title", "urgencies", "escalation", "categories"}
CATEGORY_KEYS = {
    "code",
    "name",
    "recorded_by",
    "task",
    "handler",
    "urgency",
    "verify",
    "basis",
    "article",
    "accept_minutes",
    "handle_minutes",
}


@dataclass(frozen=True)
class Limits:
    accept: dt.timedelta
    handle: dt.timedelta
    escalate: dt.timedelta


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    recorded_by: tuple[str, ...]
    task: bool
    handler: str  # post kind; "" when the item is information only
    urgency: str
    verify: bool
    basis: str
    article: str
    accept_minutes: int | None
    handle_minutes: int | None


@dataclass(frozen=True)
class DutyPack:
    version: str
    title: str
    limits: dict[str, Limits]
    escalation: tuple[str, ...]
    categories: dict[str, Category]

    def category(self, code: str) -> Category | None:
        return self.categories.get(code)

    def recordable_by(self, post_kinds: tuple[str, ...] | set[str]) -> list[Category]:
        """The catalogue a holder of these posts may record, in the pack's order."""
        return [c for c in self.categories.values() if set(c.recorded_by) & set(post_kinds)]

    def limits_for(self, category: Category, urgency: str) -> Limits:
        base = self.limits[urgency]
        # A category's own minutes apply at its default urgency; a raised urgency is stricter.
        if urgency != category.urgency:
            return base
        return Limits(
            accept=dt.timedelta(minutes=category.accept_minutes)
            if category.accept_minutes
            else base.accept,
            handle=dt.timedelta(minutes=category.handle_minutes)
            if category.handle_minutes
            else base.handle,
            escalate=base.escalate,
        )

    def next_level(self, current: str) -> str | None:
        """The post a task escalates to from `current` ("" = still at its handling post)."""
        if not current:
            return self.escalation[0] if self.escalation else None
        try:
            i = self.escalation.index(current)
        except ValueError:
            return None
        return self.escalation[i + 1] if i + 1 < len(self.escalation) else None


def _minutes(value: Any, path: tuple[Any, ...]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PackError(path, "应为正整数（分钟）")
    return value


def _posts(value: Any, path: tuple[Any, ...], known: set[str]) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise PackError(path, "应为岗位列表，如 [PATROL, CUSTODIAN]")
    for i, post in enumerate(value):
        if post not in known:
            raise PackError((*path, i), f"未知的岗位 {post}；可用：{'、'.join(sorted(known))}")
    return tuple(value)


def parse_pack(content: Mapping[str, Any], *, post_kinds: set[str] | None = None) -> DutyPack:
    """Validate a parsed YAML pack; raise PackError at the first bad place."""
    known = post_kinds if post_kinds is not None else set(PostKind.values)
    if not isinstance(content, Mapping):
        raise PackError((), "规则包应为映射（键: 值）")
    for key in content:
        if key not in TOP_KEYS:
            raise PackError((str(key),), "未知的顶层项")
    if content.get("kind") != "duty":
        raise PackError(("kind",), "应为 duty")
    version = text(content, "version", ())
    title = text(content, "title", ())

    raw_limits = content.get("urgencies")
    if not isinstance(raw_limits, Mapping):
        raise PackError(("urgencies",), "缺少各紧急程度的时限（URGENT、HIGH、NORMAL）")
    limits: dict[str, Limits] = {}
    for urgency in URGENCIES:
        row = raw_limits.get(urgency)
        if not isinstance(row, Mapping):
            raise PackError(("urgencies", urgency), "缺少此紧急程度的时限")
        path = ("urgencies", urgency)
        accept = _minutes(row.get("accept_minutes"), (*path, "accept_minutes"))
        handle = _minutes(row.get("handle_minutes"), (*path, "handle_minutes"))
        if handle < accept:
            raise PackError((*path, "handle_minutes"), "办结时限不能短于接收时限")
        limits[urgency] = Limits(
            accept=dt.timedelta(minutes=accept),
            handle=dt.timedelta(minutes=handle),
            escalate=dt.timedelta(
                minutes=_minutes(row.get("escalate_minutes"), (*path, "escalate_minutes"))
            ),
        )
    for urgency in raw_limits:
        if urgency not in URGENCIES:
            raise PackError(
                ("urgencies", str(urgency)), "未知的紧急程度；可用：URGENT、HIGH、NORMAL"
            )

    escalation = _posts(content.get("escalation"), ("escalation",), known)

    raw_categories = content.get("categories")
    if not isinstance(raw_categories, list) or not raw_categories:
        raise PackError(("categories",), "缺少信息类别列表")
    categories: dict[str, Category] = {}
    for i, row in enumerate(raw_categories):
        category = _category(row, ("categories", i), known)
        if category.code in categories:
            raise PackError(("categories", i, "code"), f"类别代码 {category.code} 重复")
        categories[category.code] = category
    return DutyPack(version, title, limits, escalation, categories)


def _category(row: Any, path: tuple[Any, ...], known: set[str]) -> Category:
    if not isinstance(row, Mapping):
        raise PackError(path, "应为映射（code、name、recorded_by…）")
    for key in row:
        if key not in CATEGORY_KEYS:
            raise PackError((*path, str(key)), "未知的项")
    code = text(row, "code", path)
    name = text(row, "name", path)
    recorded_by = _posts(row.get("recorded_by", []), (*path, "recorded_by"), known)
    task = row.get("task")
    if not isinstance(task, bool):
        raise PackError((*path, "task"), "应为 true 或 false（是否生成任务）")
    handler = ""
    urgency = row.get("urgency", "NORMAL")
    if urgency not in URGENCIES:
        raise PackError((*path, "urgency"), "应为 URGENT、HIGH 或 NORMAL")
    if task:
        handler = text(row, "handler", path)
        if handler not in known:
            raise PackError((*path, "handler"), f"未知的岗位 {handler}")
    verify = row.get("verify", False)
    if not isinstance(verify, bool):
        raise PackError((*path, "verify"), "应为 true 或 false")
    basis = row.get("basis")
    if basis not in BASES:
        raise PackError((*path, "basis"), "应为 law（法律）或 practice（实践做法）")
    article = str(row.get("article", "")).strip()
    if basis == "law" and not article:
        raise PackError((*path, "article"), "依据为法律的类别必须写明条文")
    accept = row.get("accept_minutes")
    handle = row.get("handle_minutes")
    accept = _minutes(accept, (*path, "accept_minutes")) if accept is not None else None
    handle = _minutes(handle, (*path, "handle_minutes")) if handle is not None else None
    if accept and handle and handle < accept:
        raise PackError((*path, "handle_minutes"), "办结时限不能短于接收时限")
    return Category(
        code=code,
        name=name,
        recorded_by=recorded_by,
        task=task,
        handler=handler,
        urgency=urgency,
        verify=verify,
        basis=basis,
        article=article,
        accept_minutes=accept,
        handle_minutes=handle,
    )
