"""HTTP endpoints of the duty loop (mounted at /duty): the catalogue a post may record, records
that become tasks, moving tasks along, and shifts.

Thin: each endpoint fetches through a scoped accessor (a task of another facility answers 404
like a missing one) and calls one service; services refuse a wrong post with 403, a lost race
with 409 and bad input with 400, each as {"code", "message", "field"}. Task lists name the
people they concern, so every read that shows them is audited.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from jianguan.core.errors import DomainError, PermissionDenied
from jianguan.core.http import client_address
from jianguan.custody.api import audit_list_read
from jianguan.duty.api import (
    Category,
    ShiftAssignment,
    Task,
    TaskState,
    Urgency,
    access_task,
    catalogue_for,
    info_record,
    is_overdue,
    post_label,
    shift_add,
    shifts_between,
    task_accept,
    task_cancel,
    task_create_manual,
    task_dispatch,
    task_handle,
    task_return,
    task_set_urgency,
    task_steps,
    task_verify,
    tasks_closed_recently,
    tasks_mine,
    tasks_open,
)
from jianguan.duty.lifecycle import facility_of
from jianguan.duty.schemas import (
    CatalogueOut,
    DispatchIn,
    HandleIn,
    ManualTaskIn,
    NoteIn,
    ReasonIn,
    RecordedOut,
    RecordIn,
    ShiftFilter,
    ShiftIn,
    ShiftOut,
    TaskDetailOut,
    TaskFilter,
    TaskOut,
    TaskPage,
    UrgencyIn,
)
from jianguan.org.api import (
    Perm,
    Unit,
    User,
    actor_for,
    has_perm,
    post_kinds,
    require_perm,
    user_by_id_in_unit,
)
from jianguan.rules.api import pack_for

router = Router(tags=["勤务"])

SCOPES = ("mine", "open", "closed")
CLOSED_LOOKBACK = dt.timedelta(hours=24)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _address(request: HttpRequest) -> str | None:
    return client_address(request)


def _minutes(delta: dt.timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _aware(when: dt.datetime) -> dt.datetime:
    """A time without an offset is local (Asia/Shanghai) time, as an officer types it."""
    return timezone.make_aware(when) if timezone.is_naive(when) else when


def _officer(unit: Unit, id: uuid.UUID | None, field: str) -> User | None:
    """An active officer of the facility; another unit's or a missing id is refused on `field`."""
    if id is None:
        return None
    officer = user_by_id_in_unit(unit, str(id))
    if officer is None:
        raise DomainError("NOT_IN_UNIT", "本单位没有该民警", field=field)
    return officer


def _audit_people(request: HttpRequest, view: str, tasks: list[Task], **query: Any) -> None:
    """Record whose records a task list or task showed (DESIGN.md §4: reads of personal data)."""
    ids = list(dict.fromkeys(t.detainee_id for t in tasks if t.detainee_id))
    if ids:
        audit_list_read(
            actor=actor_for(_user(request), address=_address(request)),
            ids=ids,
            query={"view": view, **query},
        )


# --- catalogue -----------------------------------------------------------------------------


def _category(pack: Any, c: Category) -> dict[str, Any]:
    limits = pack.limits_for(c, c.urgency)
    return {
        "code": c.code,
        "name": c.name,
        "recorded_by": list(c.recorded_by),
        "task": c.task,
        "handler": c.handler,
        "handler_label": post_label(c.handler) if c.handler else "",
        "urgency": c.urgency,
        "urgency_label": Urgency(c.urgency).label,
        "verify": c.verify,
        "basis": c.basis,
        "article": c.article,
        "accept_minutes": _minutes(limits.accept) if c.task else None,
        "handle_minutes": _minutes(limits.handle) if c.task else None,
    }


@router.get("/catalogue", response=CatalogueOut, summary="本岗位可记录的动态信息目录（规则包）")
def catalogue(request: HttpRequest) -> dict[str, Any]:
    user = _user(request)
    unit = facility_of(user)
    live = pack_for("duty", unit.path)
    pack = live.pack
    return {
        "pack_version": live.version,
        "pack_title": pack.title,
        "pack_unit_code": live.unit_code,
        "pack_origin": live.origin,
        "posts": list(post_kinds(user)),
        "limits": [
            {
                "urgency": u,
                "urgency_label": Urgency(u).label,
                "accept_minutes": _minutes(pack.limits[u].accept),
                "handle_minutes": _minutes(pack.limits[u].handle),
                "escalate_minutes": _minutes(pack.limits[u].escalate),
            }
            for u in Urgency.values
        ],
        "escalation": list(pack.escalation),
        "categories": [_category(pack, c) for c in catalogue_for(user)],
    }


# --- records --------------------------------------------------------------------------------


def _task(t: Task, now: dt.datetime) -> dict[str, Any]:
    return {
        **{f: getattr(t, f) for f in TaskOut.model_fields if hasattr(t, f)},
        "state_label": TaskState(t.state).label,
        "urgency_label": Urgency(t.urgency).label,
        "post_label": post_label(t.post_kind),
        "assignee_name": (t.assignee.full_name or t.assignee.username) if t.assignee else "",
        "detainee_name": t.detainee.name if t.detainee else "",
        "cell_number": t.cell.number if t.cell else "",
        "overdue": is_overdue(t, now),
    }


@router.post(
    "/records",
    response={201: RecordedOut},
    summary="记录动态信息；需要处置的同时生成任务并派发",
)
def record_new(request: HttpRequest, payload: RecordIn) -> Any:
    record = info_record(
        user=_user(request),
        category=payload.category,
        text=payload.text,
        detainee_id=payload.detainee,
        cell_id=payload.cell,
        urgency=payload.urgency,
        address=_address(request),
    )
    task = Task.objects.select_related("assignee", "detainee", "cell").filter(record=record).first()
    return Status(201, {"record": record, "task": _task(task, timezone.now()) if task else None})


# --- tasks ----------------------------------------------------------------------------------


def _listed(user: User, filters: TaskFilter) -> list[Task]:
    if filters.scope not in SCOPES:
        raise DomainError("BAD_SCOPE", "scope 应为 mine、open 或 closed", field="scope")
    if filters.scope == "mine":
        rows = tasks_mine(user)
    elif not has_perm(user, Perm.TASK_DISPATCH):
        raise PermissionDenied("只有分控、指挥中心或所领导可以查看全所任务")
    elif filters.scope == "open":
        rows = tasks_open(user)
    else:
        since = _aware(filters.since) if filters.since else timezone.now() - CLOSED_LOOKBACK
        return list(tasks_closed_recently(user, since=since).select_related("detainee", "cell"))
    if filters.since:
        since = _aware(filters.since)
        rows = [t for t in rows if t.created_at >= since]
    return rows


@router.get(
    "/tasks",
    response=TaskPage,
    summary="任务列表：mine 待我处置，open 全所未办结（指挥岗），closed 近期办结（since 起）",
)
def task_list(request: HttpRequest, filters: Query[TaskFilter]) -> dict[str, Any]:
    user = _user(request)
    facility_of(user)
    rows = _listed(user, filters)
    page, page_size = max(1, filters.page), max(1, min(filters.page_size, 200))
    shown = rows[(page - 1) * page_size : page * page_size]
    _audit_people(request, f"duty-tasks-{filters.scope}", shown, page=page)
    now = timezone.now()
    return {
        "scope": filters.scope,
        "count": len(rows),
        "page": page,
        "page_size": page_size,
        "items": [_task(t, now) for t in shown],
    }


def _detail(t: Task) -> dict[str, Any]:
    steps = [
        {
            **{f: getattr(s, f) for f in ("at", "action", "from_state", "to_state", "note")},
            "actor_name": s.actor_name,
            "post_kind": s.post_kind,
            "outcome": s.outcome,
            "has_photo": bool(s.photo),
        }
        for s in task_steps(t)
    ]
    return _task(t, timezone.now()) | {"steps": steps}


def _fresh(task_id: uuid.UUID) -> Task:
    return Task.objects.select_related("unit", "assignee", "detainee", "cell").get(id=task_id)


def _found(request: HttpRequest, task_id: str) -> Task:
    return access_task(user=_user(request), id=task_id)


@router.get("/tasks/{task_id}", response=TaskDetailOut, summary="任务详情与全部流转记录")
def task_detail(request: HttpRequest, task_id: str) -> dict[str, Any]:
    task = _fresh(_found(request, task_id).id)
    _audit_people(request, "duty-task", [task], task=str(task.id))
    return _detail(task)


@router.post(
    "/tasks",
    response={201: TaskDetailOut},
    summary="指挥部署：派发一项任务到岗位或民警（分控、指挥中心、所领导）",
)
def task_new(request: HttpRequest, payload: ManualTaskIn) -> Any:
    user = _user(request)
    unit = facility_of(user)
    task = task_create_manual(
        user=user,
        title=payload.title,
        detail=payload.detail,
        post_kind=payload.post,
        urgency=payload.urgency,
        assignee=_officer(unit, payload.assignee, "assignee"),
        address=_address(request),
    )
    return Status(201, _detail(_fresh(task.id)))


@router.post(
    "/tasks/{task_id}/accept",
    response=TaskDetailOut,
    summary="接收任务（两人同时接收时只有一人成功，另一人得到 409 与接收人）",
)
def task_take(request: HttpRequest, task_id: str) -> dict[str, Any]:
    task = task_accept(
        user=_user(request), task=_found(request, task_id), address=_address(request)
    )
    return _detail(_fresh(task.id))


@router.post(
    "/tasks/{task_id}/handle",
    response=TaskDetailOut,
    summary="处置反馈（必填反馈与结果；照片请在网页表单上传）",
)
def task_feedback(request: HttpRequest, task_id: str, payload: HandleIn) -> dict[str, Any]:
    task = task_handle(
        user=_user(request),
        task=_found(request, task_id),
        feedback=payload.feedback,
        outcome=payload.outcome,
        address=_address(request),
    )
    return _detail(_fresh(task.id))


@router.post("/tasks/{task_id}/verify", response=TaskDetailOut, summary="核验办结")
def task_check(request: HttpRequest, task_id: str, payload: NoteIn) -> dict[str, Any]:
    task = task_verify(
        user=_user(request),
        task=_found(request, task_id),
        note=payload.note,
        address=_address(request),
    )
    return _detail(_fresh(task.id))


@router.post("/tasks/{task_id}/return", response=TaskDetailOut, summary="退回重办（写明理由）")
def task_send_back(request: HttpRequest, task_id: str, payload: ReasonIn) -> dict[str, Any]:
    task = task_return(
        user=_user(request),
        task=_found(request, task_id),
        reason=payload.reason,
        address=_address(request),
    )
    return _detail(_fresh(task.id))


@router.post("/tasks/{task_id}/dispatch", response=TaskDetailOut, summary="派发、改派到岗位或民警")
def task_redirect(request: HttpRequest, task_id: str, payload: DispatchIn) -> dict[str, Any]:
    user = _user(request)
    task = _found(request, task_id)
    task = task_dispatch(
        user=user,
        task=task,
        post_kind=payload.post,
        assignee=_officer(task.unit, payload.assignee, "assignee"),
        note=payload.note,
        address=_address(request),
    )
    return _detail(_fresh(task.id))


@router.post("/tasks/{task_id}/urgency", response=TaskDetailOut, summary="调整紧急程度")
def task_priority(request: HttpRequest, task_id: str, payload: UrgencyIn) -> dict[str, Any]:
    task = task_set_urgency(
        user=_user(request),
        task=_found(request, task_id),
        urgency=payload.urgency,
        address=_address(request),
    )
    return _detail(_fresh(task.id))


@router.post("/tasks/{task_id}/cancel", response=TaskDetailOut, summary="撤销任务（写明理由）")
def task_withdraw(request: HttpRequest, task_id: str, payload: ReasonIn) -> dict[str, Any]:
    task = task_cancel(
        user=_user(request),
        task=_found(request, task_id),
        reason=payload.reason,
        address=_address(request),
    )
    return _detail(_fresh(task.id))


# --- shifts ---------------------------------------------------------------------------------


def _shift(s: ShiftAssignment) -> dict[str, Any]:
    return {
        "id": s.id,
        "post_kind": s.post_kind,
        "post_label": post_label(s.post_kind),
        "officer_id": s.user_id,
        "officer_name": s.user.full_name or s.user.username,
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "created_by": s.created_by,
    }


@router.get("/shifts", response=list[ShiftOut], summary="某日排班（date 为本地日期，缺省为今天）")
def shift_list(request: HttpRequest, filters: Query[ShiftFilter]) -> list[dict[str, Any]]:
    unit = facility_of(_user(request))
    day = filters.date or timezone.localdate()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return [_shift(s) for s in shifts_between(unit, start, start + dt.timedelta(days=1))]


@router.post("/shifts", response={201: ShiftOut}, summary="排班（指挥中心、所领导）")
def shift_new(request: HttpRequest, payload: ShiftIn) -> Any:
    user = _user(request)
    unit = facility_of(user)
    require_perm(user, Perm.ROSTER_EDIT)  # before looking anyone up
    officer = _officer(unit, payload.officer, "officer")
    assert officer is not None
    shift = shift_add(
        user=user,
        officer=officer,
        post_kind=payload.post,
        starts_at=_aware(payload.starts_at),
        ends_at=_aware(payload.ends_at),
        address=_address(request),
    )
    return Status(201, _shift(shift))
