"""Events to scores: a behaviour record raises a person's score and grade, the cell follows, and a
grade rise gives the 管教 post a task at once."""

from __future__ import annotations

from typing import Any


def _live(detainee: Any) -> Any:
    from jianguan.risk.api import RiskScore, Track

    return RiskScore.objects.get(detainee_id=detainee.id, track=Track.LIVE)


def test_behaviour_record_raises_the_grade_and_opens_a_task(held, record, cells):
    from jianguan.duty.api import Task, TaskSource
    from jianguan.risk.api import CellRisk, RiskChange, rescore_person

    rescore_person(held.id, cause="收押入所")
    before = _live(held)
    assert (before.score, before.grade) == (18.0, "NORMAL")  # 放火: 严重 10 + 极严重 8
    assert {f["code"] for f in before.factors} == {"CASE_GRAVE", "CASE_GRAVEST"}

    rec = record("PATROL_ABNORMAL_BEHAVIOUR", held)

    after = _live(held)
    assert (after.score, after.grade) == (33.0, "LEVEL3")
    line = next(f for f in after.factors if f["code"] == "ABNORMAL_BEHAVIOUR")
    assert line["points"] == 15.0
    assert line["label"].startswith("异常行为")
    assert line["fact"]  # the explanation links the fact
    change = RiskChange.objects.filter(detainee_id=held.id).order_by("-at").first()
    assert (change.from_grade, change.grade) == ("NORMAL", "LEVEL3")
    assert change.moved[0]["code"] == "ABNORMAL_BEHAVIOUR"
    assert change.moved[0]["delta"] == 15.0
    rise = Task.objects.get(source=TaskSource.RISK, category="RISK_GRADE_RISE")
    assert rise.post_kind == "CUSTODIAN"
    assert rise.detainee_id == held.id
    assert "常规 → 三级风险" in rise.title
    assert "异常行为 +15" in rise.detail
    cell = CellRisk.objects.get(cell=cells["102"], track="LIVE")
    assert (cell.score, cell.grade) == (33.0, "LEVEL3")
    assert rec.task is not None  # the record's own task still goes to its handler


def test_redelivery_records_the_fact_once(held, record):
    from jianguan.outbox.api import deliver
    from jianguan.outbox.models import Consumption
    from jianguan.risk.api import RiskFact

    record("PATROL_ABNORMAL_BEHAVIOUR", held)
    Consumption.objects.filter(consumer="risk-from-events").delete()
    deliver()
    assert RiskFact.objects.filter(detainee_id=held.id).count() == 1
    assert _live(held).score == 33.0
