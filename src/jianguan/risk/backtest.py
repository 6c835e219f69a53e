"""Replay recorded history under a model version: the backtest, and the daily grades of the trend.

A backtest asks whether a model's warnings came before the incidents it exists to foresee
(自伤, 暴力, 脱逃企图, 严重违规: the `incident.*` facts). Each person held during the period is
evaluated once a day, at local midnight, with only the facts recorded strictly before that
moment, exactly as scoring would have done then. An incident is therefore never its own
precursor; once recorded, it adds points afterwards as the model says (the model's business).

The static part of a person (案件性质, 诉讼阶段, prior custody, nationality, birth date) is read
from the record as it is today, not as it was on the day evaluated: the record keeps no history
of those fields. Age is the exception: it is computed for the day.

At grade g, a warning is a person-day evaluated at g or above. With a horizon H (default 14 days):

- precision: warnings followed by an incident of the same person within (T, T+H] / all warnings.
  A person-day whose horizon reaches past the end of the record (`observed_until`) cannot be
  judged and is left out of precision.
- recall: incidents in the period with at least one warning of that person in [t−H, t) / all
  incidents in the period; also per incident kind.
- lead time: for each warned incident, t − the first warning in that window; median, P25, P75.

The lowest grade is reported as the baseline "all person-days": its precision is the base rate,
its recall the share of incidents the replay saw the person at all beforehand.

History is read a chunk of people at a time, each with all of their facts, so a large node is
streamed, never loaded whole or read day by day.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from jianguan.core.errors import DomainError
from jianguan.custody.api import Detainee
from jianguan.housing.api import Cell
from jianguan.org.api import Unit
from jianguan.risk.model import (
    Assessment,
    CellOccupant,
    Fact,
    Person,
    RiskModel,
    assess_cell,
    assess_person,
)
from jianguan.risk.models import GradeDaily, RiskFact, Track
from jianguan.risk.scoring import case_severities, live_model, person_of
from jianguan.rules.api import BUILTIN, builtin_pack, packs_published, parse_source

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
CHUNK = 1000  # people read together with their facts
INCIDENT_PREFIX = "incident."


# --- model versions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelVersion:
    version: str
    origin: str  # 内置默认, or where and when it was published
    model: RiskModel


def known_versions() -> list[str]:
    """The built-in version and every published one, each once."""
    versions = [builtin_pack("risk").version]
    versions += packs_published("risk").values_list("version", flat=True)
    return list(dict.fromkeys(versions))


def model_version(version: str, unit_path: str = "") -> ModelVersion:
    """A published version, or the built-in one. If several units published the same version
    number, the one governing `unit_path` wins, else the latest."""
    rows = list(packs_published("risk").filter(version=version))
    if rows:
        # A version published elsewhere may be tried on this history too.
        depth = {code: i for i, code in enumerate(unit_path.split("/"))}
        row = max(rows, key=lambda r: (depth.get(r.unit_code, -1), r.published_at))
        where = row.unit_code or "全国"
        _, model = parse_source("risk", row.source)
        day = timezone.localtime(row.published_at).date().isoformat()
        return ModelVersion(version, f"{where} {day} 发布（{row.get_status_display()}）", model)
    builtin = builtin_pack("risk")
    if builtin.version == version:
        return ModelVersion(version, BUILTIN, builtin.pack)
    raise DomainError(
        "UNKNOWN_MODEL_VERSION",
        f"没有风险模型版本 {version}；可用的版本：{'、'.join(known_versions())}",
        field="model",
    )


# --- one person's history ----------------------------------------------------------------------


@dataclass(frozen=True)
class Stay:
    """One person's recorded history: the record as it is today, the stay, the facts by time."""

    detainee_id: str
    person: Person
    admitted_at: dt.datetime
    left_at: dt.datetime | None
    facts: tuple[Fact, ...]  # sorted by `at`
    cell_id: str = ""
    name: str = ""

    def held_at(self, moment: dt.datetime) -> bool:
        return self.admitted_at < moment and (self.left_at is None or self.left_at > moment)

    def incidents(self) -> list[Fact]:
        return [f for f in self.facts if f.kind.startswith(INCIDENT_PREFIX)]


@dataclass(frozen=True)
class Moment:
    """An evaluation: the moment, and its local date (for age)."""

    at: dt.datetime
    day: dt.date


def midnights(start: dt.date, end: dt.date) -> list[Moment]:
    """Local midnight of each day from `start` to `end`, both included."""
    days = (end - start).days + 1
    zone = timezone.get_current_timezone()
    return [
        Moment(dt.datetime.combine(start + i * DAY, dt.time(), tzinfo=zone), start + i * DAY)
        for i in range(max(days, 0))
    ]


def replay(
    model: RiskModel, stay: Stay, moments: Sequence[Moment]
) -> Iterator[tuple[int, Assessment]]:
    """The person's assessment at each moment they were held (index into `moments`), counting
    only the facts recorded strictly before it."""
    counted = [f for f in stay.facts if any(d.matches(f.kind) for d in model.dynamic)]
    times = [f.at for f in counted]
    window = model.longest_window_days
    for i, moment in enumerate(moments):
        if not stay.held_at(moment.at):
            continue
        hi = bisect_left(times, moment.at)
        lo = 0 if window is None else bisect_left(times, moment.at - dt.timedelta(days=window))
        yield i, assess_person(model, stay.person, counted[lo:hi], moment.at, moment.day)


# --- the backtest (pure) -----------------------------------------------------------------------


@dataclass
class GradeResult:
    """Figures for warnings at one grade or above."""

    code: str
    name: str
    rank: int
    warnings: int = 0  # person-days at this grade or above
    judged: int = 0  # of those, the ones whose horizon the record covers
    hits: int = 0  # judged ones followed by an incident within the horizon
    warned: Counter[str] = field(default_factory=Counter)  # incidents by kind with a warning
    leads: list[float] = field(default_factory=list)  # hours, one per warned incident

    @property
    def precision(self) -> float | None:
        return self.hits / self.judged if self.judged else None

    @property
    def warned_total(self) -> int:
        return sum(self.warned.values())

    def lead(self, q: float) -> float | None:
        return quantile(sorted(self.leads), q)


@dataclass
class ModelResult:
    version: str
    origin: str
    grades: list[GradeResult]  # the lowest first: the baseline of all person-days
    incidents: Counter[str] = field(default_factory=Counter)  # by kind, in the period

    @property
    def incidents_total(self) -> int:
        return sum(self.incidents.values())

    def recall(self, grade: GradeResult, kind: str | None = None) -> float | None:
        total = self.incidents[kind] if kind else self.incidents_total
        warned = grade.warned[kind] if kind else grade.warned_total
        return warned / total if total else None

    def lift(self, grade: GradeResult) -> float | None:
        base, precision = self.grades[0].precision, grade.precision
        return precision / base if base and precision is not None else None


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # included
    horizon: dt.timedelta
    observed_until: dt.datetime  # the end of the record: later incidents are unknown

    @property
    def first(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.start, dt.time()))

    @property
    def after(self) -> dt.datetime:
        """The end of the period's last day: incidents before it count."""
        return timezone.make_aware(dt.datetime.combine(self.end + DAY, dt.time()))


def quantile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between the closest ranks of sorted values (numpy's default)."""
    if not values:
        return None
    position = (len(values) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return values[low] + (values[high] - values[low]) * (position - low)


def backtest(
    versions: Sequence[ModelVersion], stays: Iterable[Stay], period: Period
) -> list[ModelResult]:
    """Replay every stay under every version; see the module docstring for the figures."""
    moments = midnights(period.start, period.end)
    results = [
        ModelResult(
            v.version, v.origin, [GradeResult(g.code, g.name, g.rank) for g in v.model.grades]
        )
        for v in versions
    ]
    for stay in stays:
        incidents = stay.incidents()
        times = [f.at for f in incidents]
        counted = [f for f in incidents if period.first <= f.at < period.after]
        for version, result in zip(versions, results, strict=True):
            result.incidents.update(f.kind for f in counted)
            days = [(moments[i].at, a.grade.rank) for i, a in replay(version.model, stay, moments)]
            for grade in result.grades:
                _tally(grade, days, times, counted, period)
    return results


def _tally(
    grade: GradeResult,
    days: Sequence[tuple[dt.datetime, int]],
    incident_times: Sequence[dt.datetime],
    counted: Sequence[Fact],
    period: Period,
) -> None:
    """Add one person's person-days and incidents to the figures of one grade."""
    warnings = [at for at, rank in days if rank >= grade.rank]
    for at in warnings:
        grade.warnings += 1
        if at + period.horizon > period.observed_until:
            continue
        grade.judged += 1
        # an incident in (at, at + horizon]
        if bisect_right(incident_times, at + period.horizon) > bisect_right(incident_times, at):
            grade.hits += 1
    for incident in counted:
        first = bisect_left(warnings, incident.at - period.horizon)
        if first < len(warnings) and warnings[first] < incident.at:
            grade.warned[incident.kind] += 1
            if grade.rank:
                grade.leads.append((incident.at - warnings[first]) / HOUR)


# --- reading history from the database ---------------------------------------------------------


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


PERSON_FIELDS = (
    "id",
    "name",
    "birth_date",
    "nationality",
    "case_nature",
    "legal_measure",
    "litigation_stage",
    "id_number",
    "admitted_at",
    "left_at",
    "cell",
)


def _priors(people: Sequence[Any]) -> dict[Any, int | None]:
    """Earlier custodies on this node by ID number, for a chunk of people in one query
    (the same count as scoring.prior_custody)."""
    numbers = {p.id_number for p in people if p.id_number}
    admissions: dict[str, list[tuple[dt.datetime, Any]]] = defaultdict(list)
    rows = Detainee.objects.filter(id_number__in=numbers).values_list(
        "id_number", "admitted_at", "id"
    )
    for number, admitted_at, detainee_id in rows:
        admissions[number].append((admitted_at, detainee_id))
    return {
        p.id: (
            sum(1 for at, i in admissions[p.id_number] if at < p.admitted_at and i != p.id)
            if p.id_number
            else None
        )
        for p in people
    }


def stays(
    unit_path: str, first: dt.datetime, after: dt.datetime, *, since: dt.datetime | None = None
) -> Iterator[Stay]:
    """Everyone whose stay under `unit_path` overlaps [first, after), with their facts since
    `since` (None: all), a chunk of people at a time."""
    severities = case_severities()
    people = Detainee.objects.filter(admitted_at__lt=after).filter(
        Q(left_at__isnull=True) | Q(left_at__gt=first)
    )
    if unit_path:
        people = people.filter(unit__path__startswith=unit_path)
    rows = people.order_by("id").only(*PERSON_FIELDS).iterator(chunk_size=CHUNK)
    for chunk in _chunks(rows, CHUNK):
        priors = _priors(chunk)
        facts: dict[Any, list[Fact]] = defaultdict(list)
        found = RiskFact.objects.filter(detainee_id__in=[p.id for p in chunk])
        if since is not None:
            found = found.filter(at__gte=since)
        for detainee_id, fact_id, kind, at, label in found.order_by("at").values_list(
            "detainee_id", "id", "kind", "at", "label"
        ):
            facts[detainee_id].append(Fact(str(fact_id), kind, at, label))
        for p in chunk:
            yield Stay(
                detainee_id=str(p.id),
                person=person_of(p, severities, priors[p.id]),
                admitted_at=p.admitted_at,
                left_at=p.left_at,
                facts=tuple(facts.get(p.id, ())),
                cell_id=str(p.cell_id) if p.cell_id else "",
                name=p.name,
            )


def _earliest_window(versions: Sequence[ModelVersion]) -> float | None:
    windows = [v.model.longest_window_days for v in versions]
    return None if any(w is None for w in windows) else max(w for w in windows if w is not None)


def recorded_since(unit_path: str) -> dt.date | None:
    """The local date of the first fact recorded under `unit_path`."""
    facts = RiskFact.objects.all()
    if unit_path:
        facts = facts.filter(unit__path__startswith=unit_path)
    first = facts.order_by("at").values_list("at", flat=True).first()
    return timezone.localtime(first).date() if first else None


def backtest_node(
    versions: Sequence[ModelVersion],
    *,
    unit_path: str = "",
    start: dt.date | None = None,
    end: dt.date | None = None,
    horizon_days: int = 14,
    now: dt.datetime | None = None,
) -> tuple[Period, list[ModelResult]]:
    """Backtest the versions on the history recorded under `unit_path` (default period: the
    whole record, from its first fact to today)."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    start = start or recorded_since(unit_path)
    if start is None:
        raise DomainError("NO_HISTORY", "没有记录的风险事实，无法回测", field="unit")
    end = end or today
    if end < start:
        raise DomainError("BAD_PERIOD", f"结束日期 {end} 早于开始日期 {start}", field="to")
    period = Period(start, end, dt.timedelta(days=horizon_days), now)
    window = _earliest_window(versions)
    since = None if window is None else period.first - dt.timedelta(days=window)
    history = stays(unit_path, period.first, period.after, since=since)
    return period, backtest(versions, history, period)


# --- the trend, replayed -----------------------------------------------------------------------


def trend_replay(*, unit: Unit, days: Sequence[dt.date], now: dt.datetime | None = None) -> int:
    """Write a facility's daily distribution by grade (GradeDaily, live track) for past `days`,
    each as the live model would have scored it at the day's end (at `now` for today); the
    people's and cells' grades are replayed from the facts. People count in their current cell.
    Returns how many days were written."""
    now = now or timezone.now()
    version, model = live_model(unit.path)
    moments = [
        Moment(min(timezone.make_aware(dt.datetime.combine(d + DAY, dt.time())), now), d)
        for d in sorted(days)
    ]
    if not moments:
        return 0
    people: list[Counter[str]] = [Counter() for _ in moments]
    occupants: list[dict[str, list[CellOccupant]]] = [defaultdict(list) for _ in moments]
    first, after = moments[0].at - DAY, moments[-1].at
    for stay in stays(unit.path, first, after):
        for i, assessed in replay(model, stay, moments):
            people[i][assessed.grade.code] += 1
            if stay.cell_id:
                occupant = CellOccupant(
                    stay.detainee_id, stay.name, assessed.score, assessed.grade.code
                )
                occupants[i][stay.cell_id].append(occupant)
    cells = {str(c.id): c.capacity for c in Cell.objects.filter(unit=unit)}
    cell_facts: dict[str, list[Fact]] = defaultdict(list)
    for fact_cell, fact_id, kind, at, label in (
        RiskFact.objects.filter(cell_id__in=list(cells), at__lt=after)
        .order_by("at")
        .values_list("cell_id", "id", "kind", "at", "label")
    ):
        cell_facts[str(fact_cell)].append(Fact(str(fact_id), kind, at, label))
    with transaction.atomic():
        for i, moment in enumerate(moments):
            grades: Counter[str] = Counter()
            for cell_id, capacity in cells.items():
                if not occupants[i][cell_id]:
                    continue  # an empty cell has no grade that day
                facts = [f for f in cell_facts[cell_id] if f.at < moment.at]
                assessed = assess_cell(
                    model,
                    occupants=occupants[i][cell_id],
                    capacity=capacity,
                    facts=facts,
                    now=moment.at,
                )
                grades[assessed.grade.code] += 1
            GradeDaily.objects.update_or_create(
                unit=unit,
                day=moment.day,
                track=Track.LIVE,
                defaults={
                    "people": dict(people[i]),
                    "cells": dict(grades),
                    "model_version": version,
                    "taken_at": moment.at,
                },
            )
    return len(moments)
