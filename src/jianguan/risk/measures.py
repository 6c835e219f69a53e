"""Graded management (分级管理): what each grade requires becomes duty tasks, and whether it was
done is reported.

Each grade of the facility's live risk model carries measures (risk.yaml → Grade.measures): a
talk (谈话教育) at least every `talk_days`, a review of the grade by `review_post` at least every
`review_days`, and the longest gap between welfare checks of the person's cell
(`patrol_minutes`, read by the welfare checks through `patrol_minutes_for_cell`).

Done
    A talk: a RISK_TALK task about the person was closed (it counts from the moment its
    feedback was given), or the 管教 recorded 谈话发现 (CUSTODIAN_TALK_FINDING) about the person.
    A review: a RISK_REVIEW task about the person, for the post the grade names, was closed.
Covered
    Something done on local day d covers days d … d + N − 1, N being the interval of the grade
    held now: a 一级 person (N = 1) needs a talk every calendar day, a 常规 person (N = 30) one
    in any 30 days. Covering ends at local midnight.
Scheduled (`measures_due`, hourly)
    A person not covered today, with no open task for the same measure, gets a task with
    source_ref "talk:<person>:<day>" (or "review:<post>:…"), so a second run the same day opens nothing
    and a task cancelled today is not reopened before tomorrow.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from jianguan.core.errors import NotFound
from jianguan.custody.api import HELD_STATUSES, Detainee
from jianguan.duty.api import (
    OPEN_STATES,
    InfoRecord,
    Task,
    TaskSource,
    TaskState,
    category_in_force,
    post_label,
)
from jianguan.housing.api import Cell
from jianguan.org.api import Unit
from jianguan.risk.duty_tasks import risk_task_open
from jianguan.risk.model import Grade, Measures, RiskModel
from jianguan.risk.models import CellRisk, RiskChange, RiskScore, Track
from jianguan.risk.scoring import live_model

TALK = "RISK_TALK"
REVIEW = "RISK_REVIEW"
TALK_RECORD = "CUSTODIAN_TALK_FINDING"  # 谈话发现, recorded by the 管教
MEASURE_NAMES = {TALK: "谈话教育", REVIEW: "等级复核"}
# If a facility's duty pack lacks the category, the time limit the built-in pack gives it.
DEFAULT_GRACE = dt.timedelta(days=1)

ON_TIME = "ON_TIME"
LATE = "LATE"
MISSED = "MISSED"
PENDING = "PENDING"
STATUS_NAMES = {ON_TIME: "按时完成", LATE: "逾期完成", MISSED: "未落实", PENDING: "未到时限"}


def _local_date(at: dt.datetime) -> dt.date:
    return timezone.localtime(at, timezone.get_default_timezone()).date()


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())


def _cover_end(done_at: dt.datetime, days: int) -> dt.datetime:
    """When something done at `done_at` stops covering an interval of `days` days."""
    return _midnight(_local_date(done_at) + dt.timedelta(days=days))


def _days_of(measure: str, measures: Measures) -> int | None:
    return measures.talk_days if measure == TALK else measures.review_days


def _post_of(measure: str, measures: Measures) -> str:
    return "CUSTODIAN" if measure == TALK else measures.review_post


Key = tuple[Any, str, str]  # (detainee id, measure, post; "" for a talk, any post may talk)


def _key(detainee_id: Any, measure: str, post: str) -> Key:
    return (detainee_id, measure, "" if measure == TALK else post)


def _done_moments(unit_id: Any, since: dt.datetime) -> dict[Key, list[dt.datetime]]:
    """When each person's talks and reviews were done since `since`, oldest first."""
    out: dict[Key, list[dt.datetime]] = defaultdict(list)
    closed = Task.objects.filter(
        unit_id=unit_id,
        source=TaskSource.RISK,
        category__in=(TALK, REVIEW),
        state=TaskState.CLOSED,
        closed_at__gte=since,
        detainee_id__isnull=False,
    ).values_list("detainee_id", "category", "post_kind", "handled_at", "closed_at")
    for detainee_id, category, post, handled_at, closed_at in closed:
        done_at = handled_at or closed_at  # the talk took place when it was reported
        if done_at is not None:
            out[_key(detainee_id, category, post)].append(done_at)
    talks = InfoRecord.objects.filter(
        unit_id=unit_id, category=TALK_RECORD, recorded_at__gte=since, detainee_id__isnull=False
    ).values_list("detainee_id", "recorded_at")
    for detainee_id, recorded_at in talks:
        out[_key(detainee_id, TALK, "")].append(recorded_at)
    for moments in out.values():
        moments.sort()
    return out


def _lookback(model: RiskModel) -> dt.timedelta:
    """How far back something done may still cover: the longest interval of any grade, plus
    the day it was done on."""
    days = [d for g in model.grades for d in (g.measures.talk_days, g.measures.review_days) if d]
    return dt.timedelta(days=max(days, default=0) + 1)


# --- scheduling ---------------------------------------------------------------------------


def measures_due(now: dt.datetime | None = None) -> int:
    """Open the talk and review tasks that have fallen due for everyone graded; return how many.

    Idempotent: a person covered, or with an open task for the measure, or whose task was
    already opened today, gets nothing new.
    """
    now = now or timezone.now()
    graded = RiskScore.objects.filter(track=Track.LIVE, detainee__status__in=HELD_STATUSES)
    unit_ids = graded.values_list("unit_id", flat=True).distinct()
    opened = 0
    for unit in Unit.objects.filter(id__in=unit_ids).order_by("code"):
        scores = graded.filter(unit_id=unit.id).select_related("detainee")
        opened += _due_in_unit(unit, list(scores.order_by("detainee__number")), now)
    return opened


def _due_in_unit(unit: Unit, scores: Sequence[RiskScore], now: dt.datetime) -> int:
    _, model = live_model(unit.path)
    done = _done_moments(unit.id, now - _lookback(model))
    open_now = {
        _key(d, category, post)
        for d, category, post in Task.objects.filter(
            unit_id=unit.id,
            source=TaskSource.RISK,
            category__in=(TALK, REVIEW),
            state__in=OPEN_STATES,
            detainee_id__isnull=False,
        ).values_list("detainee_id", "category", "post_kind")
    }
    opened = 0
    for score in scores:
        grade = model.grade(score.grade) or model.grade_for(score.score)
        for measure in (TALK, REVIEW):
            days = _days_of(measure, grade.measures)
            post = _post_of(measure, grade.measures)
            key = _key(score.detainee_id, measure, post)
            if not days or key in open_now:
                continue
            last = done[key][-1] if done.get(key) else None
            if last is not None and now < _cover_end(last, days):
                continue
            if _open_task(unit, score, grade, measure, days, post, last, now):
                opened += 1
    return opened


def _open_task(
    unit: Unit,
    score: RiskScore,
    grade: Grade,
    measure: str,
    days: int,
    post: str,
    last: dt.datetime | None,
    now: dt.datetime,
) -> bool:
    person = score.detainee
    who = f"{person.name}（{person.number}）"
    last_text = (
        timezone.localtime(last, timezone.get_default_timezone()).strftime("%Y-%m-%d %H:%M")
        if last
        else "无记录"
    )
    if measure == TALK:
        title = f"谈话教育：{who} · {grade.name}"
        detail = (
            f"分级管理要求：{grade.name}每 {days} 天谈话教育一次。上次谈话：{last_text}。\n"
            "谈话后在本任务中反馈谈话情况；另行登记的“谈话发现”同样算作已谈话。"
        )
        prefix = "talk"
    else:
        title = f"风险等级复核：{who} · {grade.name}"
        detail = (
            f"分级管理要求：{grade.name}每 {days} 天由{post_label(post)}复核一次风险等级。"
            f"当前积分 {score.score:g}。上次复核：{last_text}。"
        )
        prefix = f"review:{post}"  # a review by another post is another measure
    if grade.measures.note:
        detail += f"\n{grade.measures.note}"
    with transaction.atomic():
        task = risk_task_open(
            unit=unit,
            category_code=measure,
            title=title,
            detail=detail,
            source_ref=f"{prefix}:{person.id.hex}:{_local_date(now).isoformat()}",  # ≤ 61
            detainee_id=person.id,
            cell_id=person.cell_id,
            post_kind=post,
            now=now,
        )
    return task is not None


# --- the welfare-check interval -----------------------------------------------------------


def patrol_minutes_for_cell(cell_id: uuid.UUID | str) -> int:
    """The longest allowed gap between checks of a cell: the strictest `patrol_minutes` of the
    grades of the people held in it now and of the cell's own grade (live model)."""
    try:
        cell = Cell.objects.select_related("unit").get(id=cell_id)
    except (Cell.DoesNotExist, ValueError, ValidationError):
        raise NotFound("监室") from None
    _, model = live_model(cell.unit.path)
    codes = set(
        RiskScore.objects.filter(
            track=Track.LIVE, detainee__cell_id=cell.id, detainee__status__in=HELD_STATUSES
        ).values_list("grade", flat=True)
    )
    codes |= set(
        CellRisk.objects.filter(cell_id=cell.id, track=Track.LIVE).values_list("grade", flat=True)
    )
    minutes = [g.measures.patrol_minutes for g in model.grades if g.code in codes]
    return min(minutes, default=model.grades[0].measures.patrol_minutes)


# --- compliance ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """One talk or review that fell due, and what became of it."""

    detainee_id: Any
    name: str
    number: str
    measure: str  # TALK or REVIEW
    post: str
    grade: str
    grade_name: str
    due: dt.datetime
    deadline: dt.datetime
    status: str
    done_at: dt.datetime | None

    @property
    def measure_name(self) -> str:
        return MEASURE_NAMES[self.measure]

    @property
    def post_name(self) -> str:
        return post_label(self.post)

    @property
    def status_name(self) -> str:
        return STATUS_NAMES[self.status]


@dataclass
class Tally:
    on_time: int = 0
    late: int = 0
    missed: int = 0
    pending: int = 0

    def add(self, status: str) -> None:
        if status == ON_TIME:
            self.on_time += 1
        elif status == LATE:
            self.late += 1
        elif status == MISSED:
            self.missed += 1
        else:
            self.pending += 1

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.on_time + other.on_time,
            self.late + other.late,
            self.missed + other.missed,
            self.pending + other.pending,
        )

    @property
    def required(self) -> int:
        return self.on_time + self.late + self.missed + self.pending

    @property
    def settled(self) -> int:
        return self.on_time + self.late + self.missed

    @property
    def rate(self) -> float | None:
        """Done on time among those whose time limit has passed, as a percentage (one decimal)."""
        return round(100 * self.on_time / self.settled, 1) if self.settled else None


@dataclass
class Line:
    """One row: a grade, a person or the whole facility."""

    key: str
    name: str
    colour: str = ""
    grades: list[str] = field(default_factory=list)  # a person's grades in the period
    people: int = 0
    talks: Tally = field(default_factory=Tally)
    reviews: Tally = field(default_factory=Tally)

    @property
    def both(self) -> Tally:
        return self.talks + self.reviews


@dataclass
class Compliance:
    unit: Unit
    period_start: dt.datetime
    period_end: dt.datetime
    as_of: dt.datetime  # what was done up to this moment counts, even after the period
    model_version: str
    total: Line
    grades: list[Line]  # highest grade first
    people: list[Line]  # everyone graded at the facility in the period, by name
    dues: list[Due]

    @property
    def failures(self) -> list[Due]:
        """Late and missed, most overdue first."""
        return [d for d in self.dues if d.status in (LATE, MISSED)]

    @property
    def rate(self) -> float | None:
        return self.total.both.rate


@dataclass(frozen=True)
class _Stretch:
    """A time the person held one grade, inside the period and their custody."""

    begin: dt.datetime
    until: dt.datetime
    grade: Grade
    current: bool  # runs on to now: the person is still held at this grade


def compliance(
    unit: Unit,
    period_start: dt.datetime,
    period_end: dt.datetime,
    now: dt.datetime | None = None,
) -> Compliance:
    """Whether the talks and reviews each person's grades required in a period were done.

    Grade over time
        From the person's history (RiskChange, live track): the grade held at the period's
        start and every change after it; a leader's override counts, being the grade that
        applied. Custody bounds it (until `left_at`). The measures are those of the
        facility's live model now; a grade the model no longer has requires nothing.
    Falls due
        At the period's start, at a change of grade, or at the midnight when the last talk
        (review) stops covering — whichever is latest; after a miss, the next falls due one
        interval after the missed one.
    Time limit
        The due moment plus the handling limit of the duty pack's RISK_TALK (RISK_REVIEW)
        category, the same limit the scheduled task carries (24 h built in).
    On time, late, missed, pending
        On time: done within the limit. Late: done after it, but before the next would fall
        due (one interval after the due moment). Missed: not done by then, or not done yet
        with the limit passed. Pending: the limit has not passed. Only what was done while the
        person held the grade counts; if the grade changes (or the person leaves) before the
        limit with nothing done, the requirement gives way to the new grade's and is not
        counted.
    Rate
        On time ÷ (on time + late + missed), pending left out.
    """
    now = now or timezone.now()
    horizon = min(now, period_end)
    version, model = live_model(unit.path)
    graces = {measure: _grace(unit, measure) for measure in (TALK, REVIEW)}
    done = _done_moments(unit.id, period_start - _lookback(model))
    people = _people(unit, period_start, horizon)
    changes: dict[Any, list[tuple[dt.datetime, str]]] = defaultdict(list)
    for detainee_id, at, grade in (
        RiskChange.objects.filter(
            unit_id=unit.id,
            track=Track.LIVE,
            detainee_id__in=list(people),
            at__gt=period_start,
            at__lte=now,
        )
        .order_by("at")
        .values_list("detainee_id", "at", "grade")
    ):
        changes[detainee_id].append((at, grade))

    dues: list[Due] = []
    lines: dict[str, Line] = {}
    grade_lines = {g.code: Line(g.code, g.name, colour=g.colour) for g in reversed(model.grades)}
    total = Line("total", "全所")
    for detainee_id, person in people.items():
        stretches = _stretches(person, changes.get(detainee_id, []), model, period_start, now)
        held = [s for s in stretches if s.begin < horizon]
        if not held:
            continue
        line = Line(str(detainee_id), f"{person['name']}（{person['number']}）")
        for code in dict.fromkeys(s.grade.code for s in held):
            line.grades.append(grade_lines[code].name)
            grade_lines[code].people += 1
        for measure in (TALK, REVIEW):
            for stretch, due, deadline, status, done_at in _judge_person(
                stretches, done, detainee_id, measure, graces[measure], period_end
            ):
                post = _post_of(measure, stretch.grade.measures)
                dues.append(
                    Due(
                        detainee_id=detainee_id,
                        name=person["name"],
                        number=person["number"],
                        measure=measure,
                        post=post,
                        grade=stretch.grade.code,
                        grade_name=stretch.grade.name,
                        due=due,
                        deadline=deadline,
                        status=status,
                        done_at=done_at,
                    )
                )
                for row in (line, grade_lines[stretch.grade.code], total):
                    (row.talks if measure == TALK else row.reviews).add(status)
        lines[line.key] = line
    total.people = len(lines)
    dues.sort(key=lambda d: (d.deadline, d.number, d.measure))
    return Compliance(
        unit=unit,
        period_start=period_start,
        period_end=period_end,
        as_of=now,
        model_version=version,
        total=total,
        grades=list(grade_lines.values()),
        people=sorted(lines.values(), key=lambda row: row.name),
        dues=dues,
    )


def _grace(unit: Unit, measure: str) -> dt.timedelta:
    found = category_in_force(unit, measure)
    if found is None:
        return DEFAULT_GRACE
    _, pack, category = found
    return pack.limits_for(category, category.urgency).handle


def _people(unit: Unit, start: dt.datetime, until: dt.datetime) -> dict[Any, dict[str, Any]]:
    """Everyone held at the facility at some time in [start, until), with the grade they held
    at `start` (None if they were not graded yet)."""
    grade_then = (
        RiskChange.objects.filter(detainee_id=OuterRef("pk"), track=Track.LIVE, at__lte=start)
        .order_by("-at")
        .values("grade")[:1]
    )
    rows = (
        Detainee.objects.filter(unit_id=unit.id, admitted_at__lt=until)
        .filter(Q(left_at__isnull=True) | Q(left_at__gte=start))
        .annotate(grade_then=Subquery(grade_then))
        .values("id", "name", "number", "status", "left_at", "grade_then")
    )
    return {row["id"]: row for row in rows}


def _stretches(
    person: dict[str, Any],
    changes: Iterable[tuple[dt.datetime, str]],
    model: RiskModel,
    start: dt.datetime,
    now: dt.datetime,
) -> list[_Stretch]:
    held_now = person["status"] in HELD_STATUSES or person["left_at"] is None
    end = now if held_now else min(now, person["left_at"])
    points: list[tuple[dt.datetime, str]] = []
    if person["grade_then"]:
        points.append((start, person["grade_then"]))
    for at, code in changes:
        if not points or points[-1][1] != code:
            points.append((at, code))
    out: list[_Stretch] = []
    for i, (begin, code) in enumerate(points):
        until = points[i + 1][0] if i + 1 < len(points) else end
        until = min(until, end)
        grade = model.grade(code)
        if grade is not None and begin < until:
            out.append(_Stretch(begin, until, grade, held_now and until == now))
    return out


def _judge_person(
    stretches: Sequence[_Stretch],
    done: dict[Key, list[dt.datetime]],
    detainee_id: Any,
    measure: str,
    grace: dt.timedelta,
    period_end: dt.datetime,
) -> list[tuple[_Stretch, dt.datetime, dt.datetime, str, dt.datetime | None]]:
    out: list[tuple[_Stretch, dt.datetime, dt.datetime, str, dt.datetime | None]] = []
    for stretch in stretches:
        days = _days_of(measure, stretch.grade.measures)
        if not days:
            continue
        moments = done.get(_key(detainee_id, measure, _post_of(measure, stretch.grade.measures)))
        for due, deadline, status, done_at in _judge(
            stretch, moments or [], days, grace, period_end
        ):
            out.append((stretch, due, deadline, status, done_at))
    return out


def _within(moment: dt.datetime, stretch: _Stretch) -> bool:
    return moment <= stretch.until if stretch.current else moment < stretch.until


def _judge(
    stretch: _Stretch,
    moments: Sequence[dt.datetime],
    days: int,
    grace: dt.timedelta,
    period_end: dt.datetime,
) -> list[tuple[dt.datetime, dt.datetime, str, dt.datetime | None]]:
    """Walk one stretch: each requirement that falls due in it (before the period's end) and
    its outcome (see `compliance`)."""
    out: list[tuple[dt.datetime, dt.datetime, str, dt.datetime | None]] = []
    interval = dt.timedelta(days=days)
    floor = stretch.begin
    while True:
        last = max((m for m in moments if m <= floor), default=None)
        due = floor if last is None else max(floor, _cover_end(last, days))
        if due >= min(stretch.until, period_end):
            return out
        deadline = due + grace
        nxt = min((m for m in moments if due <= m and _within(m, stretch)), default=None)
        if nxt is not None and nxt < deadline:
            out.append((due, deadline, ON_TIME, nxt))
            floor = nxt
            continue
        if nxt is not None and nxt < due + interval:
            out.append((due, deadline, LATE, nxt))
            floor = nxt
            continue
        if stretch.until < deadline:
            if stretch.current:
                out.append((due, deadline, PENDING, None))
            return out  # otherwise the new grade's requirement takes over
        out.append((due, deadline, MISSED, None))
        if due + interval >= stretch.until:
            return out
        floor = due + interval
