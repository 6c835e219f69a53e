"""The bulk re-score leaves exactly the rows that re-scoring each person one by one leaves, writes
nothing when nothing changed, and still turns a grade rise into one task for 管教."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

NOW = timezone.now().replace(microsecond=0)
DAY = dt.timedelta(days=1)
REASON = "家属来信告知其母病危，本人情绪低落，需提高管控等级"


def _pack(version: str, *changes: tuple[str, str]) -> str:
    from jianguan.risk.model import BUILTIN_PATH

    text = BUILTIN_PATH.read_text(encoding="utf-8").replace(
        'version: "2026.1"', f'version: "{version}"'
    )
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    return text


# 深圳一看's own model: every fact fades out within a year (so facts older than that are not
# even read), and 三级 starts at 20 points.
SZ_WINDOWS = (
    ("manual.INTELLECTUAL_DISABILITY], max_points: 15}", "manual.INTELLECTUAL_DISABILITY]}"),
    ("facts: [manual.SUICIDE_HISTORY], max_points: 20}", "facts: [manual.SUICIDE_HISTORY]}"),
    (
        'name: "精神疾病或智力障碍", points: 15,',
        'name: "精神疾病或智力障碍", points: 15, window_days: 365,',
    ),
    (
        'name: "有自杀、自伤史", points: 20,',
        'name: "有自杀、自伤史", points: 20, window_days: 365,',
    ),
    ("min_score: 25", "min_score: 20"),
)


@pytest.fixture
def population(tree, make_detainee, staff) -> dict[str, Any]:
    """Three facilities under two models (深圳一看 its own), a trial model for 广州's
    facilities, overrides live and expired, facts inside and outside the windows, a person
    without a birth date, one out of the facility, and earlier custodies by ID number."""
    from jianguan.core.actor import Actor
    from jianguan.housing.api import Cell, CellGender
    from jianguan.org.api import actor_for
    from jianguan.risk.api import RiskFact, override_grant
    from jianguan.rules.api import pack_publish

    system = Actor.system("test")
    pack_publish(
        actor=system, kind="risk", text=_pack("2026.1-sz", *SZ_WINDOWS), unit_code="440300K01"
    )
    trial = _pack(
        "2026.1-trial", ("min_score: 25", "min_score: 15"), ("min_score: 45", "min_score: 30")
    )
    pack_publish(actor=system, kind="risk", text=trial, unit_code="440100", shadow=True)

    def cell(unit: str, number: str, capacity: int = 12) -> Any:
        return Cell.objects.create(
            unit=tree[unit], number=number, gender=CellGender.MALE, capacity=capacity
        )

    cells = {
        "101": cell("gz_k", "101", capacity=2),
        "102": cell("gz_k", "102"),
        "103": cell("gz_k", "103"),
        "j1": cell("gz_j", "J1"),
        "s1": cell("sz_k", "S1"),
        "s2": cell("sz_k", "S2"),
    }
    born = NOW.date().replace(year=NOW.year - 30)
    people = {
        # 放火 (severity 5), no birth date; behaviour records inside and outside the window
        "a": make_detainee("gz_k", name="甲", case_nature="0201", cell=cells["101"]),
        "b": make_detainee(
            "gz_k",
            name="乙",
            case_nature="0207",
            birth_date=NOW.date().replace(year=NOW.year - 16),
            cell=cells["101"],
        ),
        # foreign, over 70, facing trial, held twice before under the same passport
        "c": make_detainee(
            "gz_k",
            name="丙",
            case_nature="0402",
            nationality="USA",
            id_number="P1234567",
            birth_date=NOW.date().replace(year=NOW.year - 75),
            litigation_stage="31",
            cell=cells["101"],
        ),
        "d": make_detainee(
            "gz_k", name="丁", case_nature="0401", birth_date=born, cell=cells["102"]
        ),
        "e": make_detainee(
            "gz_k", name="戊", case_nature="0204", birth_date=born, cell=cells["102"]
        ),
        "f": make_detainee(
            "gz_k", name="己", case_nature="0301", birth_date=born, status="OUT_TEMPORARILY"
        ),
        "h": make_detainee(
            "gz_j", name="庚", case_nature="0208", birth_date=born, cell=cells["j1"]
        ),
        "i": make_detainee(
            "gz_j",
            name="辛",
            case_nature="0208",
            birth_date=born,
            litigation_stage="33",
            cell=cells["j1"],
        ),
        "j": make_detainee(
            "sz_k", name="壬", case_nature="0201", birth_date=born, cell=cells["s1"]
        ),
        "k": make_detainee("sz_k", name="癸", case_nature="0402", cell=cells["s1"]),
        "l": make_detainee(
            "sz_k", name="子", case_nature="0404", birth_date=born, cell=cells["s2"]
        ),
    }
    for unit, years in (("gz_k", 3), ("sz_k", 2)):
        make_detainee(
            unit,
            name="丙",
            id_number="P1234567",
            status="RELEASED",
            admitted_at=NOW - dt.timedelta(days=365 * years),
            left_at=NOW - dt.timedelta(days=300),
        )

    def fact(person: str | None, kind: str, days: float, *, cell: str | None = None) -> None:
        who = people[person] if person else None
        RiskFact.objects.create(
            unit=who.unit if who else cells[cell].unit,
            detainee=who,
            cell=who.cell if who else cells[cell],
            kind=kind,
            label=kind,
            at=NOW - dt.timedelta(days=days),
            recorded_at=NOW,
            recorded_by="test",
        )

    fact("a", "duty.PATROL_ABNORMAL_BEHAVIOUR", 2)
    fact("a", "duty.PATROL_ABNORMAL_BEHAVIOUR", 40)  # outside its 30-day window
    fact("e", "manual.SUICIDE_HISTORY", 400)  # never fades under the default model
    fact("e", "duty.PATROL_EMERGENCY", 5)
    fact("e", "duty.PATROL_EMERGENCY", 5.5)  # the two pass the cap of 45
    fact("f", "manual.FAMILY_EVENT", 1)
    fact("h", "interrogation.ENDED", 1)
    fact("j", "manual.FAMILY_EVENT", 3)
    fact("j", "manual.SUICIDE_HISTORY", 400)  # outside every window of 深圳's model
    fact("l", "incident.VIOLENCE", 10)
    fact(None, "incident.SELF_HARM", 4, cell="s2")  # the cell's own fact
    leader = actor_for(staff["leader"])
    override_grant(
        actor=leader, detainee=people["d"], grade="LEVEL2", reason=REASON, days=7, now=NOW - DAY
    )
    override_grant(
        actor=leader,
        detainee=people["e"],
        grade="LEVEL3",
        reason=REASON,
        days=3,
        now=NOW - 10 * DAY,
    )  # expired: the model's grade applies again
    return {"people": people, "cells": cells}


def _rows() -> dict[str, dict[tuple[str, str], tuple[Any, ...]]]:
    """Every stored person and cell score, without the time it was computed."""
    from jianguan.risk.api import CellRisk, RiskScore

    people = {
        (str(s.detainee_id), s.track): (
            s.unit_id,
            s.cell_id,
            s.score,
            s.computed_grade,
            s.grade,
            s.override_id,
            s.factors,
            s.confidence,
            s.missing,
            s.model_version,
            s.model_origin,
        )
        for s in RiskScore.objects.all()
    }
    cells = {
        (str(c.cell_id), c.track): (
            c.unit_id,
            c.score,
            c.grade,
            c.factors,
            c.occupants,
            c.model_version,
        )
        for c in CellRisk.objects.all()
    }
    return {"people": people, "cells": cells}


def _one_by_one(now: dt.datetime) -> None:
    from jianguan.custody.api import HELD_STATUSES, Detainee
    from jianguan.risk.api import rescore_person

    for person in Detainee.objects.filter(status__in=HELD_STATUSES).order_by("id"):
        rescore_person(person.id, cause="逐人重算", now=now)


@pytest.mark.parametrize("page", [3, 2000])
def test_bulk_rows_equal_rescoring_each_person(population, page, monkeypatch):
    from jianguan.core.actor import Actor
    from jianguan.risk import full
    from jianguan.risk.api import rescore_all
    from jianguan.rules.api import pack_publish

    monkeypatch.setattr(full, "PAGE", page)  # several pages of people and of cells, or one
    assert rescore_all(cause="全量重算", now=NOW) == 11
    bulk = _rows()
    _one_by_one(NOW)
    assert _rows() == bulk

    people, cells = bulk["people"], bulk["cells"]
    assert len(people) == 11 + 8  # 广州's eight people are scored under the trial model too
    d = people[(str(population["people"]["d"].id), "LIVE")]
    assert d[3:5] == ("NORMAL", "LEVEL2")
    assert d[5] is not None
    e = people[(str(population["people"]["e"].id), "LIVE")]
    assert (e[2], e[4], e[5]) == (75.0, "LEVEL1", None)  # the expired override does not
    j = people[(str(population["people"]["j"].id), "LIVE")]
    assert j[9] == "2026.1-sz"
    assert j[4] == "LEVEL3"
    assert {f["code"] for f in j[6]} == {"CASE_GRAVE", "CASE_GRAVEST", "BAD_NEWS"}
    k = people[(str(population["people"]["k"].id), "LIVE")]
    assert k[7] < 1
    assert "出生日期（年龄）" in k[8]
    c = people[(str(population["people"]["c"].id), "LIVE")]
    assert {"FOREIGN", "ELDERLY", "FACING_TRIAL", "PRIOR_CUSTODY"} <= {f["code"] for f in c[6]}
    assert cells[(str(population["cells"]["101"].id), "LIVE")][4] == 3  # crowded: 3 in 2 places
    assert (str(population["cells"]["j1"].id), "SHADOW") in cells

    # A person moves cell and 深圳 publishes new points: both cells and the new model follow.
    from jianguan.custody.api import Detainee

    Detainee.objects.filter(id=population["people"]["b"].id).update(cell=population["cells"]["103"])
    harsher = _pack(
        "2026.2-sz",
        *SZ_WINDOWS,
        (
            "points: 10, when: {case_severity_at_least: 4}",
            "points: 16, when: {case_severity_at_least: 4}",
        ),
    )
    pack_publish(actor=Actor.system("test"), kind="risk", text=harsher, unit_code="440300K01")
    later = NOW + dt.timedelta(hours=1)
    rescore_all(cause="模型发布", now=later)
    bulk = _rows()
    _one_by_one(later)
    assert _rows() == bulk
    assert bulk["people"][(str(population["people"]["l"].id), "LIVE")][9] == "2026.2-sz"
    assert bulk["cells"][(str(population["cells"]["103"].id), "LIVE")][4] == 1


def test_a_second_run_writes_nothing(population):
    from jianguan.outbox.models import Event
    from jianguan.risk.api import RiskChange, RiskScore, rescore_all

    rescore_all(cause="全量重算", now=NOW)
    changes, events = RiskChange.objects.count(), Event.objects.count()
    stamps = set(RiskScore.objects.values_list("id", "computed_at"))

    with CaptureQueriesContext(connection) as queries:
        assert rescore_all(cause="全量重算", now=NOW) == 11

    writes = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert [w for w in writes if "risk_" in w or "outbox_" in w] == []
    assert (RiskChange.objects.count(), Event.objects.count()) == (changes, events)
    assert set(RiskScore.objects.values_list("id", "computed_at")) == stamps


def test_first_scores_are_history_and_one_event_per_page(population):
    from jianguan.outbox.models import Event
    from jianguan.risk.api import RiskChange, RiskScore, rescore_all

    RiskScore.objects.all().delete()
    RiskChange.objects.all().delete()
    before = Event.objects.count()

    rescore_all(cause="全量重算", now=NOW)

    assert RiskChange.objects.filter(detainee__isnull=False, from_score=None).count() == 19
    types = list(Event.objects.order_by("recorded_at", "id").values_list("type", flat=True))
    new = types[before:]
    assert new.count("risk.people_rescored") == 1  # one page, one summary; none per person
    assert set(new) == {"risk.people_rescored", "risk.cells_rescored"}
    assert new.count("risk.cells_rescored") == 3  # one per facility whose cells changed
    summary = Event.objects.get(type="risk.people_rescored")
    assert summary.payload["written"] == 19
    assert summary.payload["rises"] == 0


def test_a_grade_rise_opens_one_task_and_the_cell_follows(held, cells):
    from jianguan.duty.api import Task, TaskSource
    from jianguan.outbox.models import Event
    from jianguan.risk.api import CellRisk, RiskFact, RiskScore, rescore_all

    rescore_all(cause="全量重算", now=NOW)
    assert RiskScore.objects.get(detainee_id=held.id, track="LIVE").grade == "NORMAL"
    RiskFact.objects.create(
        unit=held.unit,
        detainee=held,
        cell=held.cell,
        kind="duty.PATROL_ABNORMAL_BEHAVIOUR",
        label="异常行为：凌晨在监室内来回走动",
        at=NOW - dt.timedelta(hours=1),
        recorded_at=NOW,
        recorded_by="test",
    )

    later = NOW + dt.timedelta(minutes=5)
    rescore_all(cause="定时重算", now=later)
    rescore_all(cause="定时重算", now=later)

    score = RiskScore.objects.get(detainee_id=held.id, track="LIVE")
    assert (score.grade, score.score) == ("LEVEL3", 32.9)
    rise = Task.objects.get(source=TaskSource.RISK, category="RISK_GRADE_RISE")
    assert rise.detainee_id == held.id
    assert "常规 → 三级风险" in rise.title
    assert Event.objects.filter(type="risk.person_scored", aggregate_id=str(held.id)).count() == 1
    cell = CellRisk.objects.get(cell=cells["102"], track="LIVE")
    assert (cell.grade, cell.score) == ("LEVEL3", 32.9)
    board = Event.objects.filter(type="risk.cells_rescored", unit_code="440100K01").last()
    assert {"cell": "102", "grade": "LEVEL3", "from_grade": "NORMAL"}.items() <= board.payload[
        "cells"
    ][0].items()


@pytest.mark.django_db(transaction=True)
def test_writes_beside_the_reading_leave_the_same_rows(population, monkeypatch):
    """Outside a caller's transaction, PostgreSQL writes each page on a second connection while
    the next page is read and scored: the rows are still those of re-scoring each person."""
    from jianguan.risk import full
    from jianguan.risk.api import rescore_all

    monkeypatch.setattr(full, "PAGE", 3)
    writers: list[str] = []
    store = full._store_people

    def noted(*args: Any) -> Any:
        writers.append(threading.current_thread().name)
        return store(*args)

    monkeypatch.setattr(full, "_store_people", noted)
    assert rescore_all(cause="全量重算", now=NOW) == 11
    bulk = _rows()
    _one_by_one(NOW)
    assert _rows() == bulk
    assert len(bulk["people"]) == 19
    assert len(writers) == 4  # 11 people in pages of 3
    assert set(writers) == {"risk-writes" if connection.vendor == "postgresql" else "MainThread"}


def test_a_person_rescored_during_the_run_keeps_that_score(population, monkeypatch):
    """An event re-scores two people after the run read them (one never scored before, one
    already scored): the run leaves both rows as the event wrote them, with no history of its
    own, and writes everyone else."""
    from jianguan.risk import full
    from jianguan.risk.api import RiskChange, RiskScore, rescore_all, rescore_person

    people = population["people"]
    RiskScore.objects.filter(detainee_id=people["a"].id).delete()
    assert RiskScore.objects.filter(detainee_id=people["d"].id).exists()
    meanwhile = NOW + dt.timedelta(minutes=1)
    read = full.person_inputs

    def read_then_event(*args: Any, **kwargs: Any) -> Any:
        inputs = read(*args, **kwargs)
        for who in ("a", "d"):
            rescore_person(people[who].id, cause="事件", now=meanwhile)
        return inputs

    monkeypatch.setattr(full, "person_inputs", read_then_event)
    rescore_all(cause="全量重算", now=NOW)

    stamps = dict(RiskScore.objects.filter(track="LIVE").values_list("detainee_id", "computed_at"))
    assert stamps.pop(people["a"].id) == stamps.pop(people["d"].id) == meanwhile
    assert set(stamps.values()) == {NOW}
    ran = RiskChange.objects.filter(cause="全量重算", detainee__isnull=False)
    assert not ran.filter(detainee_id__in=[people["a"].id, people["d"].id]).exists()
    assert ran.filter(track="LIVE").count() == 9
