"""The deadline rule pack: the built-in pack parses, and every kind of bad pack is refused with
the exact path of the problem (ADR 0005 maps that path to a YAML line)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from jianguan.custody.deadlines import (
    APPROVAL_LEVELS,
    BUILTIN_PATH,
    PackError,
    builtin_pack,
    parse_pack,
)
from jianguan.custody.deadlines.pack import RULE_SPECS, Duration

BUILTIN: dict[str, Any] = yaml.safe_load(BUILTIN_PATH.read_text(encoding="utf-8"))


def content() -> dict[str, Any]:
    return copy.deepcopy(BUILTIN)


def test_builtin_pack_parses_with_its_version_and_title() -> None:
    pack = builtin_pack()
    assert (pack.version, pack.title) == ("2026.1", "羁押期限规则包（全国默认）")
    assert set(pack.rules) == set(RULE_SPECS)


def test_builtin_pack_is_parsed_once() -> None:
    assert builtin_pack() is builtin_pack()


def test_builtin_path_is_the_yaml_beside_the_engine() -> None:
    assert BUILTIN_PATH.name == "deadlines.yaml"
    assert BUILTIN_PATH.parent.name == "rulepacks"


def test_every_rule_extension_and_limit_names_its_article_and_basis() -> None:
    pack = builtin_pack()
    bases = ("law", "practice")
    for rule in pack.rules.values():
        assert rule.article, rule.id
        assert rule.basis in bases, rule.id
        for variant in rule.variants:
            assert variant.article, (rule.id, variant.key)
            assert variant.basis in bases, (rule.id, variant.key)
        for ext in rule.extensions.values():
            assert ext.article, (rule.id, ext.key)
            assert ext.approval, (rule.id, ext.key)
            assert ext.basis in bases, (rule.id, ext.key)
        for limit in rule.limits.values():
            assert limit.article, (rule.id, limit.key)
            assert limit.basis in bases, (rule.id, limit.key)


def test_the_settings_where_the_law_is_silent_are_labelled_practice() -> None:
    """Holidays, the suspension end day, non-statutory notices and the 司法拘留 cap."""
    pack = builtin_pack()
    assert pack.holidays_basis == "practice"
    assert {s.end_day_basis for s in pack.suspensions.values()} == {"practice"}
    assert pack.rules["ARREST_REVIEW"].notice is not None
    assert pack.rules["ARREST_REVIEW"].notice.basis == "practice"
    assert pack.rules["JUDICIAL_DETENTION"].limits["PER_DECISION"].basis == "practice"
    assert pack.rules["SECOND_INSTANCE"].extensions["SUPREME"].basis == "practice"


def test_the_statutory_notices_are_labelled_law() -> None:
    """GA-Custody-Term Art.27: 3 days before a 30-day 拘留, 7 days before 侦查羁押 ends."""
    pack = builtin_pack()
    category = pack.rules["CRIMINAL_DETENTION"].extensions["CATEGORY"].notice
    investigation = pack.rules["INVESTIGATION"].notice
    assert category is not None
    assert investigation is not None
    assert (category.before, category.basis) == (Duration(days=3), "law")
    assert (investigation.before, investigation.basis) == (Duration(days=7), "law")


def test_half_months_are_fifteen_days() -> None:
    """SPC-Interp Art.202(1): 一个半月 is written {months: 1, half_months: 1}."""
    simplified = next(
        v for v in builtin_pack().rules["FIRST_INSTANCE"].variants if v.key == "SIMPLIFIED_OVER_3Y"
    )
    assert simplified.term == Duration(months=1, days=15)


def test_holidays_expand_their_ranges() -> None:
    holidays = builtin_pack().holidays
    assert {d.isoformat() for d in holidays if d.month == 10 and d.year == 2026} == {
        f"2026-10-0{day}" for day in range(1, 8)
    }


def test_approval_levels_are_labelled_in_chinese() -> None:
    assert APPROVAL_LEVELS["PROVINCIAL_PROCURATORATE"] == "省级人民检察院"
    assert APPROVAL_LEVELS["NPC_STANDING"] == "全国人大常委会"
    assert set(APPROVAL_LEVELS) >= {
        "COUNTY_POLICE",
        "PROCURATORATE",
        "UPPER_PROCURATORATE",
        "SUPREME_PROCURATORATE",
        "COURT",
        "UPPER_COURT",
        "HIGH_COURT",
        "SUPREME_COURT",
        "DECIDING_ORGAN",
        "FACILITY_HEAD",
    }


def _set(path: tuple[str | int, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _drop(path: tuple[str | int, ...]) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


BAD_PACKS = [
    # (change, path of the first problem, words of the message)
    pytest.param(_drop(("kind",)), ("kind",), "缺少必填项", id="missing kind"),
    pytest.param(_set(("kind",), "admission"), ("kind",), "deadlines", id="wrong kind"),
    pytest.param(_drop(("version",)), ("version",), "缺少必填项", id="missing version"),
    pytest.param(_set(("version",), 2026.1), ("version",), "应为文本", id="version as a number"),
    pytest.param(_set(("title",), ""), ("title",), "不能为空", id="empty title"),
    pytest.param(_set(("rules",), []), ("rules",), "键值映射", id="rules not a mapping"),
    pytest.param(
        _drop(("rules", "INVESTIGATION")),
        ("rules", "INVESTIGATION"),
        "缺少规则",
        id="missing rule",
    ),
    pytest.param(
        _set(("rules", "WEEKEND"), {}),
        ("rules", "WEEKEND"),
        "引擎不认识的规则",
        id="unknown rule",
    ),
    pytest.param(
        _drop(("rules", "ARREST_REVIEW", "term")),
        ("rules", "ARREST_REVIEW", "term"),
        "缺少必填项",
        id="missing term",
    ),
    pytest.param(
        _set(("rules", "INVESTIGATION", "term"), {"months": -2}),
        ("rules", "INVESTIGATION", "term", "months"),
        "不能为负数",
        id="negative duration",
    ),
    pytest.param(
        _set(("rules", "INVESTIGATION", "term"), {"months": "two"}),
        ("rules", "INVESTIGATION", "term", "months"),
        "应为整数",
        id="duration as text",
    ),
    pytest.param(
        _set(("rules", "INVESTIGATION", "term"), {"months": True}),
        ("rules", "INVESTIGATION", "term", "months"),
        "应为整数",
        id="duration as a boolean",
    ),
    pytest.param(
        _set(("rules", "INVESTIGATION", "term"), {"weeks": 8}),
        ("rules", "INVESTIGATION", "term", "weeks"),
        "未知的期间单位",
        id="unknown unit",
    ),
    pytest.param(
        _set(("rules", "INVESTIGATION", "term"), {}),
        ("rules", "INVESTIGATION", "term"),
        "不能为空",
        id="empty duration",
    ),
    pytest.param(
        _set(("rules", "INVESTIGATION", "term"), 2),
        ("rules", "INVESTIGATION", "term"),
        "键值映射",
        id="duration without a unit",
    ),
    pytest.param(
        _set(("rules", "CRIMINAL_DETENTION", "variants", 1, "term"), {"months": 1}),
        ("rules", "CRIMINAL_DETENTION", "variants", 1, "term", "months"),
        "不使用单位",
        id="months in a term counted in 24-hour days",
    ),
    pytest.param(
        _set(("rules", "ADMIN_DETENTION", "limits", "COMBINED", "value"), {"hours": 480}),
        ("rules", "ADMIN_DETENTION", "limits", "COMBINED", "value", "hours"),
        "不使用单位",
        id="hours in a day-counted limit",
    ),
    pytest.param(
        _set(("rules", "INVESTIGATION", "counting"), "LUNAR"),
        ("rules", "INVESTIGATION", "counting"),
        "未知的计算方法",
        id="unknown counting method",
    ),
    pytest.param(
        _set(("rules", "INVESTIGATION", "extensions", "2", "approval"), ["PROVINCIAL_GOVERNOR"]),
        ("rules", "INVESTIGATION", "extensions", "2", "approval", 0),
        "未知的批准机关级别",
        id="unknown approval level in a list",
    ),
    pytest.param(
        _set(("rules", "INVESTIGATION", "extensions", "1", "approval"), "MAYOR"),
        ("rules", "INVESTIGATION", "extensions", "1", "approval"),
        "未知的批准机关级别",
        id="unknown approval level as a string",
    ),
    pytest.param(
        _drop(("rules", "INVESTIGATION", "extensions", "3")),
        ("rules", "INVESTIGATION", "extensions", "3"),
        "缺少extensions项",
        id="missing extension",
    ),
    pytest.param(
        _drop(("rules", "PROSECUTION_REVIEW", "extensions", "COMPLEX", "add")),
        ("rules", "PROSECUTION_REVIEW", "extensions", "COMPLEX"),
        "add",
        id="extension without a length",
    ),
    pytest.param(
        _set(("rules", "IMMIGRATION_DETENTION", "extensions", "EXTEND", "param"), "weeks"),
        ("rules", "IMMIGRATION_DETENTION", "extensions", "EXTEND", "param"),
        "days 或 months",
        id="extension amount in an unknown unit",
    ),
    pytest.param(
        _set(("rules", "INVESTIGATION", "extensions", "1", "max_times"), -1),
        ("rules", "INVESTIGATION", "extensions", "1", "max_times"),
        "不能为负数",
        id="negative count",
    ),
    pytest.param(
        _drop(("rules", "INVESTIGATION", "article")),
        ("rules", "INVESTIGATION", "article"),
        "缺少必填项",
        id="missing article",
    ),
    pytest.param(
        _set(("rules", "INVESTIGATION", "basis"), "custom"),
        ("rules", "INVESTIGATION", "basis"),
        "law",
        id="basis neither law nor practice",
    ),
    pytest.param(
        _set(("rules", "INVESTIGATION", "governs_custody"), "yes"),
        ("rules", "INVESTIGATION", "governs_custody"),
        "true 或 false",
        id="boolean as text",
    ),
    pytest.param(
        _set(("rules", "INVESTIGATION", "notice", "before"), {"months": 1}),
        ("rules", "INVESTIGATION", "notice", "before", "months"),
        "不使用单位",
        id="notice lead time in months",
    ),
    pytest.param(
        _set(
            ("rules", "FIRST_INSTANCE", "variants"),
            BUILTIN["rules"]["FIRST_INSTANCE"]["variants"][:4],
        ),
        ("rules", "FIRST_INSTANCE", "variants"),
        "ORDINARY",
        id="missing variant the engine needs",
    ),
    pytest.param(
        _drop(("rules", "FIRST_INSTANCE", "variants", 0, "key")),
        ("rules", "FIRST_INSTANCE", "variants", 0, "key"),
        "缺少必填项",
        id="variant without a key",
    ),
    pytest.param(
        _drop(("rules", "ADMIN_DETENTION", "limits", "COMBINED")),
        ("rules", "ADMIN_DETENTION", "limits", "COMBINED"),
        "缺少limits项",
        id="missing limit",
    ),
    pytest.param(
        _set(("suspensions", "PSYCHIATRIC_EVALUATION", "clocks", 0), "LUNCH"),
        ("suspensions", "PSYCHIATRIC_EVALUATION", "clocks", 0),
        "未知的期限",
        id="suspension of an unknown clock",
    ),
    pytest.param(
        _set(("suspensions", "PSYCHIATRIC_EVALUATION", "end_day"), "HALF"),
        ("suspensions", "PSYCHIATRIC_EVALUATION", "end_day"),
        "RESUME_DAY_RUNS",
        id="unknown end-day convention",
    ),
    pytest.param(
        _drop(("suspensions", "LEAVE")),
        ("suspensions", "LEAVE"),
        "缺少必填项",
        id="missing suspension",
    ),
    pytest.param(
        _set(("holidays", "dates", 0, "from"), "2026-13-01"),
        ("holidays", "dates", 0, "from"),
        "应为日期",
        id="holiday that is not a date",
    ),
    pytest.param(
        _set(("holidays", "dates", 1, "to"), "2024-01-01"),
        ("holidays", "dates", 1, "to"),
        "结束日期早于开始日期",
        id="holiday ending before it starts",
    ),
    pytest.param(
        _drop(("articles", "AFTER_END")),
        ("articles", "AFTER_END"),
        "缺少必填项",
        id="missing cross-cutting article",
    ),
]


@pytest.mark.parametrize(("change", "path", "words"), BAD_PACKS)
def test_parse_pack_refuses_a_bad_pack_at_the_exact_path(
    change: Callable[[dict[str, Any]], None], path: tuple[str | int, ...], words: str
) -> None:
    data = content()
    change(data)
    with pytest.raises(PackError) as caught:
        parse_pack(data)
    assert caught.value.path == path
    assert words in caught.value.message


def test_pack_error_names_the_path_in_its_text() -> None:
    data = content()
    data["rules"]["INVESTIGATION"]["term"] = {"months": -2}
    with pytest.raises(PackError, match=r"rules/INVESTIGATION/term/months: 不能为负数"):
        parse_pack(data)


def test_parse_pack_refuses_a_non_mapping_at_the_root() -> None:
    with pytest.raises(PackError) as caught:
        parse_pack([])  # type: ignore[arg-type]
    assert caught.value.path == ()


def test_a_province_can_change_numbers_and_approvals_without_code() -> None:
    """A published pack changes the term and who approves; the engine reads both."""
    data = content()
    data["version"] = "2026.1-gd"
    data["rules"]["ARREST_REVIEW"]["term"] = {"days": 5}
    data["rules"]["INVESTIGATION"]["extensions"]["1"]["approval"] = ["PROVINCIAL_PROCURATORATE"]
    pack = parse_pack(data)
    assert pack.version == "2026.1-gd"
    assert pack.rules["ARREST_REVIEW"].variants[0].term == Duration(days=5)
    assert pack.rules["INVESTIGATION"].extensions["1"].approval == ("PROVINCIAL_PROCURATORATE",)


def test_parsed_pack_is_read_only() -> None:
    pack = builtin_pack()
    with pytest.raises(TypeError):
        pack.rules["INVESTIGATION"] = pack.rules["ARREST_REVIEW"]  # type: ignore[index]
