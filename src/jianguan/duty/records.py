"""Dynamic information (监管动态信息): a post records what it saw; whatever needs action is routed
into a task in the same transaction, so a record that needs handling always has its task."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from jianguan.core.errors import DomainError, PermissionDenied
from jianguan.custody.api import held_in_unit
from jianguan.duty.catalogue import Category
from jianguan.duty.lifecycle import duty_pack, facility_of, post_label, task_open
from jianguan.duty.models import URGENCY_RANK, InfoRecord, TaskSource, Urgency
from jianguan.housing.api import Cell
from jianguan.org.api import User, actor_for, post_kinds
from jianguan.outbox.api import change_record

MAX_TEXT = 2000


def catalogue_for(user: User) -> list[Category]:
    """What this officer's posts may record at their facility."""
    if user.unit is None:
        return []
    _, pack = duty_pack(user.unit)
    return pack.recordable_by(post_kinds(user))


@transaction.atomic
def info_record(
    *,
    user: User,
    category: str,
    text: str,
    detainee_id: uuid.UUID | str | None = None,
    cell_id: uuid.UUID | str | None = None,
    urgency: str = "",
    address: str | None = None,
) -> InfoRecord:
    unit = facility_of(user)
    version, pack = duty_pack(unit)
    found = pack.category(category)
    if found is None:
        raise DomainError("UNKNOWN_CATEGORY", f"未知的信息类别 {category}", field="category")
    posts = [p for p in post_kinds(user) if p in found.recorded_by]
    if not posts:
        allowed = "、".join(post_label(p) for p in found.recorded_by) or "平台"
        raise PermissionDenied(f"“{found.name}”由{allowed}岗记录，您当前的岗位不能记录")
    text = text.strip()
    if not text:
        raise DomainError("REQUIRED", "请写明情况", field="text")
    if len(text) > MAX_TEXT:
        raise DomainError("TOO_LONG", f"情况不能超过 {MAX_TEXT} 字", field="text")
    urgency = urgency or found.urgency
    if urgency not in Urgency.values:
        raise DomainError("BAD_URGENCY", "紧急程度应为紧急、重要或一般", field="urgency")
    if URGENCY_RANK[Urgency(urgency)] > URGENCY_RANK[Urgency(found.urgency)]:
        raise DomainError(
            "URGENCY_LOWERED",
            f"“{found.name}”至少为{Urgency(found.urgency).label}，只能调高不能调低",
            field="urgency",
        )
    detainee = None
    if detainee_id:
        detainee = held_in_unit(unit.id, detainee_id)
        if detainee is None:
            raise DomainError("NOT_HELD", "该人员不在本所在押", field="detainee")
    cell = None
    if cell_id:
        cell = Cell.objects.filter(unit=unit, id=cell_id).first() if _is_uuid(cell_id) else None
        if cell is None:
            raise DomainError("UNKNOWN_CELL", "本所没有该监室", field="cell")
    elif detainee is not None:
        cell = detainee.cell
    now = timezone.now()
    record = InfoRecord.objects.create(
        unit=unit,
        category=found.code,
        category_name=found.name,
        post_kind=posts[0],
        recorded_by=user,
        recorded_at=now,
        detainee=detainee,
        cell=cell,
        text=text,
        urgency=urgency,
        pack_version=version,
    )
    actor = actor_for(user, address=address)
    where = " ".join(
        part
        for part in (f"{cell.number}监室" if cell else "", detainee.name if detainee else "")
        if part
    )
    change_record(
        actor=actor,
        type="duty.info_recorded",
        aggregate_type="info_record",
        aggregate_id=record.id,
        unit_code=unit.code,
        payload={
            "category": found.code,
            "name": found.name,
            "urgency": urgency,
            "where": where,
            "task": found.task,
        },
    )
    if found.task:
        task_open(
            actor=actor,
            unit=unit,
            pack_version=version,
            pack=pack,
            category=found,
            urgency=urgency,
            title=f"{found.name}" + (f"（{where}）" if where else ""),
            detail=text,
            source=TaskSource.RECORD,
            source_ref=str(record.id),
            record=record,
            detainee_id=detainee.id if detainee else None,
            cell_id=cell.id if cell else None,
            created_by=user,
            now=now,
        )
    return record


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
