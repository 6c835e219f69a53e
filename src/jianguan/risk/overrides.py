"""A leader's manual grade (人工调整): only with a reason, only for a limited time, always reviewed.

The model's own grade stays visible beside the manual one. The override opens a review task for
the 所领导 post, and a different leader upholds or revokes it. When it expires or is revoked, the
person is re-scored and the model's grade applies again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError
from jianguan.outbox.api import change_record
from jianguan.risk.duty_tasks import risk_task_open
from jianguan.risk.models import ReviewStatus, RiskOverride, RiskScore, Track
from jianguan.risk.scoring import live_model, require_held, rescore_person

REASON_MIN = 10  # characters: a reason a reviewer can weigh, not "调整"


@transaction.atomic
def override_grant(
    *,
    actor: Actor,
    detainee: Any,
    grade: str,
    reason: str,
    days: int,
    now: dt.datetime | None = None,
) -> RiskOverride:
    now = now or timezone.now()
    require_held(detainee)
    version, model = live_model(detainee.unit.path)
    target = model.grade(grade)
    if target is None:
        names = "、".join(g.name for g in model.grades)
        raise DomainError("UNKNOWN_GRADE", f"没有这个等级；可选：{names}", field="grade")
    reason = reason.strip()
    if len(reason) < REASON_MIN:
        raise DomainError(
            "REASON_REQUIRED", f"请写明调整理由（至少 {REASON_MIN} 个字）", field="reason"
        )
    if not 1 <= days <= model.override_max_days:
        raise DomainError(
            "OVERRIDE_DAYS",
            f"有效期应为 1 至 {model.override_max_days} 天（风险模型 {version} 的上限）",
            field="days",
        )
    score = RiskScore.objects.filter(detainee_id=detainee.id, track=Track.LIVE).first()
    computed = score.computed_grade if score else ""
    if grade == computed:
        raise DomainError("SAME_GRADE", "与模型评定的等级相同，无需调整", field="grade")
    RiskOverride.objects.select_for_update().filter(
        detainee_id=detainee.id, ended_at__isnull=True
    ).update(ended_at=now)
    override = RiskOverride.objects.create(
        detainee=detainee,
        unit_id=detainee.unit_id,
        grade=grade,
        computed_grade=computed,
        reason=reason,
        decided_by=actor.username,
        decided_at=now,
        expires_at=now + dt.timedelta(days=days),
        model_version=version,
    )
    change_record(
        actor=actor,
        type="risk.override_granted",
        aggregate_type="detainee",
        aggregate_id=detainee.id,
        unit_code=detainee.unit.code,
        payload={
            "override": str(override.id),
            "name": detainee.name,
            "number": detainee.number,
            "grade": grade,
            "computed_grade": computed,
            "reason": reason,
            "expires_at": override.expires_at.isoformat(),
        },
    )
    computed_name = model.grade(computed).name if model.grade(computed) else "未评定"  # type: ignore[union-attr]
    risk_task_open(
        unit=detainee.unit,
        category_code="RISK_OVERRIDE_REVIEW",
        title=f"审核人工调整风险等级：{detainee.name}（{detainee.number}）{computed_name} → {target.name}",
        detail=f"决定人：{actor.username}；有效期 {days} 天。\n理由：{reason}",
        source_ref=f"override:{override.id.hex}",
        detainee_id=detainee.id,
        cell_id=detainee.cell_id,
        now=now,
    )
    rescore_person(detainee.id, cause=f"人工调整（{actor.username}）", now=now)
    return override


@transaction.atomic
def override_review(
    *, actor: Actor, override: RiskOverride, uphold: bool, note: str = ""
) -> RiskOverride:
    locked = (
        RiskOverride.objects.select_for_update()
        .select_related("detainee__unit")
        .get(id=override.id)
    )
    if locked.review_status != ReviewStatus.PENDING:
        raise DomainError("ALREADY_REVIEWED", "该调整已审核")
    if locked.decided_by == actor.username:
        raise DomainError("SELF_REVIEW", "调整人不能审核自己的调整，请由另一位所领导审核")
    if not uphold and not note.strip():
        raise DomainError("NOTE_REQUIRED", "撤销时请写明意见", field="note")
    now = timezone.now()
    locked.review_status = ReviewStatus.UPHELD if uphold else ReviewStatus.REVOKED
    locked.reviewed_by = actor.username
    locked.reviewed_at = now
    locked.review_note = note.strip()
    if not uphold and locked.ended_at is None:
        locked.ended_at = now
    locked.save()
    change_record(
        actor=actor,
        type="risk.override_reviewed",
        aggregate_type="detainee",
        aggregate_id=locked.detainee_id,
        unit_code=locked.detainee.unit.code,
        payload={
            "override": str(locked.id),
            "name": locked.detainee.name,
            "decision": locked.review_status,
            "note": locked.review_note,
        },
    )
    if not uphold:
        rescore_person(locked.detainee_id, cause=f"人工调整被撤销（{actor.username}）", now=now)
    return locked


def overrides_expire(now: dt.datetime | None = None) -> int:
    """End the overrides whose time is up and let the model's grade apply again."""
    now = now or timezone.now()
    due = list(
        RiskOverride.objects.filter(ended_at__isnull=True, expires_at__lte=now).values_list(
            "id", "detainee_id"
        )
    )
    for override_id, detainee_id in due:
        with transaction.atomic():
            ended = RiskOverride.objects.filter(id=override_id, ended_at__isnull=True).update(
                ended_at=now
            )
            if ended:
                rescore_person(detainee_id, cause="人工调整到期", now=now)
    return len(due)
