"""Decide which cells a person may be placed in, and say why each other cell is excluded.

A pure rule engine: no models, no database. The caller describes the person and every active
cell with its occupants; `evaluate` returns one verdict per cell. The rules (分押分管, LAW.md §2.2)
come from a rule pack (YAML): the pack switches rules on and off, sets their parameters, labels,
articles and severity. `basis: law` makes a finding a hard block that nobody may override;
`basis: practice` makes it a warning an officer may override with a reason.

Rule ids are a fixed vocabulary implemented here:

SEX                     男女分押 — cell gender and occupants' gender vs the person's.
AGE_MINOR               成年/未成年分押 — both directions; a JUVENILE cell holds no adult.
CO_DEFENDANT            同案犯分押 — same non-empty case number.
SENTENCED_MIX           已决/未决不得混押 — both directions; a SENTENCED cell holds no 未决.
ADMIN_COERCIVE_SEPARATE 行政强制措施性质拘留（拘留审查等）与行政/司法拘留分别拘押.
REQUESTED_SEPARATION    办案单位要求分别关押 — either side's list names the other.
CAPACITY                核定容量 — a full cell warns; optional floor area × per-person area.
FOREIGN                 外籍人员与境内人员分别安排.
INFECTIOUS              传染病人员隔离 — to a MEDICAL cell, never with the healthy.
RECIDIVIST              初犯与累犯分别关押（有条件的）.
TRANSITION              新收押人员先入过渡监室; a transition cell is for new admissions only.
DEDICATED_CELL          设有未成年人/已决犯监室的，未成年人/已决犯宜入专门监室.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
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
    "BUILTIN_PATH",
    "RULE_IDS",
    "CellFacts",
    "CellVerdict",
    "Finding",
    "Occupant",
    "PackError",
    "SeparationPack",
    "SeparationRule",
    "age_on",
    "builtin_pack",
    "evaluate",
    "load_pack",
    "parse_pack",
]

BUILTIN_PATH: Final = Path(__file__).resolve().parent / "rulepacks" / "separation.yaml"
PACK_KIND: Final = "separation"

MALE: Final = "1"
FEMALE: Final = "2"
_GENDER_NAMES: Final = {MALE: "男", FEMALE: "女"}

ORDINARY: Final = "ORDINARY"
JUVENILE: Final = "JUVENILE"
TRANSITION: Final = "TRANSITION"
SENTENCED: Final = "SENTENCED"
MEDICAL: Final = "MEDICAL"


# --- facts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Occupant:
    """A person as the separation rules see them (an occupant, or the person to be placed)."""

    id: str
    gender: str  # GB/T 2261.1: "1" male, "2" female
    birth_date: dt.date | None
    nationality: str  # ISO 3166 alpha-3; "" unknown
    case_number: str  # co-defendants share it; "" unknown
    legal_measure: str  # LEGAL_MEASURE code
    sentenced: bool  # 已决
    infectious: bool = False
    recidivist: bool = False
    new_admission: bool = False  # in the 过渡期
    extra_separate_from: frozenset[str] = frozenset()  # 办案单位要求分别关押的人员 id


@dataclass(frozen=True)
class CellFacts:
    id: str
    number: str
    area: str
    kind: str  # ORDINARY, JUVENILE, TRANSITION, SENTENCED, MEDICAL
    gender: str
    capacity: int
    occupants: tuple[Occupant, ...]
    floor_area_m2: float | None = None  # usable floor area; None when not recorded


@dataclass(frozen=True)
class Finding:
    rule: str
    label: str
    article: str
    hard: bool  # law → True (no override); practice or unverifiable → False
    reason: str
    occupant_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class CellVerdict:
    cell: CellFacts
    findings: tuple[Finding, ...]
    free_places: int = 0

    @property
    def allowed(self) -> bool:
        return not any(f.hard for f in self.findings)

    @property
    def clean(self) -> bool:
        return not self.findings

    @property
    def explanation(self) -> str:
        """One line per finding: 禁止/提示, the rule's label, the reason and the article."""
        if self.clean:
            return f"{self.cell.number}监室：可以安排"
        lines = [
            f"{'禁止' if f.hard else '提示'}【{f.label}】{f.reason}（{f.article}）"
            for f in self.findings
        ]
        return f"{self.cell.number}监室：\n" + "\n".join(lines)


# --- pack -----------------------------------------------------------------------------------


ParamValue = int | float | str | tuple[str, ...]


@dataclass(frozen=True)
class SeparationRule:
    id: str
    label: str
    article: str
    hard: bool  # basis: law
    enabled: bool
    params: Mapping[str, ParamValue] = field(default_factory=dict)

    def number(self, name: str) -> float:
        value = self.params[name]
        assert isinstance(value, int | float)
        return value

    def codes(self, name: str) -> frozenset[str]:
        value = self.params[name]
        assert isinstance(value, tuple)
        return frozenset(value)


@dataclass(frozen=True)
class SeparationPack:
    version: str
    title: str
    rules: tuple[SeparationRule, ...]
    age_counting: str = AGE_BIRTHDAY

    def rule(self, rule_id: str) -> SeparationRule | None:
        """The enabled rule with this id, or None when the pack leaves it off."""
        return next((r for r in self.rules if r.id == rule_id and r.enabled), None)


_Where = Where


def _positive_int(value: object, path: _Where) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PackError(path, "应为正整数")
    return value


def _positive_number(value: object, path: _Where) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise PackError(path, "应为正数")
    return float(value)


def _code_list(value: object, path: _Where) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise PackError(path, "应为非空列表")
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise PackError((*path, i), "应为字符串代码（数字代码请加引号）")
    return tuple(item.strip() for item in value)


_Parser = Callable[[object, _Where], ParamValue]

# Rule id -> its parameters and how to read each. The keys of this table are the vocabulary.
_PARAMS: Final[dict[str, dict[str, _Parser]]] = {
    "SEX": {},
    "AGE_MINOR": {"adult_age": _positive_int},
    "CO_DEFENDANT": {},
    "SENTENCED_MIX": {},
    "ADMIN_COERCIVE_SEPARATE": {"coercive_measures": _code_list, "punitive_measures": _code_list},
    "REQUESTED_SEPARATION": {},
    "CAPACITY": {"area_per_person_m2": _positive_number},
    "FOREIGN": {"domestic_nationalities": _code_list},
    "INFECTIOUS": {},
    "RECIDIVIST": {},
    "TRANSITION": {},
    "DEDICATED_CELL": {"adult_age": _positive_int},
}
RULE_IDS: Final = tuple(_PARAMS)

_COMMON_KEYS: Final = {"id", "label", "article", "basis", "enabled", "note"}
_TOP_KEYS: Final = {"kind", "version", "title", "rules", "age_counting", "note"}
_BASES: Final = {"law": True, "practice": False}


def _parse_rule(raw: object, path: _Where, seen: set[str]) -> SeparationRule:
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
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise PackError((*path, "enabled"), "应为 true 或 false")
    params: dict[str, ParamValue] = {}
    for name, parse in specs.items():
        if name not in raw:
            raise PackError((*path, name), "缺少此参数")
        params[name] = parse(raw[name], (*path, name))
    return SeparationRule(
        id=rule_id,
        label=text(raw, "label", path),
        article=text(raw, "article", path),
        hard=_BASES[basis],
        enabled=enabled,
        params=params,
    )


def parse_pack(content: Mapping[str, Any]) -> SeparationPack:
    """Validate parsed YAML and build the pack; PackError names the first bad path."""
    head = pack_header(content, kind=PACK_KIND, top_keys=_TOP_KEYS)
    seen: set[str] = set()
    parsed = tuple(_parse_rule(raw, ("rules", i), seen) for i, raw in enumerate(head.rules))
    return SeparationPack(
        version=head.version, title=head.title, rules=parsed, age_counting=head.age_counting
    )


def load_pack(path: Path) -> SeparationPack:
    return parse_pack(yaml.safe_load(path.read_text(encoding="utf-8")))


@functools.cache
def builtin_pack() -> SeparationPack:
    return load_pack(BUILTIN_PATH)


# --- rules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    person: Occupant
    cell: CellFacts
    others: tuple[Occupant, ...]  # occupants except the person
    pack: SeparationPack
    today: dt.date
    cell_kinds: frozenset[str]  # kinds of all cells evaluated: which dedicated cells exist

    def age(self, who: Occupant) -> int | None:
        if who.birth_date is None or who.birth_date > self.today:
            return None
        return age_on(who.birth_date, self.today, counting=self.pack.age_counting)


def _ids(people: Iterable[Occupant]) -> tuple[str, ...]:
    return tuple(p.id for p in people)


def _joined(people: Iterable[Occupant]) -> str:
    return "、".join(p.id for p in people)


def _finding(
    rule: SeparationRule,
    reason: str,
    people: Sequence[Occupant] = (),
    *,
    hard: bool | None = None,
) -> Finding:
    return Finding(
        rule=rule.id,
        label=rule.label,
        article=rule.article,
        hard=rule.hard if hard is None else hard,
        reason=reason,
        occupant_ids=_ids(people),
    )


def _sex(rule: SeparationRule, c: _Context) -> list[Finding]:
    # 看守所条例第六条第二款、第十四条；拘留所条例第十五条: men and women are held apart.
    out = []
    person_sex = _GENDER_NAMES.get(c.person.gender, "性别不明")
    if c.cell.gender != c.person.gender:
        cell_sex = _GENDER_NAMES.get(c.cell.gender, "性别不明")
        out.append(_finding(rule, f"{cell_sex}监室，拟安排人员为{person_sex}性"))
    others = [o for o in c.others if o.gender != c.person.gender]
    if others:
        out.append(_finding(rule, f"监室内有异性人员：{_joined(others)}", others))
    return out


def _is_minor(age: int | None, adult_age: int) -> bool | None:
    return None if age is None else age < adult_age


def _age_minor(rule: SeparationRule, c: _Context) -> list[Finding]:
    # 看守所条例第十四条；刑事诉讼法第二百八十条第二款；公安机关办理刑事案件程序规定第三百二十八条.
    adult_age = int(rule.number("adult_age"))
    person_age = c.age(c.person)
    out: list[Finding] = []
    if person_age is None:
        if c.others or c.cell.kind == JUVENILE:
            out.append(
                _finding(rule, "拟安排人员出生日期不详，无法核对成年与未成年分押", hard=False)
            )
        return out
    minor = person_age < adult_age
    if not minor and c.cell.kind == JUVENILE:
        out.append(_finding(rule, f"未成年人监室不得安排成年人（拟安排人员{person_age}周岁）"))
    ages = {o.id: c.age(o) for o in c.others}
    unknown = [o for o in c.others if ages[o.id] is None]
    opposite = [o for o in c.others if _is_minor(ages[o.id], adult_age) not in (None, minor)]
    if opposite:
        what = "成年人" if minor else f"未满{adult_age}周岁的未成年人"
        who = f"拟安排人员未满{adult_age}周岁（{person_age}周岁）" if minor else "拟安排人员已成年"
        out.append(_finding(rule, f"{who}，监室内有{what}：{_joined(opposite)}", opposite))
    if unknown:
        out.append(
            _finding(
                rule,
                f"监室内人员出生日期不详，无法核对成年与未成年分押：{_joined(unknown)}",
                unknown,
                hard=False,
            )
        )
    return out


def _co_defendant(rule: SeparationRule, c: _Context) -> list[Finding]:
    # 看守所条例第十四条: 同案犯罪嫌疑人 must be held apart.
    case = c.person.case_number.strip()
    if not case:
        return []
    same = [o for o in c.others if o.case_number.strip() == case]
    if not same:
        return []
    return [_finding(rule, f"与同案犯同监室（案件编号 {case}）：{_joined(same)}", same)]


def _sentenced_mix(rule: SeparationRule, c: _Context) -> list[Finding]:
    # 看守所留所执行刑罚罪犯管理办法第三条；人民检察院刑事诉讼规则第六百五十九条第二项.
    out = []
    if c.cell.kind == SENTENCED and not c.person.sentenced:
        out.append(_finding(rule, "已决犯监室不得关押未决人员"))
    mixed = [o for o in c.others if o.sentenced != c.person.sentenced]
    if mixed:
        mine, theirs = ("已决", "未决") if c.person.sentenced else ("未决", "已决")
        out.append(
            _finding(rule, f"拟安排人员为{mine}，监室内有{theirs}人员：{_joined(mixed)}", mixed)
        )
    return out


def _measure_name(code: str) -> str:
    return f"{MEASURE_NAMES.get(code, '代码')}（{code}）"


def _admin_coercive(rule: SeparationRule, c: _Context) -> list[Finding]:
    # 拘留所条例第三十四条: 行政强制措施性质拘留 apart from the Art.2 被拘留人 (行政/司法拘留).
    coercive, punitive = rule.codes("coercive_measures"), rule.codes("punitive_measures")
    measure = c.person.legal_measure
    if measure in coercive:
        other_side = punitive
    elif measure in punitive:
        other_side = coercive
    else:
        return []
    clash = [o for o in c.others if o.legal_measure in other_side]
    if not clash:
        return []
    kinds = "、".join(sorted({_measure_name(o.legal_measure) for o in clash}))
    reason = f"拟安排人员为{_measure_name(measure)}，监室内有{kinds}人员：{_joined(clash)}"
    return [_finding(rule, reason, clash)]


def _requested(rule: SeparationRule, c: _Context) -> list[Finding]:
    # 看守所条例第十四条“其他需要分别羁押的”: either side's request binds both.
    apart = [
        o
        for o in c.others
        if o.id in c.person.extra_separate_from or c.person.id in o.extra_separate_from
    ]
    if not apart:
        return []
    return [_finding(rule, f"办案单位要求分别关押：{_joined(apart)}", apart)]


def _area_limit(rule: SeparationRule, cell: CellFacts) -> int | None:
    if cell.floor_area_m2 is None:
        return None
    return math.floor(cell.floor_area_m2 / rule.number("area_per_person_m2"))


def _places(cell: CellFacts, others: Sequence[Occupant], pack: SeparationPack) -> int:
    """Free places: the approved capacity, lowered by the floor-area limit where it applies."""
    limit = cell.capacity
    rule = pack.rule("CAPACITY")
    area_limit = _area_limit(rule, cell) if rule else None
    if area_limit is not None:
        limit = min(limit, area_limit)
    return limit - len(others)


def _capacity(rule: SeparationRule, c: _Context) -> list[Finding]:
    # The per-person area is a setting (LAW.md §2.3: no national figure found).
    count = len(c.others)
    out = []
    if count >= c.cell.capacity:
        out.append(_finding(rule, f"监室已满：现有{count}人，核定容量{c.cell.capacity}人"))
    area_limit = _area_limit(rule, c.cell)
    if area_limit is not None and count >= area_limit and area_limit < c.cell.capacity:
        per_person = rule.number("area_per_person_m2")
        out.append(
            _finding(
                rule,
                f"按人均{per_person:g}平方米计，{c.cell.floor_area_m2:g}平方米的监室可住"
                f"{area_limit}人，现有{count}人",
            )
        )
    return out


def _foreign(rule: SeparationRule, c: _Context) -> list[Finding]:
    # 看守所条例第二十三条第二款: customs respected; foreigners housed apart where possible.
    domestic = rule.codes("domestic_nationalities")

    def side(p: Occupant) -> bool | None:
        return None if not p.nationality else p.nationality not in domestic

    mine = side(c.person)
    if mine is None:
        return []
    differ = [o for o in c.others if side(o) is not None and side(o) != mine]
    if not differ:
        return []
    who = f"外籍人员（{c.person.nationality}）" if mine else "境内人员"
    theirs = "境内人员" if mine else "外籍人员"
    return [_finding(rule, f"拟安排人员为{who}，监室内有{theirs}：{_joined(differ)}", differ)]


def _infectious(rule: SeparationRule, c: _Context) -> list[Finding]:
    out = []
    if c.person.infectious:
        if c.cell.kind != MEDICAL:
            out.append(_finding(rule, "拟安排人员患传染病，应安排在医疗监室隔离"))
        healthy = [o for o in c.others if not o.infectious]
        if healthy:
            reason = f"拟安排人员患传染病，监室内有未患传染病人员：{_joined(healthy)}"
            out.append(_finding(rule, reason, healthy))
        return out
    sick = [o for o in c.others if o.infectious]
    if sick:
        out.append(_finding(rule, f"监室内有传染病人员：{_joined(sick)}", sick))
    return out


def _recidivist(rule: SeparationRule, c: _Context) -> list[Finding]:
    differ = [o for o in c.others if o.recidivist != c.person.recidivist]
    if not differ:
        return []
    mine, theirs = ("累犯", "初犯") if c.person.recidivist else ("初犯", "累犯")
    return [_finding(rule, f"拟安排人员为{mine}，监室内有{theirs}：{_joined(differ)}", differ)]


def _transition(rule: SeparationRule, c: _Context) -> list[Finding]:
    # 看守所执法细则（2013）3-01 新收押人员过渡管理.
    if c.person.new_admission and c.cell.kind != TRANSITION:
        return [_finding(rule, "新收押人员应先安排在过渡监室")]
    if not c.person.new_admission and c.cell.kind == TRANSITION:
        return [_finding(rule, "过渡监室仅用于安排新收押人员")]
    return []


def _dedicated_cell(rule: SeparationRule, c: _Context) -> list[Finding]:
    # Only where the facility has such a cell ("有条件的"): the cells evaluated say so.
    age = c.age(c.person)
    out = []
    minor = age is not None and age < int(rule.number("adult_age"))
    if minor and JUVENILE in c.cell_kinds and c.cell.kind != JUVENILE:
        out.append(_finding(rule, "本所设有未成年人监室，未成年人宜安排在未成年人监室"))
    if c.person.sentenced and SENTENCED in c.cell_kinds and c.cell.kind != SENTENCED:
        out.append(_finding(rule, "本所设有已决犯监室，已决人员宜安排在已决犯监室"))
    return out


_CHECKS: Final[dict[str, Callable[[SeparationRule, _Context], list[Finding]]]] = {
    "SEX": _sex,
    "AGE_MINOR": _age_minor,
    "CO_DEFENDANT": _co_defendant,
    "SENTENCED_MIX": _sentenced_mix,
    "ADMIN_COERCIVE_SEPARATE": _admin_coercive,
    "REQUESTED_SEPARATION": _requested,
    "CAPACITY": _capacity,
    "FOREIGN": _foreign,
    "INFECTIOUS": _infectious,
    "RECIDIVIST": _recidivist,
    "TRANSITION": _transition,
    "DEDICATED_CELL": _dedicated_cell,
}
assert set(_CHECKS) == set(_PARAMS)


# --- evaluation -----------------------------------------------------------------------------


def _natural(number: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that puts cell "2" before "10"."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.findall(r"\d+|\D+", number))


def _verdict(
    person: Occupant, cell: CellFacts, pack: SeparationPack, today: dt.date, kinds: frozenset[str]
) -> CellVerdict:
    # The person's own row is ignored, so a move can be judged against the current cell too.
    others = tuple(o for o in cell.occupants if o.id != person.id)
    context = _Context(person, cell, others, pack, today, kinds)
    findings = [f for rule in pack.rules if rule.enabled for f in _CHECKS[rule.id](rule, context)]
    return CellVerdict(cell, tuple(findings), free_places=_places(cell, others, pack))


def _order(verdict: CellVerdict) -> tuple[Any, ...]:
    group = 0 if verdict.clean else 1 if verdict.allowed else 2
    return (group, -verdict.free_places, _natural(verdict.cell.number), verdict.cell.id)


def evaluate(
    person: Occupant, cells: Sequence[CellFacts], pack: SeparationPack, *, today: dt.date
) -> list[CellVerdict]:
    """A verdict for every cell: clean ones first (most free places, then number), then cells
    with warnings only, then blocked cells."""
    kinds = frozenset(c.kind for c in cells)
    verdicts = [_verdict(person, cell, pack, today, kinds) for cell in cells]
    return sorted(verdicts, key=_order)
