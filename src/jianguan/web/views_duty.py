"""Duty pages (勤务): my tasks, recording dynamic information, one task with its steps and the
actions its reader may take, the command board and the roster.

Each list is rendered with the page and re-fetched as a fragment whenever the live stream says
something changed at the facility, so a screen left open stays current without a reload.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from jianguan.audit.api import audit_record
from jianguan.core.errors import DomainError, NotFound, PermissionDenied
from jianguan.core.http import client_address
from jianguan.custody.api import detainee_search, roll_by_cell
from jianguan.duty.api import (
    OPEN_STATES,
    Outcome,
    Task,
    TaskConflict,
    TaskSource,
    TaskState,
    TaskStep,
    Urgency,
    access_task,
    catalogue_for,
    info_record,
    is_overdue,
    on_shift,
    post_label,
    records_recent,
    shift_add,
    shifts_between,
    task_accept,
    task_cancel,
    task_counts,
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
from jianguan.org.api import (
    Perm,
    PostKind,
    Unit,
    User,
    has_perm,
    post_kinds,
    require_perm,
    user_by_id_in_unit,
    users_of_unit,
)
from jianguan.web.custody_common import (
    facility_of,
    form_errors,
    local_input,
    parse_moment,
    parse_uuid,
    posted_values,
    request_actor,
)

# What each step of a task did, in words (TaskStep.action).
ACTION_LABELS = {
    "created": _("创建"),
    "dispatched": _("派发"),
    "accepted": _("接收"),
    "handled": _("反馈"),
    "closed": _("办结"),
    "returned": _("退回"),
    "escalated": _("升级"),
    "cancelled": _("撤销"),
    "prioritised": _("调整紧急程度"),
}
# The posts a facility's tasks can be sent to (the supervising levels hold none of them).
FACILITY_POSTS = [k for k in PostKind if k not in (PostKind.SUPERVISOR, PostKind.ADMINISTRATOR)]


def _facility(user: Any) -> Unit:
    """The officer's own facility; the duty loop runs inside one facility only."""
    unit = facility_of(user)
    if unit is None:
        raise PermissionDenied(str(_("只有监所的民警可以办理勤务任务")))
    return unit


@dataclass
class TaskRow:
    """A task as a list shows it: where it is, whose post, and whether it is late."""

    t: Task
    overdue: bool
    post: str
    escalated_to: str
    can_accept: bool = False

    @property
    def where(self) -> str:
        parts = []
        cell, detainee = self.t.cell, self.t.detainee
        if cell is not None:
            parts.append(f"{cell.number}{_('监室')}")
        if detainee is not None:
            parts.append(detainee.name)
        return " ".join(parts)

    @property
    def due(self) -> dt.datetime:
        """The limit that matters now: accepting while it waits, handling afterwards."""
        return self.t.accept_due if self.t.state == TaskState.DISPATCHED else self.t.handle_due


def _rows(tasks: list[Task], now: dt.datetime) -> list[TaskRow]:
    return [
        TaskRow(
            t=t,
            overdue=is_overdue(t, now),
            post=post_label(t.post_kind),
            escalated_to=post_label(t.escalated_to) if t.escalated_to else "",
        )
        for t in tasks
    ]


def _local_midnight(offset_days: int = 0) -> dt.datetime:
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return today + dt.timedelta(days=offset_days)


def _may_accept(user: Any, task: Task) -> bool:
    return (
        task.state == TaskState.DISPATCHED
        and task.post_kind in post_kinds(user)
        and task.assignee_id in (None, user.id)
    )


# --- 我的任务 --------------------------------------------------------------------------------


def _mine_context(user: Any, unit: Unit) -> dict[str, Any]:
    now = timezone.now()
    rostered = [
        (post_label(kind), list(on_shift(unit, kind, now)))
        for kind in post_kinds(user)
        if kind in FACILITY_POSTS
    ]
    rows = _rows(tasks_mine(user), now)
    for row in rows:
        row.can_accept = _may_accept(user, row.t)
    return {"rows": rows, "rostered": rostered, "now": now}


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    unit = _facility(user)
    return render(request, "web/duty/mine.html", _mine_context(user, unit))


@login_required
def mine_panel(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    unit = _facility(user)
    return render(request, "web/duty/_mine.html", _mine_context(user, unit))


# --- 记录动态信息 ----------------------------------------------------------------------------


def _record_context(user: Any, unit: Unit, **form: Any) -> dict[str, Any]:
    categories = catalogue_for(user)
    if not categories:
        raise PermissionDenied(str(_("当前岗位没有需要记录的动态信息")))
    people = detainee_search(user=user, status="HELD", unit_id=unit.id).order_by(
        "cell__number", "name", "number"
    )
    context: dict[str, Any] = {
        "categories": [
            {
                "c": c,
                "urgency": Urgency(c.urgency).label if c.task else "",
                "handler": post_label(c.handler) if c.task else "",
            }
            for c in categories
        ],
        "people": list(people),
        "cells": roll_by_cell(unit.id),
        "urgencies": Urgency.choices,
        "records": records_recent(user),
        "v": {},
        "errors": {},
    }
    context.update(form)
    return context


@login_required
@require_http_methods(["GET", "POST"])
def record(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    unit = _facility(user)
    if request.method != "POST":
        return render(request, "web/duty/record.html", _record_context(user, unit))
    values = posted_values(request)
    try:
        saved = info_record(
            user=user,
            category=values.get("category", ""),
            text=values.get("text", ""),
            detainee_id=values.get("detainee") or None,
            cell_id=values.get("cell") or None,
            urgency=values.get("urgency", ""),
            address=client_address(request),
        )
    except DomainError as exc:
        errors = form_errors(exc)
        context = _record_context(user, unit, v=values, errors=errors)
        return render(request, "web/duty/record.html", context, status=400)
    task = getattr(saved, "task", None)  # information-only categories open no task
    if task is not None:
        messages.success(
            request,
            f"{_('已记录')}；{_('已生成任务')}：{task.title}，"
            f"{_('派发至')}{post_label(task.post_kind)}",
        )
    else:
        messages.success(request, f"{_('已记录')}：{saved.category_name}")
    return redirect("web:duty_record")


@login_required
def record_recent(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    _facility(user)
    return render(request, "web/duty/_records.html", {"records": records_recent(user)})


# --- one task ------------------------------------------------------------------------------


def _officers(unit: Unit) -> list[dict[str, Any]]:
    """The facility's officers with the posts they hold, for choosing whom to send a task."""
    found = []
    for officer in users_of_unit(unit).prefetch_related("posts"):
        kinds = sorted(p.kind for p in officer.posts.all())
        found.append(
            {
                "u": officer,
                "kinds": kinds,
                "posts": "、".join(post_label(k) for k in kinds),
            }
        )
    return found


def _allowed(user: Any, task: Task) -> dict[str, bool]:
    """Which actions this reader may take on the task now (the services check again)."""
    dispatcher = has_perm(user, Perm.TASK_DISPATCH)
    is_open = task.state in OPEN_STATES
    return {
        "accept": _may_accept(user, task),
        "handle": task.state in (TaskState.ACCEPTED, TaskState.RETURNED)
        and task.assignee_id == user.id,
        "verify": dispatcher and task.state == TaskState.HANDLED,
        "return": dispatcher and task.state == TaskState.HANDLED,
        "dispatch": dispatcher
        and task.state in (TaskState.DISPATCHED, TaskState.ACCEPTED, TaskState.RETURNED),
        "urgency": dispatcher and is_open,
        "cancel": dispatcher and is_open,
    }


def _outcomes(task: Task) -> list[tuple[str, str]]:
    """The outcomes an officer may report: 设备误报 only on a device's alert, whose false-alarm
    rate it feeds (basis: practice)."""
    return [
        (code, label)
        for code, label in Outcome.choices
        if code != Outcome.FALSE_ALARM or task.source == TaskSource.DEVICE
    ]


def _task_context(user: Any, task: Task, failed: dict[str, Any] | None = None) -> dict[str, Any]:
    now = timezone.now()
    steps = list(task_steps(task))
    allowed = _allowed(user, task)
    if failed is not None:
        # The message goes beside the form that was sent if it is still offered, else on top.
        failed["inline"] = allowed.get(failed["action"], False)
    row = _rows([task], now)[0]
    return {
        "row": row,
        "t": task,
        "steps": [
            {
                "s": s,
                "label": ACTION_LABELS.get(s.action, s.action),
                "post": post_label(s.post_kind) if s.post_kind else "",
                "outcome": Outcome(s.outcome).label if s.outcome in Outcome.values else "",
            }
            for s in steps
        ],
        # Changes when the task moves on; the live refresh keeps a half-typed form otherwise.
        "stamp": len(steps),
        "can": allowed,
        "any_action": any(allowed.values()),
        "outcomes": _outcomes(task),
        "urgencies": Urgency.choices,
        "posts": [(k.value, k.label) for k in FACILITY_POSTS],
        "officers": _officers(task.unit) if allowed["dispatch"] else [],
        "outcome_label": Outcome(task.outcome).label if task.outcome in Outcome.values else "",
        "failed": failed,
    }


@login_required
def task_detail(request: HttpRequest, task_id: str) -> HttpResponse:
    user: Any = request.user
    _facility(user)
    task = access_task(user=user, id=task_id)
    return render(request, "web/duty/task.html", _task_context(user, task))


@login_required
def task_panel(request: HttpRequest, task_id: str) -> HttpResponse:
    """The task's state, actions and steps; nothing (204) while it has not moved on."""
    user: Any = request.user
    _facility(user)
    task = access_task(user=user, id=task_id)
    context = _task_context(user, task)
    if request.GET.get("seen") == str(context["stamp"]):
        return HttpResponse(status=204)
    return render(request, "web/duty/_task.html", context)


def _officer(unit: Unit, raw: str) -> User | None:
    if not raw:
        return None
    found = user_by_id_in_unit(unit, raw)
    if found is None:
        raise DomainError("NOT_IN_UNIT", str(_("请选择本单位民警")), field="assignee")
    return found


def _act(request: HttpRequest, action: str, task: Task, values: dict[str, Any]) -> str:
    """Run one action on the task; return what to tell the officer."""
    user: Any = request.user
    address = client_address(request)
    if action == "accept":
        holder = task.assignee
        if task.state != TaskState.DISPATCHED and holder is not None and holder.id != user.id:
            # Lost to a colleague between opening the list and pressing 接收: the service says
            # the same, but only in Chinese; this says it in the reader's language.
            name = holder.full_name or holder.username
            raise TaskConflict(
                "ALREADY_ACCEPTED", str(_("该任务已由%(name)s接收")) % {"name": name}
            )
        task_accept(user=user, task=task, address=address)
        return str(_("已接收，处置后请反馈"))
    if action == "handle":
        if values.get("outcome") == Outcome.FALSE_ALARM and task.source != TaskSource.DEVICE:
            raise DomainError(
                "NOT_A_DEVICE",
                str(_("只有设备告警可以反馈为设备误报，请选择其他处置结果")),
                field="outcome",
            )
        done = task_handle(
            user=user,
            task=task,
            feedback=values.get("feedback", ""),
            outcome=values.get("outcome", ""),
            photo=request.FILES.get("photo"),
            address=address,
        )
        if done.state == TaskState.CLOSED:
            return str(_("已反馈，任务已办结"))
        return str(_("已反馈，等待核验"))
    if action == "verify":
        task_verify(user=user, task=task, note=values.get("note", ""), address=address)
        return str(_("已核验办结"))
    if action == "return":
        task_return(user=user, task=task, reason=values.get("reason", ""), address=address)
        return str(_("已退回重办"))
    if action == "dispatch":
        moved = task_dispatch(
            user=user,
            task=task,
            post_kind=values.get("post", ""),
            assignee=_officer(task.unit, values.get("assignee", "")),
            note=values.get("note", ""),
            address=address,
        )
        return f"{_('已改派至')}{post_label(moved.post_kind)}"
    if action == "urgency":
        task_set_urgency(user=user, task=task, urgency=values.get("urgency", ""), address=address)
        return str(_("已调整紧急程度"))
    if action == "cancel":
        task_cancel(user=user, task=task, reason=values.get("reason", ""), address=address)
        return str(_("已撤销任务"))
    raise NotFound(str(_("操作")))


@login_required
@require_POST
def task_act(request: HttpRequest, task_id: str, action: str) -> HttpResponse:
    user: Any = request.user
    _facility(user)
    task = access_task(user=user, id=task_id)
    values = posted_values(request)
    try:
        said = _act(request, action, task, values)
    except DomainError as exc:
        if exc.status not in (400, 409):
            raise  # not allowed or not found: the error page says so
        fresh = access_task(user=user, id=task_id)
        failed = {
            "action": action,
            "message": exc.message,
            "field": exc.field or "",
            "v": values,
        }
        context = _task_context(user, fresh, failed)
        return render(request, "web/duty/task.html", context, status=exc.status)
    messages.success(request, said)
    return redirect("web:duty_task", task_id=task.id)


@login_required
def step_photo(request: HttpRequest, step_id: str) -> FileResponse:
    """A feedback photo, for officers of the task's facility only; never a public file."""
    user: Any = request.user
    unit = _facility(user)
    step = (
        TaskStep.objects.select_related("task")
        .filter(id=parse_uuid(step_id, str(_("照片"))), task__unit=unit)
        .exclude(photo="")
        .first()
    )
    if step is None:
        raise NotFound(str(_("照片")))
    audit_record(
        actor=request_actor(request),
        action="duty.photo_view",
        object_type="task",
        object_id=step.task_id,
        detail={"step": str(step.id)},
        wait_for_flush=False,
    )
    content_type = mimetypes.guess_type(step.photo.name)[0] or "application/octet-stream"
    response = FileResponse(step.photo.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response


# --- 任务指挥 --------------------------------------------------------------------------------


def _board_context(user: Any, unit: Unit) -> dict[str, Any]:
    now = timezone.now()
    return {
        "rows": _rows(tasks_open(user), now),
        "counts": task_counts(unit.id, now),
        "closed": list(tasks_closed_recently(user, since=_local_midnight())),
        "now": now,
    }


def _board_form_context(unit: Unit, **form: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "posts": [(k.value, k.label) for k in FACILITY_POSTS],
        "officers": _officers(unit),
        "urgencies": Urgency.choices,
        "v": {"urgency": Urgency.NORMAL},
        "errors": {},
    }
    context.update(form)
    return context


@login_required
@require_http_methods(["GET", "POST"])
def board(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.TASK_DISPATCH)
    unit = _facility(user)
    if request.method == "POST":
        values = posted_values(request)
        try:
            task = task_create_manual(
                user=user,
                title=values.get("title", ""),
                detail=values.get("detail", ""),
                post_kind=values.get("post", ""),
                urgency=values.get("urgency", ""),
                assignee=_officer(unit, values.get("assignee", "")),
                address=client_address(request),
            )
        except DomainError as exc:
            errors = form_errors(exc)
            context = _board_context(user, unit) | _board_form_context(
                unit, v=values, errors=errors
            )
            return render(request, "web/duty/board.html", context, status=400)
        messages.success(
            request, f"{_('已部署任务')}：{task.title}，{_('派发至')}{post_label(task.post_kind)}"
        )
        return redirect("web:duty_board")
    context = _board_context(user, unit) | _board_form_context(unit)
    return render(request, "web/duty/board.html", context)


@login_required
def board_panel(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.TASK_DISPATCH)
    unit = _facility(user)
    return render(request, "web/duty/_board.html", _board_context(user, unit))


# --- 排班 ------------------------------------------------------------------------------------


def _roster_context(user: Any, unit: Unit, **form: Any) -> dict[str, Any]:
    today, tomorrow, after = _local_midnight(), _local_midnight(1), _local_midnight(2)
    days = [
        (_("今天"), today, list(shifts_between(unit, today, tomorrow))),
        (_("明天"), tomorrow, list(shifts_between(unit, tomorrow, after))),
    ]
    can_edit = has_perm(user, Perm.ROSTER_EDIT)
    context: dict[str, Any] = {
        "days": [
            {
                "label": label,
                "day": day,
                "shifts": [{"s": s, "post": post_label(s.post_kind)} for s in shifts],
            }
            for label, day, shifts in days
        ],
        "can_edit": can_edit,
        "officers": _officers(unit) if can_edit else [],
        "posts": [(k.value, k.label) for k in FACILITY_POSTS],
        "v": {
            "starts_at": local_input(tomorrow + dt.timedelta(hours=8)),
            "ends_at": local_input(tomorrow + dt.timedelta(hours=20)),
        },
        "errors": {},
    }
    context.update(form)
    return context


@login_required
@require_http_methods(["GET", "POST"])
def roster(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not has_perm(user, Perm.ROSTER_EDIT):
        require_perm(user, Perm.TASK_DISPATCH)
    unit = _facility(user)
    if request.method != "POST":
        return render(request, "web/duty/roster.html", _roster_context(user, unit))
    require_perm(user, Perm.ROSTER_EDIT)
    values = posted_values(request)
    try:
        officer = user_by_id_in_unit(unit, values.get("officer", ""))
        if officer is None:
            raise DomainError("NOT_IN_UNIT", str(_("请选择本单位民警")), field="officer")
        starts_at = parse_moment(values.get("starts_at", ""), field="starts_at")
        ends_at = parse_moment(values.get("ends_at", ""), field="ends_at")
        assert starts_at is not None  # required=True
        assert ends_at is not None
        shift = shift_add(
            user=user,
            officer=officer,
            post_kind=values.get("post", ""),
            starts_at=starts_at,
            ends_at=ends_at,
            address=client_address(request),
        )
    except DomainError as exc:
        errors = form_errors(exc)
        context = _roster_context(user, unit, v=values, errors=errors)
        return render(request, "web/duty/roster.html", context, status=400)
    messages.success(
        request,
        f"{_('已排班')}：{officer.full_name or officer.username} · {post_label(shift.post_kind)}",
    )
    return redirect(reverse("web:duty_roster"))
