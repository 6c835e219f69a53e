"""Consistency tests for the code-table YAML files in src/jianguan/codes/data/.

Pure Python (pytest + PyYAML): no database, no Django.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

DATA_DIR = Path(__file__).resolve().parents[2] / "src" / "jianguan" / "codes" / "data"

EXPECTED_TABLES = {
    "case_nature",
    "ethnicity",
    "gender",
    "id_document_type",
    "legal_measure",
    "litigation_stage",
    "region",
}
TOP_LEVEL_KEYS = {"table", "name", "name_en", "standard", "version", "entries"}
ENTRY_REQUIRED = {"code", "name", "name_en"}
ENTRY_OPTIONAL = {"parent", "level", "note"}
ENTRY_EXTRA_BY_TABLE = {
    "case_nature": {"severity"},
    "legal_measure": {"facility_kinds", "basis"},
}
FACILITY_KINDS = {"DETENTION_CENTER", "DETENTION_HOUSE", "REHAB_CENTER"}

PROVINCE_PREFIXES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34",
    "35", "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52",
    "53", "54", "61", "62", "63", "64", "65", "71", "81", "82",
}  # fmt: skip


@cache
def load(stem: str) -> dict[str, Any]:
    with (DATA_DIR / f"{stem}.yaml").open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict), f"{stem}.yaml must be a mapping"
    return data


def entries(stem: str) -> list[dict[str, Any]]:
    result = load(stem)["entries"]
    assert isinstance(result, list)
    return result


def by_code(stem: str) -> dict[str, dict[str, Any]]:
    return {e["code"]: e for e in entries(stem)}


def yaml_stems() -> list[str]:
    return sorted(p.stem for p in DATA_DIR.glob("*.yaml"))


# --- every table -------------------------------------------------------------


def test_expected_files_present() -> None:
    assert set(yaml_stems()) == EXPECTED_TABLES
    assert not list(DATA_DIR.glob("*.yml")), "use the .yaml extension"


@pytest.mark.parametrize("stem", yaml_stems())
def test_top_level_shape(stem: str) -> None:
    data = load(stem)
    assert set(data) == TOP_LEVEL_KEYS
    assert data["table"] == stem.upper()
    for key in ("name", "name_en", "standard", "version"):
        assert isinstance(data[key], str), f"{stem}: {key} must be a string"
        assert data[key].strip(), f"{stem}: {key} is empty"
    assert isinstance(data["entries"], list)
    assert data["entries"], f"{stem}: no entries"


@pytest.mark.parametrize("stem", yaml_stems())
def test_entry_shape(stem: str) -> None:
    allowed = ENTRY_REQUIRED | ENTRY_OPTIONAL | ENTRY_EXTRA_BY_TABLE.get(stem, set())
    for entry in entries(stem):
        assert isinstance(entry, dict), f"{stem}: entry {entry!r} is not a mapping"
        assert set(entry) >= ENTRY_REQUIRED, f"{stem}: {entry!r} lacks required keys"
        assert set(entry) <= allowed, f"{stem}: {entry!r} has unknown keys"
        for key in ("code", "name", "name_en", "parent", "level", "note"):
            if key in entry:
                value = entry[key]
                assert isinstance(value, str), f"{stem}: {key}={value!r} must be a quoted string"
                assert value.strip() == value, f"{stem}: {key}={value!r} has stray whitespace"
                assert value, f"{stem}: empty {key} in {entry!r}"
        assert re.fullmatch(r"[0-9A-Z]+", entry["code"]), f"{stem}: bad code {entry['code']!r}"


@pytest.mark.parametrize("stem", yaml_stems())
def test_codes_unique(stem: str) -> None:
    codes = [e["code"] for e in entries(stem)]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    assert not duplicates, f"{stem}: duplicate codes {duplicates}"


@pytest.mark.parametrize("stem", yaml_stems())
def test_names_unique_among_siblings(stem: str) -> None:
    seen: set[tuple[str | None, str]] = set()
    for entry in entries(stem):
        key = (entry.get("parent"), entry["name"])
        if stem == "region" and entry["name"] in {"市辖区", "县", "省直辖县级行政区划"}:
            continue  # placeholders repeat across provinces by design
        assert key not in seen, f"{stem}: duplicate name {entry['name']!r} under {key[0]!r}"
        seen.add(key)


@pytest.mark.parametrize("stem", yaml_stems())
def test_parents_exist_and_are_acyclic(stem: str) -> None:
    table = by_code(stem)
    for code, entry in table.items():
        seen = {code}
        parent = entry.get("parent")
        while parent is not None:
            assert parent in table, f"{stem}: {code} has unknown parent {parent!r}"
            assert parent not in seen, f"{stem}: parent cycle through {code}"
            seen.add(parent)
            parent = table[parent].get("parent")


# --- gender ------------------------------------------------------------------


def test_gender() -> None:
    table = by_code("gender")
    assert set(table) == {"0", "1", "2", "9"}
    assert table["1"]["name"] == "男"
    assert table["2"]["name"] == "女"
    assert load("gender")["standard"].startswith("GB/T 2261.1")


# --- ethnicity ---------------------------------------------------------------


def test_ethnicity_has_56_nationalities_plus_others() -> None:
    table = by_code("ethnicity")
    numbered = sorted(c for c in table if 1 <= int(c) <= 56)
    assert numbered == [f"{i:02d}" for i in range(1, 57)]
    assert set(table) == set(numbered) | {"97", "98"}
    assert table["01"]["name"] == "汉族"
    assert table["02"]["name"] == "蒙古族"
    assert table["56"]["name"] == "基诺族"
    assert table["97"]["name"] == "其他"
    assert table["98"]["name"] == "外国血统中国籍人士"
    assert all(table[c]["name"].endswith("族") for c in numbered)
    assert len({table[c]["name"] for c in numbered}) == 56


# --- id_document_type --------------------------------------------------------


def test_id_document_types() -> None:
    table = by_code("id_document_type")
    expected = {
        "111": "居民身份证",
        "112": "临时居民身份证",
        "414": "普通护照",
        "511": "台湾居民来往大陆通行证",
        "516": "港澳居民来往内地通行证",
        "553": "外国人永久居留身份证",
        "990": "其他",
    }
    for code, name in expected.items():
        assert table[code]["name"] == name
    assert all(re.fullmatch(r"\d{3}", c) for c in table)


# --- case_nature -------------------------------------------------------------


def test_case_nature() -> None:
    data = load("case_nature")
    assert data["standard"] == "practice"
    names = {e["name"] for e in data["entries"]}
    for required in (
        "危害国家安全犯罪",
        "故意杀人",
        "故意伤害",
        "强奸",
        "抢劫",
        "盗窃",
        "诈骗",
        "走私、贩卖、运输、制造毒品",
        "寻衅滋事",
        "聚众斗殴",
        "危险驾驶",
        "交通肇事",
        "组织、领导、参加黑社会性质组织",
        "非法拘禁",
        "敲诈勒索",
        "开设赌场",
        "妨害公务",
        "其他刑事犯罪",
        "治安违法",
        "吸毒",
    ):
        assert required in names, required


def test_case_nature_severity() -> None:
    for entry in entries("case_nature"):
        if "severity" in entry:
            severity = entry["severity"]
            assert isinstance(severity, int)
            assert not isinstance(severity, bool)
            assert 1 <= severity <= 5, entry
        if "parent" in entry:
            assert "severity" in entry, f"specific offence {entry['code']} lacks severity"
    table = {e["name"]: e for e in entries("case_nature")}
    assert table["故意杀人"]["severity"] == 5
    assert table["危险驾驶"]["severity"] < table["抢劫"]["severity"]


def test_case_nature_children_share_parent_prefix() -> None:
    for entry in entries("case_nature"):
        if "parent" in entry:
            assert entry["code"].startswith(entry["parent"]), entry


# --- legal_measure -----------------------------------------------------------


def test_legal_measure_shape() -> None:
    for entry in entries("legal_measure"):
        assert re.fullmatch(r"\d{2,3}", entry["code"]), entry
        kinds = entry["facility_kinds"]
        assert isinstance(kinds, list)
        assert kinds, entry
        assert len(set(kinds)) == len(kinds), entry
        assert set(kinds) <= FACILITY_KINDS, entry
        assert isinstance(entry["basis"], str)
        assert entry["basis"].strip(), entry


def test_legal_measure_facilities() -> None:
    table = {e["name"]: e for e in entries("legal_measure")}
    expected = {
        "刑事拘留": ["DETENTION_CENTER"],
        "逮捕": ["DETENTION_CENTER"],
        "留所服刑": ["DETENTION_CENTER"],
        "拘役": ["DETENTION_CENTER"],
        "行政拘留": ["DETENTION_HOUSE"],
        "司法拘留": ["DETENTION_HOUSE"],
        "强制隔离戒毒": ["REHAB_CENTER"],
    }
    for name, kinds in expected.items():
        assert table[name]["facility_kinds"] == kinds, name
    assert table["刑事拘留"]["basis"] == "刑事诉讼法第八十二条"
    assert table["逮捕"]["basis"] == "刑事诉讼法第八十一条"
    assert "治安管理处罚法" in table["行政拘留"]["basis"]
    assert table["强制隔离戒毒"]["basis"] == "禁毒法第三十八条"
    assert "指定居所监视居住" not in table
    assert "其他" in table
    every_kind: set[str] = set()
    for entry in table.values():
        every_kind.update(entry["facility_kinds"])
    assert every_kind == FACILITY_KINDS


# --- litigation_stage --------------------------------------------------------


def test_litigation_stages() -> None:
    names = {e["name"] for e in entries("litigation_stage")}
    for required in (
        "侦查（刑事拘留期间）",
        "侦查（逮捕后侦查羁押）",
        "审查起诉",
        "一审",
        "二审",
        "死刑复核",
        "已决待交付执行",
        "留所服刑",
        "行政拘留执行",
        "强制隔离戒毒执行",
        "其他",
    ):
        assert required in names, required


# --- region ------------------------------------------------------------------


def test_region_provinces() -> None:
    provinces = [e for e in entries("region") if e.get("level") == "province"]
    assert len(provinces) == 34
    assert {p["code"][:2] for p in provinces} == PROVINCE_PREFIXES
    for province in provinces:
        assert re.fullmatch(r"\d{2}0000", province["code"]), province
        assert "parent" not in province
    table = by_code("region")
    assert table["110000"]["name"] == "北京市"
    assert table["440000"]["name"] == "广东省"
    assert table["710000"]["name"] == "台湾省"
    assert table["810000"]["name"] == "香港特别行政区"
    assert table["820000"]["name"] == "澳门特别行政区"


def test_region_cities() -> None:
    table = by_code("region")
    cities = [e for e in entries("region") if e.get("level") == "city"]
    assert len(cities) >= 330
    for city in cities:
        code = city["code"]
        assert re.fullmatch(r"\d{4}00", code), city
        assert not code.endswith("0000"), city
        parent = table[city["parent"]]
        assert parent.get("level") == "province", city
        assert code[:2] == parent["code"][:2], city
    assert len(cities) + 34 == len(table), "every region entry is a province or a city"


def test_region_municipalities_and_placeholders() -> None:
    table = by_code("region")
    for code in ("110100", "120100", "310100", "500100"):
        assert table[code]["name"] == "市辖区"
    assert table["500200"]["name"] == "县"
    for code in ("419000", "429000", "469000", "659000"):
        assert table[code]["name"].endswith("直辖县级行政区划"), code
    assert table["440300"]["name"] == "深圳市"
    assert table["222400"]["name"] == "延边朝鲜族自治州"
    assert table["152900"]["name"] == "阿拉善盟"
    assert table["232700"]["name"] == "大兴安岭地区"


def test_region_cities_per_province() -> None:
    counts: dict[str, int] = {}
    for entry in entries("region"):
        if entry.get("level") == "city":
            counts[entry["parent"]] = counts.get(entry["parent"], 0) + 1
    # Spot checks against GB/T 2260 (2023): prefecture-level units per province.
    assert counts["130000"] == 11  # 河北
    assert counts["440000"] == 21  # 广东
    assert counts["510000"] == 21  # 四川
    assert counts["650000"] == 15  # 新疆 incl. 659000
    assert "710000" not in counts
    assert "810000" not in counts
    assert "820000" not in counts


@pytest.mark.parametrize("stem", yaml_stems())
def test_lengths_fit_storage(stem: str) -> None:
    # Conservative limits so every value fits the code-table columns.
    data = load(stem)
    assert len(data["table"]) <= 32
    assert len(data["name"]) <= 50
    assert len(data["name_en"]) <= 100
    assert len(data["standard"]) <= 100
    assert len(data["version"]) <= 32
    for entry in entries(stem):
        assert len(entry["code"]) <= 16, entry
        assert len(entry.get("parent", "")) <= 16, entry
        assert len(entry["name"]) <= 100, entry
        assert len(entry["name_en"]) <= 100, entry
