"""Cell separation rules (分押分管, LAW.md §2.2): every rule's hard and soft path, the reasons
and articles shown to the officer, the order of the verdicts, and the pack's validation."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import pytest
import yaml

from jianguan.housing.separation import (
    BUILTIN_PATH,
    RULE_IDS,
    CellFacts,
    CellVerdict,
    Occupant,
    PackError,
    SeparationPack,
    age_on,
    builtin_pack,
    evaluate,
    parse_pack,
)

TODAY = dt.date(2026, 3, 15)
ADULT_BIRTH = dt.date(1990, 5, 1)
MINOR_BIRTH = dt.date(2010, 5, 1)  # 15 on TODAY


def person(id: str = "P", **changes: Any) -> Occupant:
    base = Occupant(
        id=id,
        gender="1",
        birth_date=ADULT_BIRTH,
        nationality="CHN",
        case_number="",
        legal_measure="20",
        sentenced=False,
    )
    return replace(base, **changes)


def cell(
    number: str = "101",
    *occupants: Occupant,
    kind: str = "ORDINARY",
    gender: str = "1",
    capacity: int = 10,
    floor_area_m2: float | None = None,
) -> CellFacts:
    return CellFacts(
        id=f"c{number}",
        number=number,
        area="一监区",
        kind=kind,
        gender=gender,
        capacity=capacity,
        occupants=occupants,
        floor_area_m2=floor_area_m2,
    )


def verdict_for(
    who: Occupant,
    target: CellFacts,
    pack: SeparationPack | None = None,
    *,
    today: dt.date = TODAY,
    also: Sequence[CellFacts] = (),
) -> CellVerdict:
    verdicts = evaluate(who, [target, *also], pack or builtin_pack(), today=today)
    return next(v for v in verdicts if v.cell.id == target.id)


def fired(verdict: CellVerdict) -> list[str]:
    return [f.rule for f in verdict.findings]


def content() -> dict[str, Any]:
    loaded = yaml.safe_load(BUILTIN_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return copy.deepcopy(loaded)


def rule_index(data: dict[str, Any], rule_id: str) -> int:
    return next(i for i, r in enumerate(data["rules"]) if r["id"] == rule_id)


def pack_with(rule_id: str, **changes: Any) -> SeparationPack:
    """The built-in pack with one rule's keys changed."""
    data = content()
    data["rules"][rule_index(data, rule_id)].update(changes)
    return parse_pack(data)


def rule_of(rule_id: str) -> Any:
    found = builtin_pack().rule(rule_id)
    assert found is not None
    return found


# --- one scenario per rule: the rule fires and nothing else does ------------------------------

Scenario = Callable[[], tuple[Occupant, CellFacts, tuple[CellFacts, ...]]]

SCENARIOS: dict[str, Scenario] = {
    "SEX": lambda: (person(), cell(gender="2"), ()),
    "AGE_MINOR": lambda: (person(birth_date=MINOR_BIRTH), cell("101", person("A1")), ()),
    "CO_DEFENDANT": lambda: (
        person(case_number="A4401062026030001"),
        cell("101", person("O1", case_number="A4401062026030001")),
        (),
    ),
    "SENTENCED_MIX": lambda: (person(), cell("101", person("S1", sentenced=True)), ()),
    "ADMIN_COERCIVE_SEPARATE": lambda: (
        person(legal_measure="60"),
        cell("101", person("D1", legal_measure="40")),
        (),
    ),
    "REQUESTED_SEPARATION": lambda: (
        person(extra_separate_from=frozenset({"O1"})),
        cell("101", person("O1")),
        (),
    ),
    "CAPACITY": lambda: (person(), cell("101", person("O1"), capacity=1), ()),
    "FOREIGN": lambda: (person(nationality="USA"), cell("101", person("O1")), ()),
    "INFECTIOUS": lambda: (person(), cell("101", person("I1", infectious=True)), ()),
    "RECIDIVIST": lambda: (person(recidivist=True), cell("101", person("O1")), ()),
    "TRANSITION": lambda: (person(new_admission=True), cell(), ()),
    "DEDICATED_CELL": lambda: (
        person(sentenced=True),
        cell("101"),
        (cell("201", kind="SENTENCED"),),
    ),
}


def test_every_rule_has_a_scenario_and_is_in_the_builtin_pack() -> None:
    assert set(SCENARIOS) == set(RULE_IDS)
    assert [r.id for r in builtin_pack().rules] == list(RULE_IDS)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_scenario_fires_only_its_rule_with_label_and_article(rule_id: str) -> None:
    """Each finding carries the pack's label and article, and the severity of its basis."""
    who, target, also = SCENARIOS[rule_id]()
    verdict = verdict_for(who, target, also=also)
    assert fired(verdict) == [rule_id]
    (finding,) = verdict.findings
    rule = rule_of(rule_id)
    assert (finding.label, finding.article, finding.hard) == (rule.label, rule.article, rule.hard)
    assert finding.article.strip()
    assert rule.label in verdict.explanation


@pytest.mark.parametrize("rule_id", RULE_IDS)
@pytest.mark.parametrize(("basis", "hard"), [("law", True), ("practice", False)])
def test_basis_decides_block_or_warning(rule_id: str, basis: str, hard: bool) -> None:
    """law → a hard block (cell not allowed); practice → a warning the officer may override."""
    who, target, also = SCENARIOS[rule_id]()
    verdict = verdict_for(who, target, pack_with(rule_id, basis=basis), also=also)
    assert [f.hard for f in verdict.findings] == [hard]
    assert verdict.allowed is not hard
    assert verdict.clean is False
    assert ("禁止" if hard else "提示") in verdict.explanation


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_disabled_or_omitted_rule_does_not_fire(rule_id: str) -> None:
    who, target, also = SCENARIOS[rule_id]()
    assert verdict_for(who, target, pack_with(rule_id, enabled=False), also=also).clean
    data = content()
    del data["rules"][rule_index(data, rule_id)]
    assert verdict_for(who, target, parse_pack(data), also=also).clean


@pytest.mark.parametrize(
    ("rule_id", "basis"),
    [
        ("SEX", "law"),
        ("AGE_MINOR", "law"),
        ("CO_DEFENDANT", "law"),
        ("SENTENCED_MIX", "law"),
        ("ADMIN_COERCIVE_SEPARATE", "law"),
        ("REQUESTED_SEPARATION", "law"),
        ("CAPACITY", "practice"),
        ("FOREIGN", "practice"),
        ("INFECTIOUS", "practice"),
        ("RECIDIVIST", "practice"),
        ("TRANSITION", "practice"),
        ("DEDICATED_CELL", "practice"),
    ],
)
def test_builtin_severity(rule_id: str, basis: str) -> None:
    assert rule_of(rule_id).hard is (basis == "law")


def test_clean_cell() -> None:
    verdict = verdict_for(person(), cell("101", person("O1")))
    assert verdict.clean
    assert verdict.allowed
    assert verdict.findings == ()
    assert verdict.explanation == "101监室：可以安排"


# --- 男女分押 ---------------------------------------------------------------------------------


def test_sex_female_into_male_cell() -> None:
    verdict = verdict_for(person(gender="2"), cell(gender="1"))
    (finding,) = verdict.findings
    assert finding.hard
    assert finding.reason == "男监室，拟安排人员为女性"
    assert finding.article == "看守所条例第六条第二款、第十四条；拘留所条例第十五条"


def test_sex_occupant_of_other_sex_is_named() -> None:
    verdict = verdict_for(person(), cell("101", person("F1", gender="2"), person("M1")))
    (finding,) = verdict.findings
    assert finding.rule == "SEX"
    assert finding.occupant_ids == ("F1",)
    assert "F1" in finding.reason
    assert "M1" not in finding.reason


# --- 成年/未成年 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("candidate", "occupant", "named", "text"),
    [
        (person(birth_date=MINOR_BIRTH), person("A1"), "A1", "监室内有成年人"),
        (person(), person("M1", birth_date=MINOR_BIRTH), "M1", "监室内有未满18周岁的未成年人"),
    ],
    ids=["minor-into-adults", "adult-into-minors"],
)
def test_minor_and_adult_both_directions(
    candidate: Occupant, occupant: Occupant, named: str, text: str
) -> None:
    (finding,) = verdict_for(candidate, cell("101", occupant)).findings
    assert finding.rule == "AGE_MINOR"
    assert finding.hard
    assert finding.occupant_ids == (named,)
    assert text in finding.reason
    assert named in finding.reason


def test_adult_may_not_enter_a_juvenile_cell_even_empty() -> None:
    (finding,) = verdict_for(person(), cell(kind="JUVENILE")).findings
    assert finding.rule == "AGE_MINOR"
    assert finding.hard
    assert "未成年人监室不得安排成年人" in finding.reason


def test_minor_with_minors_in_juvenile_cell_is_clean() -> None:
    minor = person(birth_date=MINOR_BIRTH)
    assert verdict_for(
        minor, cell("101", person("M1", birth_date=MINOR_BIRTH), kind="JUVENILE")
    ).clean


@pytest.mark.parametrize(
    ("birth", "today", "minor"),
    [
        (dt.date(2008, 3, 15), dt.date(2026, 3, 14), True),  # the day before the 18th birthday
        (dt.date(2008, 3, 15), dt.date(2026, 3, 15), False),  # the 18th birthday
        (dt.date(2008, 2, 29), dt.date(2026, 2, 28), True),  # no 29 Feb in 2026
        (dt.date(2008, 2, 29), dt.date(2026, 3, 1), False),  # 18 on 1 March
    ],
)
def test_eighteenth_birthday_boundary_both_directions(
    birth: dt.date, today: dt.date, minor: bool
) -> None:
    """On the 18th birthday a person counts as an adult, in either role."""
    adult = person("A1")
    as_candidate = verdict_for(person(birth_date=birth), cell("101", adult), today=today)
    as_occupant = verdict_for(person(), cell("101", person("X1", birth_date=birth)), today=today)
    assert (fired(as_candidate) == ["AGE_MINOR"]) is minor
    assert (fired(as_occupant) == ["AGE_MINOR"]) is minor


def test_day_after_birthday_counting_is_a_pack_setting() -> None:
    data = content()
    data["age_counting"] = "day_after_birthday"
    pack = parse_pack(data)
    birth = dt.date(2008, 3, 15)
    on_birthday = verdict_for(person(birth_date=birth), cell("101", person("A1")), pack)
    day_after = verdict_for(
        person(birth_date=birth), cell("101", person("A1")), pack, today=dt.date(2026, 3, 16)
    )
    assert fired(on_birthday) == ["AGE_MINOR"]
    assert day_after.clean


def test_unknown_birth_dates_warn_and_do_not_block() -> None:
    unknown_candidate = verdict_for(person(birth_date=None), cell("101", person("A1")))
    unknown_occupant = verdict_for(person(), cell("101", person("U1", birth_date=None)))
    for verdict in (unknown_candidate, unknown_occupant):
        (finding,) = verdict.findings
        assert finding.rule == "AGE_MINOR"
        assert not finding.hard
        assert "出生日期不详" in finding.reason
    assert unknown_occupant.findings[0].occupant_ids == ("U1",)


def test_unknown_birth_date_into_empty_ordinary_cell_is_clean() -> None:
    assert verdict_for(person(birth_date=None), cell()).clean


# --- 同案犯 -----------------------------------------------------------------------------------


def test_co_defendant_named_with_case_number() -> None:
    case = "A4401062026030001"
    target = cell("101", person("O1", case_number=case), person("O2", case_number="B1"))
    (finding,) = verdict_for(person(case_number=case), target).findings
    assert finding.hard
    assert finding.occupant_ids == ("O1",)
    assert finding.reason == f"与同案犯同监室（案件编号 {case}）：O1"


def test_co_defendant_ignores_surrounding_spaces() -> None:
    target = cell("101", person("O1", case_number=" A1 "))
    assert fired(verdict_for(person(case_number="A1"), target)) == ["CO_DEFENDANT"]


def test_unknown_case_numbers_never_match() -> None:
    assert verdict_for(person(case_number=""), cell("101", person("O1", case_number=""))).clean


# --- 已决/未决 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("candidate_sentenced", "text"),
    [
        (False, "拟安排人员为未决，监室内有已决人员：O1"),
        (True, "拟安排人员为已决，监室内有未决人员：O1"),
    ],
)
def test_sentenced_mix_both_directions(candidate_sentenced: bool, text: str) -> None:
    occupant = person("O1", sentenced=not candidate_sentenced)
    (finding,) = verdict_for(person(sentenced=candidate_sentenced), cell("101", occupant)).findings
    assert (finding.rule, finding.hard, finding.reason) == ("SENTENCED_MIX", True, text)


def test_unsentenced_may_not_enter_a_sentenced_cell() -> None:
    (finding,) = verdict_for(person(), cell(kind="SENTENCED")).findings
    assert finding.rule == "SENTENCED_MIX"
    assert finding.hard
    assert finding.reason == "已决犯监室不得关押未决人员"


def test_sentenced_into_sentenced_cell_is_clean() -> None:
    target = cell("201", person("S1", sentenced=True), kind="SENTENCED")
    assert verdict_for(person(sentenced=True), target).clean


# --- 行政强制措施性质拘留 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mine", "theirs", "fires"),
    [
        ("60", "40", True),
        ("61", "41", True),
        ("40", "60", True),
        ("41", "61", True),
        ("60", "61", False),
        ("40", "41", False),
        ("10", "40", False),
        ("20", "60", False),
    ],
)
def test_admin_coercive_held_apart_from_punitive(mine: str, theirs: str, fires: bool) -> None:
    target = cell("101", person("O1", legal_measure=theirs))
    verdict = verdict_for(person(legal_measure=mine), target)
    assert fired(verdict) == (["ADMIN_COERCIVE_SEPARATE"] if fires else [])
    if fires:
        assert verdict.findings[0].hard
        assert "O1" in verdict.findings[0].reason
        assert verdict.findings[0].article == "拘留所条例第三十四条"


# --- 办案单位要求分别关押 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("candidate", "occupant"),
    [
        (person(extra_separate_from=frozenset({"O1"})), person("O1")),
        (person(), person("O1", extra_separate_from=frozenset({"P"}))),
    ],
    ids=["candidate-asks", "occupant-asks"],
)
def test_requested_separation_either_side(candidate: Occupant, occupant: Occupant) -> None:
    (finding,) = verdict_for(candidate, cell("101", occupant)).findings
    assert (finding.rule, finding.hard, finding.occupant_ids) == (
        "REQUESTED_SEPARATION",
        True,
        ("O1",),
    )
    assert finding.reason == "办案单位要求分别关押：O1"


# --- 容量 -------------------------------------------------------------------------------------


def crowd(n: int) -> tuple[Occupant, ...]:
    return tuple(person(f"O{i}") for i in range(n))


@pytest.mark.parametrize(("occupied", "warns"), [(3, False), (4, True), (5, True)])
def test_capacity_boundary(occupied: int, warns: bool) -> None:
    """capacity - 1 occupants leave one place; capacity occupants make the cell full."""
    verdict = verdict_for(person(), cell("101", *crowd(occupied), capacity=4))
    assert fired(verdict) == (["CAPACITY"] if warns else [])
    assert verdict.allowed
    assert verdict.free_places == 4 - occupied
    if warns:
        assert verdict.findings[0].reason == f"监室已满：现有{occupied}人，核定容量4人"


@pytest.mark.parametrize(("occupied", "warns"), [(5, False), (6, True)])
def test_floor_area_lowers_the_limit(occupied: int, warns: bool) -> None:
    """12 m² at 2 m² a person holds 6, although the approved capacity says 10."""
    verdict = verdict_for(person(), cell("101", *crowd(occupied), capacity=10, floor_area_m2=12))
    assert verdict.free_places == 6 - occupied
    assert fired(verdict) == (["CAPACITY"] if warns else [])
    if warns:
        assert "按人均2平方米计，12平方米的监室可住6人" in verdict.findings[0].reason


def test_per_person_area_is_a_pack_setting() -> None:
    pack = pack_with("CAPACITY", area_per_person_m2=3)
    verdict = verdict_for(person(), cell("101", *crowd(4), floor_area_m2=12), pack)
    assert verdict.free_places == 0
    assert fired(verdict) == ["CAPACITY"]


def test_the_person_is_not_counted_against_the_own_cell() -> None:
    """Judging a move: the person's own row in the current cell is ignored."""
    me = person("P", case_number="A1")
    verdict = verdict_for(me, cell("101", me, person("O1"), capacity=2))
    assert verdict.clean
    assert verdict.free_places == 1


# --- 外籍 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mine", "theirs", "fires"),
    [
        ("USA", "CHN", True),
        ("CHN", "VNM", True),
        ("USA", "VNM", False),
        ("HKG", "CHN", False),
        ("TWN", "CHN", False),
        ("", "USA", False),
        ("USA", "", False),
    ],
)
def test_foreign_and_domestic(mine: str, theirs: str, fires: bool) -> None:
    verdict = verdict_for(person(nationality=mine), cell("101", person("O1", nationality=theirs)))
    assert fired(verdict) == (["FOREIGN"] if fires else [])
    if fires:
        assert not verdict.findings[0].hard
        assert "O1" in verdict.findings[0].reason


# --- 传染病 -----------------------------------------------------------------------------------


def test_infectious_person_needs_a_medical_cell() -> None:
    sick = person(infectious=True)
    assert [f.reason for f in verdict_for(sick, cell()).findings] == [
        "拟安排人员患传染病，应安排在医疗监室隔离"
    ]
    assert verdict_for(sick, cell(kind="MEDICAL")).clean
    assert verdict_for(sick, cell("101", person("I1", infectious=True), kind="MEDICAL")).clean


def test_infectious_person_not_with_the_healthy_even_in_a_medical_cell() -> None:
    (finding,) = verdict_for(
        person(infectious=True), cell("101", person("H1"), kind="MEDICAL")
    ).findings
    assert finding.rule == "INFECTIOUS"
    assert finding.occupant_ids == ("H1",)


def test_healthy_person_warned_of_infectious_occupant() -> None:
    (finding,) = verdict_for(person(), cell("101", person("I1", infectious=True))).findings
    assert finding.reason == "监室内有传染病人员：I1"


# --- 初犯/累犯 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mine", "named"), [(True, "监室内有初犯：O1"), (False, "监室内有累犯：O1")]
)
def test_recidivist_both_directions(mine: bool, named: str) -> None:
    (finding,) = verdict_for(
        person(recidivist=mine), cell("101", person("O1", recidivist=not mine))
    ).findings
    assert finding.rule == "RECIDIVIST"
    assert not finding.hard
    assert finding.reason.endswith(named)


# --- 过渡监室 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new", "kind", "reason"),
    [
        (True, "ORDINARY", "新收押人员应先安排在过渡监室"),
        (True, "TRANSITION", None),
        (False, "TRANSITION", "过渡监室仅用于安排新收押人员"),
        (False, "ORDINARY", None),
    ],
)
def test_transition(new: bool, kind: str, reason: str | None) -> None:
    verdict = verdict_for(person(new_admission=new), cell(kind=kind))
    assert [f.reason for f in verdict.findings] == ([reason] if reason else [])


# --- 专门监室 ---------------------------------------------------------------------------------


def test_minor_warned_away_from_ordinary_cell_only_where_a_juvenile_cell_exists() -> None:
    minor = person(birth_date=MINOR_BIRTH)
    with_juvenile = verdict_for(minor, cell("101"), also=(cell("301", kind="JUVENILE"),))
    without = verdict_for(minor, cell("101"))
    assert [f.reason for f in with_juvenile.findings] == [
        "本所设有未成年人监室，未成年人宜安排在未成年人监室"
    ]
    assert without.clean


# --- order and explanation --------------------------------------------------------------------


def test_verdicts_ordered_clean_then_warned_then_blocked() -> None:
    """Clean cells by free places then number ("2" before "10"), then warnings, then blocks."""
    cells = [
        cell("1", gender="2"),  # blocked
        cell("10", *crowd(2), capacity=4),  # clean, 2 free
        cell("3", person("R1", recidivist=True), capacity=20),  # warning, 19 free
        cell("2", *crowd(2), capacity=4),  # clean, 2 free
        cell("4", capacity=4),  # clean, 4 free
        cell("5", person("S1", sentenced=True)),  # blocked
    ]
    verdicts = evaluate(person(), cells, builtin_pack(), today=TODAY)
    assert [v.cell.number for v in verdicts] == ["4", "2", "10", "3", "1", "5"]
    assert [(v.clean, v.allowed) for v in verdicts] == [
        (True, True),
        (True, True),
        (True, True),
        (False, True),
        (False, False),
        (False, False),
    ]


def test_every_cell_gets_a_verdict() -> None:
    cells = [cell(str(n)) for n in range(1, 8)]
    assert len(evaluate(person(), cells, builtin_pack(), today=TODAY)) == 7
    assert evaluate(person(), [], builtin_pack(), today=TODAY) == []


def test_explanation_names_every_rule_label_article_and_occupant() -> None:
    case = "A4401"
    target = cell(
        "108",
        person("O1", case_number=case),
        person("O2", sentenced=True),
        person("O3", recidivist=True),
        gender="1",
    )
    verdict = verdict_for(person(case_number=case), target)
    assert fired(verdict) == ["CO_DEFENDANT", "SENTENCED_MIX", "RECIDIVIST"]
    text = verdict.explanation
    assert text.startswith("108监室：")
    for finding in verdict.findings:
        assert finding.label in text
        assert finding.article in text
    assert "禁止【同案犯分押】与同案犯同监室（案件编号 A4401）：O1" in text
    assert "提示【初犯与累犯分别关押（有条件的）】" in text
    assert {"O1", "O2", "O3"} <= {i for f in verdict.findings for i in f.occupant_ids}


# --- ages -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "today", "counting", "age"),
    [
        (dt.date(2008, 3, 15), dt.date(2026, 3, 14), "birthday", 17),
        (dt.date(2008, 3, 15), dt.date(2026, 3, 15), "birthday", 18),
        (dt.date(2008, 3, 15), dt.date(2026, 3, 15), "day_after_birthday", 17),
        (dt.date(2008, 3, 15), dt.date(2026, 3, 16), "day_after_birthday", 18),
        (dt.date(2008, 2, 29), dt.date(2026, 2, 28), "birthday", 17),
        (dt.date(2008, 2, 29), dt.date(2026, 3, 1), "birthday", 18),
        (dt.date(2008, 2, 29), dt.date(2028, 2, 29), "birthday", 20),
        (dt.date(2008, 2, 29), dt.date(2026, 3, 1), "day_after_birthday", 17),
        (dt.date(2008, 2, 29), dt.date(2026, 3, 2), "day_after_birthday", 18),
        (dt.date(2007, 12, 31), dt.date(2025, 12, 31), "day_after_birthday", 17),
        (dt.date(2007, 12, 31), dt.date(2026, 1, 1), "day_after_birthday", 18),
    ],
)
def test_age_on(birth: dt.date, today: dt.date, counting: str, age: int) -> None:
    assert age_on(birth, today, counting=counting) == age


# --- the pack ---------------------------------------------------------------------------------


def test_builtin_pack_metadata() -> None:
    pack = builtin_pack()
    assert (pack.version, pack.age_counting) == ("2026.1", "birthday")
    assert pack.title
    assert builtin_pack() is pack  # cached
    assert BUILTIN_PATH.name == "separation.yaml"
    assert all(r.label and r.article for r in pack.rules)


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        node: Any = data
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value

    return change


def _drop(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        node: Any = data
        for step in path[:-1]:
            node = node[step]
        del node[path[-1]]

    return change


def _append(rule: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["rules"].append(rule)


# Rule indexes in the built-in pack: 0 SEX, 1 AGE_MINOR, 4 ADMIN_COERCIVE_SEPARATE, 6 CAPACITY.
BAD_PACKS: list[tuple[str, Callable[[dict[str, Any]], None], tuple[Any, ...], str]] = [
    ("kind", _set(("kind",), "admission"), ("kind",), "应为 separation"),
    ("version-float", _set(("version",), 2026.1), ("version",), "加引号"),
    ("version-missing", _drop(("version",)), ("version",), "缺少此项"),
    ("title-missing", _drop(("title",)), ("title",), "缺少此项"),
    ("top-unknown", _set(("colour",), "red"), ("colour",), "未知的顶层项"),
    ("age-counting", _set(("age_counting",), "lunar"), ("age_counting",), "birthday"),
    ("rules-missing", _drop(("rules",)), ("rules",), "缺少规则列表"),
    ("rules-not-list", _set(("rules",), {"SEX": {}}), ("rules",), "应为列表"),
    ("rule-not-mapping", _set(("rules", 2), "CO_DEFENDANT"), ("rules", 2), "映射"),
    ("rule-unknown-id", _set(("rules", 2, "id"), "SAME_VILLAGE"), ("rules", 2, "id"), "未知的规则"),
    ("rule-id-missing", _drop(("rules", 2, "id")), ("rules", 2, "id"), "缺少此项"),
    (
        "rule-duplicate",
        _append({"id": "SEX", "label": "x", "article": "y", "basis": "law"}),
        ("rules", 12, "id"),
        "重复",
    ),
    ("label-missing", _drop(("rules", 0, "label")), ("rules", 0, "label"), "缺少此项"),
    ("label-empty", _set(("rules", 0, "label"), " "), ("rules", 0, "label"), "非空"),
    ("article-missing", _drop(("rules", 0, "article")), ("rules", 0, "article"), "缺少此项"),
    (
        "basis-unknown",
        _set(("rules", 0, "basis"), "custom"),
        ("rules", 0, "basis"),
        "law 或 practice",
    ),
    ("basis-missing", _drop(("rules", 0, "basis")), ("rules", 0, "basis"), "缺少此项"),
    (
        "enabled-type",
        _set(("rules", 0, "enabled"), "yes"),
        ("rules", 0, "enabled"),
        "true 或 false",
    ),
    ("param-unknown", _set(("rules", 0, "colour"), 1), ("rules", 0, "colour"), "没有参数"),
    ("param-missing", _drop(("rules", 1, "adult_age")), ("rules", 1, "adult_age"), "缺少此参数"),
    ("param-string", _set(("rules", 1, "adult_age"), "18"), ("rules", 1, "adult_age"), "正整数"),
    ("param-bool", _set(("rules", 1, "adult_age"), True), ("rules", 1, "adult_age"), "正整数"),
    ("param-zero", _set(("rules", 1, "adult_age"), 0), ("rules", 1, "adult_age"), "正整数"),
    (
        "area-negative",
        _set(("rules", 6, "area_per_person_m2"), -2),
        ("rules", 6, "area_per_person_m2"),
        "正数",
    ),
    (
        "codes-not-list",
        _set(("rules", 4, "coercive_measures"), "60"),
        ("rules", 4, "coercive_measures"),
        "列表",
    ),
    (
        "codes-empty",
        _set(("rules", 4, "coercive_measures"), []),
        ("rules", 4, "coercive_measures"),
        "非空列表",
    ),
    (
        "code-unquoted",
        _set(("rules", 4, "coercive_measures"), ["60", 61]),
        ("rules", 4, "coercive_measures", 1),
        "加引号",
    ),
]


def test_bad_pack_table_uses_the_expected_rule_indexes() -> None:
    assert [r["id"] for r in content()["rules"]][:7] == [
        "SEX",
        "AGE_MINOR",
        "CO_DEFENDANT",
        "SENTENCED_MIX",
        "ADMIN_COERCIVE_SEPARATE",
        "REQUESTED_SEPARATION",
        "CAPACITY",
    ]


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [case[1:] for case in BAD_PACKS],
    ids=[case[0] for case in BAD_PACKS],
)
def test_parse_pack_reports_the_path_of_the_first_problem(
    change: Callable[[dict[str, Any]], None], path: tuple[Any, ...], message: str
) -> None:
    data = content()
    change(data)
    with pytest.raises(PackError) as caught:
        parse_pack(data)
    assert caught.value.path == path
    assert message in caught.value.message


def test_pack_that_is_not_a_mapping() -> None:
    with pytest.raises(PackError) as caught:
        parse_pack(["kind", "separation"])  # type: ignore[arg-type]
    assert caught.value.path == ()


def test_pack_may_change_labels_articles_and_parameters() -> None:
    pack = pack_with("AGE_MINOR", label="成年未成年分押", article="某省细则第3条", adult_age=16)
    seventeen = person(birth_date=dt.date(2009, 1, 1))
    (finding,) = verdict_for(
        seventeen, cell("101", person("M1", birth_date=MINOR_BIRTH)), pack
    ).findings
    assert (finding.label, finding.article) == ("成年未成年分押", "某省细则第3条")
    assert "未满16周岁" in finding.reason


def test_notes_are_allowed_on_rules_and_top_level() -> None:
    data = content()
    data["note"] = "省厅2026年发布"
    data["rules"][0]["note"] = "说明"
    assert parse_pack(data).rule("SEX") is not None
