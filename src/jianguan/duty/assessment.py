"""Assessment (监督考核), generated from the task records, never typed.

Every figure is read from the tasks, their steps and the records; nothing is entered by hand.

Definitions
-----------
Period
    A local day (settings.TIME_ZONE, Asia/Shanghai), an ISO week (Monday to Sunday) or a
    calendar month, from local midnight to local midnight (end exclusive).
Which period a task belongs to
    The period of its first dispatch (the first "dispatched" step). `task_open` creates and
    dispatches a task in the same instant, so the tasks are selected by `created_at` (indexed)
    and each is then placed by its first dispatched step. Everything about a task — its
    returns, its accept and close times — counts in that period, even when it happened later.
Which period a record belongs to
    The period in which it was recorded (`recorded_at`).
Received (收到任务)
    Per post: the tasks whose handling post is that post. A task reassigned to another post
    counts for the post it ended with (Task.post_kind). Per officer: the tasks the officer
    accepted (an "accepted" step by them) or that are assigned to them by name.
Handled on time (按时办结)
    The first "handled" step is at or before `handle_due`. Per officer it counts for the one
    who made that step.
Overdue (超时)
    Handled after `handle_due`; or not handled and not cancelled at the period's end (or now,
    if earlier) when `handle_due` had passed by then. A task still open counts, per officer,
    for its current assignee (a task nobody has accepted counts only for its post).
    A task neither on time nor overdue is pending (not yet due) or was cancelled.
Returned (退回重办)
    The number of "returned" steps. Per officer it counts for the one whose handling was
    returned (the latest "handled" step before the return).
Time to accept (接收用时)
    First "accepted" step − first dispatch, per officer for the one who accepted first.
Time to close (办结用时)
    `closed_at` − first dispatch, for closed tasks only (cancelled tasks are excluded); per
    officer for the one whose handling was closed (the latest "handled" step).
Mean and p90
    In minutes, to one decimal. p90 is the nearest-rank percentile: the ⌈0.9·n⌉-th smallest
    value.
Records collected (采集信息)
    InfoRecords recorded in the period, per officer by `recorded_by`, per post by the post the
    record was made in (InfoRecord.post_kind).

Computed with a handful of queries (the period's tasks, their steps, grouped records, the
facility's officers) and Python over the rows; a facility's month is a few thousand tasks.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count
from django.utils import timezone

from jianguan.core.errors import DomainError, PermissionDenied
from jianguan.duty.lifecycle import post_label
from jianguan.duty.models import (
    InfoRecord,
    Outcome,
    Task,
    TaskState,
    TaskStep,
    Urgency,
)
from jianguan.org.api import Perm, PostKind, Unit, UnitLevel, User, has_perm, users_of_unit

PERIOD_KINDS = ("day", "week", "month")
PERIOD_NAMES = {"day": "日", "week": "周", "month": "月"}
# Posts that are not duty posts: they are listed only when something was done under them.
NON_DUTY_POSTS = {PostKind.SUPERVISOR.value, PostKind.ADMINISTRATOR.value}


# --- periods ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    kind: str  # day, week or month
    first_day: dt.date
    last_day: dt.date  # inclusive

    @property
    def start(self) -> dt.datetime:
        return _local_midnight(self.first_day)

    @property
    def end(self) -> dt.datetime:
        return _local_midnight(self.last_day + dt.timedelta(days=1))

    @property
    def label(self) -> str:
        d = self.first_day
        if self.kind == "day":
            return f"{d.year}年{d.month}月{d.day}日"
        if self.kind == "week":
            year, week, _ = d.isocalendar()
            e = self.last_day
            return f"{year}年第{week}周（{d.month}月{d.day}日—{e.month}月{e.day}日）"
        return f"{d.year}年{d.month}月"

    @property
    def slug(self) -> str:
        """A short name for files: 2026-03-05, 2026-W10, 2026-03."""
        if self.kind == "day":
            return self.first_day.isoformat()
        if self.kind == "week":
            year, week, _ = self.first_day.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.first_day:%Y-%m}"

    def previous(self) -> Period:
        return period_of(self.kind, self.first_day - dt.timedelta(days=1))

    def following(self) -> Period:
        return period_of(self.kind, self.last_day + dt.timedelta(days=1))


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())


def local_today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or timezone.now(), timezone.get_default_timezone()).date()


def period_of(kind: str, day: dt.date) -> Period:
    """The day, ISO week or calendar month that contains `day`."""
    if kind == "day":
        return Period(kind, day, day)
    if kind == "week":
        monday = day - dt.timedelta(days=day.weekday())
        return Period(kind, monday, monday + dt.timedelta(days=6))
    if kind == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return Period(kind, day.replace(day=1), day.replace(day=last))
    raise DomainError("BAD_PERIOD", "统计周期应为日、周或月", field="period")


def period_parse(kind: str, date: str, *, now: dt.datetime | None = None) -> Period:
    """The period named by a page's `period` and `date` (YYYY-MM-DD, empty for today)."""
    kind = kind or "day"
    if not date:
        return period_of(kind, local_today(now))
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        raise DomainError("BAD_DATE", "日期格式应为 年-月-日", field="date") from None
    return period_of(kind, day)


def month_parse(month: str, *, now: dt.datetime | None = None) -> Period:
    """The calendar month named YYYY-MM (empty for this month)."""
    if not month:
        return period_of("month", local_today(now))
    try:
        day = dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        raise DomainError("BAD_MONTH", "月份格式应为 年-月", field="month") from None
    return period_of("month", day)


# --- figures ----------------------------------------------------------------------------


def p90(values: list[float]) -> float | None:
    """Nearest-rank 90th percentile: the ⌈0.9·n⌉-th smallest value."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def _minutes(later: dt.datetime, earlier: dt.datetime) -> float:
    return (later - earlier).total_seconds() / 60


def _one_decimal(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass
class Figures:
    """One row of the assessment: a post, an officer or the whole facility."""

    key: str
    name: str
    received: int = 0
    on_time: int = 0
    overdue: int = 0
    returned: int = 0
    records: int = 0
    accept_minutes: list[float] = field(default_factory=list)
    close_minutes: list[float] = field(default_factory=list)

    @property
    def accept_mean(self) -> float | None:
        return _one_decimal(statistics.fmean(self.accept_minutes) if self.accept_minutes else None)

    @property
    def accept_p90(self) -> float | None:
        return _one_decimal(p90(self.accept_minutes))

    @property
    def close_mean(self) -> float | None:
        return _one_decimal(statistics.fmean(self.close_minutes) if self.close_minutes else None)

    @property
    def close_p90(self) -> float | None:
        return _one_decimal(p90(self.close_minutes))

    @property
    def on_time_rate(self) -> float | None:
        """Share of the judged tasks (on time + overdue) handled on time, in percent."""
        judged = self.on_time + self.overdue
        return round(100 * self.on_time / judged, 1) if judged else None

    @property
    def active(self) -> bool:
        return bool(self.received or self.records or self.on_time or self.overdue)


# Whether a task was handled in time, as judged at the period's end (or now).
ON_TIME, LATE, OPEN_OVERDUE, PENDING, CANCELLED = (
    "ON_TIME",
    "LATE",
    "OPEN_OVERDUE",
    "PENDING",
    "CANCELLED",
)
VERDICT_LABELS = {
    ON_TIME: "按时",
    LATE: "超时办结",
    OPEN_OVERDUE: "超时未办结",
    PENDING: "未到期",
    CANCELLED: "已撤销",
}


@dataclass
class TaskLine:
    """One task of the period as the ledger (任务明细) lists it."""

    id: str
    title: str
    category: str
    post: str
    officer: str
    urgency: str
    state: str
    dispatched_at: dt.datetime
    accepted_at: dt.datetime | None
    handled_at: dt.datetime | None
    closed_at: dt.datetime | None
    handle_due: dt.datetime
    verdict: str
    returns: int
    outcome: str
    officer_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS[self.verdict]

    @property
    def on_time(self) -> str:
        """是 / 否, or empty when it can not be judged yet (pending, cancelled)."""
        return {ON_TIME: "是", LATE: "否", OPEN_OVERDUE: "否"}.get(self.verdict, "")


@dataclass
class Assessment:
    unit: Unit
    period: Period
    as_of: dt.datetime  # the period's end, or now if earlier
    generated_at: dt.datetime
    whole_facility: bool  # False: the officer's own row only
    total: Figures
    posts: list[Figures]
    officers: list[Figures]
    tasks: list[TaskLine]
    pack_versions: list[str]


@dataclass
class _History:
    """What the steps of one task say, in order."""

    first_dispatch: dt.datetime | None = None
    first_accept: dt.datetime | None = None
    first_acceptor: str | None = None
    acceptors: set[str] = field(default_factory=set)
    first_handled: dt.datetime | None = None
    first_handler: str | None = None
    last_handler: str | None = None
    cancelled_at: dt.datetime | None = None
    # The officer whose handling each return sent back (None if nobody is known).
    returned_to: list[str | None] = field(default_factory=list)


def _histories(tasks_qs: Any) -> dict[Any, _History]:
    histories: dict[Any, _History] = defaultdict(_History)
    steps = (
        TaskStep.objects.filter(task__in=tasks_qs)
        .order_by("at", "id")
        .values_list("task_id", "at", "action", "actor_id")
    )
    for task_id, at, action, actor_id in steps:
        h = histories[task_id]
        actor = str(actor_id) if actor_id else None
        if action == "dispatched" and h.first_dispatch is None:
            h.first_dispatch = at
        elif action == "accepted":
            if h.first_accept is None:
                h.first_accept, h.first_acceptor = at, actor
            if actor:
                h.acceptors.add(actor)
        elif action == "handled":
            if h.first_handled is None:
                h.first_handled, h.first_handler = at, actor
            h.last_handler = actor
        elif action == "returned":
            h.returned_to.append(h.last_handler)
        elif action == "cancelled":
            h.cancelled_at = at
    return histories


def _verdict(task: Task, h: _History, as_of: dt.datetime) -> str:
    if h.first_handled is not None:
        return ON_TIME if h.first_handled <= task.handle_due else LATE
    if h.cancelled_at is not None and h.cancelled_at <= as_of:
        return CANCELLED
    return OPEN_OVERDUE if as_of > task.handle_due else PENDING


def _name(user: Any) -> str:
    return (user.full_name or user.username) if user is not None else ""


def _choice_label(choices: Any, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def facility_assessment(
    unit: Unit, period: Period, *, now: dt.datetime | None = None
) -> Assessment:
    """The whole facility's assessment for one period (no permission check: see
    `assessment_for`)."""
    now = now or timezone.now()
    as_of = min(period.end, now)
    start, end = period.start, period.end
    tasks_qs = Task.objects.filter(unit=unit, created_at__gte=start, created_at__lt=end)
    tasks = list(tasks_qs.select_related("assignee").order_by("created_at", "id"))
    histories = _histories(tasks_qs)

    total = Figures("", unit.name)
    posts: dict[str, Figures] = {}
    officers: dict[str, Figures] = {}
    names: dict[str, str] = {}
    for user in users_of_unit(unit).prefetch_related("posts"):
        kinds = {p.kind for p in user.posts.all()}
        names[str(user.id)] = _name(user)
        if kinds - NON_DUTY_POSTS:
            officers[str(user.id)] = Figures(str(user.id), _name(user))

    def post_row(kind: str) -> Figures:
        if kind not in posts:
            posts[kind] = Figures(kind, post_label(kind))
        return posts[kind]

    def officer_row(user_id: str) -> Figures:
        if user_id not in officers:
            officers[user_id] = Figures(user_id, names.get(user_id, ""))
        return officers[user_id]

    lines: list[TaskLine] = []
    versions: set[str] = set()
    for task in tasks:
        h = histories[task.id]
        dispatched = h.first_dispatch
        if dispatched is None or not start <= dispatched < end:
            continue  # never dispatched, or (not in this engine) dispatched in another period
        versions.add(task.pack_version)
        assignee = str(task.assignee_id) if task.assignee_id else None
        received_by = set(h.acceptors) | ({assignee} if assignee else set())
        if task.assignee_id:
            names.setdefault(str(task.assignee_id), _name(task.assignee))
        verdict = _verdict(task, h, as_of)
        closed = task.state == TaskState.CLOSED and task.closed_at is not None
        accept_minutes = _minutes(h.first_accept, dispatched) if h.first_accept else None
        close_minutes = _minutes(task.closed_at, dispatched) if closed and task.closed_at else None

        post = post_row(task.post_kind)
        by_officer = {uid: officer_row(uid) for uid in received_by}
        for row in (total, post, *by_officer.values()):
            row.received += 1
        for row in (total, post):
            row.returned += len(h.returned_to)
            if verdict == ON_TIME:
                row.on_time += 1
            elif verdict in (LATE, OPEN_OVERDUE):
                row.overdue += 1
            if accept_minutes is not None:
                row.accept_minutes.append(accept_minutes)
            if close_minutes is not None:
                row.close_minutes.append(close_minutes)
        # Per officer: each figure for the one who did (or failed to do) the thing.
        judged = h.first_handler if h.first_handled else assignee
        if judged in by_officer:
            if verdict == ON_TIME:
                by_officer[judged].on_time += 1
            elif verdict in (LATE, OPEN_OVERDUE):
                by_officer[judged].overdue += 1
        for handler in h.returned_to:
            if handler in by_officer:
                by_officer[handler].returned += 1
        if accept_minutes is not None and h.first_acceptor in by_officer:
            by_officer[h.first_acceptor].accept_minutes.append(accept_minutes)
        if close_minutes is not None and h.last_handler in by_officer:
            by_officer[h.last_handler].close_minutes.append(close_minutes)

        lines.append(
            TaskLine(
                id=str(task.id),
                title=task.title,
                category=task.category_name,
                post=post_label(task.post_kind),
                officer=_name(task.assignee),
                urgency=_choice_label(Urgency, task.urgency),
                state=_choice_label(TaskState, task.state),
                dispatched_at=dispatched,
                accepted_at=h.first_accept,
                handled_at=h.first_handled,
                closed_at=task.closed_at if closed else None,
                handle_due=task.handle_due,
                verdict=verdict,
                returns=len(h.returned_to),
                outcome=_choice_label(Outcome, task.outcome) if task.outcome else "",
                officer_ids=frozenset(received_by),
            )
        )

    recorded = (
        InfoRecord.objects.filter(unit=unit, recorded_at__gte=start, recorded_at__lt=end)
        .values(
            "post_kind",
            "recorded_by_id",
            "recorded_by__full_name",
            "recorded_by__username",
            "pack_version",
        )
        .annotate(n=Count("id"))
    )
    for group in recorded:
        names.setdefault(
            str(group["recorded_by_id"]),
            group["recorded_by__full_name"] or group["recorded_by__username"],
        )
        total.records += group["n"]
        post_row(group["post_kind"]).records += group["n"]
        officer_row(str(group["recorded_by_id"])).records += group["n"]
        versions.add(group["pack_version"])
    for row in officers.values():
        row.name = row.name or names.get(row.key, "")
    _fill_missing_names(officers)

    order = {kind: i for i, kind in enumerate(PostKind.values)}
    return Assessment(
        unit=unit,
        period=period,
        as_of=as_of,
        generated_at=now,
        whole_facility=True,
        total=total,
        posts=sorted(posts.values(), key=lambda f: (order.get(f.key, 99), f.key)),
        officers=sorted(officers.values(), key=lambda f: (not f.active, f.name, f.key)),
        tasks=lines,
        pack_versions=sorted(versions),
    )


def _fill_missing_names(officers: dict[str, Figures]) -> None:
    """Officers no longer active at the facility still appear, under the name they had."""
    missing = [key for key, row in officers.items() if not row.name]
    if not missing:
        return
    steps = TaskStep.objects.filter(actor_id__in=missing).values_list("actor_id", "actor_name")
    known = {str(actor_id): name for actor_id, name in steps.distinct()}
    for key in missing:
        officers[key].name = known.get(key, key[:8])


def may_see_facility(user: User) -> bool:
    """Leaders and command posts (分控, 指挥中心, 所领导) see every officer and post."""
    return has_perm(user, Perm.TASK_DISPATCH) or has_perm(user, Perm.LEAD)


def assessment_for(user: User, period: Period, *, now: dt.datetime | None = None) -> Assessment:
    """The assessment this user may see: the whole facility for its leaders and command
    posts, otherwise only the officer's own row and own tasks."""
    unit = user.unit
    if unit is None or unit.level != UnitLevel.FACILITY:
        raise PermissionDenied("考核统计按监所生成，只有监所的民警可以查看")
    whole = facility_assessment(unit, period, now=now)
    if may_see_facility(user):
        return whole
    me = str(user.id)
    mine = next((row for row in whole.officers if row.key == me), Figures(me, _name(user)))
    tasks = [line for line in whole.tasks if me in line.officer_ids]
    return Assessment(
        unit=unit,
        period=period,
        as_of=whole.as_of,
        generated_at=whole.generated_at,
        whole_facility=False,
        total=mine,
        posts=[],
        officers=[mine],
        tasks=tasks,
        pack_versions=whole.pack_versions,
    )
