"""Exchange schemas of the duty loop: the catalogue, records, tasks with their steps, shifts.

Fields a service checks default to empty so that a missing value reaches the service and is
refused with its own message and field (400), rather than as a bare schema error.
"""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Schema

# --- catalogue (动态信息目录) ------------------------------------------------------------


class LimitsOut(Schema):
    urgency: str
    urgency_label: str
    accept_minutes: int
    handle_minutes: int
    escalate_minutes: int


class CategoryOut(Schema):
    code: str
    name: str
    recorded_by: list[str]
    task: bool
    handler: str  # "" for information only
    handler_label: str
    urgency: str
    urgency_label: str
    verify: bool
    basis: str  # law | practice
    article: str
    # The limits at the category's own urgency (its own minutes, else the urgency's).
    accept_minutes: int | None
    handle_minutes: int | None


class CatalogueOut(Schema):
    pack_version: str
    pack_title: str
    pack_unit_code: str  # "" when nationwide or built in
    pack_origin: str  # 内置默认, or the published pack's id
    posts: list[str]  # the caller's posts the catalogue is for
    limits: list[LimitsOut]
    escalation: list[str]
    categories: list[CategoryOut]


# --- records (动态信息) ------------------------------------------------------------------


class RecordIn(Schema):
    category: str = ""
    text: str = ""
    detainee: uuid.UUID | None = None
    cell: uuid.UUID | None = None
    urgency: str = ""  # empty: the category's default; may be raised, never lowered


class RecordOut(Schema):
    id: uuid.UUID
    category: str
    category_name: str
    post_kind: str
    recorded_at: dt.datetime
    detainee_id: uuid.UUID | None
    cell_id: uuid.UUID | None
    text: str
    urgency: str
    pack_version: str


# --- tasks (任务) ------------------------------------------------------------------------


class TaskOut(Schema):
    id: uuid.UUID
    title: str
    category: str
    category_name: str
    source: str
    state: str
    state_label: str
    urgency: str
    urgency_label: str
    post_kind: str
    post_label: str
    assignee_id: uuid.UUID | None
    assignee_name: str
    detainee_id: uuid.UUID | None
    detainee_name: str
    cell_id: uuid.UUID | None
    cell_number: str
    detail: str
    needs_verify: bool
    created_at: dt.datetime
    created_by: str
    accept_due: dt.datetime
    handle_due: dt.datetime
    overdue: bool
    escalation_level: int
    escalated_to: str
    dispatched_at: dt.datetime | None
    accepted_at: dt.datetime | None
    handled_at: dt.datetime | None
    closed_at: dt.datetime | None
    outcome: str
    feedback: str
    return_count: int
    pack_version: str
    version: int


class StepOut(Schema):
    at: dt.datetime
    action: str
    from_state: str
    to_state: str
    actor_name: str
    post_kind: str
    note: str
    outcome: str
    has_photo: bool


class TaskDetailOut(TaskOut):
    steps: list[StepOut]


class TaskPage(Schema):
    scope: str
    count: int
    page: int
    page_size: int
    items: list[TaskOut]


class RecordedOut(Schema):
    """A record and the task it became (None for information only)."""

    record: RecordOut
    task: TaskOut | None


class TaskFilter(Schema):
    scope: str = "mine"  # mine | open | closed
    since: dt.datetime | None = None
    page: int = 1
    page_size: int = 50


class HandleIn(Schema):
    feedback: str = ""
    outcome: str = ""


class NoteIn(Schema):
    note: str = ""


class ReasonIn(Schema):
    reason: str = ""


class DispatchIn(Schema):
    post: str = ""
    assignee: uuid.UUID | None = None
    note: str = ""


class UrgencyIn(Schema):
    urgency: str = ""


class ManualTaskIn(Schema):
    title: str = ""
    detail: str = ""
    post: str = ""
    urgency: str = "NORMAL"
    assignee: uuid.UUID | None = None


# --- shifts (排班) -----------------------------------------------------------------------


class ShiftFilter(Schema):
    date: dt.date | None = None  # a local calendar day; today when absent


class ShiftIn(Schema):
    officer: uuid.UUID
    post: str = ""
    starts_at: dt.datetime  # without an offset: local (Asia/Shanghai) time
    ends_at: dt.datetime


class ShiftOut(Schema):
    id: uuid.UUID
    post_kind: str
    post_label: str
    officer_id: uuid.UUID
    officer_name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    created_by: str
