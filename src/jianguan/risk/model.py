"""The risk model (积分预警模型) as data, and the scoring it defines (pure Python, no database).

A model is a rule pack of kind `risk` (DESIGN.md §5): grades with their thresholds, colours and
required measures (分级管理), static factors read from the person's record, dynamic factors fed by
facts that fade with time, the cell's own factors, and the limit on a leader's manual override.
No national scoring table is public (LAW.md §6): the built-in pack is a starting point, labelled
practice, and a facility or province publishes its own.

Scoring is a sum of points. Every point has a line in the explanation: the factor, the points,
the fact it came from and the model version, so a score can always be read back to its causes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jianguan.risk.facts import FACT_KIND_PATTERN, MANUAL_FACTS, fact_kind_known
from jianguan.rules.schema import PackError, text

__all__ = [
    "BUILTIN_PATH",
    "Assessment",
    "CellFactor",
    "CellOccupant",
    "Contribution",
    "DynamicFactor",
    "Fact",
    "Grade",
    "Measures",
    "PackError",
    "Person",
    "RiskModel",
    "StaticFactor",
    "assess_cell",
    "assess_person",
    "parse_model",
    "what_moved",
]

BUILTIN_PATH = Path(__file__).parent / "rulepacks" / "risk.yaml"

TOP_KEYS = {"kind", "version", "title", "basis", "grades", "static", "dynamic", "cell", "override"}
GRADE_KEYS = {"code", "name", "colour", "min_score", "measures"}
MEASURE_KEYS = {"patrol_minutes", "talk_days", "review_days", "review_post", "note"}
STATIC_KEYS = {"code", "name", "points", "when", "basis"}
DYNAMIC_KEYS = {"code", "name", "points", "facts", "half_life_days", "window_days", "max_points"}
CELL_KEYS = {"factors"}
CELL_FACTOR_KEYS = DYNAMIC_KEYS | {"min_grade", "at_least", "occupancy_above"}
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")

# What a static factor may test, and which input of the person's record it needs.
CONDITIONS: dict[str, str] = {
    "prior_custody_at_least": "prior_custody",
    "case_severity_at_least": "case",
    "case_nature_in": "case",
    "litigation_stage_in": "stage",
    "legal_measure_in": "measure",
    "age_below": "age",
    "age_at_least": "age",
    "foreign": "nationality",
}
INPUT_LABELS: dict[str, str] = {
    "prior_custody": "既往羁押记录（证件号码）",
    "case": "案件性质",
    "stage": "诉讼阶段",
    "measure": "法律措施",
    "age": "出生日期（年龄）",
    "nationality": "国籍",
}
POSTS = {"CUSTODIAN", "LEADER", "PATROL", "MEDICAL", "SUBCONTROL", "COMMAND"}


# --- the pack ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measures:
    """What a grade requires (分级管理): the platform turns these into duty tasks."""

    patrol_minutes: int  # the longest gap between welfare checks of the person's cell
    talk_days: int | None  # a talk (谈话教育) at least this often; None = no scheduled talk
    review_days: int | None  # the grade is reviewed this often by review_post
    review_post: str
    note: str = ""


@dataclass(frozen=True)
class Grade:
    code: str
    name: str
    colour: str
    min_score: float
    measures: Measures
    rank: int = 0  # 0 = lowest


@dataclass(frozen=True)
class StaticFactor:
    code: str
    name: str
    points: float
    test: str  # one of CONDITIONS
    value: Any
    basis: str = "practice"

    @property
    def needs(self) -> str:
        return CONDITIONS[self.test]


@dataclass(frozen=True)
class DynamicFactor:
    code: str
    name: str
    points: float
    facts: tuple[str, ...]  # fact kinds; "prefix.*" matches a family
    half_life_days: float | None  # None: the points do not fade
    window_days: float | None  # None: counts for the whole custody
    max_points: float | None

    def matches(self, kind: str) -> bool:
        return any(
            kind == pattern or (pattern.endswith(".*") and kind.startswith(pattern[:-1]))
            for pattern in self.facts
        )

    def points_at(self, age_days: float) -> float:
        """Points a fact is worth `age_days` after it happened (0 once outside the window)."""
        if age_days < 0 or (self.window_days is not None and age_days > self.window_days):
            return 0.0
        if self.half_life_days is None:
            return self.points
        return self.points * 0.5 ** (age_days / self.half_life_days)


@dataclass(frozen=True)
class CellFactor:
    """A cell's own factor: several risky people together, crowding, or facts in the cell."""

    code: str
    name: str
    points: float
    min_grade: str = ""  # with at_least: this many occupants at this grade or above
    at_least: int = 0
    occupancy_above: float | None = None  # occupants / capacity above this ratio
    facts: DynamicFactor | None = None  # facts recorded against the cell


@dataclass(frozen=True)
class RiskModel:
    version: str
    title: str
    grades: tuple[Grade, ...]  # lowest first
    static: tuple[StaticFactor, ...]
    dynamic: tuple[DynamicFactor, ...]
    cell: tuple[CellFactor, ...]
    override_max_days: int
    longest_window_days: float | None = field(default=None)  # None: some fact never expires

    def grade_for(self, score: float) -> Grade:
        found = self.grades[0]
        for grade in self.grades:
            if score >= grade.min_score:
                found = grade
        return found

    def grade(self, code: str) -> Grade | None:
        return next((g for g in self.grades if g.code == code), None)

    def rank(self, code: str) -> int:
        grade = self.grade(code)
        return grade.rank if grade else -1

    @property
    def inputs(self) -> tuple[str, ...]:
        """The record fields the static factors read, in a stable order."""
        return tuple(dict.fromkeys(f.needs for f in self.static))


def parse_model(content: Mapping[str, Any]) -> RiskModel:
    """Validate a parsed `risk` pack; PackError names the first bad place."""
    if not isinstance(content, Mapping):
        raise PackError((), "规则包应为映射（键: 值）")
    for key in content:
        if key not in TOP_KEYS:
            raise PackError((str(key),), "未知的顶层项")
    if content.get("kind") != "risk":
        raise PackError(("kind",), "应为 risk")
    version = text(content, "version", ())
    title = text(content, "title", ())
    grades = _grades(content.get("grades"))
    codes = {g.code for g in grades}
    static = tuple(_static(f, i) for i, f in enumerate(_list(content, "static", required=False)))
    dynamic = tuple(
        _dynamic(f, ("dynamic", i)) for i, f in enumerate(_list(content, "dynamic", required=False))
    )
    _unique([f.code for f in static] + [f.code for f in dynamic], "static/dynamic")
    cell = _cell(content.get("cell", {}), codes)
    override = content.get("override", {})
    if not isinstance(override, Mapping) or set(override) - {"max_days"}:
        raise PackError(("override",), "应为 {max_days: 天数}")
    max_days = _number(override.get("max_days", 30), ("override", "max_days"), integer=True)
    windows = [f.window_days for f in dynamic] + [f.facts.window_days for f in cell if f.facts]
    bounded = [w for w in windows if w is not None]
    longest = None if len(bounded) < len(windows) else max(bounded, default=0.0)
    return RiskModel(
        version=version,
        title=title,
        grades=grades,
        static=static,
        dynamic=dynamic,
        cell=cell,
        override_max_days=int(max_days),
        longest_window_days=longest,
    )


def _list(content: Mapping[str, Any], key: str, *, required: bool = True) -> list[Any]:
    value = content.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        raise PackError((key,), "应为非空列表")
    return value


def _mapping(value: Any, path: tuple[str | int, ...], keys: set[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PackError(path, "应为映射（键: 值）")
    for key in value:
        if key not in keys:
            raise PackError((*path, str(key)), f"未知的项；可用：{'、'.join(sorted(keys))}")
    return value


def _number(
    value: Any, path: tuple[str | int, ...], *, integer: bool = False, positive: bool = False
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PackError(path, "应为数字")
    if integer and not isinstance(value, int):
        raise PackError(path, "应为整数")
    if value < 0 or (positive and value == 0):
        raise PackError(path, "应为正数" if positive else "不能为负数")
    return float(value)


def _code(item: Mapping[str, Any], path: tuple[str | int, ...]) -> str:
    code = text(item, "code", path)
    if not CODE.match(code):
        raise PackError((*path, "code"), "应由大写字母、数字和下划线组成")
    return code


def _unique(codes: Sequence[str], where: str) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise PackError((where,), f"代码 {code} 重复")
        seen.add(code)


def _grades(value: Any) -> tuple[Grade, ...]:
    if not isinstance(value, list) or len(value) < 2:
        raise PackError(("grades",), "应为至少两个等级的列表，从低到高")
    grades: list[Grade] = []
    for i, raw in enumerate(value):
        path: tuple[str | int, ...] = ("grades", i)
        item = _mapping(raw, path, GRADE_KEYS)
        colour = text(item, "colour", path)
        if not COLOUR.match(colour):
            raise PackError((*path, "colour"), "应为 #RRGGBB 形式的颜色")
        min_score = _number(item.get("min_score"), (*path, "min_score"))
        if i == 0 and min_score != 0:
            raise PackError((*path, "min_score"), "最低等级的 min_score 应为 0")
        if grades and min_score <= grades[-1].min_score:
            raise PackError((*path, "min_score"), "等级应从低到高排列，min_score 逐级增大")
        grades.append(
            Grade(
                code=_code(item, path),
                name=text(item, "name", path),
                colour=colour.lower(),
                min_score=min_score,
                measures=_measures(item.get("measures"), (*path, "measures")),
                rank=i,
            )
        )
    _unique([g.code for g in grades], "grades")
    return tuple(grades)


def _measures(value: Any, path: tuple[str | int, ...]) -> Measures:
    item = _mapping(value, path, MEASURE_KEYS)

    def days(key: str) -> int | None:
        raw = item.get(key)
        return None if raw is None else int(_number(raw, (*path, key), integer=True, positive=True))

    if "patrol_minutes" not in item:
        raise PackError((*path, "patrol_minutes"), "缺少此项")
    review_post = item.get("review_post", "CUSTODIAN")
    if review_post not in POSTS:
        raise PackError((*path, "review_post"), f"应为岗位代码之一：{'、'.join(sorted(POSTS))}")
    return Measures(
        patrol_minutes=int(
            _number(item["patrol_minutes"], (*path, "patrol_minutes"), integer=True, positive=True)
        ),
        talk_days=days("talk_days"),
        review_days=days("review_days"),
        review_post=review_post,
        note=str(item.get("note", "")),
    )


def _static(raw: Any, i: int) -> StaticFactor:
    path: tuple[str | int, ...] = ("static", i)
    item = _mapping(raw, path, STATIC_KEYS)
    when = _mapping(item.get("when"), (*path, "when"), set(CONDITIONS))
    if len(when) != 1:
        raise PackError((*path, "when"), f"应只有一个条件；可用：{'、'.join(CONDITIONS)}")
    test, value = next(iter(when.items()))
    where = (*path, "when", test)
    if test.endswith("_in"):
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise PackError(where, "应为代码字符串的非空列表（加引号）")
        value = tuple(value)
    elif test == "foreign":
        if value is not True:
            raise PackError(where, "应为 true")
    else:
        value = int(_number(value, where, integer=True))
    basis = item.get("basis", "practice")
    if basis not in ("law", "practice"):
        raise PackError((*path, "basis"), "应为 law 或 practice")
    return StaticFactor(
        code=_code(item, path),
        name=text(item, "name", path),
        points=_number(item.get("points"), (*path, "points")),
        test=test,
        value=value,
        basis=basis,
    )


def _dynamic(raw: Any, path: tuple[str | int, ...], keys: set[str] = DYNAMIC_KEYS) -> DynamicFactor:
    item = _mapping(raw, path, keys)
    kinds = item.get("facts")
    if not isinstance(kinds, list) or not kinds:
        raise PackError((*path, "facts"), "应为事实类别的非空列表")
    for j, kind in enumerate(kinds):
        if not isinstance(kind, str) or not FACT_KIND_PATTERN.match(kind):
            raise PackError(
                (*path, "facts", j), "事实类别应形如 duty.PATROL_EMERGENCY 或 incident.*"
            )
        if not fact_kind_known(kind):
            known = "、".join(sorted(MANUAL_FACTS))
            raise PackError((*path, "facts", j), f"未知的事实类别 {kind}；人工登记类别：{known}")

    def optional(key: str) -> float | None:
        raw_value = item.get(key)
        return None if raw_value is None else _number(raw_value, (*path, key), positive=True)

    return DynamicFactor(
        code=_code(item, path),
        name=text(item, "name", path),
        points=_number(item.get("points"), (*path, "points")),
        facts=tuple(kinds),
        half_life_days=optional("half_life_days"),
        window_days=optional("window_days"),
        max_points=optional("max_points"),
    )


def _cell(value: Any, grade_codes: set[str]) -> tuple[CellFactor, ...]:
    item = _mapping(value, ("cell",), CELL_KEYS)
    factors: list[CellFactor] = []
    for i, raw in enumerate(item.get("factors") or []):
        path: tuple[str | int, ...] = ("cell", "factors", i)
        entry = _mapping(raw, path, CELL_FACTOR_KEYS)
        code, name = _code(entry, path), text(entry, "name", path)
        points = _number(entry.get("points"), (*path, "points"))
        if "facts" in entry:
            factors.append(
                CellFactor(code, name, points, facts=_dynamic(entry, path, CELL_FACTOR_KEYS))
            )
        elif "min_grade" in entry:
            if entry["min_grade"] not in grade_codes:
                raise PackError((*path, "min_grade"), f"未定义的等级 {entry['min_grade']}")
            at_least = int(_number(entry.get("at_least"), (*path, "at_least"), integer=True))
            factors.append(
                CellFactor(code, name, points, min_grade=entry["min_grade"], at_least=at_least)
            )
        elif "occupancy_above" in entry:
            ratio = _number(entry["occupancy_above"], (*path, "occupancy_above"), positive=True)
            factors.append(CellFactor(code, name, points, occupancy_above=ratio))
        else:
            raise PackError(path, "应有 facts、min_grade 或 occupancy_above 之一")
    _unique([f.code for f in factors], "cell")
    return tuple(factors)


# --- scoring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """What the static factors read from a person's record; None where the record lacks it."""

    birth_date: dt.date | None
    nationality: str | None
    case_nature: str | None
    case_severity: int | None
    legal_measure: str | None
    litigation_stage: str | None
    prior_custody: int | None


@dataclass(frozen=True)
class Fact:
    id: str
    kind: str
    at: dt.datetime
    label: str = ""


@dataclass(frozen=True)
class Contribution:
    """One line of the explanation."""

    code: str
    name: str
    points: float
    fact_id: str = ""  # the fact it came from (dynamic factors)
    fact_label: str = ""
    at: dt.datetime | None = None

    def as_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {"code": self.code, "name": self.name, "points": self.points}
        if self.fact_id:
            row |= {"fact": self.fact_id, "label": self.fact_label, "at": _iso(self.at)}
        return row


@dataclass(frozen=True)
class Assessment:
    score: float
    grade: Grade
    contributions: tuple[Contribution, ...]
    confidence: float = 1.0  # share of the model's record inputs that were present
    missing: tuple[str, ...] = ()  # labels of the missing inputs

    def factors_json(self) -> list[dict[str, Any]]:
        return [c.as_json() for c in self.contributions]


def _iso(at: dt.datetime | None) -> str | None:
    return at.isoformat() if at else None


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _static_holds(factor: StaticFactor, person: Person, today: dt.date) -> bool | None:
    """Whether the factor applies; None when the record lacks what it needs."""
    test, value = factor.test, factor.value
    if factor.needs == "age":
        if person.birth_date is None:
            return None
        age = age_on(person.birth_date, today)
        return age < value if test == "age_below" else age >= value
    if test == "prior_custody_at_least":
        return None if person.prior_custody is None else person.prior_custody >= value
    if test == "case_severity_at_least":
        if not person.case_nature:
            return None
        return person.case_severity is not None and person.case_severity >= value
    if test == "case_nature_in":
        return None if not person.case_nature else person.case_nature.startswith(value)
    if test == "litigation_stage_in":
        return None if not person.litigation_stage else person.litigation_stage in value
    if test == "legal_measure_in":
        return None if not person.legal_measure else person.legal_measure in value
    if test == "foreign":
        return None if not person.nationality else person.nationality != "CHN"
    raise AssertionError(test)


def static_part(
    model: RiskModel, person: Person, today: dt.date
) -> tuple[tuple[Contribution, ...], tuple[str, ...]]:
    """The static factors that apply, and the inputs the record lacked."""
    lines: list[Contribution] = []
    missing: list[str] = []
    for factor in model.static:
        holds = _static_holds(factor, person, today)
        if holds is None:
            if INPUT_LABELS[factor.needs] not in missing:
                missing.append(INPUT_LABELS[factor.needs])
        elif holds and factor.points:
            lines.append(Contribution(factor.code, factor.name, factor.points))
    return tuple(lines), tuple(missing)


def dynamic_part(
    factors: Iterable[DynamicFactor], facts: Iterable[Fact], now: dt.datetime
) -> list[Contribution]:
    """One line per counting fact, its points faded by age; a capped factor adds a negative line."""
    facts = sorted(facts, key=lambda f: f.at, reverse=True)
    lines: list[Contribution] = []
    for factor in factors:
        total = 0.0
        for fact in facts:
            if not factor.matches(fact.kind):
                continue
            points = round(factor.points_at((now - fact.at).total_seconds() / 86400), 1)
            if points <= 0:
                continue
            total += points
            lines.append(
                Contribution(factor.code, factor.name, points, fact.id, fact.label, fact.at)
            )
        if factor.max_points is not None and total > factor.max_points:
            excess = round(factor.max_points - total, 1)
            lines.append(
                Contribution(factor.code, f"{factor.name}（封顶 {factor.max_points:g} 分）", excess)
            )
    return lines


def _finish(model: RiskModel, lines: Sequence[Contribution], missing: Sequence[str]) -> Assessment:
    score = round(sum(c.points for c in lines), 1)
    inputs = model.inputs
    confidence = 1.0 if not inputs else round(1 - len(missing) / len(inputs), 2)
    return Assessment(score, model.grade_for(score), tuple(lines), confidence, tuple(missing))


def assess_person(
    model: RiskModel, person: Person, facts: Iterable[Fact], now: dt.datetime, today: dt.date
) -> Assessment:
    """A person's score, grade and explanation at `now` (`today` is `now`'s local date)."""
    static_lines, missing = static_part(model, person, today)
    lines = [*static_lines, *dynamic_part(model.dynamic, facts, now)]
    return _finish(model, lines, missing)


@dataclass(frozen=True)
class CellOccupant:
    id: str
    name: str
    score: float
    grade: str


def assess_cell(
    model: RiskModel,
    *,
    occupants: Sequence[CellOccupant],
    capacity: int,
    facts: Iterable[Fact],
    now: dt.datetime,
) -> Assessment:
    """A cell starts from its highest occupant's score, then adds its own factors."""
    lines: list[Contribution] = []
    top = max(occupants, key=lambda o: o.score, default=None)
    if top is not None and top.score:
        lines.append(Contribution("TOP_OCCUPANT", f"最高个人积分：{top.name}", top.score, top.id))
    facts = list(facts)
    for factor in model.cell:
        if factor.facts is not None:
            lines.extend(dynamic_part([factor.facts], facts, now))
        elif factor.min_grade:
            rank = model.rank(factor.min_grade)
            count = sum(1 for o in occupants if model.rank(o.grade) >= rank)
            if count >= factor.at_least:
                lines.append(
                    Contribution(factor.code, f"{factor.name}（{count} 人）", factor.points)
                )
        elif factor.occupancy_above is not None and capacity > 0:
            ratio = len(occupants) / capacity
            if ratio > factor.occupancy_above:
                shown = f"{factor.name}（{len(occupants)}/{capacity}）"
                lines.append(Contribution(factor.code, shown, factor.points))
    return _finish(model, lines, ())


def what_moved(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Factor by factor, how the points changed between two explanations (largest move first)."""

    def totals(rows: Sequence[Mapping[str, Any]]) -> dict[str, tuple[str, float]]:
        out: dict[str, tuple[str, float]] = {}
        for row in rows:
            name, points = out.get(row["code"], (row["name"], 0.0))
            out[row["code"]] = (name, points + float(row["points"]))
        return out

    before, after = totals(old), totals(new)
    moved: list[dict[str, Any]] = []
    for code in dict.fromkeys([*before, *after]):
        was = round(before.get(code, ("", 0.0))[1], 1)
        now = round(after.get(code, ("", 0.0))[1], 1)
        if was != now:
            name = (after.get(code) or before[code])[0]
            moved.append(
                {"code": code, "name": name, "from": was, "to": now, "delta": round(now - was, 1)}
            )
    moved.sort(key=lambda m: -abs(m["delta"]))
    return moved
