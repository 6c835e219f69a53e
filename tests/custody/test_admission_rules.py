"""Admission refusal conditions (收押/收拘/收戒, LAW.md §2.1, §1.8–§1.10): each rule with its
article, at its age boundaries, before and after the 2026 治安管理处罚法, with approvals,
documents, and the pack's validation."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from jianguan.custody.admission_rules import (
    APPROVAL,
    BUILTIN_PATH,
    DOCUMENT_KINDS,
    REFUSE,
    REQUIRED_DOCUMENT,
    RULE_IDS,
    WARN,
    AdmissionFacts,
    AdmissionFinding,
    AdmissionPack,
    PackError,
    age_on,
    assess,
    builtin_pack,
    may_admit,
    parse_pack,
)

TODAY = dt.date(2026, 3, 15)
DC, DH, RC = "DETENTION_CENTER", "DETENTION_HOUSE", "REHAB_CENTER"
DOCUMENT_FOR = {
    "10": "DETENTION_WARRANT",
    "20": "ARREST_WARRANT",
    "30": "EXECUTION_NOTICE",
    "31": "EXECUTION_NOTICE",
    "40": "ADMIN_DETENTION_DECISION",
    "41": "JUDICIAL_DETENTION_DECISION",
    "50": "DRUG_REHAB_DECISION",
    "60": "IMMIGRATION_DECISION",
    "61": "DEPORTATION_DECISION",
    "99": "ARREST_WARRANT",
}
FACILITY_FOR = {
    "10": DC,
    "20": DC,
    "30": DC,
    "31": DC,
    "40": DH,
    "41": DH,
    "50": RC,
    "60": DH,
    "61": DH,
    "99": DC,
}


def facts(measure: str = "20", **changes: Any) -> AdmissionFacts:
    """A healthy 45-year-old man with the right papers for the measure's facility."""
    values: dict[str, Any] = {
        "facility_kind": FACILITY_FOR[measure],
        "legal_measure": measure,
        "gender": "1",
        "birth_date": dt.date(1980, 6, 1),
        "today": TODAY,
        "document_kind": DOCUMENT_FOR[measure],
    }
    values.update(changes)
    return AdmissionFacts(**values)


def born(age: int, *, today: dt.date = TODAY, days_before_birthday: int = 0) -> dict[str, Any]:
    """Facts keys for someone turning `age` on `today` (or that many days later)."""
    birthday = today + dt.timedelta(days=days_before_birthday)
    return {"birth_date": birthday.replace(year=birthday.year - age), "today": today}


def run(f: AdmissionFacts, pack: AdmissionPack | None = None) -> list[AdmissionFinding]:
    return assess(f, pack or builtin_pack())


def outcomes(f: AdmissionFacts, pack: AdmissionPack | None = None) -> list[tuple[str, str]]:
    return [(x.rule, x.outcome) for x in run(f, pack)]


def only(f: AdmissionFacts, pack: AdmissionPack | None = None) -> AdmissionFinding:
    findings = run(f, pack)
    assert len(findings) == 1, findings
    return findings[0]


def rule_of(rule_id: str) -> Any:
    found = builtin_pack().rule(rule_id)
    assert found is not None
    return found


def content() -> dict[str, Any]:
    loaded = yaml.safe_load(BUILTIN_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return copy.deepcopy(loaded)


def rule_index(data: dict[str, Any], rule_id: str) -> int:
    return next(i for i, r in enumerate(data["rules"]) if r["id"] == rule_id)


def pack_with(rule_id: str, **changes: Any) -> AdmissionPack:
    data = content()
    data["rules"][rule_index(data, rule_id)].update(changes)
    return parse_pack(data)


# --- the clean path ---------------------------------------------------------------------------


@pytest.mark.parametrize("measure", sorted(DOCUMENT_FOR))
def test_healthy_adult_with_right_papers_is_admitted(measure: str) -> None:
    f = facts(measure)
    assert run(f) == []
    assert may_admit(run(f))


# --- one scenario per rule --------------------------------------------------------------------

SCENARIOS: dict[str, tuple[AdmissionFacts, str, str]] = {
    "FACILITY_MEASURE": (facts("40", facility_kind=DC), REFUSE, "看守所条例第二条"),
    "DOCUMENT_KIND": (
        facts("10", document_kind="ARREST_WARRANT"),
        REFUSE,
        "看守所条例第九条；公安机关办理刑事案件程序规定第一百五十三条",
    ),
    "DOCUMENT_IDENTITY": (facts(document_matches_person=False), REFUSE, "看守所条例第九条"),
    "DC_PSYCHOSIS": (facts(psychosis=True), REFUSE, "看守所条例第十条第一项"),
    "DC_ACUTE_INFECTIOUS": (facts(acute_infectious=True), REFUSE, "看守所条例第十条第一项"),
    "DC_SERIOUS_ILLNESS": (facts(serious_illness=True), APPROVAL, "看守所条例第十条第二项"),
    "DC_PREGNANT_NURSING": (facts(gender="2", pregnant=True), REFUSE, "看守所条例第十条第三项"),
    "DC_ELDERLY": (facts(**born(70)), APPROVAL, "214号"),
    "DH_UNDER_16": (facts("40", **born(15)), REFUSE, "拘留所条例实施办法第十八条第一项"),
    "DH_MINOR_FIRST_OFFENCE": (
        facts("40", first_offence_minor=True, **born(17)),
        REFUSE,
        "拘留所条例实施办法第十八条第二项",
    ),
    "DH_ELDERLY": (facts("40", **born(70)), REFUSE, "治安管理处罚法第二十一条第三项"),
    "DH_PREGNANT_NURSING": (
        facts("41", gender="2", nursing_infant_under_1=True),
        REFUSE,
        "拘留所条例实施办法第十八条第三项",
    ),
    "DH_PSYCHOSIS_INFECTIOUS": (facts("40", psychosis=True), REFUSE, "拘留所条例第十九条第一项"),
    "DH_SERIOUS_ILLNESS": (facts("41", serious_illness=True), REFUSE, "拘留所条例第十九条第二项"),
    "IMMIGRATION_UNSUITABLE": (
        facts("60", serious_illness=True),
        REFUSE,
        "出境入境管理法第六十一条",
    ),
    "RC_PREGNANT_NURSING": (facts("50", gender="2", pregnant=True), REFUSE, "禁毒法第三十九条"),
    "RC_UNDER_16": (facts("50", **born(15)), WARN, "禁毒法第三十九条"),
    "RC_INFECTIOUS": (facts("50", acute_infectious=True), WARN, "禁毒法第四十四条"),
}


def test_every_rule_has_a_scenario_and_is_in_the_builtin_pack() -> None:
    assert set(SCENARIOS) == set(RULE_IDS)
    assert [r.id for r in builtin_pack().rules] == list(RULE_IDS)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_scenario_fires_only_its_rule_with_label_and_article(rule_id: str) -> None:
    f, outcome, article = SCENARIOS[rule_id]
    finding = only(f)
    assert (finding.rule, finding.outcome) == (rule_id, outcome)
    assert finding.label == rule_of(rule_id).label
    assert article in finding.article
    assert finding.reason.strip()
    assert may_admit([finding]) is (outcome == WARN)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_disabled_or_omitted_rule_does_not_fire(rule_id: str) -> None:
    f = SCENARIOS[rule_id][0]
    assert run(f, pack_with(rule_id, enabled=False)) == []
    data = content()
    del data["rules"][rule_index(data, rule_id)]
    assert run(f, parse_pack(data)) == []


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_outcome_comes_from_the_pack(rule_id: str) -> None:
    f = SCENARIOS[rule_id][0]
    warned = run(f, pack_with(rule_id, outcome=WARN))
    assert [x.outcome for x in warned] == [WARN]
    assert may_admit(warned)


# --- papers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measure", "facility"),
    [("40", DC), ("10", DH), ("20", RC), ("50", DH), ("60", DC), ("30", DH)],
)
def test_measure_executed_elsewhere_is_refused(measure: str, facility: str) -> None:
    finding = only(facts(measure, facility_kind=facility))
    assert (finding.rule, finding.outcome) == ("FACILITY_MEASURE", REFUSE)
    assert "退回送押机关" in finding.reason


@pytest.mark.parametrize("facility", [DC, DH, RC])
def test_other_measure_goes_anywhere(facility: str) -> None:
    assert run(facts("99", facility_kind=facility)) == []


def test_missing_document_is_refused_with_what_is_needed() -> None:
    finding = only(facts("10", document_kind=""))
    assert finding.rule == "DOCUMENT_KIND"
    assert (
        finding.reason
        == "刑事拘留（10）应凭拘留证或临时寄押证明文书收押，未提交收押凭证；不予收押，请送押机关补正法律文书"
    )


@pytest.mark.parametrize(
    ("measure", "given", "accepted"),
    [
        ("10", "ARREST_WARRANT", False),
        ("10", "TEMPORARY_CUSTODY", True),
        ("20", "DETENTION_WARRANT", False),
        ("20", "TEMPORARY_CUSTODY", True),
        ("30", "ARREST_WARRANT", False),
        ("40", "JUDICIAL_DETENTION_DECISION", False),
        ("41", "ADMIN_DETENTION_DECISION", False),
        ("50", "ADMIN_DETENTION_DECISION", False),
        ("60", "DEPORTATION_DECISION", False),
        ("61", "IMMIGRATION_DECISION", False),
        ("99", "EXECUTION_NOTICE", True),
        ("20", "LETTER", False),
    ],
)
def test_document_must_be_one_the_measure_accepts(measure: str, given: str, accepted: bool) -> None:
    findings = run(facts(measure, document_kind=given))
    assert [x.rule for x in findings] == ([] if accepted else ["DOCUMENT_KIND"])
    if not accepted:
        assert findings[0].outcome == REFUSE
        assert findings[0].article == rule_of("DOCUMENT_KIND").table("accepted")[measure].article


@pytest.mark.parametrize(
    ("measure", "word"), [("20", "不予收押"), ("40", "不予收拘"), ("50", "不予收戒")]
)
def test_refusal_wording_follows_the_facility(measure: str, word: str) -> None:
    assert word in only(facts(measure, document_matches_person=False)).reason


def test_document_article_follows_the_measure() -> None:
    assert only(facts("40", document_kind="")).article == "拘留所条例第九条"
    assert only(facts("50", document_kind="")).article == "禁毒法第四十条、第四十一条"


def test_document_not_matching_the_person_is_refused() -> None:
    finding = only(facts("40", document_matches_person=False))
    assert (finding.rule, finding.outcome) == ("DOCUMENT_IDENTITY", REFUSE)
    assert "姓名或身份证件号码与被送押人不符" in finding.reason


def test_required_document_comes_from_the_pack() -> None:
    assert REQUIRED_DOCUMENT["10"] == ("DETENTION_WARRANT", "TEMPORARY_CUSTODY")
    assert REQUIRED_DOCUMENT["40"] == ("ADMIN_DETENTION_DECISION",)
    assert builtin_pack().required_document == REQUIRED_DOCUMENT
    assert set(REQUIRED_DOCUMENT["99"]) == set(DOCUMENT_KINDS)
    assert pack_with("DOCUMENT_KIND", enabled=False).required_document == {}


def test_document_kinds_have_chinese_labels() -> None:
    assert DOCUMENT_KINDS["DETENTION_WARRANT"] == "拘留证"
    assert DOCUMENT_KINDS["ARREST_WARRANT"] == "逮捕证"
    assert all(label for label in DOCUMENT_KINDS.values())


# --- 看守所 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "rule_id", "text"),
    [
        ({"psychosis": True}, "DC_PSYCHOSIS", "患有精神病"),
        ({"acute_infectious": True}, "DC_ACUTE_INFECTIOUS", "患有急性传染病"),
        ({"gender": "2", "pregnant": True}, "DC_PREGNANT_NURSING", "怀孕"),
        ({"gender": "2", "nursing_infant_under_1": True}, "DC_PREGNANT_NURSING", "正在哺乳"),
    ],
)
def test_detention_centre_must_refuse(changes: dict[str, Any], rule_id: str, text: str) -> None:
    """看守所条例第十条: no approval can admit these."""
    finding = only(facts(head_written_approval=True, **changes))
    assert (finding.rule, finding.outcome) == (rule_id, REFUSE)
    assert finding.reason.startswith(text)
    assert "不予收押" in finding.reason
    assert not may_admit([finding])


def test_serious_illness_needs_the_heads_written_approval() -> None:
    """The 罪大恶极 exception of 看守所条例第十条第二项 is a recorded, approved exception."""
    refused = only(facts(serious_illness=True))
    approved = only(facts(serious_illness=True, head_written_approval=True))
    assert (refused.outcome, refused.satisfied_by_approval) == (APPROVAL, False)
    assert "须经公安机关主要负责人书面批准方可收押" in refused.reason
    assert not may_admit([refused])
    assert (approved.outcome, approved.satisfied_by_approval) == (APPROVAL, True)
    assert "已有公安机关主要负责人书面批准" in approved.reason
    assert may_admit([approved])


@pytest.mark.parametrize(
    ("turning", "days_before", "fires"),
    [(70, 1, False), (70, 0, True), (69, 0, False), (71, 0, True)],
    ids=["day-before-70th", "70th-birthday", "69th-birthday", "71st-birthday"],
)
def test_detention_centre_age_70_boundary(turning: int, days_before: int, fires: bool) -> None:
    age = born(turning, days_before_birthday=days_before)
    assert outcomes(facts(**age)) == ([("DC_ELDERLY", APPROVAL)] if fires else [])
    assert may_admit(run(facts(**age))) is not fires
    assert may_admit(run(facts(head_written_approval=True, **age)))


def test_approval_does_not_lift_a_refusal_in_the_same_assessment() -> None:
    findings = run(facts(serious_illness=True, psychosis=True, head_written_approval=True))
    assert [(x.rule, x.outcome) for x in findings] == [
        ("DC_PSYCHOSIS", REFUSE),
        ("DC_SERIOUS_ILLNESS", APPROVAL),
    ]
    assert not may_admit(findings)


# --- 拘留所: ages before and after 2026-01-01 --------------------------------------------------

BEFORE = dt.date(2025, 12, 31)
AFTER = dt.date(2026, 1, 1)


@pytest.mark.parametrize(
    ("age", "days_before", "rule_id"),
    [
        (13, 0, "DH_UNDER_16"),
        (15, 0, "DH_UNDER_16"),
        (16, 1, "DH_UNDER_16"),  # the day before the 16th birthday: still 15
        (16, 0, None),  # the 16th birthday
        (70, 1, None),  # the day before the 70th birthday: 69
        (70, 0, "DH_ELDERLY"),  # the 70th birthday
        (75, 0, "DH_ELDERLY"),
    ],
)
@pytest.mark.parametrize("measure", ["40", "41"])
def test_detention_house_age_boundaries(
    age: int, days_before: int, rule_id: str | None, measure: str
) -> None:
    f = facts(measure, **born(age, days_before_birthday=days_before))
    assert outcomes(f) == ([(rule_id, REFUSE)] if rule_id else [])
    if rule_id:
        assert "不予收拘，出具不予收拘通知书，通知拘留决定机关" in run(f)[0].reason


@pytest.mark.parametrize(
    ("age", "days_before", "fires"),
    [(15, 0, False), (16, 0, True), (17, 0, True), (18, 1, True), (18, 0, False)],
    ids=["15", "16th-birthday", "17", "day-before-18th", "18th-birthday"],
)
def test_first_offence_minor_16_to_18(age: int, days_before: int, fires: bool) -> None:
    when = born(age, days_before_birthday=days_before)
    first = [x.rule for x in run(facts("40", first_offence_minor=True, **when))]
    repeat = [x.rule for x in run(facts("40", first_offence_minor=False, **when))]
    assert ("DH_MINOR_FIRST_OFFENCE" in first) is fires
    assert "DH_MINOR_FIRST_OFFENCE" not in repeat


def test_first_offence_rule_is_for_administrative_detention_only() -> None:
    assert run(facts("41", first_offence_minor=True, **born(17))) == []


@pytest.mark.parametrize(
    ("age", "today", "serious", "expected"),
    [
        (15, BEFORE, True, ("DH_UNDER_16", REFUSE)),
        (15, AFTER, True, ("DH_UNDER_16", WARN)),
        (15, AFTER, False, ("DH_UNDER_16", REFUSE)),
        (14, AFTER, True, ("DH_UNDER_16", WARN)),
        (13, AFTER, True, ("DH_UNDER_16", REFUSE)),  # under 14: not punishable at all
        (70, BEFORE, True, ("DH_ELDERLY", REFUSE)),
        (70, AFTER, True, ("DH_ELDERLY", WARN)),
        (70, AFTER, False, ("DH_ELDERLY", REFUSE)),
    ],
)
def test_2026_exception_for_serious_circumstances(
    age: int, today: dt.date, serious: bool, expected: tuple[str, str]
) -> None:
    """From 2026-01-01 情节严重、影响恶劣 or 一年以内二次以上 lifts the age exemption."""
    f = facts("40", serious_circumstances=serious, **born(age, today=today))
    assert outcomes(f) == [expected]
    assert may_admit(run(f)) is (expected[1] == WARN)


def test_2026_exception_reaches_first_offence_minors() -> None:
    before = facts(
        "40", first_offence_minor=True, serious_circumstances=True, **born(17, today=BEFORE)
    )
    after = facts(
        "40", first_offence_minor=True, serious_circumstances=True, **born(17, today=AFTER)
    )
    assert outcomes(before) == [("DH_MINOR_FIRST_OFFENCE", REFUSE)]
    assert outcomes(after) == [("DH_MINOR_FIRST_OFFENCE", WARN)]
    assert "请核对拘留决定书载明的情节" in run(after)[0].reason
    assert "2026年1月1日" in run(after)[0].reason


def test_under_14_reason_says_not_punishable() -> None:
    finding = only(facts("40", serious_circumstances=True, **born(13, today=AFTER)))
    assert "不满14周岁，依法不予治安管理处罚" in finding.reason


def test_2026_exception_does_not_reach_judicial_detention() -> None:
    f = facts("41", serious_circumstances=True, **born(15, today=AFTER))
    assert outcomes(f) == [("DH_UNDER_16", REFUSE)]


def test_act_before_2026_keeps_the_old_law() -> None:
    """行政处罚法第三十七条: the law at the time of the act, unless the new one is lighter."""
    old_act = facts(
        "40", serious_circumstances=True, act_date=dt.date(2025, 12, 20), **born(70, today=AFTER)
    )
    new_act = facts("40", serious_circumstances=True, act_date=AFTER, **born(70, today=AFTER))
    assert outcomes(old_act) == [("DH_ELDERLY", REFUSE)]
    assert outcomes(new_act) == [("DH_ELDERLY", WARN)]


def test_2026_effective_date_is_a_pack_parameter() -> None:
    f = facts("40", serious_circumstances=True, **born(70, today=AFTER))
    later = pack_with("DH_ELDERLY", exception_from="2026-07-01")
    never = pack_with("DH_ELDERLY", exception_from=None)
    assert outcomes(f, later) == [("DH_ELDERLY", REFUSE)]
    assert outcomes(f, never) == [("DH_ELDERLY", REFUSE)]


@pytest.mark.parametrize("changes", [{"pregnant": True}, {"nursing_infant_under_1": True}])
@pytest.mark.parametrize("today", [BEFORE, AFTER])
def test_pregnancy_has_no_2026_exception(changes: dict[str, Any], today: dt.date) -> None:
    f = facts("40", gender="2", serious_circumstances=True, today=today, **changes)
    assert outcomes(f) == [("DH_PREGNANT_NURSING", REFUSE)]


@pytest.mark.parametrize("measure", ["40", "41", "60", "61"])
@pytest.mark.parametrize("changes", [{"psychosis": True}, {"acute_infectious": True}])
def test_detention_house_psychosis_or_infection(measure: str, changes: dict[str, Any]) -> None:
    finding = only(facts(measure, **changes))
    assert (finding.rule, finding.outcome) == ("DH_PSYCHOSIS_INFECTIOUS", REFUSE)
    assert "建议停止执行拘留" in finding.reason


def test_detention_house_serious_illness() -> None:
    finding = only(facts("40", serious_illness=True, head_written_approval=True))
    assert (finding.rule, finding.outcome) == ("DH_SERIOUS_ILLNESS", REFUSE)


# --- 拘留审查 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("measure", ["60", "61"])
@pytest.mark.parametrize(
    ("age", "days_before", "changes", "ground"),
    [
        (15, 0, {}, "未满16周岁（15周岁）"),
        (16, 1, {}, "未满16周岁（15周岁）"),
        (16, 0, {}, None),
        (70, 1, {}, None),
        (70, 0, {}, "已满70周岁（70周岁）"),
        (40, 0, {"serious_illness": True}, "患有严重疾病"),
        (40, 0, {"gender": "2", "pregnant": True}, "怀孕"),
        (40, 0, {"gender": "2", "nursing_infant_under_1": True}, "正在哺乳自己不满一周岁的婴儿"),
    ],
)
def test_immigration_detention_not_applicable(
    measure: str, age: int, days_before: int, changes: dict[str, Any], ground: str | None
) -> None:
    """出境入境管理法第六十一条: 限制活动范围 instead of 拘留审查."""
    f = facts(measure, **changes, **born(age, days_before_birthday=days_before))
    findings = run(f)
    if ground is None:
        assert findings == []
        return
    (finding,) = findings
    assert (finding.rule, finding.outcome) == ("IMMIGRATION_UNSUITABLE", REFUSE)
    assert finding.reason.startswith(ground)
    assert "限制活动范围" in finding.reason


def test_immigration_grounds_are_listed_together() -> None:
    f = facts("60", gender="2", serious_illness=True, pregnant=True, **born(70))
    (finding,) = run(f)
    assert finding.reason.startswith("患有严重疾病、怀孕、已满70周岁（70周岁），不适用拘留审查")


def test_immigration_ignores_the_2026_exception() -> None:
    assert outcomes(facts("60", serious_circumstances=True, **born(15, today=AFTER))) == [
        ("IMMIGRATION_UNSUITABLE", REFUSE)
    ]


# --- 戒毒所 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("changes", [{"pregnant": True}, {"nursing_infant_under_1": True}])
def test_rehab_refuses_pregnant_or_nursing(changes: dict[str, Any]) -> None:
    finding = only(facts("50", gender="2", **changes))
    assert (finding.rule, finding.outcome) == ("RC_PREGNANT_NURSING", REFUSE)
    assert "社区戒毒" in finding.reason


@pytest.mark.parametrize(
    ("age", "days_before", "fires"),
    [(15, 0, True), (16, 1, True), (16, 0, False), (17, 0, False)],
    ids=["15", "day-before-16th", "16th-birthday", "17"],
)
def test_rehab_under_16_warns(age: int, days_before: int, fires: bool) -> None:
    """禁毒法第三十九条: 不满十六周岁的 "可以不适用" — a warning, not a refusal."""
    f = facts("50", **born(age, days_before_birthday=days_before))
    assert outcomes(f) == ([("RC_UNDER_16", WARN)] if fires else [])
    assert may_admit(run(f))


def test_rehab_infection_is_isolated_not_refused() -> None:
    finding = only(facts("50", acute_infectious=True))
    assert finding.outcome == WARN
    assert "隔离、治疗" in finding.reason


# --- ages -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facility_measure", "age_rules"),
    [
        ("20", ["DC_ELDERLY"]),
        ("40", ["DH_UNDER_16", "DH_ELDERLY"]),
        ("60", ["IMMIGRATION_UNSUITABLE"]),
        ("50", ["RC_UNDER_16"]),
    ],
)
@pytest.mark.parametrize("birth", [None, dt.date(2026, 3, 16)], ids=["missing", "future"])
def test_unknown_birth_date_warns_but_does_not_block(
    facility_measure: str, age_rules: list[str], birth: dt.date | None
) -> None:
    findings = run(facts(facility_measure, birth_date=birth))
    assert [(x.rule, x.outcome) for x in findings] == [(r, WARN) for r in age_rules]
    assert all("出生日期缺失或晚于当日" in x.reason for x in findings)
    assert may_admit(findings)


@pytest.mark.parametrize(
    ("today", "fires"),
    [(dt.date(2026, 2, 28), False), (dt.date(2026, 3, 1), True)],
)
def test_born_on_29_february_turns_70_on_1_march(today: dt.date, fires: bool) -> None:
    f = facts(birth_date=dt.date(1956, 2, 29), today=today)
    assert outcomes(f) == ([("DC_ELDERLY", APPROVAL)] if fires else [])


@pytest.mark.parametrize(
    ("today", "fires"),
    [(dt.date(2026, 2, 28), True), (dt.date(2026, 3, 1), False)],
)
def test_born_on_29_february_turns_18_on_1_march(today: dt.date, fires: bool) -> None:
    f = facts("40", first_offence_minor=True, birth_date=dt.date(2008, 2, 29), today=today)
    assert outcomes(f) == ([("DH_MINOR_FIRST_OFFENCE", REFUSE)] if fires else [])


def test_day_after_birthday_counting() -> None:
    data = content()
    data["age_counting"] = "day_after_birthday"
    pack = parse_pack(data)
    on_birthday = facts(**born(70))
    day_after = facts(birth_date=on_birthday.birth_date, today=TODAY + dt.timedelta(days=1))
    assert outcomes(on_birthday, pack) == []
    assert outcomes(day_after, pack) == [("DC_ELDERLY", APPROVAL)]


@pytest.mark.parametrize(
    ("birth", "today", "age"),
    [
        (dt.date(1956, 3, 15), dt.date(2026, 3, 14), 69),
        (dt.date(1956, 3, 15), dt.date(2026, 3, 15), 70),
        (dt.date(1956, 2, 29), dt.date(2026, 2, 28), 69),
        (dt.date(1956, 2, 29), dt.date(2026, 3, 1), 70),
        (dt.date(1956, 2, 29), dt.date(2024, 2, 29), 68),
    ],
)
def test_age_on(birth: dt.date, today: dt.date, age: int) -> None:
    assert age_on(birth, today) == age


# --- may_admit --------------------------------------------------------------------------------


def _f(outcome: str, approved: bool = False) -> AdmissionFinding:
    return AdmissionFinding("X", "x", "x", outcome, "x", satisfied_by_approval=approved)


@pytest.mark.parametrize(
    ("findings", "admit"),
    [
        ([], True),
        ([_f(WARN)], True),
        ([_f(APPROVAL, approved=True)], True),
        ([_f(APPROVAL)], False),
        ([_f(REFUSE)], False),
        ([_f(REFUSE, approved=True)], False),
        ([_f(WARN), _f(APPROVAL, approved=True), _f(REFUSE)], False),
    ],
)
def test_may_admit(findings: list[AdmissionFinding], admit: bool) -> None:
    assert may_admit(findings) is admit


def test_pack_can_turn_an_approval_into_a_refusal() -> None:
    pack = pack_with("DC_ELDERLY", outcome=REFUSE)
    findings = run(facts(head_written_approval=True, **born(72)), pack)
    assert [(x.outcome, x.satisfied_by_approval) for x in findings] == [(REFUSE, False)]
    assert not may_admit(findings)


# --- the pack ---------------------------------------------------------------------------------


def test_builtin_pack_metadata() -> None:
    pack = builtin_pack()
    assert (pack.version, pack.age_counting) == ("2026.1", "birthday")
    assert builtin_pack() is pack
    assert all(r.label and r.article for r in pack.rules)
    assert {r.basis for r in pack.rules} == {"law"}
    assert BUILTIN_PATH.name == "admission.yaml"


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


# Rule indexes in the built-in pack: 0 FACILITY_MEASURE, 1 DOCUMENT_KIND, 3 DC_PSYCHOSIS,
# 5 DC_SERIOUS_ILLNESS, 8 DH_UNDER_16.
BAD_PACKS: list[tuple[str, Callable[[dict[str, Any]], None], tuple[Any, ...], str]] = [
    ("kind", _set(("kind",), "separation"), ("kind",), "应为 admission"),
    ("version-float", _set(("version",), 2026.1), ("version",), "加引号"),
    ("title-missing", _drop(("title",)), ("title",), "缺少此项"),
    ("rules-missing", _drop(("rules",)), ("rules",), "缺少规则列表"),
    ("unknown-rule", _set(("rules", 3, "id"), "DC_TATTOO"), ("rules", 3, "id"), "未知的规则"),
    ("duplicate", _set(("rules", 4, "id"), "DC_PSYCHOSIS"), ("rules", 4, "id"), "重复"),
    ("basis", _set(("rules", 3, "basis"), "custom"), ("rules", 3, "basis"), "law 或 practice"),
    ("outcome-missing", _drop(("rules", 3, "outcome")), ("rules", 3, "outcome"), "缺少此项"),
    ("outcome-unknown", _set(("rules", 3, "outcome"), "DENY"), ("rules", 3, "outcome"), "REFUSE"),
    (
        "practice-refuse",
        _set(("rules", 3, "basis"), "practice"),
        ("rules", 3, "outcome"),
        "不能拒收",
    ),
    ("approver-missing", _drop(("rules", 5, "approver")), ("rules", 5, "approver"), "缺少此项"),
    ("scope-missing", _drop(("rules", 3, "measures")), ("rules", 3, "measures"), "缺少此参数"),
    (
        "facility-unknown",
        _set(("rules", 3, "facility_kinds"), ["PRISON"]),
        ("rules", 3, "facility_kinds", 0),
        "未知的代码",
    ),
    (
        "measure-unquoted",
        _set(("rules", 3, "measures"), ["10", 20]),
        ("rules", 3, "measures", 1),
        "加引号",
    ),
    ("age-negative", _set(("rules", 8, "below_age"), -1), ("rules", 8, "below_age"), "非负整数"),
    ("age-string", _set(("rules", 8, "below_age"), "16"), ("rules", 8, "below_age"), "非负整数"),
    (
        "date-unquoted",
        _set(("rules", 8, "exception_from"), dt.date(2026, 1, 1)),
        ("rules", 8, "exception_from"),
        "加引号",
    ),
    (
        "date-invalid",
        _set(("rules", 8, "exception_from"), "2026-02-30"),
        ("rules", 8, "exception_from"),
        "不是有效日期",
    ),
    ("param-unknown", _set(("rules", 8, "max_age"), 18), ("rules", 8, "max_age"), "没有参数"),
    (
        "executed-in-int-key",
        _set(("rules", 0, "executed_in", 10), ["DETENTION_CENTER"]),
        ("rules", 0, "executed_in", "10"),
        "加引号",
    ),
    (
        "executed-in-kind",
        _set(("rules", 0, "executed_in", "10"), ["JAIL"]),
        ("rules", 0, "executed_in", "10", 0),
        "未知的代码",
    ),
    (
        "document-unknown",
        _set(("rules", 1, "accepted", "10", "documents"), ["DETENTION_WARRANT", "LETTER"]),
        ("rules", 1, "accepted", "10", "documents", 1),
        "未知的代码",
    ),
    (
        "document-article-missing",
        _drop(("rules", 1, "accepted", "20", "article")),
        ("rules", 1, "accepted", "20", "article"),
        "缺少此项",
    ),
    (
        "document-entry-key",
        _set(("rules", 1, "accepted", "20", "approver"), "x"),
        ("rules", 1, "accepted", "20", "approver"),
        "未知的项",
    ),
    (
        "documents-missing",
        _drop(("rules", 1, "accepted", "20", "documents")),
        ("rules", 1, "accepted", "20", "documents"),
        "缺少此项",
    ),
    (
        "accepted-not-mapping",
        _set(("rules", 1, "accepted"), ["10"]),
        ("rules", 1, "accepted"),
        "映射",
    ),
]


def test_bad_pack_table_uses_the_expected_rule_indexes() -> None:
    ids = [r["id"] for r in content()["rules"]]
    assert (ids[0], ids[1], ids[3], ids[5], ids[8]) == (
        "FACILITY_MEASURE",
        "DOCUMENT_KIND",
        "DC_PSYCHOSIS",
        "DC_SERIOUS_ILLNESS",
        "DH_UNDER_16",
    )


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


def test_practice_rule_may_ask_for_approval() -> None:
    pack = pack_with("DC_ELDERLY", basis="practice")
    assert pack.rule("DC_ELDERLY") is not None


def test_builtin_content_is_json_safe() -> None:
    """A published pack is stored as JSON: the built-in file has no YAML-only types."""
    import json

    json.dumps(content())
