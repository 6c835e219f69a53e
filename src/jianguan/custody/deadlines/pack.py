"""The deadline rule pack: numbers, approval levels, articles and labels, parsed and checked.

The engine implements what each legal event means; the pack says how long each term is, who
may extend it, when the facility must warn, and which article says so. A province can publish
a changed pack without touching code. Every value carries ``basis: law`` (read in a statute)
or ``basis: practice`` (a setting where the law is silent), so the board can show which is which.

parse_pack() checks the whole dict and raises PackError with the exact path of the first
problem, so a bad pack is refused before it reaches the engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from jianguan.custody.deadlines.calendar import HALF_MONTH_DAYS, SUSPENSION_CONVENTIONS

BUILTIN_PATH = Path(__file__).resolve().parent.parent / "rulepacks" / "deadlines.yaml"

APPROVAL_LEVELS: dict[str, str] = {
    "COUNTY_POLICE": "县级以上公安机关负责人",
    "UPPER_POLICE": "上一级地方人民政府公安机关或者出入境边防检查机关",
    "PROCURATORATE": "人民检察院",
    "UPPER_PROCURATORATE": "上一级人民检察院",
    "PROVINCIAL_PROCURATORATE": "省级人民检察院",
    "SUPREME_PROCURATORATE": "最高人民检察院",
    "NPC_STANDING": "全国人大常委会",
    "COURT": "人民法院",
    "UPPER_COURT": "上一级人民法院",
    "HIGH_COURT": "高级人民法院",
    "SUPREME_COURT": "最高人民法院",
    "DECIDING_ORGAN": "决定机关",
    "FACILITY_HEAD": "所长",
}

BASES = ("law", "practice")

# Counting methods (see calendar.py): which arithmetic a rule's terms use.
HOURS = "HOURS"  # 满二十四小时为一日, exact instants
DAYS = "DAYS"  # whole days, start day not counted (CPL Art.105; JLS-Reg Art.32)
POLICE = "POLICE"  # months to the corresponding day (GA-Custody-Term Art.4); court date flagged
COURT = "COURT"  # months under SPC-Interp Art.202(1)
SENTENCE = "SENTENCE"  # start day counted, SPC-Interp Art.202(2)
COUNTING_UNITS: dict[str, frozenset[str]] = {
    HOURS: frozenset({"days", "hours"}),
    DAYS: frozenset({"days"}),
    POLICE: frozenset({"years", "months", "half_months", "days"}),
    COURT: frozenset({"years", "months", "half_months", "days"}),
    SENTENCE: frozenset({"years", "months", "half_months", "days"}),
}
UNITS = ("years", "months", "half_months", "days", "hours")
AMOUNT_PARAMS = ("days", "months")


class PackError(Exception):
    """A rule pack the engine cannot use; `path` points into the dict at the first problem."""

    def __init__(self, path: Sequence[str | int], message: str) -> None:
        self.path = tuple(path)
        self.message = message
        where = "/".join(str(p) for p in self.path) or "（根）"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class Duration:
    """A length of time; half months are stored as fifteen days (SPC-Interp Art.202(1))."""

    years: int = 0
    months: int = 0
    days: int = 0
    hours: int = 0

    @property
    def total_months(self) -> int:
        return 12 * self.years + self.months

    def amount(self, unit: str) -> int:
        """The length in `unit` ("days" or "months"); a duration mixing the two has no answer."""
        if unit == "months":
            return self.total_months
        return self.days + self.hours // 24

    def plus(self, unit: str, amount: int) -> Duration:
        if unit == "months":
            return Duration(self.years, self.months + amount, self.days, self.hours)
        return Duration(self.years, self.months, self.days + amount, self.hours)

    def as_dict(self) -> dict[str, int]:
        pairs = (("years", self.years), ("months", self.months), ("days", self.days))
        out = {k: v for k, v in (*pairs, ("hours", self.hours)) if v}
        return out or {"days": 0}

    def text(self) -> str:
        parts = [
            f"{self.years}年" if self.years else "",
            f"{self.months}个月" if self.months else "",
            f"{self.days}日" if self.days else "",
            f"{self.hours}小时" if self.hours else "",
        ]
        return "".join(parts) or "0日"


@dataclass(frozen=True, slots=True)
class Notice:
    """How long before expiry the facility must warn the case unit (羁押期限即将届满通知)."""

    before: Duration
    basis: str
    article: str


@dataclass(frozen=True, slots=True)
class Variant:
    """One term of a rule, chosen by the fact's params (e.g. 简易程序, 速裁)."""

    key: str
    when: Mapping[str, Any]
    term: Duration
    article: str
    basis: str
    target: Duration | None  # the "应当" date inside a longer "至迟" limit, reported only


@dataclass(frozen=True, slots=True)
class Extension:
    """One kind of extension a rule allows, with who must approve it and how often."""

    key: str
    label: str
    approval: tuple[str, ...]
    article: str
    basis: str
    late_article: str  # cited when the extension is decided after the term expired
    add: Duration | None  # fixed or largest addition per decision
    to_total: Duration | None  # the whole term may be extended up to this ("延长至")
    param: str  # "days"/"months": the decision may state a smaller amount in this unit
    minimum: int
    max_times: int | None
    after: tuple[str, ...]  # one of these must have been granted first
    requires: Mapping[str, Any]  # param -> True, or {code: label} of accepted values
    variants: tuple[str, ...]  # variant keys it applies to; empty = all
    open_ended: bool  # the term then has no computed expiry (CPL Art.157)
    notice: Notice | None
    request_before: Duration | None  # the request must reach the approver this early


@dataclass(frozen=True, slots=True)
class Restart:
    """An event after which the term is counted afresh (重新计算)."""

    key: str
    article: str
    basis: str
    approval: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Limit:
    """A named bound the engine enforces (e.g. 合并执行最长二十日)."""

    key: str
    label: str
    value: Duration
    article: str
    basis: str


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    clock: str
    label: str
    counting: str
    governs_custody: bool
    article: str
    basis: str
    variants: tuple[Variant, ...]
    extensions: Mapping[str, Extension]
    restarts: Mapping[str, Restart]
    limits: Mapping[str, Limit]
    notice: Notice | None
    max_count: int | None


@dataclass(frozen=True, slots=True)
class Suspension:
    """Time that is not counted (不计入期限) for the listed clocks."""

    key: str
    label: str
    clocks: frozenset[str]
    end_day: str
    end_day_basis: str
    article: str
    basis: str


@dataclass(frozen=True)
class DeadlinePack:
    version: str
    title: str
    rules: Mapping[str, Rule]
    suspensions: Mapping[str, Suspension]
    holidays: frozenset[dt.date]
    holidays_basis: str
    articles: Mapping[str, str]
    source: Mapping[str, Any] = field(default_factory=dict)

    def rule(self, rule_id: str) -> Rule:
        return self.rules[rule_id]


@dataclass(frozen=True)
class _RuleSpec:
    """What the engine needs from one rule of the pack."""

    clock: str
    term: bool = True
    extensions: tuple[str, ...] = ()
    restarts: tuple[str, ...] = ()
    limits: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()


# Rule id -> the clock it drives and the parts the engine looks up by name.
RULE_SPECS: dict[str, _RuleSpec] = {
    "CRIMINAL_DETENTION": _RuleSpec(
        "CRIMINAL_DETENTION",
        extensions=("SPECIAL", "CATEGORY", "SELF_SPECIAL"),
        variants=("POLICE", "SELF_INVESTIGATION"),
    ),
    "ARREST_REVIEW": _RuleSpec("ARREST_REVIEW"),
    "INVESTIGATION": _RuleSpec(
        "INVESTIGATION",
        extensions=("1", "2", "3", "SPECIAL"),
        restarts=("NEW_CRIME", "IDENTITY_ESTABLISHED"),
    ),
    "PROSECUTION_REVIEW": _RuleSpec(
        "PROSECUTION_REVIEW", extensions=("COMPLEX",), restarts=("RETRANSFERRED",)
    ),
    "PROSECUTION_SUPPLEMENT": _RuleSpec("SUPPLEMENTARY_INVESTIGATION"),
    "FIRST_INSTANCE": _RuleSpec(
        "FIRST_INSTANCE",
        extensions=("UPPER", "SUPREME"),
        restarts=("TRIAL_RESUMED", "PROCEDURE_CONVERTED", "REMANDED"),
        variants=("ORDINARY", "SIMPLIFIED", "SUMMARY"),
    ),
    "TRIAL_SUPPLEMENT": _RuleSpec("SUPPLEMENTARY_INVESTIGATION"),
    "APPEAL_PERIOD": _RuleSpec("APPEAL_PERIOD"),
    "SECOND_INSTANCE": _RuleSpec("SECOND_INSTANCE", extensions=("HIGH", "SUPREME")),
    "SENTENCE": _RuleSpec("SENTENCE", term=False),
    "DELIVERY_TO_PRISON": _RuleSpec("DELIVERY_TO_PRISON", limits=("KEEP_IN_CENTRE",)),
    "RELEASE": _RuleSpec(
        "RELEASE", variants=("ARREST_NOT_APPROVED", "JUDGMENT", "DRUG_EARLY_RELEASE")
    ),
    "ADMIN_DETENTION": _RuleSpec(
        "ADMIN_DETENTION", term=False, limits=("PER_DECISION", "COMBINED")
    ),
    "JUDICIAL_DETENTION": _RuleSpec("JUDICIAL_DETENTION", term=False, limits=("PER_DECISION",)),
    "DRUG_REHAB": _RuleSpec("DRUG_REHAB", extensions=("EXTEND",), limits=("EARLY_RELEASE",)),
    "DRUG_REHAB_POLICE_STAGE": _RuleSpec("DRUG_REHAB_POLICE_STAGE", limits=("EARLIEST_TRANSFER",)),
    "IMMIGRATION_DETENTION": _RuleSpec(
        "IMMIGRATION_DETENTION", extensions=("EXTEND",), restarts=("IDENTITY_ESTABLISHED",)
    ),
}
SUSPENSION_KEYS = ("PSYCHIATRIC_EVALUATION", "TRIAL_SUSPENSION", "LEAVE")
ARTICLE_KEYS = ("AFTER_END", "IDENTITY_UNKNOWN", "EVALUATION")
CLOCKS = frozenset(spec.clock for spec in RULE_SPECS.values())

_Path = tuple[str | int, ...]


# --- small typed readers: each raises PackError with the path it was given -----------------


def _get(data: Mapping[str, Any], key: str, path: _Path) -> Any:
    if key not in data:
        raise PackError((*path, key), f"缺少必填项“{key}”")
    return data[key]


def _mapping(value: Any, path: _Path) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PackError(path, "应为键值映射（mapping）")
    return value


def _text(value: Any, path: _Path, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise PackError(path, "应为文本")
    if not allow_empty and not value.strip():
        raise PackError(path, "不能为空")
    return value


def _bool(value: Any, path: _Path) -> bool:
    if not isinstance(value, bool):
        raise PackError(path, "应为 true 或 false")
    return value


def _count(value: Any, path: _Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PackError(path, "应为整数")
    if value < 0:
        raise PackError(path, "不能为负数")
    return value


def _optional_count(data: Mapping[str, Any], key: str, path: _Path) -> int | None:
    value = data.get(key)
    return None if value is None else _count(value, (*path, key))


def _basis(data: Mapping[str, Any], path: _Path, key: str = "basis") -> str:
    value = _text(_get(data, key, path), (*path, key))
    if value not in BASES:
        raise PackError((*path, key), "依据类型应为 law（法定）或 practice（实务设置）")
    return value


def _list(value: Any, path: _Path) -> list[Any]:
    if not isinstance(value, list):
        raise PackError(path, "应为列表")
    return value


def _approvals(value: Any, path: _Path) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else _list(value, path)
    out = []
    for index, item in enumerate(items):
        where = path if isinstance(value, str) else (*path, index)
        code = _text(item, where)
        if code not in APPROVAL_LEVELS:
            raise PackError(where, f"未知的批准机关级别“{code}”")
        out.append(code)
    return tuple(out)


def _duration(value: Any, path: _Path, counting: str) -> Duration:
    data = _mapping(value, path)
    if not data:
        raise PackError(path, "期间不能为空")
    amounts = dict.fromkeys(UNITS, 0)
    for unit, amount in data.items():
        if unit not in UNITS:
            raise PackError((*path, unit), f"未知的期间单位“{unit}”（可用：{'、'.join(UNITS)}）")
        if unit not in COUNTING_UNITS[counting]:
            raise PackError((*path, unit), f"计算方法 {counting} 不使用单位“{unit}”")
        amounts[unit] = _count(amount, (*path, unit))
    return Duration(
        years=amounts["years"],
        months=amounts["months"],
        days=amounts["days"] + HALF_MONTH_DAYS * amounts["half_months"],
        hours=amounts["hours"],
    )


def _notice(value: Any, path: _Path) -> Notice | None:
    if value is None:
        return None
    data = _mapping(value, path)
    # A lead time is subtracted from an instant, so it is given in days or hours only.
    return Notice(
        before=_duration(_get(data, "before", path), (*path, "before"), HOURS),
        basis=_basis(data, path),
        article=_text(data.get("article", ""), (*path, "article"), allow_empty=True),
    )


# --- the parts of a rule ---------------------------------------------------------------


def _variants(rule: Mapping[str, Any], path: _Path, counting: str, article: str) -> list[Variant]:
    if "variants" not in rule:
        if "term" not in rule:
            return []
        term = _duration(rule["term"], (*path, "term"), counting)
        target = rule.get("target")
        return [
            Variant(
                key="BASE",
                when=MappingProxyType({}),
                term=term,
                article=article,
                basis=_basis(rule, path),
                target=None if target is None else _duration(target, (*path, "target"), counting),
            )
        ]
    out = []
    for index, item in enumerate(_list(rule["variants"], (*path, "variants"))):
        where = (*path, "variants", index)
        data = _mapping(item, where)
        when = _mapping(data.get("when", {}), (*where, "when"))
        target = data.get("target")
        out.append(
            Variant(
                key=_text(_get(data, "key", where), (*where, "key")),
                when=MappingProxyType(dict(when)),
                term=_duration(_get(data, "term", where), (*where, "term"), counting),
                article=_text(data.get("article", article), (*where, "article")),
                basis=_basis(data, where) if "basis" in data else _basis(rule, path),
                target=None if target is None else _duration(target, (*where, "target"), counting),
            )
        )
    if not out:
        raise PackError((*path, "variants"), "至少需要一个期限")
    return out


def _requires(value: Any, path: _Path) -> Mapping[str, Any]:
    data = _mapping(value, path)
    out: dict[str, Any] = {}
    for param, accepted in data.items():
        if accepted is True:
            out[param] = True
        else:
            labels = _mapping(accepted, (*path, param))
            out[param] = MappingProxyType(
                {str(code): _text(label, (*path, param, code)) for code, label in labels.items()}
            )
    return MappingProxyType(out)


def _extension(key: str, value: Any, path: _Path, counting: str) -> Extension:
    data = _mapping(value, path)
    article = _text(_get(data, "article", path), (*path, "article"))
    add = data.get("add")
    to_total = data.get("to_total")
    open_ended = _bool(data.get("open_ended", False), (*path, "open_ended"))
    if add is None and to_total is None and not open_ended:
        raise PackError(path, "延长须写明 add（延长多少）、to_total（延长至）或 open_ended")
    param = _text(data.get("param", ""), (*path, "param"), allow_empty=True)
    if param and param not in AMOUNT_PARAMS:
        raise PackError((*path, "param"), "param 只能是 days 或 months")
    return Extension(
        key=key,
        label=_text(_get(data, "label", path), (*path, "label")),
        approval=_approvals(_get(data, "approval", path), (*path, "approval")),
        article=article,
        basis=_basis(data, path),
        late_article=_text(data.get("late_article", article), (*path, "late_article")),
        add=None if add is None else _duration(add, (*path, "add"), counting),
        to_total=None if to_total is None else _duration(to_total, (*path, "to_total"), counting),
        param=param,
        minimum=_count(data.get("minimum", 1), (*path, "minimum")),
        max_times=_optional_count(data, "max_times", path),
        after=tuple(
            _text(k, (*path, "after", i))
            for i, k in enumerate(_list(data.get("after", []), (*path, "after")))
        ),
        requires=_requires(data.get("requires", {}), (*path, "requires")),
        variants=tuple(
            _text(k, (*path, "variants", i))
            for i, k in enumerate(_list(data.get("variants", []), (*path, "variants")))
        ),
        open_ended=open_ended,
        notice=_notice(data.get("notice"), (*path, "notice")),
        request_before=(
            None
            if data.get("request_before") is None
            else _duration(data["request_before"], (*path, "request_before"), counting)
        ),
    )


def _restart(key: str, value: Any, path: _Path) -> Restart:
    data = _mapping(value, path)
    return Restart(
        key=key,
        article=_text(_get(data, "article", path), (*path, "article")),
        basis=_basis(data, path),
        approval=_approvals(data.get("approval", []), (*path, "approval")),
    )


def _limit(key: str, value: Any, path: _Path, counting: str) -> Limit:
    data = _mapping(value, path)
    return Limit(
        key=key,
        label=_text(_get(data, "label", path), (*path, "label")),
        value=_duration(_get(data, "value", path), (*path, "value"), counting),
        article=_text(_get(data, "article", path), (*path, "article")),
        basis=_basis(data, path),
    )


def _named(
    rule: Mapping[str, Any], section: str, path: _Path, needed: tuple[str, ...]
) -> Mapping[str, Any]:
    data = _mapping(rule.get(section, {}), (*path, section))
    for name in needed:
        if name not in data:
            raise PackError((*path, section, name), f"缺少{section}项“{name}”")
    return data


def _rule(rule_id: str, value: Any, path: _Path) -> Rule:
    spec = RULE_SPECS[rule_id]
    data = _mapping(value, path)
    counting = _text(_get(data, "counting", path), (*path, "counting"))
    if counting not in COUNTING_UNITS:
        raise PackError((*path, "counting"), f"未知的计算方法“{counting}”")
    article = _text(_get(data, "article", path), (*path, "article"))
    variants = _variants(data, path, counting, article)
    if spec.term and not variants:
        raise PackError((*path, "term"), "缺少必填项“term”")
    keys = {v.key for v in variants}
    for needed in spec.variants:
        if needed not in keys:
            raise PackError((*path, "variants"), f"缺少期限“{needed}”")
    extensions = _named(data, "extensions", path, spec.extensions)
    restarts = _named(data, "restarts", path, spec.restarts)
    limits = _named(data, "limits", path, spec.limits)
    return Rule(
        id=rule_id,
        clock=spec.clock,
        label=_text(_get(data, "label", path), (*path, "label")),
        counting=counting,
        governs_custody=_bool(_get(data, "governs_custody", path), (*path, "governs_custody")),
        article=article,
        basis=_basis(data, path),
        variants=tuple(variants),
        extensions=MappingProxyType(
            {
                str(k): _extension(str(k), v, (*path, "extensions", str(k)), counting)
                for k, v in extensions.items()
            }
        ),
        restarts=MappingProxyType(
            {str(k): _restart(str(k), v, (*path, "restarts", str(k))) for k, v in restarts.items()}
        ),
        limits=MappingProxyType(
            {
                str(k): _limit(str(k), v, (*path, "limits", str(k)), counting)
                for k, v in limits.items()
            }
        ),
        notice=_notice(data.get("notice"), (*path, "notice")),
        max_count=_optional_count(data, "max_count", path),
    )


# --- top-level sections ------------------------------------------------------------------


def _suspension(key: str, value: Any, path: _Path) -> Suspension:
    data = _mapping(value, path)
    clocks = []
    for index, item in enumerate(_list(_get(data, "clocks", path), (*path, "clocks"))):
        name = _text(item, (*path, "clocks", index))
        if name not in CLOCKS:
            raise PackError((*path, "clocks", index), f"未知的期限“{name}”")
        clocks.append(name)
    end_day = _text(_get(data, "end_day", path), (*path, "end_day"))
    if end_day not in SUSPENSION_CONVENTIONS:
        raise PackError(
            (*path, "end_day"), f"end_day 应为 {'、'.join(SUSPENSION_CONVENTIONS)} 之一"
        )
    return Suspension(
        key=key,
        label=_text(_get(data, "label", path), (*path, "label")),
        clocks=frozenset(clocks),
        end_day=end_day,
        end_day_basis=_basis(data, path, "end_day_basis"),
        article=_text(_get(data, "article", path), (*path, "article")),
        basis=_basis(data, path),
    )


def _date(value: Any, path: _Path) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise PackError(path, "应为日期（YYYY-MM-DD）")


def _holidays(value: Any, path: _Path) -> tuple[frozenset[dt.date], str]:
    data = _mapping(value, path)
    days: set[dt.date] = set()
    for index, item in enumerate(_list(_get(data, "dates", path), (*path, "dates"))):
        where = (*path, "dates", index)
        span = _mapping(item, where)
        first = _date(_get(span, "from", where), (*where, "from"))
        last = _date(span.get("to", first), (*where, "to"))
        if last < first:
            raise PackError((*where, "to"), "结束日期早于开始日期")
        days.update(first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    return frozenset(days), _basis(data, path)


def parse_pack(content: Mapping[str, Any]) -> DeadlinePack:
    """Check a rule pack dict and build the engine's frozen view of it.

    Raises PackError naming the path of the first problem: a missing key, a wrong type, a
    negative or empty duration, an unknown unit, counting method or approval level.
    """
    root = _mapping(content, ())
    if _get(root, "kind", ()) != "deadlines":
        raise PackError(("kind",), "kind 应为 deadlines")
    version = _text(_get(root, "version", ()), ("version",))
    title = _text(_get(root, "title", ()), ("title",))
    rules_data = _mapping(_get(root, "rules", ()), ("rules",))
    for rule_id in RULE_SPECS:
        if rule_id not in rules_data:
            raise PackError(("rules", rule_id), f"缺少规则“{rule_id}”")
    for rule_id in rules_data:
        if rule_id not in RULE_SPECS:
            raise PackError(("rules", str(rule_id)), f"引擎不认识的规则“{rule_id}”")
    rules = {rid: _rule(rid, rules_data[rid], ("rules", rid)) for rid in RULE_SPECS}
    suspensions_data = _mapping(_get(root, "suspensions", ()), ("suspensions",))
    suspensions = {}
    for key in SUSPENSION_KEYS:
        value = _get(suspensions_data, key, ("suspensions",))
        suspensions[key] = _suspension(key, value, ("suspensions", key))
    holidays, holidays_basis = _holidays(_get(root, "holidays", ()), ("holidays",))
    articles_data = _mapping(_get(root, "articles", ()), ("articles",))
    articles = {
        key: _text(_get(articles_data, key, ("articles",)), ("articles", key))
        for key in ARTICLE_KEYS
    }
    return DeadlinePack(
        version=version,
        title=title,
        rules=MappingProxyType(rules),
        suspensions=MappingProxyType(suspensions),
        holidays=holidays,
        holidays_basis=holidays_basis,
        articles=MappingProxyType(articles),
        source=MappingProxyType(dict(_mapping(root.get("source", {}), ("source",)))),
    )


def load_pack(path: Path) -> DeadlinePack:
    """Read and parse a YAML rule pack file."""
    return parse_pack(yaml.safe_load(path.read_text(encoding="utf-8")))


@cache
def builtin_pack() -> DeadlinePack:
    """The national default pack shipped with the code, parsed once per process."""
    return load_pack(BUILTIN_PATH)
