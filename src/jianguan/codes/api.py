"""Public face of the code tables: look codes up, require them, load tables, parse ID numbers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jianguan.codes import idcard
from jianguan.codes.models import CodeEntry, CodeTable
from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError
from jianguan.outbox.api import change_record

DATA_DIR = Path(__file__).resolve().parent / "data"
# Taiwan residents' residence permits (台湾居民居住证) carry 83, which is no GB/T 2260 province.
RESIDENCE_PERMIT_PREFIXES = {"83"}


@dataclass(frozen=True)
class Code:
    table: str
    code: str
    name: str
    name_en: str
    parent_code: str
    extra: dict[str, Any]


def _as_code(entry: CodeEntry) -> Code:
    return Code(
        entry.table_id, entry.code, entry.name, entry.name_en, entry.parent_code, entry.extra
    )


def codes_of(table: str, *, active_only: bool = True) -> list[Code]:
    qs = CodeEntry.objects.filter(table_id=table)
    if active_only:
        qs = qs.filter(is_active=True)
    return [_as_code(e) for e in qs.order_by("code")]


def code_names(table: str) -> dict[str, str]:
    return dict(CodeEntry.objects.filter(table_id=table).values_list("code", "name"))


def require_code(*, table: str, code: str, field: str) -> Code:
    """The active entry `code` of `table`, or a DomainError naming the field."""
    entry = CodeEntry.objects.filter(table_id=table, code=code, is_active=True).first()
    if entry is None:
        label = CodeTable.objects.filter(key=table).values_list("name", flat=True).first() or table
        raise DomainError("UNKNOWN_CODE", f"“{code}”不是有效的{label}代码", field=field)
    return _as_code(entry)


def resident_id_parse(
    number: str, *, field: str = "id_number", today: dt.date | None = None
) -> idcard.ResidentId:
    """Parse a resident ID number (GB 11643) against the loaded region table."""
    provinces = {
        code[:2]
        for code in CodeEntry.objects.filter(table_id="REGION", parent_code="").values_list(
            "code", flat=True
        )
    }
    if provinces:
        provinces |= RESIDENCE_PERMIT_PREFIXES
    try:
        return idcard.parse_resident_id(
            number,
            today=today or timezone.localdate(),
            known_province_codes=provinces or None,
        )
    except idcard.InvalidResidentId as exc:
        raise DomainError(f"ID_NUMBER_{exc.code}", exc.message, field=field) from None


def _read_table_file(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key in ("table", "name", "version", "entries"):
        if key not in data:
            raise DomainError("BAD_CODE_FILE", f"{path.name} 缺少字段 {key}")
    return data


@transaction.atomic
def codes_load(*, actor: Actor, directory: Path = DATA_DIR) -> dict[str, int]:
    """Load or update every table file in `directory`; entries no longer listed are deactivated.

    A table whose file version equals the stored version is left alone, so administrators'
    edits survive a reload of the same data.
    """
    loaded: dict[str, int] = {}
    for path in sorted(directory.glob("*.yaml")):
        data = _read_table_file(path)
        key = data["table"]
        table = CodeTable.objects.filter(key=key).first()
        if table is not None and table.version == str(data["version"]):
            continue
        if table is None:
            table = CodeTable(key=key, revision=0)
        table.name, table.name_en = data["name"], data.get("name_en", "")
        table.standard, table.version = data.get("standard", ""), str(data["version"])
        table.revision += 1
        table.save()
        listed = set()
        for item in data["entries"]:
            code = str(item["code"])
            listed.add(code)
            extra = {
                k: v for k, v in item.items() if k not in {"code", "name", "name_en", "parent"}
            }
            CodeEntry.objects.update_or_create(
                table=table,
                code=code,
                defaults={
                    "name": item["name"],
                    "name_en": item.get("name_en", ""),
                    "parent_code": str(item.get("parent", "")),
                    "extra": extra,
                    "is_active": True,
                },
            )
        CodeEntry.objects.filter(table=table).exclude(code__in=listed).update(is_active=False)
        payload = {"table": key, "version": table.version, "count": len(listed)}
        change_record(
            actor=actor,
            type="codes.loaded",
            aggregate_type="code_table",
            aggregate_id=key,
            unit_code=actor.unit_code,
            payload=payload,
        )
        loaded[key] = len(listed)
    return loaded


@transaction.atomic
def code_entry_save(*, actor: Actor, entry: CodeEntry, created: bool) -> CodeEntry:
    """Save an administrator's edit of one code and bump its table's revision."""
    entry.code, entry.name = entry.code.strip(), entry.name.strip()
    if not entry.code or not entry.name:
        raise DomainError(
            "REQUIRED", "代码和名称不能为空", field="code" if not entry.code else "name"
        )
    entry.save()
    CodeTable.objects.filter(pk=entry.table_id).update(revision=F("revision") + 1)
    payload = {
        "table": entry.table_id,
        "code": entry.code,
        "name": entry.name,
        "is_active": entry.is_active,
        "created": created,
    }
    change_record(
        actor=actor,
        type="code.changed",
        aggregate_type="code_table",
        aggregate_id=entry.table_id,
        unit_code=actor.unit_code,
        payload=payload,
    )
    return entry
