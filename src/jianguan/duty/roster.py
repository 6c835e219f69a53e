"""Shifts (排班): who holds which post at a facility at a given moment."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from jianguan.core.errors import DomainError
from jianguan.duty.models import ShiftAssignment
from jianguan.org.api import Perm, Unit, User, actor_for, post_kinds, require_perm
from jianguan.outbox.api import change_record

MAX_SHIFT = dt.timedelta(hours=24)


def on_shift(unit: Unit, post_kind: str, at: dt.datetime | None = None) -> QuerySet[User]:
    """The officers rostered on this post now (may be empty: then every holder of the post may
    take its tasks, and the board says nobody is rostered)."""
    at = at or timezone.now()
    ids = ShiftAssignment.objects.filter(
        unit=unit, post_kind=post_kind, starts_at__lte=at, ends_at__gt=at
    ).values("user_id")
    return User.objects.filter(id__in=ids).order_by("full_name", "username")


def shifts_between(unit: Unit, start: dt.datetime, end: dt.datetime) -> QuerySet[ShiftAssignment]:
    return (
        ShiftAssignment.objects.filter(unit=unit, starts_at__lt=end, ends_at__gt=start)
        .select_related("user")
        .order_by("starts_at", "post_kind")
    )


@transaction.atomic
def shift_add(
    *,
    user: User,
    officer: User,
    post_kind: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    address: str | None = None,
) -> ShiftAssignment:
    """Roster an officer of the same facility on a post they hold."""
    require_perm(user, Perm.ROSTER_EDIT)
    if officer.unit_id != user.unit_id:
        raise DomainError("NOT_IN_UNIT", "只能为本单位民警排班", field="officer")
    if post_kind not in post_kinds(officer):
        raise DomainError(
            "POST_NOT_HELD", f"{officer.full_name or officer.username} 未担任该岗位", field="post"
        )
    if ends_at <= starts_at:
        raise DomainError("BAD_SHIFT", "下岗时间应晚于上岗时间", field="ends_at")
    if ends_at - starts_at > MAX_SHIFT:
        raise DomainError("BAD_SHIFT", "一个班次不能超过 24 小时", field="ends_at")
    overlapping = ShiftAssignment.objects.filter(
        user=officer, post_kind=post_kind, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).exists()
    if overlapping:
        raise DomainError("SHIFT_OVERLAP", "该民警在此岗位已有重叠的班次", field="starts_at")
    assert user.unit is not None
    shift = ShiftAssignment.objects.create(
        unit=user.unit,
        post_kind=post_kind,
        user=officer,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=user.username,
    )
    change_record(
        actor=actor_for(user, address=address),
        type="duty.shift_added",
        aggregate_type="shift",
        aggregate_id=shift.id,
        unit_code=user.unit.code,
        payload={
            "post": post_kind,
            "officer": officer.username,
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat(),
        },
    )
    return shift
