"""Re-score everyone held in a subtree at once: after a new model is published, and hourly so
that dynamic facts fade on time.

The incremental path (scoring.rescore_person) spends about fifteen queries on one person. Here
the people held are read a page at a time in id order (their earlier custodies counted in the
same query), with their stored scores, facts and active overrides in three more; they are
scored in memory, the static part once per distinct record (most people share theirs with many
others), and only rows that changed are written, in bulk. The rows are the ones rescore_person would leave
(tests/risk/test_full.py holds the two to that); what differs is the noise around them:
`computed_at` moves only on a row that changed, and each page writes one summary event instead
of one per person. A person whose live grade rose still gets their task and their own event
(duty_tasks.py, scoring.py), as after any event. The cells are re-scored last, all of them in
bulk, with one event per facility and page whose cells changed.

A page is one transaction (on PostgreSQL written on a second connection while the next page is
read: see Writes). A stored row is overwritten only if nobody re-scored it after the page read
it (its `computed_at` is the version stamp), so an event handled during a long run is never
undone by the run's older reading.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

from django.db import IntegrityError, connection, connections, models, transaction
from django.db.models import (
    Case,
    Count,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone

from jianguan.core.bulk import bulk_insert
from jianguan.core.ids import uuid7
from jianguan.custody.api import HELD_STATUSES, Detainee
from jianguan.housing.api import Cell
from jianguan.outbox.api import event_append
from jianguan.risk.model import (
    Assessment,
    CellOccupant,
    Fact,
    Person,
    RiskModel,
    age_on,
    assess_cell,
    assess_person,
    what_moved,
)
from jianguan.risk.models import CellRisk, RiskChange, RiskFact, RiskOverride, RiskScore, Track
from jianguan.risk.scoring import (
    SYSTEM,
    Governing,
    Was,
    announce_person,
    case_severities,
    models_for,
)
from jianguan.rules.api import PackStatus, RulePack

Progress = Callable[[int, int], None]

PAGE = 2000

# Stored rows as tuples in this order; the key (person or cell, track) is always 1 and 2, the
# compared values sit between the key and `computed_at` (the last column, the version stamp).
SCORE_COLUMNS = (
    "id",
    "detainee_id",
    "track",
    "unit_id",
    "cell_id",
    "score",
    "computed_grade",
    "grade",
    "override_id",
    "factors",
    "confidence",
    "missing",
    "model_version",
    "model_origin",
    "computed_at",
)
CELL_COLUMNS = (
    "id",
    "cell_id",
    "track",
    "unit_id",
    "score",
    "grade",
    "factors",
    "occupants",
    "model_version",
    "computed_at",
)
CHANGE_COLUMNS = (
    "id",
    "unit_id",
    "detainee_id",
    "cell_id",
    "track",
    "at",
    "score",
    "grade",
    "from_score",
    "from_grade",
    "moved",
    "cause",
    "model_version",
)
_SCORE = {name: i for i, name in enumerate(SCORE_COLUMNS)}
_CELL = {name: i for i, name in enumerate(CELL_COLUMNS)}


# --- reading -----------------------------------------------------------------------------------


class Held(NamedTuple):
    """What scoring reads of a held person's record."""

    id: uuid.UUID
    unit_id: uuid.UUID
    unit_path: str
    cell_id: uuid.UUID | None
    birth_date: dt.date | None
    nationality: str
    case_nature: str
    legal_measure: str
    litigation_stage: str
    prior_custody: int | None  # earlier custodies by ID number; None without one


HELD_FIELDS = (
    "id",
    "unit_id",
    "unit__path",
    "cell_id",
    "birth_date",
    "nationality",
    "case_nature",
    "legal_measure",
    "litigation_stage",
    "prior",
)


def held_pages(unit_path: str = "", size: int = PAGE) -> Iterator[list[Held]]:
    """Everyone held under `unit_path`, a page at a time in id order (keyset, no OFFSET)."""
    people = Detainee.objects.filter(status__in=HELD_STATUSES)
    if unit_path:
        people = people.filter(unit__path__startswith=unit_path)
    rows = people.annotate(prior=_prior_custody()).order_by("id").values_list(*HELD_FIELDS)
    after: uuid.UUID | None = None
    while True:
        page = [Held(*row) for row in (rows.filter(id__gt=after) if after else rows)[:size]]
        if not page:
            return
        yield page
        after = page[-1].id


@dataclass(frozen=True)
class PersonInputs:
    stored: dict[tuple[uuid.UUID, str], tuple[Any, ...]]  # (person, track) → SCORE_COLUMNS
    facts: dict[uuid.UUID, list[Fact]]  # oldest first
    overrides: dict[uuid.UUID, tuple[uuid.UUID, str]]  # person → (override, grade)


def person_inputs(
    page: Sequence[Held], *, since: dt.datetime | None, now: dt.datetime
) -> PersonInputs:
    """Everything a page of people is scored from. The stored scores are read first: a score
    re-scored after this read is then newer than every fact read here, and is left alone."""
    ids = [p.id for p in page]
    stored = {
        (row[1], row[2]): row
        for row in RiskScore.objects.filter(_among("detainee_id", ids)).values_list(*SCORE_COLUMNS)
    }
    facts: dict[uuid.UUID, list[Fact]] = defaultdict(list)
    rows = RiskFact.objects.filter(_among("detainee_id", ids))
    if since is not None:
        rows = rows.filter(at__gte=since)
    for person, fact_id, kind, at, label in rows.order_by("detainee_id", "at", "id").values_list(
        "detainee_id", "id", "kind", "at", "label"
    ):
        facts[person].append(Fact(str(fact_id), kind, at, label))
    overrides: dict[uuid.UUID, tuple[uuid.UUID, str]] = {}
    for person, override_id, grade in (
        RiskOverride.objects.filter(
            _among("detainee_id", ids), ended_at__isnull=True, expires_at__gt=now
        )
        .order_by("decided_at")
        .values_list("detainee_id", "id", "grade")
    ):
        overrides[person] = (override_id, grade)  # the latest decision wins
    return PersonInputs(stored, facts, overrides)


def _prior_custody() -> Case:
    """scoring.prior_custody as a column: earlier stays of the same ID number on this node."""
    earlier = (
        Detainee.objects.filter(
            id_number=OuterRef("id_number"), admitted_at__lt=OuterRef("admitted_at")
        )
        .exclude(id=OuterRef("id"))
        .order_by()
        .annotate(n=Func(F("id"), function="COUNT"))
        .values("n")
    )
    return Case(
        When(id_number="", then=Value(None)),
        default=Subquery(earlier),
        output_field=IntegerField(null=True),
    )


def _among(field: str, ids: Collection[uuid.UUID]) -> Q:
    """`field IN ids`; on PostgreSQL as one uuid[] literal: two thousand placeholders cost more
    to build and parse than the query takes to run."""
    if connection.vendor == "postgresql":
        literal = "{" + ",".join(map(str, ids)) + "}"
        return Q(**{f"{field}__in": RawSQL("SELECT unnest(%s::uuid[])", (literal,))})
    return Q(**{f"{field}__in": ids})


class CellRow(NamedTuple):
    id: uuid.UUID
    unit_id: uuid.UUID
    unit_path: str
    unit_code: str
    number: str
    capacity: int


@dataclass(frozen=True)
class CellInputs:
    stored: dict[tuple[uuid.UUID, str], tuple[Any, ...]]  # (cell, track) → CELL_COLUMNS
    cells: list[CellRow]
    held: dict[uuid.UUID, int]
    occupants: dict[tuple[uuid.UUID, str], list[CellOccupant]]
    facts: dict[uuid.UUID, list[Fact]]


def cell_inputs(
    cell_ids: Sequence[uuid.UUID], *, since: Callable[[Iterable[str]], dt.datetime | None]
) -> CellInputs:
    """Everything a page of cells is scored from (stored rows first, as for people); `since`
    gives the oldest fact counted from the cells' unit paths."""
    stored = {
        (row[1], row[2]): row
        for row in CellRisk.objects.filter(_among("cell_id", cell_ids)).values_list(*CELL_COLUMNS)
    }
    cells = [
        CellRow(*row)
        for row in Cell.objects.filter(_among("id", cell_ids))
        .order_by("id")
        .values_list("id", "unit_id", "unit__path", "unit__code", "number", "capacity")
    ]
    held = dict(
        Detainee.objects.filter(_among("cell_id", cell_ids), status__in=HELD_STATUSES)
        .order_by()
        .values_list("cell_id")
        .annotate(n=Count("id"))
        .values_list("cell_id", "n")
    )
    occupants: dict[tuple[uuid.UUID, str], list[CellOccupant]] = defaultdict(list)
    for cell_id, track, person, name, score, grade in (
        RiskScore.objects.filter(
            _among("cell_id", cell_ids),
            detainee__status__in=HELD_STATUSES,
            detainee__cell_id=F("cell_id"),
        )
        .order_by("cell_id", "track", "detainee_id")
        .values_list("cell_id", "track", "detainee_id", "detainee__name", "score", "grade")
    ):
        occupants[(cell_id, track)].append(CellOccupant(str(person), name, score, grade))
    facts: dict[uuid.UUID, list[Fact]] = defaultdict(list)
    rows = RiskFact.objects.filter(_among("cell_id", cell_ids))
    oldest = since(c.unit_path for c in cells)
    if oldest is not None:
        rows = rows.filter(at__gte=oldest)
    for cell_id, fact_id, kind, at, label in rows.order_by("cell_id", "at", "id").values_list(
        "cell_id", "id", "kind", "at", "label"
    ):
        facts[cell_id].append(Fact(str(fact_id), kind, at, label))
    return CellInputs(stored, cells, held, occupants, facts)


def since_for(models_: Iterable[RiskModel], now: dt.datetime) -> dt.datetime | None:
    """The oldest fact any of these models counts (None: some fact never expires)."""
    oldest = now
    for model in models_:
        if model.longest_window_days is None:
            return None
        oldest = min(oldest, now - dt.timedelta(days=model.longest_window_days))
    return oldest


# --- one run ----------------------------------------------------------------------------------


@dataclass
class Run:
    """What stays the same for a whole run: the time, the models and the memos."""

    cause: str
    now: dt.datetime
    scope_code: str
    today: dt.date = field(init=False)
    id: uuid.UUID = field(default_factory=uuid7)
    severities: dict[str, int] = field(default_factory=case_severities)
    published: set[str] = field(init=False)
    _governing: dict[tuple[str, ...], Governing] = field(default_factory=dict)
    _static: dict[tuple[Any, ...], tuple[Assessment, list[dict[str, Any]]]] = field(
        default_factory=dict
    )
    _age_tests: dict[int, list[tuple[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.today = timezone.localtime(self.now).date()
        self.published = set(
            RulePack.objects.filter(
                kind="risk", status__in=[PackStatus.ACTIVE, PackStatus.SHADOW]
            ).values_list("unit_code", flat=True)
        )

    def governing(self, unit_path: str) -> Governing:
        """models_for(unit_path), asked once per distinct set of publishing units on the path."""
        key = tuple(code for code in unit_path.split("/") if code in self.published)
        found = self._governing.get(key)
        if found is None:
            found = self._governing[key] = models_for(unit_path)
        return found

    def since(self, paths: Iterable[str]) -> dt.datetime | None:
        governing = {id(g): g for g in map(self.governing, set(paths))}.values()
        return since_for((live.pack for g in governing for _, live in g.tracks()), self.now)

    def _age_key(self, model: RiskModel, person: Person) -> tuple[bool, ...] | None:
        """What the model's age factors make of the person's age (all it reads of the age)."""
        if person.birth_date is None:
            return None
        tests = self._age_tests.get(id(model))
        if tests is None:
            tests = [(f.test, f.value) for f in model.static if f.needs == "age"]
            self._age_tests[id(model)] = tests
        age = age_on(person.birth_date, self.today)
        return tuple(age < v if test == "age_below" else age >= v for test, v in tests)

    def assess(
        self, model: RiskModel, person: Person, facts: Sequence[Fact]
    ) -> tuple[Assessment, list[dict[str, Any]]]:
        """assess_person, remembered for people whom no fact counts: their score depends only on
        the record's inputs and which age thresholds they pass, which many people share."""
        days = model.longest_window_days
        if days is not None:
            since = self.now - dt.timedelta(days=days)
            facts = [f for f in facts if f.at >= since]
        if facts:
            result = assess_person(model, person, facts, self.now, self.today)
            return result, result.factors_json()
        key = (
            id(model),
            self._age_key(model, person),
            person.nationality,
            person.case_nature,
            person.legal_measure,
            person.litigation_stage,
            person.prior_custody,
        )
        found = self._static.get(key)
        if found is None:
            result = assess_person(model, person, (), self.now, self.today)
            found = self._static[key] = (result, result.factors_json())
        return found


@dataclass(frozen=True)
class Pending:
    """A row to write and what it replaces."""

    values: tuple[Any, ...]
    before: tuple[Any, ...] | None
    model: RiskModel

    @property
    def stamp(self) -> dt.datetime | None:
        return None if self.before is None else self.before[-1]


def rescore_all(
    unit_path: str = "",
    *,
    cause: str,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> int:
    """Re-score every person held under `unit_path` ("" = the whole node), then their cells;
    return how many people."""
    run = Run(cause, now or timezone.now(), unit_path.rstrip("/").rsplit("/", 1)[-1])
    total = 0
    if progress is not None:
        held = Detainee.objects.filter(status__in=HELD_STATUSES)
        if unit_path:
            held = held.filter(unit__path__startswith=unit_path)
        total = held.count()
    touched: dict[uuid.UUID, uuid.UUID] = {}  # cell → its unit, to re-score by facility
    done = 0
    with Writes() as writes:
        for page in held_pages(unit_path, PAGE):
            inputs = person_inputs(page, since=run.since(p.unit_path for p in page), now=run.now)
            writes.submit(partial(_store_people, run, _score_people(run, page, inputs, touched)))
            done += len(page)
            if progress is not None:
                progress(done, max(total, done))
        writes.drain()  # the cells are scored from the people's new scores
        rescore_cells(run, touched, units=touched, writes=writes)
    return done


class Writes:
    """Each page's writes in a transaction of its own. On PostgreSQL, unless the caller holds a
    transaction, they run in a thread on a second connection: the database writes one page
    while this process reads and scores the next, so both cores work."""

    def __init__(self) -> None:
        self._results: list[Any] = []
        self._error: BaseException | None = None
        self._queue: queue.Queue[Callable[[], Any] | None] | None = None
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self._queue = queue.Queue(maxsize=2)  # pages scored ahead of the writes
            self._thread = threading.Thread(target=self._work, name="risk-writes", daemon=True)
            self._thread.start()

    def __enter__(self) -> Writes:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._queue is not None:
            self._queue.put(None)
            self._thread.join()

    def submit(self, write: Callable[[], Any]) -> None:
        if self._queue is None:
            with transaction.atomic():
                self._results.append(write())
            return
        self._raise()
        self._queue.put(write)

    def drain(self) -> list[Any]:
        """Wait for the writes submitted so far; return their results."""
        if self._queue is not None:
            self._queue.join()
            self._raise()
        results, self._results = self._results, []
        return results

    def _raise(self) -> None:
        if self._error is not None:
            raise RuntimeError("风险重算的写入失败") from self._error

    def _work(self) -> None:
        assert self._queue is not None
        try:
            while (write := self._queue.get()) is not None:
                try:
                    if self._error is None:
                        with transaction.atomic():
                            self._results.append(write())
                except BaseException as exc:  # handed to the caller's thread
                    self._error = exc
                finally:
                    self._queue.task_done()
        finally:
            connections.close_all()  # this thread's own connection


def _score_people(
    run: Run, page: Sequence[Held], inputs: PersonInputs, touched: dict[uuid.UUID, uuid.UUID]
) -> list[Pending]:
    """Score a page in memory; return the rows that differ from what is stored."""
    pending: list[Pending] = []
    for p in page:
        governing = run.governing(p.unit_path)
        person = Person(
            birth_date=p.birth_date,
            nationality=p.nationality or None,
            case_nature=p.case_nature or None,
            case_severity=run.severities.get(p.case_nature),
            legal_measure=p.legal_measure or None,
            litigation_stage=p.litigation_stage or None,
            prior_custody=p.prior_custody,
        )
        override = inputs.overrides.get(p.id)
        facts = inputs.facts.get(p.id, [])
        if p.cell_id is not None:
            touched[p.cell_id] = p.unit_id
        for track, live in governing.tracks():
            model: RiskModel = live.pack
            result, factors = run.assess(model, person, facts)
            grade = result.grade.code
            override_id = None
            if track == Track.LIVE and override is not None:
                override_id = override[0]
                if model.grade(override[1]):
                    grade = override[1]
            before = inputs.stored.get((p.id, track))
            values = (
                before[0] if before else uuid7(),
                p.id,
                track,
                p.unit_id,
                p.cell_id,
                result.score,
                result.grade.code,
                grade,
                override_id,
                factors,
                result.confidence,
                list(result.missing),
                live.version,
                live.origin,
                run.now,
            )
            if before is not None:
                if before[4] is not None:
                    touched[before[4]] = before[3]
                if before[3:-1] == values[3:-1]:
                    continue
            pending.append(Pending(values, before, model))
    return pending


def _store_people(run: Run, pending: Sequence[Pending]) -> None:
    """Write a page's changed scores, their history, the grade-rise tasks and one summary
    event."""
    written = _upsert(RiskScore, SCORE_COLUMNS, pending)
    s = _SCORE
    changes: list[tuple[Any, ...]] = []
    rises: list[tuple[Pending, list[dict[str, Any]]]] = []
    moves: Counter[str] = Counter()
    for row in pending:
        v, before = row.values, row.before
        if v[0] not in written:
            continue
        was = Was(None, "", "", []) if before is None else _was(before, s)
        score, grade, version = v[s["score"]], v[s["grade"]], v[s["model_version"]]
        if was.score == score and was.grade == grade and was.model_version == version:
            continue
        moved = what_moved(was.factors, v[s["factors"]])
        changes.append(
            _change(run, v[s["unit_id"]], v[1], None, v[2], score, grade, was, moved, version)
        )
        if v[2] == Track.LIVE and was.grade != grade:
            moves[f"{was.grade or '-'}→{grade}"] += 1
            if was.grade and row.model.rank(grade) > row.model.rank(was.grade):
                rises.append((row, moved))
    bulk_insert(RiskChange, CHANGE_COLUMNS, changes)
    if written:
        event_append(
            actor=SYSTEM,
            type="risk.people_rescored",
            aggregate_type="risk_run",
            aggregate_id=run.id,
            unit_code=run.scope_code,
            payload={
                "cause": run.cause,
                "written": len(written),
                "changes": len(changes),
                "grades": dict(moves),
                "rises": len(rises),
            },
        )
    _rise(run, rises)


def _change(
    run: Run,
    unit_id: uuid.UUID,
    detainee_id: uuid.UUID | None,
    cell_id: uuid.UUID | None,
    track: str,
    score: float,
    grade: str,
    was: Was,
    moved: list[dict[str, Any]],
    version: str,
) -> tuple[Any, ...]:
    """A RiskChange row in CHANGE_COLUMNS order."""
    return (
        uuid7(),
        unit_id,
        detainee_id,
        cell_id,
        track,
        run.now,
        score,
        grade,
        was.score,
        was.grade,
        moved,
        run.cause[:100],
        version,
    )


def _was(before: tuple[Any, ...], index: dict[str, int]) -> Was:
    return Was(
        before[index["score"]],
        before[index["grade"]],
        before[index["model_version"]],
        list(before[index["factors"]]),
    )


def _rise(run: Run, rises: Sequence[tuple[Pending, list[dict[str, Any]]]]) -> None:
    """What a grade rise brings after any event: the 管教 task and the person's own event."""
    from jianguan.risk.duty_tasks import grade_rise_task

    if not rises:
        return
    ids = [row.values[1] for row, _ in rises]
    people = Detainee.objects.select_related("unit").in_bulk(ids)
    scores = {
        s.detainee_id: s for s in RiskScore.objects.filter(detainee_id__in=ids, track=Track.LIVE)
    }
    for row, moved in rises:
        detainee, score = people[row.values[1]], scores[row.values[1]]
        assert row.before is not None  # a rise has a grade before it
        was = _was(row.before, _SCORE)
        announce_person(detainee, score, was, moved, run.cause)
        grade_rise_task(
            detainee=detainee, score=score, was=was.grade, moved=moved, model=row.model, now=run.now
        )


# --- cells -------------------------------------------------------------------------------------


def rescore_cells(
    run: Run,
    cell_ids: Iterable[uuid.UUID],
    *,
    units: dict[uuid.UUID, uuid.UUID],
    writes: Writes,
) -> None:
    """Re-score cells in pages, grouped by facility so that each facility whose cells changed
    gets one event per page."""
    ordered = sorted(cell_ids, key=lambda c: (str(units.get(c, "")), c))
    for start in range(0, len(ordered), PAGE):
        inputs = cell_inputs(ordered[start : start + PAGE], since=run.since)
        writes.submit(partial(_store_cells, run, _score_cells(run, inputs)))
    writes.drain()


def _score_cells(run: Run, inputs: CellInputs) -> list[tuple[Pending, CellRow]]:
    pending: list[tuple[Pending, CellRow]] = []
    for cell in inputs.cells:
        facts = inputs.facts.get(cell.id, [])
        held = inputs.held.get(cell.id, 0)
        for track, live in run.governing(cell.unit_path).tracks():
            model: RiskModel = live.pack
            days = model.longest_window_days
            counted = facts
            if days is not None:
                since = run.now - dt.timedelta(days=days)
                counted = [f for f in facts if f.at >= since]
            result = assess_cell(
                model,
                occupants=inputs.occupants.get((cell.id, track), []),
                capacity=cell.capacity,
                facts=counted,
                now=run.now,
            )
            before = inputs.stored.get((cell.id, track))
            values = (
                before[0] if before else uuid7(),
                cell.id,
                track,
                cell.unit_id,
                result.score,
                result.grade.code,
                result.factors_json(),
                held,
                live.version,
                run.now,
            )
            if before is None or before[3:-1] != values[3:-1]:
                pending.append((Pending(values, before, model), cell))
    return pending


def _store_cells(run: Run, pending: Sequence[tuple[Pending, CellRow]]) -> None:
    written = _upsert(CellRisk, CELL_COLUMNS, [row for row, _ in pending])
    c = _CELL
    changes: list[tuple[Any, ...]] = []
    by_unit: dict[tuple[uuid.UUID, str], list[dict[str, Any]]] = defaultdict(list)
    for row, cell in pending:
        v, before = row.values, row.before
        if v[0] not in written:
            continue
        was = Was(None, "", "", []) if before is None else _was(before, c)
        score, grade = v[c["score"]], v[c["grade"]]
        if was.score == score and was.grade == grade:
            continue
        moved = what_moved(was.factors, v[c["factors"]])
        version = v[c["model_version"]]
        changes.append(
            _change(run, cell.unit_id, None, cell.id, v[2], score, grade, was, moved, version)
        )
        if v[2] == Track.LIVE:
            by_unit[(cell.unit_id, cell.unit_code)].append(
                {"cell": cell.number, "score": score, "grade": grade}
                | {"from_grade": was.grade or None, "occupants": v[c["occupants"]]}
            )
    bulk_insert(RiskChange, CHANGE_COLUMNS, changes)
    for (unit_id, unit_code), cells in by_unit.items():
        event_append(
            actor=SYSTEM,
            type="risk.cells_rescored",
            aggregate_type="unit",
            aggregate_id=unit_id,
            unit_code=unit_code,
            payload={"cause": run.cause, "cells": cells},
        )


# --- writing -----------------------------------------------------------------------------------


def _upsert(
    model: type[models.Model], columns: tuple[str, ...], rows: Sequence[Pending]
) -> set[uuid.UUID]:
    """Insert new rows and update changed ones whose stamp still matches; return the ids
    written. A row someone else re-scored since it was read, or first scored meanwhile, is
    theirs to keep."""
    if not rows:
        return set()
    if connection.vendor == "postgresql":
        return _upsert_postgres(model, columns, rows)
    updates = [r for r in rows if r.before is not None]
    stamps = dict(
        model._default_manager.filter(id__in=[r.values[0] for r in updates]).values_list(
            "id", "computed_at"
        )
    )
    fresh = [r.values for r in updates if stamps.get(r.values[0]) == r.stamp]
    inserts = [r.values for r in rows if r.before is None]
    key = columns[1]
    taken = set(
        model._default_manager.filter(**{f"{key}__in": {v[1] for v in inserts}}).values_list(
            key, "track"
        )
    )
    new = [v for v in inserts if (v[1], v[2]) not in taken]
    objects = [model(**dict(zip(columns, v, strict=True))) for v in fresh]
    model._default_manager.bulk_update(objects, columns[3:], batch_size=500)
    model._default_manager.bulk_create(
        [model(**dict(zip(columns, v, strict=True))) for v in new], batch_size=500
    )
    return {v[0] for v in fresh} | {v[0] for v in new}


_PG_TYPES: dict[type[models.Field[Any, Any]], str] = {
    models.UUIDField: "uuid",
    models.ForeignKey: "uuid",
    models.CharField: "varchar",
    models.FloatField: "float8",
    models.JSONField: "jsonb",
    models.DateTimeField: "timestamptz",
    models.PositiveSmallIntegerField: "int2",
}


def _upsert_postgres(
    model: type[models.Model], columns: tuple[str, ...], rows: Sequence[Pending]
) -> set[uuid.UUID]:
    """New rows by binary COPY straight into the table; changed rows, and new ones if someone
    scored one of them meanwhile, through a temporary table (_staged)."""
    written: set[uuid.UUID] = set()
    new = [r for r in rows if r.before is None]
    if new:
        try:
            # A savepoint: a clash undoes only this COPY (raised by the driver itself).
            with transaction.atomic(), connection.wrap_database_errors:
                bulk_insert(model, columns, [r.values for r in new])
            written |= {r.values[0] for r in new}
        except IntegrityError:
            written |= _staged(model, columns, new)
    changed = [r for r in rows if r.before is not None]
    return written | (_staged(model, columns, changed) if changed else set())


def _staged(
    model: type[models.Model], columns: tuple[str, ...], rows: Sequence[Pending]
) -> set[uuid.UUID]:
    """Binary COPY into a temporary table, then one UPDATE … FROM (where the stamp still
    matches) and one INSERT … ON CONFLICT DO NOTHING; return the ids written."""
    table = model._meta.db_table
    stage = f"{table}_stage"
    names = ", ".join(columns)
    fields: Any = [model._meta.get_field(c.removesuffix("_id")) for c in columns]
    types = [_PG_TYPES[type(f)] for f in fields]
    sets = ", ".join(f"{c} = t.{c}" for c in columns[3:])
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table}, was_at timestamptz)"
        )
        cursor.execute(f"DELETE FROM {stage}")  # noqa: S608 (names are ours)
        raw: Any = cursor.cursor  # the driver's own cursor (psycopg 3)
        with raw.copy(f"COPY {stage} ({names}, was_at) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([*types, "timestamptz"])
            for row in rows:
                copy.write_row((*row.values, row.stamp))
        cursor.execute(f"ANALYZE {stage}")  # a fresh temp table has no statistics
        cursor.execute(
            f"UPDATE {table} s SET {sets} FROM {stage} t"  # noqa: S608 (names are ours)
            " WHERE t.was_at IS NOT NULL AND s.id = t.id AND s.computed_at = t.was_at"
            " RETURNING s.id"
        )
        written = {r[0] for r in cursor.fetchall()}
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage}"  # noqa: S608
            f" WHERE was_at IS NULL ON CONFLICT ({columns[1]}, track) DO NOTHING RETURNING id"
        )
        written |= {r[0] for r in cursor.fetchall()}
    return written
