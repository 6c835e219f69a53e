"""The task state machine: open, dispatch, accept, handle, verify, return, cancel, escalate.

created → dispatched → accepted → handled → closed (verified), with returned (rework) and
cancelled. Escalation is not a state: an escalated task still needs accepting and handling, so
it carries a level and the post it has reached (post → 分控 → 指挥中心 → 所领导), and each step
up is a recorded transition. Every transition writes a TaskStep, an audit entry and an outbox
event in the transaction that changes the task.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError, NotFound, PermissionDenied
from jianguan.duty.catalogue import Category, DutyPack, Limits
from jianguan.duty.models import (
    OPEN_STATES,
    URGENCY_RANK,
    Outcome,
    Task,
    TaskSource,
    TaskState,
    TaskStep,
    Urgency,
)
from jianguan.org.api import Perm, PostKind, Unit, User, actor_for, has_perm, post_kinds
from jianguan.outbox.api import change_record
from jianguan.rules.api import builtin_pack, pack_for

ESCALATION_ACTOR = Actor.system("duty-escalation")
MAX_FEEDBACK = 4000
# Feedback photos: what the first bytes of each accepted kind are, and the largest size.
PHOTO_KINDS = {b"\xff\xd8\xff": (".jpg", "image/jpeg"), b"\x89PNG\r\n\x1a\n": (".png", "image/png")}
PHOTO_MAX_BYTES = 8 * 1024 * 1024


class TaskConflict(DomainError):
    """Someone else moved the task first (two officers accepting at once)."""

    status = 409


def duty_pack(unit: Unit) -> tuple[str, DutyPack]:
    live = pack_for("duty", unit.path)
    return live.version, live.pack


def category_in_force(unit: Unit, code: str) -> tuple[str, DutyPack, Category] | None:
    """The category `code` of the pack governing `unit`, with that pack and its version. A
    facility that published its own pack before the category existed gets the built-in one:
    platform-made tasks are never silently dropped."""
    version, pack = duty_pack(unit)
    category = pack.category(code)
    if category is None:
        builtin = builtin_pack("duty")
        version, pack = builtin.version, builtin.pack
        category = pack.category(code)
    return (version, pack, category) if category is not None else None


def post_label(kind: str) -> str:
    return str(PostKind(kind).label) if kind in PostKind.values else kind


def _step(
    task: Task,
    *,
    action: str,
    from_state: str,
    actor: Actor,
    user: User | None = None,
    post_kind: str = "",
    note: str = "",
    outcome: str = "",
    photo: UploadedFile | None = None,
    at: dt.datetime,
) -> None:
    TaskStep.objects.create(
        task=task,
        at=at,
        action=action,
        from_state=from_state,
        to_state=task.state,
        actor=user,
        actor_name=(user.full_name or user.username) if user else actor.username,
        post_kind=post_kind,
        note=note,
        outcome=outcome,
        photo=photo or "",
    )
    change_record(
        actor=actor,
        type=f"duty.task_{action}",
        aggregate_type="task",
        aggregate_id=task.id,
        unit_code=task.unit.code,
        payload={
            "title": task.title,
            "state": task.state,
            "from": from_state,
            "post": task.post_kind,
            "assignee": str(task.assignee_id) if task.assignee_id else None,
            "urgency": task.urgency,
            "level": task.escalation_level,
            "escalated_to": task.escalated_to,
            "note": note[:200],
        },
    )


# --- opening ----------------------------------------------------------------------------


def task_open(
    *,
    actor: Actor,
    unit: Unit,
    pack_version: str,
    pack: DutyPack,
    category: Category,
    urgency: str,
    title: str,
    detail: str = "",
    source: str,
    source_ref: str,
    post_kind: str | None = None,
    assignee: User | None = None,
    record: Any = None,
    detainee_id: uuid.UUID | None = None,
    cell_id: uuid.UUID | None = None,
    created_by: User | None = None,
    now: dt.datetime | None = None,
    handle_minutes: int | None = None,
) -> Task:
    """Create a task and dispatch it to its post at once; runs in the caller's transaction.
    `handle_minutes` sets this one task's time to close it (a talk due within the hours its
    trigger allows) instead of the category's."""
    now = now or timezone.now()
    limits = pack.limits_for(category, urgency)
    handle = dt.timedelta(minutes=handle_minutes) if handle_minutes else limits.handle
    task = Task.objects.create(
        unit=unit,
        title=title[:200],
        category=category.code,
        category_name=category.name,
        source=source,
        source_ref=source_ref,
        record=record,
        detainee_id=detainee_id,
        cell_id=cell_id,
        detail=detail,
        post_kind=post_kind or category.handler,
        assignee=assignee,
        state=TaskState.CREATED,
        urgency=urgency,
        needs_verify=category.verify,
        created_at=now,
        created_by=(created_by.username if created_by else actor.username),
        accept_due=now + limits.accept,
        handle_due=now + handle,
        pack_version=pack_version,
    )
    _step(task, action="created", from_state="", actor=actor, user=created_by, at=now)
    task.state = TaskState.DISPATCHED
    task.dispatched_at = now
    task.escalate_at = task.accept_due
    task.save(update_fields=["state", "dispatched_at", "escalate_at"])
    _step(
        task,
        action="dispatched",
        from_state=TaskState.CREATED,
        actor=actor,
        user=created_by,
        post_kind=task.post_kind,
        note=f"派发至{post_label(task.post_kind)}",
        at=now,
    )
    return task


@transaction.atomic
def task_create_manual(
    *,
    user: User,
    title: str,
    detail: str,
    post_kind: str,
    urgency: str,
    assignee: User | None = None,
    address: str | None = None,
) -> Task:
    """A task deployed by command (勤务指挥部署) rather than raised by a record."""
    _require_dispatcher(user)
    unit = facility_of(user)
    if not title.strip():
        raise DomainError("REQUIRED", "请填写任务内容", field="title")
    _check_target(unit, post_kind, assignee)
    if urgency not in Urgency.values:
        raise DomainError("BAD_URGENCY", "紧急程度应为紧急、重要或一般", field="urgency")
    version, pack = duty_pack(unit)
    category = Category(
        code="COMMAND_DEPLOY",
        name="指挥部署",
        recorded_by=(),
        task=True,
        handler=post_kind,
        urgency=urgency,
        verify=False,
        basis="practice",
        article="",
        accept_minutes=None,
        handle_minutes=None,
    )
    return task_open(
        actor=actor_for(user, address=address),
        unit=unit,
        pack_version=version,
        pack=pack,
        category=category,
        urgency=urgency,
        title=title.strip(),
        detail=detail.strip(),
        source=TaskSource.MANUAL,
        source_ref=str(uuid.uuid4()),
        post_kind=post_kind,
        assignee=assignee,
        created_by=user,
    )


# --- who may do what --------------------------------------------------------------------


def facility_of(user: User) -> Unit:
    if user.unit is None or user.unit.level != "FACILITY":
        raise PermissionDenied("只有监所的民警可以办理勤务任务")
    return user.unit


def _require_dispatcher(user: User) -> None:
    if not has_perm(user, Perm.TASK_DISPATCH):
        raise PermissionDenied("只有分控、指挥中心或所领导可以派发、改派、核验任务")


def _check_target(unit: Unit, post_kind: str, assignee: User | None) -> None:
    if post_kind not in PostKind.values:
        raise DomainError("UNKNOWN_POST", f"未知的岗位 {post_kind}", field="post")
    if assignee is not None:
        if assignee.unit_id != unit.id or not assignee.is_active:
            raise DomainError("NOT_IN_UNIT", "只能指派给本单位民警", field="assignee")
        if post_kind not in post_kinds(assignee):
            raise DomainError(
                "POST_NOT_HELD",
                f"{assignee.full_name or assignee.username} 未担任{post_label(post_kind)}岗位",
                field="assignee",
            )


def access_task(*, user: User, id: uuid.UUID | str) -> Task:
    """A task of the user's own facility; missing and foreign both answer NotFound."""
    try:
        return Task.objects.select_related("unit", "assignee").get(id=id, unit=user.unit)
    except (Task.DoesNotExist, ValueError, ValidationError):
        raise NotFound("任务") from None


def _locked(task: Task) -> Task:
    return Task.objects.select_for_update(of=("self",)).select_related("unit").get(id=task.id)


def _limits(task: Task) -> Limits:
    _, pack = duty_pack(task.unit)
    category = pack.category(task.category)
    if category is None:  # a manual task, or a category dropped from a later pack
        return pack.limits[task.urgency]
    return pack.limits_for(category, task.urgency)


def _refuse_state(task: Task, doing: str) -> DomainError:
    return TaskConflict("BAD_STATE", f"任务当前为“{TaskState(task.state).label}”，不能{doing}")


# --- transitions by officers ------------------------------------------------------------


@transaction.atomic
def task_accept(*, user: User, task: Task, address: str | None = None) -> Task:
    """Take the task. Of two officers accepting at once exactly one wins; the other is told
    who has it."""
    if task.post_kind not in post_kinds(user):
        raise PermissionDenied(f"该任务由{post_label(task.post_kind)}岗处置，您当前的岗位不能接收")
    if task.state == TaskState.DISPATCHED and task.assignee_id not in (None, user.id):
        raise PermissionDenied("该任务已指派给其他民警")
    now = timezone.now()
    escalate_at = task.handle_due if task.handle_due > now else now + _limits(task).escalate
    won = Task.objects.filter(id=task.id, state=TaskState.DISPATCHED, version=task.version).update(
        state=TaskState.ACCEPTED,
        assignee=user,
        accepted_at=now,
        escalate_at=escalate_at,
        version=F("version") + 1,
    )
    fresh = Task.objects.select_related("unit", "assignee").get(id=task.id)
    if not won:
        if fresh.state == TaskState.ACCEPTED and fresh.assignee_id != user.id:
            holder = fresh.assignee
            name = (holder.full_name or holder.username) if holder else "其他民警"
            raise TaskConflict("ALREADY_ACCEPTED", f"该任务已由{name}接收")
        if fresh.state == TaskState.ACCEPTED:
            return fresh
        raise _refuse_state(fresh, "接收")
    _step(
        fresh,
        action="accepted",
        from_state=TaskState.DISPATCHED,
        actor=actor_for(user, address=address),
        user=user,
        post_kind=task.post_kind,
        at=now,
    )
    return fresh


@transaction.atomic
def task_handle(
    *,
    user: User,
    task: Task,
    feedback: str,
    outcome: str,
    photo: UploadedFile | None = None,
    address: str | None = None,
) -> Task:
    """Report back (处置反馈). Without feedback a task can not be closed."""
    feedback = feedback.strip()
    if not feedback:
        raise DomainError(
            "FEEDBACK_REQUIRED", "请填写处置反馈：做了什么、结果如何", field="feedback"
        )
    if len(feedback) > MAX_FEEDBACK:
        raise DomainError("TOO_LONG", f"处置反馈不能超过 {MAX_FEEDBACK} 字", field="feedback")
    if outcome not in Outcome.values:
        raise DomainError("BAD_OUTCOME", "请选择处置结果", field="outcome")
    kept_photo = _checked_photo(photo, task) if photo is not None and photo.size else None
    locked = _locked(task)
    if locked.assignee_id != user.id:
        raise PermissionDenied("只有接收该任务的民警可以反馈处置情况")
    if locked.state not in (TaskState.ACCEPTED, TaskState.RETURNED):
        raise _refuse_state(locked, "反馈")
    now = timezone.now()
    actor = actor_for(user, address=address)
    before = locked.state
    locked.state = TaskState.HANDLED
    locked.handled_at = now
    locked.outcome = outcome
    locked.feedback = feedback
    locked.escalate_at = None
    locked.version += 1
    locked.save()
    _step(
        locked,
        action="handled",
        from_state=before,
        actor=actor,
        user=user,
        post_kind=locked.post_kind,
        note=feedback,
        outcome=outcome,
        photo=kept_photo,
        at=now,
    )
    if not locked.needs_verify:
        _close(locked, actor=actor, user=user, note="无需核验，反馈即办结", now=now)
    return locked


def _checked_photo(upload: UploadedFile, task: Task) -> UploadedFile:
    """Keep only a JPEG or PNG, under a name of our own (never the uploader's file name)."""
    if (upload.size or 0) > PHOTO_MAX_BYTES:
        raise DomainError("FILE_TOO_LARGE", "照片不能超过 8 MB", field="photo")
    body = upload.read(PHOTO_MAX_BYTES + 1)
    for magic, (ext, content_type) in PHOTO_KINDS.items():
        if body.startswith(magic):
            digest = hashlib.sha256(body).hexdigest()[:12]
            return SimpleUploadedFile(f"{task.id}-{digest}{ext}", body, content_type)
    raise DomainError("NOT_A_PHOTO", "只接受 JPEG 或 PNG 格式的照片", field="photo")


def _close(task: Task, *, actor: Actor, user: User | None, note: str, now: dt.datetime) -> None:
    task.state = TaskState.CLOSED
    task.closed_at = now
    task.escalate_at = None
    task.version += 1
    task.save(update_fields=["state", "closed_at", "escalate_at", "version"])
    _step(
        task,
        action="closed",
        from_state=TaskState.HANDLED,
        actor=actor,
        user=user,
        note=note,
        at=now,
    )


def task_settle(*, task: Task, actor: Actor, note: str) -> Task:
    """Close an open task whose work was done elsewhere (e.g. the deadline notice was served from
    the notices page); the note says where. Runs in the caller's transaction."""
    locked = _locked(task)
    if locked.state not in OPEN_STATES:
        return locked
    now = timezone.now()
    before = locked.state
    locked.state = TaskState.CLOSED
    locked.outcome = locked.outcome or Outcome.RESOLVED
    locked.feedback = locked.feedback or note
    locked.handled_at = locked.handled_at or now
    locked.closed_at = now
    locked.escalate_at = None
    locked.version += 1
    locked.save()
    _step(locked, action="closed", from_state=before, actor=actor, note=note, at=now)
    return locked


# --- transitions by command (分控, 指挥中心, 所领导) ------------------------------------------


@transaction.atomic
def task_verify(*, user: User, task: Task, note: str = "", address: str | None = None) -> Task:
    _require_dispatcher(user)
    locked = _locked(task)
    if locked.state != TaskState.HANDLED:
        raise _refuse_state(locked, "核验办结")
    _close(
        locked,
        actor=actor_for(user, address=address),
        user=user,
        note=note.strip() or "核验通过",
        now=timezone.now(),
    )
    return locked


@transaction.atomic
def task_return(*, user: User, task: Task, reason: str, address: str | None = None) -> Task:
    """Send handled work back for rework, with the reason."""
    _require_dispatcher(user)
    if not reason.strip():
        raise DomainError("REQUIRED", "请写明退回的理由", field="reason")
    locked = _locked(task)
    if locked.state != TaskState.HANDLED:
        raise _refuse_state(locked, "退回")
    now = timezone.now()
    locked.state = TaskState.RETURNED
    locked.return_count += 1
    locked.escalate_at = now + _limits(locked).escalate
    locked.version += 1
    locked.save()
    _step(
        locked,
        action="returned",
        from_state=TaskState.HANDLED,
        actor=actor_for(user, address=address),
        user=user,
        note=reason.strip(),
        at=now,
    )
    return locked


@transaction.atomic
def task_dispatch(
    *,
    user: User,
    task: Task,
    post_kind: str,
    assignee: User | None = None,
    note: str = "",
    address: str | None = None,
) -> Task:
    """Send a task (again) to a post, or to one officer holding it (派发、改派)."""
    _require_dispatcher(user)
    locked = _locked(task)
    _check_target(locked.unit, post_kind, assignee)
    if locked.state not in (TaskState.DISPATCHED, TaskState.ACCEPTED, TaskState.RETURNED):
        raise _refuse_state(locked, "改派")
    now = timezone.now()
    before = locked.state
    limits = _limits(locked)
    locked.state = TaskState.DISPATCHED
    locked.post_kind = post_kind
    locked.assignee = assignee
    locked.accepted_at = None
    locked.dispatched_at = now
    locked.accept_due = now + limits.accept
    locked.escalated_to = ""
    locked.escalate_at = locked.accept_due
    locked.version += 1
    locked.save()
    target = post_label(post_kind) + (
        f"（{assignee.full_name or assignee.username}）" if assignee else ""
    )
    _step(
        locked,
        action="dispatched",
        from_state=before,
        actor=actor_for(user, address=address),
        user=user,
        post_kind=post_kind,
        note=f"改派至{target}" + (f"：{note.strip()}" if note.strip() else ""),
        at=now,
    )
    return locked


@transaction.atomic
def task_set_urgency(*, user: User, task: Task, urgency: str, address: str | None = None) -> Task:
    """Set priority: the time limits follow the new urgency from the time of dispatch."""
    _require_dispatcher(user)
    if urgency not in Urgency.values:
        raise DomainError("BAD_URGENCY", "紧急程度应为紧急、重要或一般", field="urgency")
    locked = _locked(task)
    if locked.state not in OPEN_STATES:
        raise _refuse_state(locked, "调整紧急程度")
    if locked.urgency == urgency:
        return locked
    before = locked.urgency
    locked.urgency = urgency
    limits = _limits(locked)
    start = locked.dispatched_at or locked.created_at
    locked.accept_due = start + limits.accept
    locked.handle_due = locked.created_at + limits.handle
    if locked.escalate_at is not None and not locked.escalated_to:
        waiting = locked.state == TaskState.DISPATCHED
        locked.escalate_at = locked.accept_due if waiting else locked.handle_due
    locked.version += 1
    locked.save()
    _step(
        locked,
        action="prioritised",
        from_state=locked.state,
        actor=actor_for(user, address=address),
        user=user,
        note=f"{Urgency(before).label} → {Urgency(urgency).label}",
        at=timezone.now(),
    )
    return locked


@transaction.atomic
def task_cancel(*, user: User, task: Task, reason: str, address: str | None = None) -> Task:
    _require_dispatcher(user)
    if not reason.strip():
        raise DomainError("REQUIRED", "请写明撤销的理由", field="reason")
    locked = _locked(task)
    if locked.state not in OPEN_STATES:
        raise _refuse_state(locked, "撤销")
    before = locked.state
    locked.state = TaskState.CANCELLED
    locked.closed_at = timezone.now()
    locked.escalate_at = None
    locked.version += 1
    locked.save()
    _step(
        locked,
        action="cancelled",
        from_state=before,
        actor=actor_for(user, address=address),
        user=user,
        note=reason.strip(),
        at=locked.closed_at,
    )
    return locked


# --- escalation -------------------------------------------------------------------------


def escalate_due(now: dt.datetime | None = None, *, batch: int = 500) -> int:
    """Move every task whose time is up one level higher; return how many moved. Safe to run
    from several workers at once: each task is taken under a row lock and re-checked."""
    now = now or timezone.now()
    moved = 0
    due = list(
        Task.objects.filter(escalate_at__lte=now, state__in=OPEN_STATES)
        .order_by("escalate_at")
        .values_list("id", flat=True)[:batch]
    )
    for task_id in due:
        with transaction.atomic():
            task = (
                Task.objects.select_for_update(of=("self",))
                .select_related("unit")
                .filter(id=task_id, escalate_at__lte=now, state__in=OPEN_STATES)
                .first()
            )
            if task is None:
                continue
            _escalate(task, now)
            moved += 1
    return moved


def _escalate(task: Task, now: dt.datetime) -> None:
    _, pack = duty_pack(task.unit)
    target = pack.next_level(task.escalated_to)
    waiting = "未按时接收" if task.state == TaskState.DISPATCHED else "未按时办结"
    if target is None:
        task.escalate_at = None  # at the top; it stays on the leaders' overdue list
        task.save(update_fields=["escalate_at"])
        return
    limits = _limits(task)
    task.escalation_level += 1
    task.escalated_to = target
    following = pack.next_level(target)
    task.escalate_at = now + limits.escalate if following else None
    task.version += 1
    task.save(update_fields=["escalation_level", "escalated_to", "escalate_at", "version"])
    _step(
        task,
        action="escalated",
        from_state=task.state,
        actor=ESCALATION_ACTOR,
        post_kind=target,
        note=f"{waiting}，上报{post_label(target)}",
        at=now,
    )


def is_overdue(task: Task, now: dt.datetime) -> bool:
    if task.state not in OPEN_STATES or task.state == TaskState.HANDLED:
        return False
    if task.state == TaskState.DISPATCHED and now > task.accept_due:
        return True
    return now > task.handle_due


def urgency_rank(urgency: str) -> int:
    return URGENCY_RANK.get(Urgency(urgency), 9) if urgency in Urgency.values else 9
