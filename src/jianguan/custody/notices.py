"""The deadline watch: notify the case unit before a clock ends (3 days before a 30-day 拘留,
7 days before 侦查羁押 — 公安机关适用刑事羁押期限规定第二十七条), and alert the leader when a
custody clock has run out with no lawful change (看守所条例第四十三条)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError
from jianguan.custody.models import Deadline, DeadlineNotice, NoticeKind
from jianguan.outbox.api import change_record

WATCH_ACTOR = Actor.system("deadline-watch")
OVERDUE_ARTICLE = "看守所条例第四十三条；人民检察院刑事诉讼规则第六百一十五条"


def _day(when: dt.datetime) -> str:
    return f"{timezone.localtime(when - dt.timedelta(microseconds=1)):%Y年%m月%d日}"


def _when(deadline: Deadline) -> str:
    assert deadline.expires_at is not None
    if deadline.precision == "hour":
        return f"{timezone.localtime(deadline.expires_at):%Y年%m月%d日 %H:%M}"
    return f"{_day(deadline.expires_at)}（当日24时）"


def _text(deadline: Deadline, kind: str) -> str:
    person = f"在押人员{deadline.detainee.name}（编号{deadline.detainee.number}）"
    if kind == NoticeKind.BEFORE_EXPIRY:
        return (
            f"{deadline.detainee.case_unit or '办案单位'}：{person}的{deadline.label}将于"
            f"{_when(deadline)}届满。请在期限届满前依法办理延长、变更羁押期限或者释放手续，"
            f"并将法律文书送达本所。依据：{deadline.article}。"
        )
    return (
        f"{person}的{deadline.label}已于{_when(deadline)}届满，本所未收到延长或变更羁押期限的"
        "法律文书。已超期羁押：请所领导立即书面报告人民检察院并通知办案机关；"
        f"原提讯证停止使用。依据：{OVERDUE_ARTICLE}。"
    )


def deadline_watch(now: dt.datetime | None = None) -> dict[str, int]:
    """Create the notices and alerts that are due. Safe to run again: each is created once."""
    now = now or timezone.now()
    due = Deadline.objects.filter(
        state="RUNNING", notice_at__lte=now, expires_at__gt=now
    ).select_related("detainee__unit")
    expired = Deadline.objects.filter(
        state="RUNNING", governs_custody=True, expires_at__lte=now
    ).select_related("detainee__unit")
    made = {"notices": 0, "alerts": 0}
    for deadline in due.iterator(chunk_size=500):
        made["notices"] += _issue(deadline, NoticeKind.BEFORE_EXPIRY, deadline.article, now)
    for deadline in expired.iterator(chunk_size=500):
        made["alerts"] += _issue(deadline, NoticeKind.EXPIRED, OVERDUE_ARTICLE, now)
    return made


def _issue(deadline: Deadline, kind: str, article: str, now: dt.datetime) -> int:
    assert deadline.expires_at is not None
    if DeadlineNotice.objects.filter(
        detainee_id=deadline.detainee_id,
        clock=deadline.clock,
        kind=kind,
        expires_at=deadline.expires_at,
    ).exists():
        return 0
    try:
        with transaction.atomic():
            notice = DeadlineNotice.objects.create(
                detainee_id=deadline.detainee_id,
                unit_id=deadline.unit_id,
                clock=deadline.clock,
                kind=kind,
                expires_at=deadline.expires_at,
                recipient=deadline.detainee.case_unit
                if kind == NoticeKind.BEFORE_EXPIRY
                else "所领导",
                article=article[:300],
                text=_text(deadline, kind),
                created_at=now,
            )
            change_record(
                actor=WATCH_ACTOR,
                type="custody.deadline_notice"
                if kind == NoticeKind.BEFORE_EXPIRY
                else "custody.deadline_expired",
                aggregate_type="detainee",
                aggregate_id=deadline.detainee_id,
                unit_code=deadline.detainee.unit.code,
                payload={
                    "notice": str(notice.id),
                    "name": deadline.detainee.name,
                    "number": deadline.detainee.number,
                    "clock": deadline.clock,
                    "label": deadline.label,
                    "expires_at": deadline.expires_at.isoformat(),
                    "recipient": notice.recipient,
                },
            )
    except IntegrityError:  # another watcher made it first
        return 0
    return 1


def notices_open(unit_ids: Any) -> QuerySet[DeadlineNotice]:
    return (
        DeadlineNotice.objects.filter(unit_id__in=unit_ids, handled_at__isnull=True)
        .select_related("detainee__unit")
        .order_by("kind", "expires_at")
    )


@transaction.atomic
def notice_handle(*, actor: Actor, notice: DeadlineNotice, note: str) -> DeadlineNotice:
    """Record how a notice was served or an overdue alert was dealt with."""
    if not note.strip():
        raise DomainError(
            "REQUIRED", "请写明处理情况（送达方式、报告检察院的文号等）", field="note"
        )
    locked = (
        DeadlineNotice.objects.select_for_update()
        .select_related("detainee__unit")
        .get(id=notice.id)
    )
    if locked.handled_at:
        raise DomainError("ALREADY_HANDLED", "该通知已处理")
    locked.handled_at = timezone.now()
    locked.handled_by = actor.username
    locked.handling_note = note.strip()
    locked.save(update_fields=["handled_at", "handled_by", "handling_note"])
    change_record(
        actor=actor,
        type="custody.notice_handled",
        aggregate_type="detainee",
        aggregate_id=locked.detainee_id,
        unit_code=locked.detainee.unit.code,
        payload={"notice": str(locked.id), "kind": locked.kind, "note": locked.handling_note},
    )
    return locked
