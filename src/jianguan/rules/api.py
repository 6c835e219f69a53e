"""Rule packs (DESIGN.md §5): register a kind, publish a version, find the one that governs a unit.

A kind (deadlines, separation, admission, …) is registered by the app that interprets it, with a
parser that validates the parsed YAML and raises an error carrying the path of the first problem.
A published pack applies to a unit's subtree; the most specific active pack wins, and the
built-in default file applies where nothing is published.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError
from jianguan.outbox.api import change_record
from jianguan.rules.models import PackStatus, RulePack

__all__ = ["PackStatus", "RulePack"]

BUILTIN = "内置默认"


@dataclass(frozen=True)
class PackKind:
    name: str
    label: str
    parse: Callable[[Mapping[str, Any]], Any]
    error: type[Exception]  # raised by parse, with .path (tuple) and .message
    builtin_path: Path


@dataclass(frozen=True)
class LivePack:
    """The pack governing a unit: parsed, with where it came from."""

    kind: str
    version: str
    unit_code: str  # "" when nationwide or built in
    origin: str  # BUILTIN or the publishing record's id
    pack: Any


_kinds: dict[str, PackKind] = {}
_parsed: dict[tuple[str, str], Any] = {}  # (kind, digest) -> parsed pack; packs never change


def register_kind(
    name: str,
    *,
    label: str,
    parse: Callable[[Mapping[str, Any]], Any],
    error: type[Exception],
    builtin_path: Path,
) -> None:
    _kinds[name] = PackKind(name, label, parse, error, builtin_path)


def pack_kinds() -> dict[str, PackKind]:
    return dict(_kinds)


def _kind(name: str) -> PackKind:
    try:
        return _kinds[name]
    except KeyError:
        known = "、".join(sorted(_kinds)) or "（无）"
        raise DomainError(
            "UNKNOWN_RULEPACK_KIND", f"未知的规则包类别 {name}；可用：{known}"
        ) from None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _parse_cached(kind: PackKind, digest: str, content: Mapping[str, Any]) -> Any:
    key = (kind.name, digest)
    if key not in _parsed:
        _parsed[key] = kind.parse(content)
    return _parsed[key]


_builtin: dict[str, LivePack] = {}


def builtin_pack(name: str) -> LivePack:
    """The default pack shipped with the code (parsed once per process)."""
    if name not in _builtin:
        kind = _kind(name)
        content, pack = parse_source(name, kind.builtin_path.read_text(encoding="utf-8"))
        _builtin[name] = LivePack(name, str(content["version"]), "", BUILTIN, pack)
    return _builtin[name]


def pack_for(name: str, unit_path: str, *, shadow: bool = False) -> LivePack:
    """The active (or, with shadow=True, the trial) pack for a unit given its tree path.

    `unit_path` is the unit's path ("/000000/440000/440100/440100K01/"): a facility's own pack
    beats its city's, which beats its province's, which beats a nationwide one.
    """
    kind = _kind(name)
    codes = [c for c in unit_path.split("/") if c]
    depth = {code: i + 1 for i, code in enumerate(codes)} | {"": 0}
    status = PackStatus.SHADOW if shadow else PackStatus.ACTIVE
    rows = RulePack.objects.filter(kind=name, status=status, unit_code__in=list(depth)).values(
        "id", "unit_code", "version", "digest", "content"
    )
    best = max(rows, key=lambda r: depth[r["unit_code"]], default=None)
    if best is None:
        if shadow:
            raise DomainError("NO_SHADOW_PACK", f"没有试运行中的{kind.label}规则包")
        return builtin_pack(name)
    pack = _parse_cached(kind, best["digest"], best["content"])
    return LivePack(name, best["version"], best["unit_code"], str(best["id"]), pack)


def parse_source(name: str, text: str) -> tuple[dict[str, Any], Any]:
    """Parse and validate YAML text; errors name the line and say what is wrong."""
    kind = _kind(name)
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行：" if mark else ""
        raise DomainError("RULEPACK_INVALID", f"{where}不是有效的 YAML（{exc}）") from None
    if not isinstance(content, dict):
        raise DomainError("RULEPACK_INVALID", "规则包必须是一个映射（键: 值）")
    if content.get("kind") != name:
        raise DomainError(
            "RULEPACK_INVALID",
            f"{_where(text, ('kind',))}kind 应为 {name}，实为 {content.get('kind')!r}",
        )
    if not isinstance(content.get("version"), str) or not content["version"].strip():
        raise DomainError(
            "RULEPACK_INVALID", f"{_where(text, ('version',))}version 必须是非空字符串（加引号）"
        )
    try:
        pack = kind.parse(content)
    except kind.error as exc:
        path = tuple(getattr(exc, "path", ()))
        message = getattr(exc, "message", str(exc))
        shown = ".".join(str(p) for p in path)
        raise DomainError(
            "RULEPACK_INVALID", f"{_where(text, path)}{shown + '：' if shown else ''}{message}"
        ) from None
    return content, pack


def _where(text: str, path: tuple[Any, ...]) -> str:
    """'第 N 行：' for the deepest node of `path` that exists in the YAML text."""
    node: Any = yaml.compose(text)
    line = node.start_mark.line if node is not None else 0
    for step in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(step)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            child = node.value[step] if 0 <= step < len(node.value) else None
        if child is None:
            break
        node, line = child, child.start_mark.line
    return f"第 {line + 1} 行："


@transaction.atomic
def pack_publish(
    *, actor: Actor, kind: str, text: str, unit_code: str = "", shadow: bool = False
) -> RulePack:
    """Publish a version; it replaces the active (or trial) pack of the same kind and unit.

    A pack that does not validate is refused and the live one stays.
    """
    content, _ = parse_source(kind, text)
    version = content["version"].strip()
    if RulePack.objects.filter(kind=kind, unit_code=unit_code, version=version).exists():
        raise DomainError(
            "RULEPACK_VERSION_EXISTS",
            f"{kind} 规则包版本 {version} 已发布过；请改用新的版本号",
            field="version",
        )
    status = PackStatus.SHADOW if shadow else PackStatus.ACTIVE
    RulePack.objects.select_for_update().filter(
        kind=kind, unit_code=unit_code, status=status
    ).update(status=PackStatus.RETIRED)
    record = RulePack.objects.create(
        kind=kind,
        version=version,
        unit_code=unit_code,
        title=str(content.get("title", ""))[:200],
        source=text,
        # YAML dates (holiday lists) are kept as ISO text: JSON has no date type, and the
        # parsers read both forms.
        content=json.loads(json.dumps(content, cls=DjangoJSONEncoder)),
        digest=_digest(text),
        status=status,
        published_at=timezone.now(),
        published_by=actor.username,
    )
    change_record(
        actor=actor,
        type="rules.pack_published",
        aggregate_type="rulepack",
        aggregate_id=record.id,
        unit_code=unit_code,
        payload={"kind": kind, "version": version, "status": status, "digest": record.digest},
    )
    return record


def packs_published(kind: str | None = None) -> QuerySet[RulePack]:
    qs = RulePack.objects.order_by("kind", "unit_code", "-published_at")
    return qs.filter(kind=kind) if kind else qs
