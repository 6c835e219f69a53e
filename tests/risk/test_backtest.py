"""The backtest on a small hand-made history whose figures are worked out by hand.

The model `bt.1` has two grades (常规 below 10 points, 高风险 from 10) and two dynamic factors:
a counsellor's finding (manual.COUNSELLING, 10 points for 3 days) and an incident (10 points for
1 day). Evaluations run at local midnight, 2025-03-01 … 03-20, horizon 5 days. Four people, held
throughout (80 person-days):

- 甲: finding 03-03 12:00 → 高风险 on 03-04, 05, 06; 自伤 03-08 06:00 → 高风险 on 03-09.
  The 03-04…06 warnings precede the incident (3 hits); the first is 4 d 6 h = 102 h before it.
  The 03-09 warning comes from the incident itself and precedes nothing.
- 乙: finding 03-10 12:00 → 03-11, 12, 13 (nothing follows); finding 03-17 12:00 → 03-18, 19, 20,
  followed by 暴力 03-22 08:00: 3 hits, but that incident is after the period (no recall).
- 丙: 暴力 03-15 20:00 with no warning before (missed) → 高风险 on 03-16.
- 丁: finding 03-01 12:00 → 03-02, 03, 04 (too early for the incident); finding 03-09 12:00 →
  03-10, 11, 12, then 自伤 03-12 10:00 (3 hits; first warning in the window 58 h before) →
  高风险 on 03-13.

高风险: 18 warning days, 9 hits → precision 50%; incidents in the period 3, warned 2 → recall
2/3 (自伤 2/2, 暴力 0/1); leads 58 h and 102 h → median 80 h, P25 69 h, P75 91 h.
All person-days: 80, of which 18 are followed by an incident within 5 days (甲 03-04…08, 乙
03-18…20, 丙 03-11…15, 丁 03-08…12) → base rate 22.5%, lift 50 / 22.5 = 2.2.
"""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.utils import timezone

MODEL = """
kind: risk
version: "bt.1"
title: "回测测试模型"
grades:
  - {code: NORMAL, name: "常规", colour: "#2f6fb0", min_score: 0, measures: {patrol_minutes: 60}}
  - {code: HIGH, name: "高风险", colour: "#c8102e", min_score: 10, measures: {patrol_minutes: 15}}
dynamic:
  - {code: FINDING, name: "心理咨询发现问题", points: 10, facts: [manual.COUNSELLING], window_days: 3}
  - {code: INCIDENT, name: "发生过事件", points: 10, facts: ["incident.*"], window_days: 1}
"""

START, END = dt.date(2025, 3, 1), dt.date(2025, 3, 20)
ADMITTED = (2025, 1, 1, 9, 0)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=timezone.get_current_timezone())


HISTORY: dict[str, list[tuple[str, dt.datetime]]] = {
    "甲": [
        ("manual.COUNSELLING", local(2025, 3, 3, 12)),
        ("incident.SELF_HARM", local(2025, 3, 8, 6)),
    ],
    "乙": [
        ("manual.COUNSELLING", local(2025, 3, 10, 12)),
        ("manual.COUNSELLING", local(2025, 3, 17, 12)),
        ("incident.VIOLENCE", local(2025, 3, 22, 8)),
    ],
    "丙": [("incident.VIOLENCE", local(2025, 3, 15, 20))],
    "丁": [
        ("manual.COUNSELLING", local(2025, 3, 1, 12)),
        ("manual.COUNSELLING", local(2025, 3, 9, 12)),
        ("incident.SELF_HARM", local(2025, 3, 12, 10)),
    ],
}


def _version() -> Any:
    from jianguan.risk.backtest import ModelVersion
    from jianguan.risk.model import parse_model

    return ModelVersion("bt.1", "测试", parse_model(yaml.safe_load(MODEL)))


def _stays() -> list[Any]:
    from jianguan.risk.backtest import Stay
    from jianguan.risk.model import Fact, Person

    nobody = Person(None, None, None, None, None, None, None)
    return [
        Stay(
            detainee_id=name,
            person=nobody,
            admitted_at=local(*ADMITTED),
            left_at=None,
            facts=tuple(Fact(f"{name}{i}", kind, at) for i, (kind, at) in enumerate(facts)),
        )
        for name, facts in HISTORY.items()
    ]


def _period(observed_until: dt.datetime) -> Any:
    from jianguan.risk.backtest import Period

    return Period(START, END, dt.timedelta(days=5), observed_until)


# --- the pure backtest -------------------------------------------------------------------------


def test_figures_per_grade_match_the_hand_count() -> None:
    from jianguan.risk.backtest import backtest

    (result,) = backtest([_version()], _stays(), _period(local(2025, 6, 1)))
    base, high = result.grades
    assert (base.code, high.code) == ("NORMAL", "HIGH")
    assert result.incidents == {"incident.SELF_HARM": 2, "incident.VIOLENCE": 1}
    assert (base.warnings, base.judged, base.hits) == (80, 80, 18)
    assert base.precision == pytest.approx(0.225)
    assert (high.warnings, high.judged, high.hits) == (18, 18, 9)
    assert high.precision == 0.5
    assert result.lift(high) == pytest.approx(0.5 / 0.225)
    assert result.recall(high) == pytest.approx(2 / 3)
    assert result.recall(base) == 1.0
    assert result.recall(high, "incident.SELF_HARM") == 1.0
    assert result.recall(high, "incident.VIOLENCE") == 0.0
    assert sorted(high.leads) == [58.0, 102.0]
    assert (high.lead(0.5), high.lead(0.25), high.lead(0.75)) == (80.0, 69.0, 91.0)
    assert base.leads == []  # no lead time for the baseline


def test_days_whose_horizon_passes_the_end_of_the_record_are_not_judged() -> None:
    """With the record ending at the period's end, warnings after 03-16 cannot be judged: 乙's
    three hits of 03-18…20 drop out of precision; recall is unchanged."""
    from jianguan.risk.backtest import backtest

    (result,) = backtest([_version()], _stays(), _period(local(2025, 3, 21)))
    base, high = result.grades
    assert (high.warnings, high.judged, high.hits) == (18, 15, 6)
    assert (base.warnings, base.judged) == (80, 64)
    assert result.recall(high) == pytest.approx(2 / 3)


def test_a_fact_counts_only_from_the_evaluation_after_it() -> None:
    """A finding recorded exactly at midnight is not seen by that midnight's evaluation; an
    incident makes its person 高风险 afterwards but is never its own warning."""
    from jianguan.risk.backtest import Stay, backtest, midnights, replay
    from jianguan.risk.model import Fact, Person

    version = _version()
    stay = Stay(
        "x",
        Person(None, None, None, None, None, None, None),
        local(*ADMITTED),
        None,
        (
            Fact("f", "manual.COUNSELLING", local(2025, 3, 2)),
            Fact("i", "incident.ESCAPE_ATTEMPT", local(2025, 3, 10, 3)),
        ),
    )
    moments = midnights(START, END)
    high = [moments[i].day.day for i, a in replay(version.model, stay, moments) if a.grade.rank]
    assert high == [3, 4, 5, 11]  # ages 1, 2, 3 days; then 21 h after the incident
    (result,) = backtest([version], [stay], _period(local(2025, 6, 1)))
    assert result.recall(result.grades[1]) == 0.0


def test_people_count_only_while_held() -> None:
    from jianguan.risk.backtest import backtest

    stays = _stays()
    first = stays[0]
    left = type(first)(
        first.detainee_id,
        first.person,
        local(2025, 3, 5, 10),  # admitted after the 03-05 evaluation
        local(2025, 3, 10, 9),  # released before the 03-11 evaluation
        first.facts,
    )
    (result,) = backtest([_version()], [left], _period(local(2025, 6, 1)))
    base, high = result.grades
    assert base.warnings == 5  # 03-06 … 03-10
    assert high.warnings == 2  # 03-06 and 03-09
    assert high.hits == 1  # 03-06, before the 03-08 incident


# --- on the database, through the command ------------------------------------------------------


@pytest.fixture
def history(tree: dict[str, Any], make_detainee: Any) -> dict[str, Any]:
    """The same history recorded by hand through fact_record, and `bt.1` published on trial."""
    from jianguan.core.actor import Actor
    from jianguan.risk.api import fact_record
    from jianguan.rules.api import pack_publish

    actor = Actor.system("test")
    pack_publish(actor=actor, kind="risk", text=MODEL, unit_code="440100K01", shadow=True)
    people = {}
    for name, facts in HISTORY.items():
        person = make_detainee(name=name, admitted_at=local(*ADMITTED), status="IN_CUSTODY")
        for kind, at in facts:
            fact_record(actor=actor, detainee=person, kind=kind, at=at)
        people[name] = person
    return people


def _run(*args: str) -> str:
    out = StringIO()
    call_command("risk", "backtest", *args, stdout=out)
    return out.getvalue()


PERIOD_ARGS = ("--unit", "440100K01", "--from", "2025-03-01", "--to", "2025-03-20")


@pytest.mark.django_db
def test_command_prints_the_figures(history: dict[str, Any]) -> None:
    out = _run("--model", "bt.1", *PERIOD_ARGS, "--horizon-days", "5")
    lines = out.splitlines()
    assert "2025-03-01 至 2025-03-20" in lines[0]
    assert "预警期 5 天" in lines[0]
    assert "模型 bt.1（440100K01" in lines[1]
    assert "评估 80 人日，期间事件 3 起" in lines[1]
    assert "自伤自残 2" in lines[1]
    base = next(line for line in lines if "全部人日（基准）" in line).split()
    assert base[2:8] == ["80", "18", "22.5%", "1.0×", "3/3", "100.0%"]
    high = next(line for line in lines if line.startswith("bt.1  ≥ 高风险")).split()
    assert high[3:] == ["18", "9", "50.0%", "2.2×", "2/3", "66.7%", "3.3", "2.9", "3.8"]
    by_kind = [line for line in lines if "≥ 高风险" in line][-1]
    assert "2/2 100.0%" in by_kind
    assert "0/1 0.0%" in by_kind


@pytest.mark.django_db
def test_command_json_and_two_versions_side_by_side(history: dict[str, Any]) -> None:
    out = _run(
        "--model", "bt.1", "--model", "2026.1", *PERIOD_ARGS, "--horizon-days", "5", "--json"
    )
    data = json.loads(out)
    assert [m["version"] for m in data["models"]] == ["bt.1", "2026.1"]
    assert data["models"][1]["origin"] == "内置默认"
    mine = data["models"][0]
    assert mine["incidents"] == {"incident.SELF_HARM": 2, "incident.VIOLENCE": 1}
    high = mine["grades"][1]
    assert high["code"] == "HIGH"
    assert not high["baseline"]
    assert (high["judged_person_days"], high["followed_by_incident"]) == (18, 9)
    assert high["precision"] == 0.5
    assert high["recall"] == pytest.approx(2 / 3)
    assert high["lead_hours"] == {"median": 80.0, "p25": 69.0, "p75": 91.0, "count": 2}
    assert high["by_kind"]["incident.VIOLENCE"] == {"incidents": 1, "warned": 0, "recall": 0.0}
    builtin = data["models"][1]
    assert [g["code"] for g in builtin["grades"]] == ["NORMAL", "LEVEL3", "LEVEL2", "LEVEL1"]
    assert builtin["grades"][0]["person_days"] == 80  # the same history, the same people
    table = _run("--model", "bt.1", "--model", "2026.1", *PERIOD_ARGS)
    assert "bt.1    ≥ 高风险" in table
    assert "2026.1  ≥ 三级风险" in table


@pytest.mark.django_db
def test_unknown_version_lists_the_known_ones(history: dict[str, Any]) -> None:
    with pytest.raises(CommandError, match=r"没有风险模型版本 9\.9；可用的版本：2026\.1、bt\.1"):
        _run("--model", "9.9")


@pytest.mark.django_db
def test_unknown_unit_and_empty_record_are_refused(tree: dict[str, Any]) -> None:
    with pytest.raises(CommandError, match="没有单位 XX"):
        _run("--model", "2026.1", "--unit", "XX")
    with pytest.raises(CommandError, match="没有记录的风险事实"):
        _run("--model", "2026.1")
