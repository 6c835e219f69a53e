"""The points model as data: each factor's points, decay, thresholds, cell aggregation, the
explanation of a change, and packs that do not validate (pure: no database)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml

from jianguan.risk.model import (
    BUILTIN_PATH,
    CellOccupant,
    Fact,
    PackError,
    Person,
    assess_cell,
    assess_person,
    parse_model,
    what_moved,
)

NOW = dt.datetime(2026, 11, 21, 8, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 21)
BUILTIN: dict[str, Any] = yaml.safe_load(BUILTIN_PATH.read_text(encoding="utf-8"))
MODEL = parse_model(BUILTIN)

# Someone to whom no static factor applies: a Chinese adult, theft, under investigation.
PLAIN = Person(
    birth_date=dt.date(1990, 5, 1),
    nationality="CHN",
    case_nature="0502",
    case_severity=2,
    legal_measure="20",
    litigation_stage="12",
    prior_custody=0,
)


def person(**changes: Any) -> Person:
    return Person(**{**PLAIN.__dict__, **changes})


def fact(kind: str, days_ago: float, n: int = 1) -> Fact:
    return Fact(f"f{n}-{kind}", kind, NOW - dt.timedelta(days=days_ago), f"{kind} 记录")


def score(p: Person = PLAIN, *facts: Fact) -> Any:
    return assess_person(MODEL, p, facts, NOW, TODAY)


def codes(result: Any) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in result.contributions:
        out[line.code] = round(out.get(line.code, 0.0) + line.points, 1)
    return out


def test_the_plain_person_scores_nothing_and_is_normal():
    result = score()
    assert (result.score, result.grade.code, result.contributions) == (0.0, "NORMAL", ())
    assert (result.confidence, result.missing) == (1.0, ())


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"prior_custody": 1}, {"PRIOR_CUSTODY": 6.0}),
        ({"prior_custody": 3}, {"PRIOR_CUSTODY": 6.0, "PRIOR_CUSTODY_REPEAT": 6.0}),
        ({"case_nature": "0402", "case_severity": 3}, {}),
        ({"case_nature": "0404", "case_severity": 4}, {"CASE_GRAVE": 10.0}),
        ({"case_nature": "0401", "case_severity": 5}, {"CASE_GRAVE": 10.0, "CASE_GRAVEST": 8.0}),
        ({"birth_date": dt.date(2008, 11, 22)}, {"MINOR": 6.0}),  # 17 until tomorrow
        ({"birth_date": dt.date(2008, 11, 21)}, {}),  # 18 today
        ({"birth_date": dt.date(1956, 11, 21)}, {"ELDERLY": 6.0}),  # 70 today
        ({"nationality": "VNM"}, {"FOREIGN": 4.0}),
        ({"litigation_stage": "31"}, {"FACING_TRIAL": 6.0}),
        ({"litigation_stage": "33"}, {"DEATH_REVIEW": 30.0}),
    ],
)
def test_each_static_factor_gives_its_points(changes, expected):
    assert codes(score(person(**changes))) == expected


@pytest.mark.parametrize(
    ("kind", "points"),
    [
        ("duty.PATROL_EMERGENCY", 30.0),
        ("duty.PATROL_ABNORMAL_BEHAVIOUR", 15.0),
        ("duty.PATROL_CELL_VIOLATION", 6.0),
        ("duty.CUSTODIAN_MOOD", 12.0),
        ("manual.COUNSELLING", 12.0),
        ("duty.INTERROGATION_ABNORMAL", 10.0),
        ("interrogation.ENDED", 3.0),
        ("manual.FAMILY_MEETING", 8.0),
        ("duty.MEDICAL_CONDITION_CHANGE", 8.0),
        ("movement.OUT_MEDICAL", 8.0),
        ("manual.REFUSES_FOOD", 14.0),
        ("health.PSYCHOSIS", 15.0),
        ("manual.SUICIDE_HISTORY", 20.0),
        ("legal.FIRST_JUDGMENT", 10.0),
        ("manual.BAIL_REJECTED", 12.0),
        ("incident.SELF_HARM", 35.0),
        ("device.CLIMB", 12.0),
    ],
)
def test_each_kind_of_fact_counts_in_full_when_fresh(kind, points):
    result = score(PLAIN, fact(kind, 0))
    assert result.score == points
    (line,) = result.contributions
    assert (line.fact_id, line.fact_label, line.at) == (f"f1-{kind}", f"{kind} 记录", NOW)


def test_points_halve_every_half_life_and_stop_at_the_window():
    # 异常行为: 15 points, half-life 7 days, window 30 days.
    assert score(PLAIN, fact("duty.PATROL_ABNORMAL_BEHAVIOUR", 7)).score == 7.5
    assert score(PLAIN, fact("duty.PATROL_ABNORMAL_BEHAVIOUR", 14)).score == 3.8  # 3.75
    assert score(PLAIN, fact("duty.PATROL_ABNORMAL_BEHAVIOUR", 30)).score == 0.8
    assert score(PLAIN, fact("duty.PATROL_ABNORMAL_BEHAVIOUR", 30.1)).score == 0.0


def test_lasting_facts_do_not_fade():
    assert score(PLAIN, fact("manual.SUICIDE_HISTORY", 400)).score == 20.0


def test_a_future_fact_does_not_count_yet():
    assert score(PLAIN, fact("duty.PATROL_ABNORMAL_BEHAVIOUR", -1)).score == 0.0


def test_repeated_facts_add_up_to_the_cap_and_the_cap_is_explained():
    facts = [fact("duty.PATROL_ABNORMAL_BEHAVIOUR", 0, n) for n in range(3)]
    result = score(PLAIN, *facts)
    assert result.score == 30.0  # 3 × 15 capped at 30
    assert [c.points for c in result.contributions] == [15.0, 15.0, 15.0, -15.0]
    assert "封顶 30 分" in result.contributions[-1].name


@pytest.mark.parametrize(
    ("points", "grade"),
    [
        (0, "NORMAL"),
        (24.9, "NORMAL"),
        (25, "LEVEL3"),
        (44.9, "LEVEL3"),
        (45, "LEVEL2"),
        (69.9, "LEVEL2"),
        (70, "LEVEL1"),
        (500, "LEVEL1"),
    ],
)
def test_thresholds_take_the_highest_grade_reached(points, grade):
    assert MODEL.grade_for(points).code == grade


def test_missing_record_fields_lower_confidence_and_say_so():
    result = score(person(birth_date=None, prior_custody=None))
    assert result.score == 0.0
    assert result.missing == ("既往羁押记录（证件号码）", "出生日期（年龄）")
    # The built-in pack reads five record inputs (not the legal measure); two are missing.
    assert result.confidence == 0.6


def test_an_unknown_case_nature_counts_as_missing_not_as_a_crash():
    result = score(person(case_nature=None, case_severity=None, litigation_stage=None))
    assert "案件性质" in result.missing
    assert "诉讼阶段" in result.missing
    assert result.grade.code == "NORMAL"


def _occupant(n: int, points: float, grade: str) -> CellOccupant:
    return CellOccupant(f"p{n}", f"人员{n}", points, grade)


def test_a_cell_starts_from_its_highest_occupant():
    result = assess_cell(
        MODEL,
        occupants=[_occupant(1, 12, "NORMAL"), _occupant(2, 30, "LEVEL3")],
        capacity=10,
        facts=[],
        now=NOW,
    )
    assert (result.score, result.grade.code) == (30.0, "LEVEL3")
    assert result.contributions[0].name == "最高个人积分：人员2"


def test_several_high_risk_people_together_and_crowding_add_points():
    occupants = [_occupant(1, 50, "LEVEL2"), _occupant(2, 46, "LEVEL2"), _occupant(3, 0, "NORMAL")]
    result = assess_cell(MODEL, occupants=occupants, capacity=2, facts=[], now=NOW)
    assert codes(result) == {"TOP_OCCUPANT": 50.0, "HIGH_RISK_TOGETHER": 15.0, "CROWDED": 10.0}
    assert result.grade.code == "LEVEL1"
    assert "（3/2）" in next(c.name for c in result.contributions if c.code == "CROWDED")


def test_one_high_risk_person_within_capacity_adds_nothing():
    occupants = [_occupant(1, 50, "LEVEL2"), _occupant(2, 10, "NORMAL")]
    result = assess_cell(MODEL, occupants=occupants, capacity=2, facts=[], now=NOW)
    assert codes(result) == {"TOP_OCCUPANT": 50.0}


def test_a_recent_incident_in_the_cell_counts_for_the_cell():
    result = assess_cell(
        MODEL, occupants=[], capacity=8, facts=[fact("incident.VIOLENCE", 7)], now=NOW
    )
    assert (result.score, result.grade.code) == (10.0, "NORMAL")


def test_what_moved_names_the_factors_largest_first():
    before = score(person(prior_custody=1)).factors_json()
    after = score(
        person(prior_custody=1, litigation_stage="31"),
        fact("duty.PATROL_ABNORMAL_BEHAVIOUR", 0),
    ).factors_json()
    assert what_moved(before, after) == [
        {"code": "ABNORMAL_BEHAVIOUR", "name": "异常行为", "from": 0.0, "to": 15.0, "delta": 15.0},
        {
            "code": "FACING_TRIAL",
            "name": "审判阶段（面临判决）",
            "from": 0.0,
            "to": 6.0,
            "delta": 6.0,
        },
    ]


# --- packs that do not validate ----------------------------------------------------------------


def _pack(**changes: Any) -> dict[str, Any]:
    content = yaml.safe_load(BUILTIN_PATH.read_text(encoding="utf-8"))
    content.update(changes)
    return content


@pytest.mark.parametrize(
    ("content", "path", "message"),
    [
        (_pack(extra=1), ("extra",), "未知的顶层项"),
        (_pack(grades=[BUILTIN["grades"][0]]), ("grades",), "至少两个等级"),
        (
            _pack(grades=[BUILTIN["grades"][1], BUILTIN["grades"][0]]),
            ("grades", 0, "min_score"),
            "最低等级的 min_score 应为 0",
        ),
        (
            _pack(grades=[BUILTIN["grades"][0], {**BUILTIN["grades"][1], "colour": "yellow"}]),
            ("grades", 1, "colour"),
            "#RRGGBB",
        ),
        (
            _pack(static=[{"code": "X", "name": "x", "points": 1, "when": {"height_over": 2}}]),
            ("static", 0, "when", "height_over"),
            "未知的项",
        ),
        (
            _pack(dynamic=[{"code": "X", "name": "x", "points": 1, "facts": ["manual.GOSSIP"]}]),
            ("dynamic", 0, "facts", 0),
            "未知的事实类别 manual.GOSSIP",
        ),
        (
            _pack(dynamic=[{"code": "X", "name": "x", "points": -1, "facts": ["duty.X"]}]),
            ("dynamic", 0, "points"),
            "不能为负数",
        ),
        (
            _pack(cell={"factors": [{"code": "X", "name": "x", "points": 1, "min_grade": "RED"}]}),
            ("cell", "factors", 0, "min_grade"),
            "未定义的等级 RED",
        ),
        (_pack(override={"max_days": 1.5}), ("override", "max_days"), "应为整数"),
    ],
)
def test_a_pack_that_does_not_validate_names_the_place(content, path, message):
    with pytest.raises(PackError) as caught:
        parse_model(content)
    assert caught.value.path == path
    assert message in caught.value.message
