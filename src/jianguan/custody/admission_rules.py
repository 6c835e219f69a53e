"""Decide whether a facility may take a person in (收押/收拘/收戒 拒收条件).

A pure rule engine: no models, no database. The caller states the facts at the gate; `assess`
returns what the rules say, and `may_admit` whether the person may be taken in. The rules come
from a rule pack (YAML) that switches them on and off and sets their parameters, outcomes,
labels and articles, so a province can publish a changed pack (LAW.md §2.1, §1.8–§1.10).

Outcomes: REFUSE (must refuse and notify the deciding organ), APPROVAL (refuse unless the
named head has approved in writing; then a recorded exception), WARN (admit, but check).

Rule ids are a fixed vocabulary implemented here:

FACILITY_MEASURE        the legal measure is executed in this kind of facility
DOCUMENT_KIND           the document is one the legal measure accepts (拘留证 for 刑事拘留 …)
DOCUMENT_IDENTITY       the document's name / ID number match the person
DC_PSYCHOSIS            看守所: 精神病 → refuse (看守所条例第十条第一项)
DC_ACUTE_INFECTIOUS     看守所: 急性传染病 → refuse (第十条第一项)
DC_SERIOUS_ILLNESS      看守所: 严重疾病 → refuse unless 罪大恶极 with approval (第十条第二项)
DC_PREGNANT_NURSING     看守所: 怀孕、哺乳自己不满一周岁婴儿 → refuse (第十条第三项)
DC_ELDERLY              看守所: 70 周岁以上 → head's written approval (公监管〔2010〕214号)
DH_UNDER_16             拘留所: 不满 16 周岁 → refuse, but the 2026 law's exception
DH_MINOR_FIRST_OFFENCE  拘留所: 16–18 周岁初次违反治安管理 → refuse, same exception
DH_ELDERLY              拘留所: 70 周岁以上 → refuse, same exception
DH_PREGNANT_NURSING     拘留所: 怀孕、哺乳 → refuse
DH_PSYCHOSIS_INFECTIOUS 拘留所: 精神病、需隔离治疗的传染病 → refuse (拘留所条例第十九条)
DH_SERIOUS_ILLNESS      拘留所: 病情严重可能危及生命 → refuse (拘留所条例第十九条)
IMMIGRATION_UNSUITABLE  拘留审查: 严重疾病、怀孕哺乳、不满 16 或 70 以上 → refuse (出境入境管理法第六十一条)
RC_PREGNANT_NURSING     戒毒所: 怀孕、哺乳 → refuse (禁毒法第三十九条)
RC_UNDER_16             戒毒所: 不满 16 周岁 → warn, "可以不适用" (禁毒法第三十九条)
RC_INFECTIOUS           戒毒所: 传染病 → warn, isolate after admission (禁毒法第四十四条)
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from jianguan.rules.schema import (
    AGE_BIRTHDAY,
    MEASURE_NAMES,
    PackError,
    Where,
    age_on,
    pack_header,
    text,
)

__all__ = [
    "APPROVAL",
    "BUILTIN_PATH",
    "DOCUMENT_KINDS",
    "FACILITY_KINDS",
    "REFUSE",
    "REQUIRED_DOCUMENT",
    "RULE_IDS",
    "WARN",
    "AdmissionFacts",
    "AdmissionFinding",
    "AdmissionPack",
    "AdmissionRule",
    "PackError",
    "age_on",
    "assess",
    "builtin_pack",
    "load_pack",
    "may_admit",
    "parse_pack",
]

BUILTIN_PATH: Final = Path(__file__).resolve().parent / "rulepacks" / "admission.yaml"
PACK_KIND: Final = "admission"

REFUSE: Final = "REFUSE"
APPROVAL: Final = "APPROVAL"
WARN: Final = "WARN"
_OUTCOMES: Final = (REFUSE, APPROVAL, WARN)

FACILITY_KINDS: Final = {
    "DETENTION_CENTER": "看守所",
    "DETENTION_HOUSE": "拘留所",
    "REHAB_CENTER": "强制隔离戒毒所",
}

DOCUMENT_KINDS: Final[dict[str, str]] = {
    "DETENTION_WARRANT": "拘留证",
    "ARREST_WARRANT": "逮捕证",
    "ADMIN_DETENTION_DECISION": "行政拘留决定书",
    "JUDICIAL_DETENTION_DECISION": "司法拘留决定书",
    "DRUG_REHAB_DECISION": "强制隔离戒毒决定书",
    "IMMIGRATION_DECISION": "拘留审查决定书",
    "DEPORTATION_DECISION": "遣送出境决定书",
    "EXECUTION_NOTICE": "执行通知书、判决书",
    "TEMPORARY_CUSTODY": "临时寄押证明文书",
}

_ADMIT_WORDS: Final = {
    "DETENTION_CENTER": "收押",
    "DETENTION_HOUSE": "收拘",
    "REHAB_CENTER": "收戒",
}


# --- facts and findings ---------------------------------------------------------------------


@dataclass(frozen=True)
class AdmissionFacts:
    facility_kind: str  # DETENTION_CENTER | DETENTION_HOUSE | REHAB_CENTER
    legal_measure: str  # LEGAL_MEASURE code
    gender: str
    birth_date: dt.date | None
    today: dt.date
    pregnant: bool = False
    nursing_infant_under_1: bool = False
    psychosis: bool = False
    acute_infectious: bool = False
    serious_illness: bool = False  # life-threatening, or cannot care for oneself
    first_offence_minor: bool = False  # 初次违反治安管理
    serious_circumstances: bool = False  # 情节严重、影响恶劣，或一年以内二次以上
    head_written_approval: bool = False
    document_kind: str = ""
    document_matches_person: bool = True
    # 违法行为发生日. When known it decides which 治安管理处罚法 applies (行政处罚法第三十七条
    # 从旧兼从轻); otherwise `today` does.
    act_date: dt.date | None = None


@dataclass(frozen=True)
class AdmissionFinding:
    rule: str
    label: str
    article: str
    outcome: str  # REFUSE | APPROVAL | WARN
    reason: str
    satisfied_by_approval: bool = False


def may_admit(findings: Iterable[AdmissionFinding]) -> bool:
    """False when a finding refuses, or asks for an approval that has not been given."""
    return all(
        f.outcome == WARN or (f.outcome == APPROVAL and f.satisfied_by_approval) for f in findings
    )


# --- pack -----------------------------------------------------------------------------------


_Where = Where


@dataclass(frozen=True)
class MeasureDocuments:
    documents: tuple[str, ...]
    article: str


ParamValue = (
    int
    | str
    | dt.date
    | None
    | tuple[str, ...]
    | Mapping[str, tuple[str, ...]]
    | Mapping[str, MeasureDocuments]
)


@dataclass(frozen=True)
class AdmissionRule:
    id: str
    label: str
    article: str
    basis: str  # law | practice
    outcome: str
    approver: str  # who approves, for APPROVAL outcomes; "" otherwise
    enabled: bool
    params: Mapping[str, ParamValue] = field(default_factory=dict)

    def integer(self, name: str) -> int:
        value = self.params[name]
        assert isinstance(value, int)
        return value

    def codes(self, name: str) -> tuple[str, ...]:
        value = self.params[name]
        assert isinstance(value, tuple)
        return value

    def day(self, name: str) -> dt.date | None:
        value = self.params[name]
        assert value is None or isinstance(value, dt.date)
        return value

    def table(self, name: str) -> Mapping[str, Any]:
        value = self.params[name]
        assert isinstance(value, Mapping)
        return value

    def applies(self, facts: AdmissionFacts) -> bool:
        """Within the rule's scope: its facility kinds and legal measures, where it has them."""
        if "facility_kinds" in self.params and facts.facility_kind not in self.codes(
            "facility_kinds"
        ):
            return False
        return "measures" not in self.params or facts.legal_measure in self.codes("measures")


@dataclass(frozen=True)
class AdmissionPack:
    version: str
    title: str
    rules: tuple[AdmissionRule, ...]
    age_counting: str = AGE_BIRTHDAY

    def rule(self, rule_id: str) -> AdmissionRule | None:
        """The enabled rule with this id, or None when the pack leaves it off."""
        return next((r for r in self.rules if r.id == rule_id and r.enabled), None)

    @property
    def required_document(self) -> dict[str, tuple[str, ...]]:
        """Legal measure code -> the document kinds it accepts (empty when the rule is off)."""
        rule = self.rule("DOCUMENT_KIND")
        if rule is None:
            return {}
        return {code: entry.documents for code, entry in rule.table("accepted").items()}


def _non_negative_int(value: object, path: _Where) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PackError(path, "应为非负整数")
    return value


def _codes(
    value: object, path: _Where, allowed: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise PackError(path, "应为非空列表")
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise PackError((*path, i), "应为字符串代码（数字代码请加引号）")
        if allowed is not None and item not in allowed:
            raise PackError((*path, i), f"未知的代码“{item}”；可用：{'、'.join(allowed)}")
    return tuple(item.strip() for item in value)


def _measure_codes(value: object, path: _Where) -> tuple[str, ...]:
    return _codes(value, path)


def _facility_kinds(value: object, path: _Where) -> tuple[str, ...]:
    return _codes(value, path, FACILITY_KINDS)


def _optional_date(value: object, path: _Where) -> dt.date | None:
    # Dates are strings: a published pack is stored as JSON, which has no date type.
    if value is None:
        return None
    if not isinstance(value, str):
        raise PackError(path, '日期请加引号写成 "YYYY-MM-DD"，或写 null 表示不适用')
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise PackError(path, f"“{value}”不是有效日期（YYYY-MM-DD）") from None


def _code_keyed(value: object, path: _Where) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not value:
        raise PackError(path, "应为以法律措施代码为键的非空映射")
    for key in value:
        if not isinstance(key, str):
            raise PackError((*path, str(key)), "法律措施代码请加引号")
    return value


def _executed_in(value: object, path: _Where) -> Mapping[str, tuple[str, ...]]:
    table = _code_keyed(value, path)
    return {code: _facility_kinds(kinds, (*path, code)) for code, kinds in table.items()}


def _accepted(value: object, path: _Where) -> Mapping[str, MeasureDocuments]:
    table = _code_keyed(value, path)
    out = {}
    for code, entry in table.items():
        where = (*path, code)
        if not isinstance(entry, Mapping):
            raise PackError(where, "应为映射，含 documents 与 article")
        for key in entry:
            if key not in ("documents", "article"):
                raise PackError((*where, str(key)), "未知的项")
        if "documents" not in entry:
            raise PackError((*where, "documents"), "缺少此项")
        documents = _codes(entry["documents"], (*where, "documents"), DOCUMENT_KINDS)
        out[code] = MeasureDocuments(documents, text(entry, "article", where))
    return out


_Parser = Callable[[object, _Where], ParamValue]
_SCOPE: Final[dict[str, _Parser]] = {
    "facility_kinds": _facility_kinds,
    "measures": _measure_codes,
}
# The 2025 治安管理处罚法 exception to the age exemptions (LAW.md §1.9).
_EXCEPTION: Final[dict[str, _Parser]] = {
    "exception_from": _optional_date,
    "exception_measures": _measure_codes,
}


def _ages(*names: str) -> dict[str, _Parser]:
    return dict.fromkeys(names, _non_negative_int)


# Rule id -> its parameters and how to read each. The keys of this table are the vocabulary.
_PARAMS: Final[dict[str, dict[str, _Parser]]] = {
    "FACILITY_MEASURE": {"executed_in": _executed_in},
    "DOCUMENT_KIND": {"accepted": _accepted},
    "DOCUMENT_IDENTITY": {**_SCOPE},
    "DC_PSYCHOSIS": {**_SCOPE},
    "DC_ACUTE_INFECTIOUS": {**_SCOPE},
    "DC_SERIOUS_ILLNESS": {**_SCOPE},
    "DC_PREGNANT_NURSING": {**_SCOPE},
    "DC_ELDERLY": {**_SCOPE, **_ages("from_age")},
    "DH_UNDER_16": {**_SCOPE, **_EXCEPTION, **_ages("below_age", "exception_min_age")},
    "DH_MINOR_FIRST_OFFENCE": {**_SCOPE, **_EXCEPTION, **_ages("from_age", "below_age")},
    "DH_ELDERLY": {**_SCOPE, **_EXCEPTION, **_ages("from_age")},
    "DH_PREGNANT_NURSING": {**_SCOPE},
    "DH_PSYCHOSIS_INFECTIOUS": {**_SCOPE},
    "DH_SERIOUS_ILLNESS": {**_SCOPE},
    "IMMIGRATION_UNSUITABLE": {**_SCOPE, **_ages("below_age", "from_age")},
    "RC_PREGNANT_NURSING": {**_SCOPE},
    "RC_UNDER_16": {**_SCOPE, **_ages("below_age")},
    "RC_INFECTIOUS": {**_SCOPE},
}
RULE_IDS: Final = tuple(_PARAMS)

_COMMON_KEYS: Final = {"id", "label", "article", "basis", "outcome", "approver", "enabled", "note"}
_TOP_KEYS: Final = {"kind", "version", "title", "rules", "age_counting", "note"}
_BASES: Final = ("law", "practice")


def _parse_rule(raw: object, path: _Where, seen: set[str]) -> AdmissionRule:
    if not isinstance(raw, Mapping):
        raise PackError(path, "每条规则应为映射（键: 值）")
    rule_id = text(raw, "id", path)
    if rule_id not in _PARAMS:
        raise PackError((*path, "id"), f"未知的规则“{rule_id}”；可用：{'、'.join(RULE_IDS)}")
    if rule_id in seen:
        raise PackError((*path, "id"), f"规则“{rule_id}”重复")
    seen.add(rule_id)
    specs = _PARAMS[rule_id]
    for key in raw:
        if key not in _COMMON_KEYS and key not in specs:
            raise PackError((*path, str(key)), f"规则 {rule_id} 没有参数“{key}”")
    basis = text(raw, "basis", path)
    if basis not in _BASES:
        raise PackError((*path, "basis"), f"未知的依据类别“{basis}”，应为 law 或 practice")
    outcome = text(raw, "outcome", path)
    if outcome not in _OUTCOMES:
        raise PackError(
            (*path, "outcome"), f"未知的处理结果“{outcome}”，应为 REFUSE、APPROVAL 或 WARN"
        )
    if basis == "practice" and outcome == REFUSE:
        # Practice never hard-blocks: at most it asks for an approval.
        raise PackError(
            (*path, "outcome"), "basis 为 practice 的规则不能拒收，请用 APPROVAL 或 WARN"
        )
    approver = text(raw, "approver", path) if outcome == APPROVAL else ""
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise PackError((*path, "enabled"), "应为 true 或 false")
    params: dict[str, ParamValue] = {}
    for name, parse in specs.items():
        if name not in raw:
            raise PackError((*path, name), "缺少此参数")
        params[name] = parse(raw[name], (*path, name))
    return AdmissionRule(
        id=rule_id,
        label=text(raw, "label", path),
        article=text(raw, "article", path),
        basis=basis,
        outcome=outcome,
        approver=approver,
        enabled=enabled,
        params=params,
    )


def parse_pack(content: Mapping[str, Any]) -> AdmissionPack:
    """Validate parsed YAML and build the pack; PackError names the first bad path."""
    head = pack_header(content, kind=PACK_KIND, top_keys=_TOP_KEYS)
    seen: set[str] = set()
    parsed = tuple(_parse_rule(raw, ("rules", i), seen) for i, raw in enumerate(head.rules))
    return AdmissionPack(
        version=head.version, title=head.title, rules=parsed, age_counting=head.age_counting
    )


def load_pack(path: Path) -> AdmissionPack:
    return parse_pack(yaml.safe_load(path.read_text(encoding="utf-8")))


@functools.cache
def builtin_pack() -> AdmissionPack:
    return load_pack(BUILTIN_PATH)


# --- rules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    facts: AdmissionFacts
    pack: AdmissionPack

    @property
    def age(self) -> int | None:
        birth = self.facts.birth_date
        if birth is None or birth > self.facts.today:
            return None
        return age_on(birth, self.facts.today, counting=self.pack.age_counting)

    @property
    def measure(self) -> str:
        code = self.facts.legal_measure
        return f"{MEASURE_NAMES.get(code, '法律措施')}（{code}）"

    @property
    def facility(self) -> str:
        return FACILITY_KINDS.get(self.facts.facility_kind, self.facts.facility_kind)

    @property
    def admit_word(self) -> str:
        """收押 at a 看守所, 收拘 at a 拘留所, 收戒 at a 戒毒所."""
        return _ADMIT_WORDS.get(self.facts.facility_kind, "收押")


def _finding(
    rule: AdmissionRule,
    reason: str,
    *,
    outcome: str | None = None,
    article: str | None = None,
    facts: AdmissionFacts | None = None,
) -> AdmissionFinding:
    outcome = outcome or rule.outcome
    approved = outcome == APPROVAL and facts is not None and facts.head_written_approval
    return AdmissionFinding(
        rule=rule.id,
        label=rule.label,
        article=article or rule.article,
        outcome=outcome,
        reason=reason,
        satisfied_by_approval=approved,
    )


def _next_step(rule: AdmissionRule, c: _Context, *, refusal: str, warning: str = "") -> str:
    """What the admitting officer does next, by the rule's outcome."""
    if rule.outcome == REFUSE:
        return refusal
    if rule.outcome == APPROVAL:
        if c.facts.head_written_approval:
            return f"已有{rule.approver}书面批准，作为例外{c.admit_word}，批准文书存档"
        return f"须经{rule.approver}书面批准方可{c.admit_word}；未获批准的，不予{c.admit_word}并通知送押机关"
    return warning or f"可以{c.admit_word}，请核实并记录"


def _unknown_age(rule: AdmissionRule, c: _Context) -> list[AdmissionFinding]:
    # An unknown age never blocks by itself, but the officer must check it before deciding.
    reason = f"出生日期缺失或晚于当日，无法核对“{rule.label}”；请核实身份证件后再作决定"
    return [_finding(rule, reason, outcome=WARN)]


def _facility_measure(rule: AdmissionRule, c: _Context) -> list[AdmissionFinding]:
    kinds = rule.table("executed_in").get(c.facts.legal_measure)
    if kinds is None:
        reason = f"规则包未规定{c.measure}在何种监所执行；不予{c.admit_word}，请报上级核定"
        return [_finding(rule, reason)]
    if c.facts.facility_kind in kinds:
        return []
    where = "、".join(FACILITY_KINDS.get(k, k) for k in kinds)
    reason = f"{c.measure}应在{where}执行，不在{c.facility}执行；不予{c.admit_word}，退回送押机关"
    return [_finding(rule, reason)]


def _document_kind(rule: AdmissionRule, c: _Context) -> list[AdmissionFinding]:
    # 看守所条例第九条；公安机关办理刑事案件程序规定第一百五十三条；拘留所条例第九条.
    entry = rule.table("accepted").get(c.facts.legal_measure)
    if entry is None:
        reason = f"规则包未规定{c.measure}的收押凭证；不予{c.admit_word}，请报上级核定"
        return [_finding(rule, reason)]
    assert isinstance(entry, MeasureDocuments)
    if c.facts.document_kind in entry.documents:
        return []
    wanted = "或".join(DOCUMENT_KINDS[d] for d in entry.documents)
    given = c.facts.document_kind
    got = "未提交收押凭证" if not given else f"提交的是{DOCUMENT_KINDS.get(given, given)}"
    reason = (
        f"{c.measure}应凭{wanted}{c.admit_word}，{got}；不予{c.admit_word}，请送押机关补正法律文书"
    )
    return [_finding(rule, reason, article=entry.article)]


def _document_identity(rule: AdmissionRule, c: _Context) -> list[AdmissionFinding]:
    # 看守所条例第九条: 凭证的记载与实际情况不符的，不予收押.
    if c.facts.document_matches_person:
        return []
    reason = (
        f"法律文书记载的姓名或身份证件号码与被送押人不符；不予{c.admit_word}，请送押机关核实更正"
    )
    return [_finding(rule, reason)]


_Check = Callable[[AdmissionRule, _Context], list[AdmissionFinding]]


def _condition(
    present: Callable[[AdmissionFacts], bool],
    what: Callable[[AdmissionFacts], str] | str,
    *,
    refusal: str,
    warning: str = "",
) -> _Check:
    """A rule that fires on a fact about the person's health or family situation."""

    def check(rule: AdmissionRule, c: _Context) -> list[AdmissionFinding]:
        if not present(c.facts):
            return []
        stated = what if isinstance(what, str) else what(c.facts)
        step = _next_step(rule, c, refusal=refusal, warning=warning)
        return [_finding(rule, f"{stated}；{step}", facts=c.facts)]

    return check


def _pregnant_or_nursing(f: AdmissionFacts) -> bool:
    return f.pregnant or f.nursing_infant_under_1


def _pregnancy_text(f: AdmissionFacts) -> str:
    return "怀孕" if f.pregnant else "正在哺乳自己不满一周岁的婴儿"


_DC_REFUSAL: Final = "不予收押，通知送押机关另行处理（可变更为取保候审或监视居住）"
_DH_REFUSAL: Final = "不予收拘，出具不予收拘通知书，通知拘留决定机关"
_RC_REFUSAL: Final = "不予收戒，通知决定机关依法改为社区戒毒（禁毒法第三十九条第二款）"


def _dc_elderly(rule: AdmissionRule, c: _Context) -> list[AdmissionFinding]:
    # 公监管〔2010〕214号通知第一部分: 70 周岁以上 may be refused; admission needs written approval.
    age = c.age
    if age is None:
        return _unknown_age(rule, c)
    if age < rule.integer("from_age"):
        return []
    step = _next_step(rule, c, refusal=_DC_REFUSAL)
    reason = f"已满{rule.integer('from_age')}周岁（{age}周岁）；{step}"
    return [_finding(rule, reason, facts=c.facts)]


def _regime_date(facts: AdmissionFacts) -> dt.date:
    # 行政处罚法第三十七条: the law in force when the act was done, unless the new one is
    # lighter. The 2025 exception is heavier, so it applies only to acts from its effective date.
    return facts.act_date or facts.today


def _exception_start(rule: AdmissionRule, c: _Context) -> dt.date | None:
    """The date the 2025 治安管理处罚法 lifts the age exemption for this person, or None when
    it does not: only for 情节严重、影响恶劣 or repeated acts, under that law's regime."""
    start = rule.day("exception_from")
    if start is None or _regime_date(c.facts) < start or not c.facts.serious_circumstances:
        return None
    return start if c.facts.legal_measure in rule.codes("exception_measures") else None


def _exception_warning(rule: AdmissionRule, start: dt.date, age: int) -> AdmissionFinding:
    reason = (
        f"{age}周岁，本属不执行拘留的情形；依{start.year}年{start.month}月{start.day}日起施行的"
        "治安管理处罚法，情节严重、影响恶劣或一年以内二次以上违反治安管理的，不受此限：可以收拘，"
        "请核对拘留决定书载明的情节"
    )
    return _finding(rule, reason, outcome=WARN)


def _age_exemption(
    rule: AdmissionRule,
    c: _Context,
    *,
    applies: Callable[[int], bool],
    what: str,
    exception_from_age: int = 0,
) -> list[AdmissionFinding]:
    age = c.age
    if age is None:
        return _unknown_age(rule, c)
    if not applies(age):
        return []
    start = _exception_start(rule, c)
    if start is not None and age >= exception_from_age:
        return [_exception_warning(rule, start, age)]
    return [_finding(rule, f"{what}（{age}周岁）；{_DH_REFUSAL}")]


def _dh_under_16(rule: AdmissionRule, c: _Context) -> list[AdmissionFinding]:
    # 拘留所条例实施办法第十八条第一项；治安管理处罚法（2012）第二十一条第一项.
    below = rule.integer("below_age")
    floor = rule.integer("exception_min_age")
    what = f"不满{below}周岁"
    if c.age is not None and c.age < floor:
        # 治安管理处罚法第十二条: under 14 not punished at all, so no exception either.
        what = f"不满{floor}周岁，依法不予治安管理处罚，拘留决定可能有误"
    return _age_exemption(
        rule, c, applies=lambda age: age < below, what=what, exception_from_age=floor
    )


def _dh_minor_first_offence(rule: AdmissionRule, c: _Context) -> list[AdmissionFinding]:
    # 拘留所条例实施办法第十八条第二项；治安管理处罚法（2012）第二十一条第二项.
    low, high = rule.integer("from_age"), rule.integer("below_age")
    if not c.facts.first_offence_minor:
        return []
    return _age_exemption(
        rule,
        c,
        applies=lambda age: low <= age < high,
        what=f"已满{low}周岁不满{high}周岁，初次违反治安管理",
    )


def _dh_elderly(rule: AdmissionRule, c: _Context) -> list[AdmissionFinding]:
    # 拘留所条例实施办法第十八条第一项；治安管理处罚法（2012）第二十一条第三项.
    start = rule.integer("from_age")
    return _age_exemption(rule, c, applies=lambda age: age >= start, what=f"已满{start}周岁")


def _immigration(rule: AdmissionRule, c: _Context) -> list[AdmissionFinding]:
    # 出境入境管理法第六十一条；拘留所条例实施办法第十八条第四、五项.
    f, age = c.facts, c.age
    grounds = []
    if f.serious_illness:
        grounds.append("患有严重疾病")
    if _pregnant_or_nursing(f):
        grounds.append(_pregnancy_text(f))
    below, start = rule.integer("below_age"), rule.integer("from_age")
    if age is not None and age < below:
        grounds.append(f"未满{below}周岁（{age}周岁）")
    if age is not None and age >= start:
        grounds.append(f"已满{start}周岁（{age}周岁）")
    out = _unknown_age(rule, c) if age is None else []
    if grounds:
        reason = (
            f"{'、'.join(grounds)}，不适用拘留审查；{_DH_REFUSAL}，由决定机关依法改为限制活动范围"
        )
        out.append(_finding(rule, reason, facts=f))
    return out


def _rc_under_16(rule: AdmissionRule, c: _Context) -> list[AdmissionFinding]:
    # 禁毒法第三十九条第一款: 不满十六周岁的，可以不适用强制隔离戒毒 — a choice, not a bar.
    age = c.age
    if age is None:
        return _unknown_age(rule, c)
    below = rule.integer("below_age")
    if age >= below:
        return []
    reason = (
        f"未满{below}周岁（{age}周岁），依法可以不适用强制隔离戒毒；"
        f"{_next_step(rule, c, refusal=_RC_REFUSAL, warning='可以收戒')}，"
        "请与决定机关确认已考虑社区戒毒"
    )
    return [_finding(rule, reason, facts=c.facts)]


_CHECKS: Final[dict[str, _Check]] = {
    "FACILITY_MEASURE": _facility_measure,
    "DOCUMENT_KIND": _document_kind,
    "DOCUMENT_IDENTITY": _document_identity,
    "DC_PSYCHOSIS": _condition(lambda f: f.psychosis, "患有精神病", refusal=_DC_REFUSAL),
    "DC_ACUTE_INFECTIOUS": _condition(
        lambda f: f.acute_infectious, "患有急性传染病", refusal=_DC_REFUSAL
    ),
    # 看守所条例第十条第二项: the 罪大恶极 exception is what the approval outcome expresses.
    "DC_SERIOUS_ILLNESS": _condition(
        lambda f: f.serious_illness,
        "患有严重疾病，羁押中可能发生生命危险或者生活不能自理；"
        "仅罪大恶极、不羁押对社会有危险性的可以收押",
        refusal=_DC_REFUSAL,
    ),
    "DC_PREGNANT_NURSING": _condition(_pregnant_or_nursing, _pregnancy_text, refusal=_DC_REFUSAL),
    "DC_ELDERLY": _dc_elderly,
    "DH_UNDER_16": _dh_under_16,
    "DH_MINOR_FIRST_OFFENCE": _dh_minor_first_offence,
    "DH_ELDERLY": _dh_elderly,
    "DH_PREGNANT_NURSING": _condition(_pregnant_or_nursing, _pregnancy_text, refusal=_DH_REFUSAL),
    # 拘留所条例第十九条 speaks of people already held; at the gate the same facts refuse.
    "DH_PSYCHOSIS_INFECTIOUS": _condition(
        lambda f: f.psychosis or f.acute_infectious,
        "患有精神病或者需要隔离治疗的传染病",
        refusal=f"{_DH_REFUSAL}，建议停止执行拘留",
    ),
    "DH_SERIOUS_ILLNESS": _condition(
        lambda f: f.serious_illness,
        "病情严重，可能危及生命安全",
        refusal=f"{_DH_REFUSAL}，建议停止执行拘留",
    ),
    "IMMIGRATION_UNSUITABLE": _immigration,
    "RC_PREGNANT_NURSING": _condition(_pregnant_or_nursing, _pregnancy_text, refusal=_RC_REFUSAL),
    "RC_UNDER_16": _rc_under_16,
    # 禁毒法第四十四条: infection is isolated inside the centre, not a reason to refuse.
    "RC_INFECTIOUS": _condition(
        lambda f: f.acute_infectious,
        "患有传染病",
        refusal=_RC_REFUSAL,
        warning="可以收戒，收戒后依法采取隔离、治疗措施",
    ),
}
assert set(_CHECKS) == set(_PARAMS)


def assess(facts: AdmissionFacts, pack: AdmissionPack) -> list[AdmissionFinding]:
    """Every finding of the pack's enabled rules that apply to this facility and measure, in the
    pack's order."""
    context = _Context(facts, pack)
    return [
        finding
        for rule in pack.rules
        if rule.enabled and rule.applies(facts)
        for finding in _CHECKS[rule.id](rule, context)
    ]


REQUIRED_DOCUMENT: Final[Mapping[str, tuple[str, ...]]] = builtin_pack().required_document
