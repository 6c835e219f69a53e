"""Re-score on each kind of event: admission, legal events, movements, interrogations, cell moves,
a record about a cell, and a new model; people are admitted and moved through the custody services.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from jianguan.custody.api import (
    MovementKind,
    cell_assign,
    interrogation_end,
    interrogation_request,
    legal_event_record,
    movement_record,
)
from jianguan.outbox.api import deliver
from tests.custody.conftest import actor, admission_steps, admit, cells, fill, officers  # noqa: F401

pytestmark = pytest.mark.django_db


def _live(person: Any) -> Any:
    from jianguan.risk.api import RiskScore, Track

    return RiskScore.objects.filter(detainee_id=person.id, track=Track.LIVE).first()


def _codes(score: Any) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in score.factors:
        out[line["code"]] = round(out.get(line["code"], 0.0) + line["points"], 1)
    return out


@pytest.fixture
def placed(actor: Any, admit: Any, cells: dict[str, Any]) -> Any:  # noqa: F811
    person = admit()
    placed = cell_assign(actor=actor, detainee=person, cell_id=cells["T1"].id)
    deliver()
    return placed


def test_admission_scores_the_person_from_their_record(admit):  # noqa: F811
    from jianguan.risk.api import RiskChange

    person = admit()
    assert _live(person) is None  # scoring is the consumer's work
    deliver()
    score = _live(person)
    assert score is not None
    assert score.model_version == "2026.1"
    assert score.model_origin == "内置默认"
    assert score.confidence == 1.0  # the admission record has every input the model reads
    # Scored once, on the first event of the admission; the later ones changed nothing.
    assert RiskChange.objects.filter(detainee_id=person.id).count() == 1


def test_a_cell_assignment_rescores_both_cells(actor, placed, cells):  # noqa: F811
    from jianguan.risk.api import CellRisk

    assert CellRisk.objects.get(cell=cells["T1"], track="LIVE").occupants == 1
    cell_assign(
        actor=actor,
        detainee=placed,
        cell_id=cells["102"].id,
        override_reason="过渡监室需腾出床位，经值班所领导同意提前调整",
    )
    deliver()
    assert _live(placed).cell_id == cells["102"].id
    assert CellRisk.objects.get(cell=cells["T1"], track="LIVE").occupants == 0
    assert CellRisk.objects.get(cell=cells["102"], track="LIVE").occupants == 1


def test_a_legal_event_is_a_fact_with_its_points(actor, placed):  # noqa: F811
    before = _live(placed).score
    now = timezone.now()
    legal_event_record(
        actor=actor, detainee=placed, kind="ARREST_REQUESTED", at=now - dt.timedelta(minutes=50)
    )
    legal_event_record(
        actor=actor, detainee=placed, kind="ARREST_EXECUTED", at=now - dt.timedelta(minutes=40)
    )
    deliver()
    deliver()  # at least once: a second delivery changes nothing
    score = _live(placed)
    assert _codes(score)["BAD_NEWS"] == 12.0
    line = next(f for f in score.factors if f["code"] == "BAD_NEWS")
    assert line["label"] == "执行逮捕"
    assert score.score == before + 12.0


def test_a_hospital_visit_counts_and_a_release_ends_the_score(actor, placed, cells):  # noqa: F811
    from jianguan.risk.api import CellRisk, RiskChange

    movement_record(
        actor=actor,
        detainee=placed,
        kind=MovementKind.OUT_MEDICAL,
        destination="市第一人民医院",
        escort="陈收押、吴巡控",
    )
    deliver()
    assert _codes(_live(placed))["ILLNESS"] == 8.0
    movement_record(actor=actor, detainee=placed, kind=MovementKind.RETURN)
    movement_record(
        actor=actor,
        detainee=placed,
        kind=MovementKind.RELEASE,
        document_number="穗天公释字〔2026〕7号",
        reason="释放",
    )
    deliver()
    assert _live(placed) is None
    assert RiskChange.objects.filter(detainee_id=placed.id).exists()  # history stays
    assert CellRisk.objects.get(cell=cells["T1"], track="LIVE").occupants == 0


def test_the_end_of_an_interrogation_counts_for_a_day_or_two(officers, placed):  # noqa: F811
    from jianguan.org.api import actor_for

    officer = actor_for(officers["interrogation"])
    interrogation = interrogation_request(
        actor=officer,
        detainee=placed,
        warrant_number="穗公提字〔2026〕88号",
        case_unit="天河分局刑警大队",
        officers="张警官、李警官",
    )
    interrogation_end(actor=officer, interrogation=interrogation)
    deliver()
    assert _codes(_live(placed))["AFTER_INTERROGATION"] == 3.0


def test_a_record_about_a_cell_counts_for_the_cell(placed, cells, make_user):  # noqa: F811
    from jianguan.duty.api import info_record
    from jianguan.risk.api import CellRisk

    before = CellRisk.objects.get(cell=cells["T1"], track="LIVE").score
    patrol = make_user("gz_xunkong2", "PATROL", full_name="钱巡控")
    info_record(
        user=patrol, category="PATROL_EMERGENCY", text="两人在监室内打架", cell_id=cells["T1"].id
    )
    deliver()
    cell = CellRisk.objects.get(cell=cells["T1"], track="LIVE")
    assert cell.score == before + 20.0  # 监室近期发生事件
    assert any(f["code"] == "RECENT_INCIDENT" for f in cell.factors)
    assert _codes(_live(placed)).get("EMERGENCY") is None  # nobody was named


def test_publishing_a_model_rescores_the_facility(
    placed, tree, django_capture_on_commit_callbacks, monkeypatch
):
    """A facility's own version applies to its people once the re-score it triggers has run."""
    from huey.contrib.djhuey import HUEY

    from jianguan.core.actor import Actor
    from jianguan.risk.model import BUILTIN_PATH
    from jianguan.rules.api import pack_publish

    monkeypatch.setattr(HUEY, "immediate", True)
    text = BUILTIN_PATH.read_text(encoding="utf-8").replace(
        'version: "2026.1"', 'version: "2026.1-gz"'
    )
    with django_capture_on_commit_callbacks(execute=True):
        pack_publish(actor=Actor.system("test"), kind="risk", text=text, unit_code="440100K01")
    with django_capture_on_commit_callbacks(execute=True):
        deliver()
    score = _live(placed)
    assert score.model_version == "2026.1-gz"
    assert score.model_origin not in ("", "内置默认")


def test_a_shadow_model_is_scored_beside_and_decides_nothing(placed, record_fact):
    from jianguan.core.actor import Actor
    from jianguan.duty.api import Task, TaskSource
    from jianguan.risk.api import RiskScore, Track
    from jianguan.risk.model import BUILTIN_PATH
    from jianguan.rules.api import pack_publish

    # The trial model warns far earlier: 一级 from 15 points.
    text = (
        BUILTIN_PATH.read_text(encoding="utf-8")
        .replace('version: "2026.1"', 'version: "2026.1-trial"')
        .replace("min_score: 25", "min_score: 5")
        .replace("min_score: 45", "min_score: 10")
        .replace("min_score: 70", "min_score: 15")
    )
    pack_publish(
        actor=Actor.system("test"), kind="risk", text=text, unit_code="440100K01", shadow=True
    )
    was = RiskScore.objects.get(detainee_id=placed.id, track=Track.LIVE).grade
    record_fact(placed, "manual.FAMILY_EVENT")
    live = RiskScore.objects.get(detainee_id=placed.id, track=Track.LIVE)
    shadow = RiskScore.objects.get(detainee_id=placed.id, track=Track.SHADOW)
    assert (live.model_version, shadow.model_version) == ("2026.1", "2026.1-trial")
    assert live.score == shadow.score
    assert live.score >= 15
    assert shadow.grade == "LEVEL1"
    assert live.grade != "LEVEL1"
    # Only a rise of the live grade opens a task; the shadow's rise opens none.
    rises = Task.objects.filter(source=TaskSource.RISK).count()
    assert rises == (1 if live.grade != was else 0)


@pytest.fixture
def record_fact(officers: dict[str, Any]) -> Any:  # noqa: F811
    from jianguan.org.api import actor_for
    from jianguan.risk.api import fact_record

    def run(person: Any, kind: str, **kw: Any) -> Any:
        at = kw.pop("at", timezone.now())
        return fact_record(
            actor=actor_for(officers["leader"]), detainee=person, kind=kind, at=at, **kw
        )

    return run
