"""Pure generation: units, cells, people and their history as plain rows, no database writes.

Each facility draws from its own `random.Random(f"{seed}:{facility code}")`, so a facility's
cells, people and events depend only on the seed, its code, `now`, the history window and
the code tables — not on how many other facilities are generated or in what order. Ids are
UUIDv7 built from the row's own historic time and 74 bits of that generator
(`uuid7_at`), so a rerun with the same seed produces the same ids.
"""

from __future__ import annotations

import datetime as dt
import operator
import random
import uuid
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from jianguan.core.ids import uuid7_at
from jianguan.custody.api import DetaineeStatus
from jianguan.custody.deadlines import Clock, LegalFact, Person, builtin_pack, compute, stage_after
from jianguan.housing.api import CellGender, CellKind
from jianguan.org.api import FacilityKind, UnitLevel
from jianguan.synthetic.catalog import DAY, Catalog, Exit, MeasureProfile, Weighted
from jianguan.synthetic.legal_history import legal_history
from jianguan.synthetic.names import chinese_name, foreign_person, passport_number

UTC: Final = dt.UTC
_LOCAL_OFFSET: Final = 8 * 3600.0  # Asia/Shanghai, no daylight saving since 1991
_YEAR_DAYS: Final = 365.2425
MONTH_DAYS: Final = 30.4375

# --- units -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitPlan:
    code: str
    name: str
    level: str
    region_code: str
    parent_code: str = ""
    facility_kind: str = ""


NATIONAL: Final = UnitPlan("000000", "公安部监所管理局", UnitLevel.NATIONAL, "000000")

DEMO_TREE: Final[tuple[UnitPlan, ...]] = (
    NATIONAL,
    UnitPlan("440000", "广东省公安厅监管总队", UnitLevel.PROVINCE, "440000", "000000"),
    UnitPlan("440100", "广州市公安局监管支队", UnitLevel.CITY, "440100", "440000"),
    UnitPlan(
        "440100K01",
        "广州市第一看守所",
        UnitLevel.FACILITY,
        "440103",
        "440100",
        FacilityKind.DETENTION_CENTER,
    ),
    UnitPlan(
        "440100J01",
        "广州市拘留所",
        UnitLevel.FACILITY,
        "440106",
        "440100",
        FacilityKind.DETENTION_HOUSE,
    ),
    UnitPlan(
        "440100R01",
        "广州市强制隔离戒毒所",
        UnitLevel.FACILITY,
        "440111",
        "440100",
        FacilityKind.REHAB_CENTER,
    ),
    UnitPlan("440300", "深圳市公安局监管支队", UnitLevel.CITY, "440300", "440000"),
    UnitPlan(
        "440300K01",
        "深圳市第一看守所",
        UnitLevel.FACILITY,
        "440304",
        "440300",
        FacilityKind.DETENTION_CENTER,
    ),
)

KIND_LETTER: Final = {
    FacilityKind.DETENTION_CENTER: "K",
    FacilityKind.DETENTION_HOUSE: "J",
    FacilityKind.REHAB_CENTER: "R",
}
_KIND_ORDER: Final[dict[str, int]] = {k: i for i, k in enumerate(KIND_LETTER)}
_KIND_NAME: Final = {
    FacilityKind.DETENTION_CENTER: "看守所",
    FacilityKind.DETENTION_HOUSE: "拘留所",
    FacilityKind.REHAB_CENTER: "强制隔离戒毒所",
}
# Nationally there are about as many 拘留所 as 看守所 but far fewer 公安 戒毒所; the scale
# tree leans to 看守所, the facilities the platform is mostly about.
_KIND_MIX: Final = Weighted.of(
    [
        (FacilityKind.DETENTION_CENTER, 62),
        (FacilityKind.DETENTION_HOUSE, 30),
        (FacilityKind.REHAB_CENTER, 8),
    ]
)
_CN_DIGITS: Final = "零一二三四五六七八九"


def chinese_ordinal(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一, 100 and up as digits."""
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _CN_DIGITS[n // 10] + "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    return str(n)


def _bureau(name: str) -> str:
    """公安厅 for a province or region, 公安局 for a municipality."""
    return "公安局" if name.endswith("市") else "公安厅"


def scale_tree(
    catalog: Catalog,
    *,
    seed: int,
    facilities: int,
    existing: dict[str, str] | None = None,
) -> list[UnitPlan]:
    """A national tree with `facilities` facilities spread over the region table's cities.

    `existing` maps codes already in the database to their names; those units are not planned
    again and new facility codes continue after the existing ones of their city and kind.
    Parents come before children in the result.
    """
    existing = existing or {}
    rng = random.Random(f"{seed}:tree")
    cities = [
        c
        for p in sorted(catalog.provinces(), key=lambda r: r.code)
        for c in catalog.cities_of(p.code)
    ]
    if not cities:
        raise LookupError("行政区划代码表没有地市级条目")
    # Bigger cities get more facilities: a random size, doubled for provincial capitals.
    sizes = [rng.uniform(0.5, 2.0) * (2.0 if c.code.endswith("0100") else 1.0) for c in cities]
    counts = _apportion(facilities, sizes, rng)
    plans: list[UnitPlan] = []
    planned: set[str] = set(existing)

    def add(plan: UnitPlan) -> None:
        if plan.code not in planned:
            planned.add(plan.code)
            plans.append(plan)

    add(NATIONAL)
    for city, count in zip(cities, counts, strict=True):
        if count == 0:
            continue
        province = catalog.regions[city.parent_code]
        add(
            UnitPlan(
                province.code,
                f"{province.name}{_bureau(province.name)}监管总队",
                UnitLevel.PROVINCE,
                province.code,
                NATIONAL.code,
            )
        )
        place = catalog.city_name(city.code)
        city_unit = (
            f"{place}公安局监管支队"
            if place == city.name
            else f"{place}{_bureau(place)}{city.name}监管支队"
        )
        add(UnitPlan(city.code, city_unit, UnitLevel.CITY, city.code, province.code))
        kinds = [rng.choices(_KIND_MIX.items, cum_weights=_KIND_MIX.cum)[0] for _ in range(count)]
        if FacilityKind.DETENTION_CENTER not in kinds:
            kinds[0] = FacilityKind.DETENTION_CENTER  # every city with a facility has a 看守所
        kinds.sort(key=_KIND_ORDER.__getitem__)
        for kind in KIND_LETTER:
            of_kind = kinds.count(kind)
            prefix = f"{city.code}{KIND_LETTER[kind]}"
            taken = [
                int(c[len(prefix) :])
                for c in existing
                if c.startswith(prefix) and c[len(prefix) :].isdigit()
            ]
            start = max(taken, default=0)
            for i in range(1, of_kind + 1):
                n = start + i
                alone = of_kind == 1 and start == 0
                name = f"{place}{'' if alone else '第' + chinese_ordinal(n)}{_KIND_NAME[kind]}"
                county = f"{city.code[:4]}{rng.randint(2, 9):02d}"
                add(UnitPlan(f"{prefix}{n:02d}", name, UnitLevel.FACILITY, county, city.code, kind))
    return plans


def _apportion(total: int, weights: list[float], rng: random.Random) -> list[int]:
    """Split `total` over `weights` (largest remainder); fewer than len(weights): a sample."""
    if total < len(weights):
        picked = set(rng.sample(range(len(weights)), total))
        return [1 if i in picked else 0 for i in range(len(weights))]
    scale = total / sum(weights)
    exact = [w * scale for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


# --- rows --------------------------------------------------------------------------------


@dataclass(slots=True)
class CellRow:
    id: uuid.UUID
    number: str
    area: str
    kind: str
    gender: str  # CellGender value
    capacity: int
    free: int = 0
    cases: set[str] = field(default_factory=set)


@dataclass(slots=True)
class PersonRow:
    id: uuid.UUID
    number: str
    name: str
    gender: str
    ethnicity: str
    birth_date: dt.date
    id_type: str
    id_number: str
    nationality: str
    case_nature: str
    legal_measure: str
    litigation_stage: str
    case_unit: str
    case_number: str
    status: str
    admitted_at: dt.datetime
    left_at: dt.datetime | None
    cell: CellRow | None
    # Not stored on the person: the history events and housing use them.
    admitted_ts: float = 0.0
    reason: str = ""
    juvenile: bool = False
    sentenced: bool = False
    medical: bool = False
    recent: bool = False
    legal: list[LegalRow] = field(default_factory=list)
    clocks: list[Clock] = field(default_factory=list)


@dataclass(slots=True)
class LegalRow:
    """A recorded legal event of a held person (and the id its clocks' history cites)."""

    id: uuid.UUID
    kind: str
    at: dt.datetime
    approval: str
    params: dict[str, Any]


@dataclass(slots=True)
class EventRow:
    id: uuid.UUID
    type: str
    occurred_at: dt.datetime
    aggregate_id: uuid.UUID
    payload: dict[str, Any]


@dataclass
class FacilityData:
    plan: UnitPlan
    cells: list[CellRow]
    people: list[PersonRow]
    events: list[EventRow]


def _pick(random_: Callable[[], float], choices: Weighted) -> str:
    """A weighted draw: one uniform number, one bisection (cheaper than random.choices)."""
    return choices.items[bisect_right(choices.cum, random_() * choices.cum[-1])]


_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id_check(first17: str) -> str:
    """GB 11643 check character (ISO 7064 MOD 11-2); the same as codes.idcard.check_digit,
    without its argument checks, for the million numbers a scale run computes."""
    return "10X98765432"[sum(map(operator.mul, map(int, first17), _ID_WEIGHTS)) % 11]


# --- cells -------------------------------------------------------------------------------

_AREAS: Final = {
    FacilityKind.DETENTION_CENTER: ("一监区", "二监区", "三监区", "女监区"),
    FacilityKind.DETENTION_HOUSE: ("一拘区", "二拘区", "三拘区", "女拘区"),
    FacilityKind.REHAB_CENTER: ("一大队", "二大队", "三大队", "女子大队"),
}
_CELL_COUNT: Final = {
    FacilityKind.DETENTION_CENTER: (24, 40),
    FacilityKind.DETENTION_HOUSE: (12, 24),
    FacilityKind.REHAB_CENTER: (16, 30),
}


def facility_cells(plan: UnitPlan, rng: random.Random, *, created_ms: int) -> list[CellRow]:
    """Cells by area: male areas of at most 14 cells, then a women's area (about 10%)."""
    kind = plan.facility_kind
    lo, hi = _CELL_COUNT[FacilityKind(kind)]
    total = rng.randint(lo, hi)
    female = max(1, round(total * rng.uniform(0.08, 0.14)))
    male = total - female
    areas = _AREAS[FacilityKind(kind)]
    male_areas = min(3, -(-male // 14))
    per_area = -(-male // male_areas)
    big = (12, 20) if kind == FacilityKind.DETENTION_CENTER else (8, 16)
    # Special cells of the male side, in the order they take the first / last numbers.
    first = [CellKind.TRANSITION] * (2 if total >= 20 else 1)
    last = [CellKind.MEDICAL]
    if kind == FacilityKind.DETENTION_CENTER:
        last = [CellKind.JUVENILE] * (1 + (total >= 32)) + [CellKind.SENTENCED] * 2 + last
    male_kinds = first + [CellKind.ORDINARY] * (male - len(first) - len(last)) + last
    cells: list[CellRow] = []

    def cell(area_index: int, n: int, kind_: str, gender: str) -> None:
        cap_lo, cap_hi = {
            CellKind.TRANSITION: (8, 12),
            CellKind.JUVENILE: (6, 10),
            CellKind.MEDICAL: (4, 8),
        }.get(CellKind(kind_), big)
        capacity = rng.randint(cap_lo, cap_hi)
        cells.append(
            CellRow(
                id=uuid7_at(created_ms, rng.getrandbits(74)),
                number=f"{area_index + 1}{n:02d}",
                area=areas[area_index],
                kind=kind_,
                gender=gender,
                capacity=capacity,
                free=capacity,
            )
        )

    for i, kind_ in enumerate(male_kinds):
        cell(i // per_area, i % per_area + 1, kind_, CellGender.MALE)
    for j in range(female):
        kind_ = CellKind.TRANSITION if j == 0 and female >= 3 else CellKind.ORDINARY
        cell(male_areas, j + 1, kind_, CellGender.FEMALE)
    # The women's area keeps the last area name even when there are fewer male areas.
    for c in cells[male:]:
        c.area = areas[-1]
    return cells


# --- people ------------------------------------------------------------------------------

_HELD_SHARE: Final = {
    FacilityKind.DETENTION_CENTER: 0.62,
    FacilityKind.DETENTION_HOUSE: 0.30,
    FacilityKind.REHAB_CENTER: 0.65,
}
_MALE_SHARE: Final = {
    FacilityKind.DETENTION_CENTER: 0.90,
    FacilityKind.DETENTION_HOUSE: 0.88,
    FacilityKind.REHAB_CENTER: 0.84,
}
_OUT_SHARE: Final = {  # 出所就医, 提解: out of the facility for now, still its responsibility
    FacilityKind.DETENTION_CENTER: 0.015,
    FacilityKind.DETENTION_HOUSE: 0.005,
    FacilityKind.REHAB_CENTER: 0.015,
}
_AGE_MODE: Final = {
    FacilityKind.DETENTION_CENTER: 32.0,
    FacilityKind.DETENTION_HOUSE: 33.0,
    FacilityKind.REHAB_CENTER: 38.0,
}
_JUVENILE_SHARE: Final = 0.02
_LOCAL_SHARE: Final = 0.7  # people registered in the facility's own district
_HAN_SHARE: Final = 0.92
_EPOCH_ORDINAL: Final = dt.date(1970, 1, 1).toordinal()


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Known districts of the demo cities; elsewhere a generic branch name.
_DISTRICTS: Final = {
    "4401": _words("越秀区 海珠区 荔湾区 天河区 白云区 黄埔区 番禺区 花都区 南沙区 从化区 增城区"),
    "4403": _words("福田区 罗湖区 南山区 盐田区 宝安区 龙岗区 龙华区 坪山区 光明区"),
}
_GENERIC_BRANCHES: Final = _words("城区 开发区 高新区 经济技术开发区 新区")
_STATIONS: Final = _words(
    "城南 城北 东风 人民路 解放路 中山路 新华 建设路 站前 河西 东湖 西关 长安 和平 文化路 滨江 石牌"
)
# Province-level code → the one-character abbreviation used in court case numbers.
_PROVINCE_ABBR: Final = dict(
    zip(
        _words("11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61")
        + _words("62 63 64 65"),
        "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川黔滇藏陕甘青宁新",
        strict=True,
    )
)


def _local_ordinal(ts: float) -> int:
    """The local (UTC+8) calendar day of a timestamp, as a date ordinal."""
    return int((ts + _LOCAL_OFFSET) // DAY) + _EPOCH_ORDINAL


class FacilityGenerator:
    """Generates one facility's cells, people and history from its own random stream."""

    def __init__(
        self,
        plan: UnitPlan,
        catalog: Catalog,
        *,
        seed: int,
        now: dt.datetime,
        months: int,
    ) -> None:
        if not plan.facility_kind:
            raise ValueError(f"{plan.code} is not a facility")
        self.plan = plan
        self.kind = FacilityKind(plan.facility_kind)
        self.catalog = catalog
        self.rng = random.Random(f"{seed}:{plan.code}")
        self.random = self.rng.random
        self.now = now.astimezone(UTC)
        self.now_ts = self.now.timestamp()
        self.now_ord = _local_ordinal(self.now_ts)
        self.window = max(1.0, months * MONTH_DAYS)  # days of history
        self.profiles = catalog.measures.get(self.kind, [])
        self.held_mix = Weighted.of([(str(i), p.held_weight) for i, p in enumerate(self.profiles)])
        self.left_mix = Weighted.of([(str(i), p.left_weight) for i, p in enumerate(self.profiles)])
        if not self.held_mix or not self.left_mix:
            raise LookupError(f"法律措施代码表中没有适用于{self.kind.label}的措施")
        self.by_code = {p.code: p for p in self.profiles}
        self.spans = {p.code: self._span(p) for p in self.profiles}
        self.place = catalog.city_name(plan.region_code)
        self.districts = _DISTRICTS.get(plan.region_code[:4], ())
        self.others = [c.code[:4] for c in catalog.regions.values() if c.parent_code]
        self.own_province = [c for c in self.others if c[:2] == plan.region_code[:2]]
        self.male_share = _MALE_SHARE[self.kind]
        self.age_mode = _AGE_MODE[self.kind]

    def _span(self, profile: MeasureProfile) -> tuple[float, float, float]:
        """(shortest, longest, most common) days of a stay, within the history window."""
        longest = min(profile.max_days, self.window)
        shortest = min(profile.min_days, longest * 0.5)
        return shortest, longest, min(max(profile.mode_days, shortest), longest)

    # -- the whole facility --

    def generate(self, count: int | None = None) -> FacilityData:
        rng = self.rng
        created_ms = int((self.now_ts - (self.window + rng.uniform(30, 400)) * DAY) * 1000)
        cells = facility_cells(self.plan, rng, created_ms=created_ms)
        if count is None:
            count = rng.randint(200, 450)
        people = self.people(count)
        people.sort(key=lambda p: (p.admitted_ts, p.id))
        self.number(people)
        self.legal(people)
        self.house(people, cells)
        events = self.events(people, cells)
        return FacilityData(self.plan, cells, people, events)

    def people(self, count: int) -> list[PersonRow]:
        r = self.random
        out: list[PersonRow] = []
        share = _HELD_SHARE[self.kind]
        groups = self.kind == FacilityKind.DETENTION_CENTER
        while len(out) < count:
            held = r() < share
            mix = self.held_mix if held else self.left_mix
            profile = self.profiles[int(_pick(r, mix))]
            size = 1
            if groups and r() < 0.15:
                size = (2, 2, 2, 3, 3, 4)[int(r() * 6)]  # co-defendants (同案)
            out += self.case(profile, held=held, size=min(size, count - len(out)))
        return out

    def case(self, profile: MeasureProfile, *, held: bool, size: int) -> list[PersonRow]:
        """One case: the same nature, case unit and number for each of its people."""
        rng, r = self.rng, self.random
        nature = _pick(r, profile.natures)
        low, high, mode = self.spans[profile.code]
        if held:
            start = self.now_ts - rng.triangular(low, high, mode) * DAY
        else:
            length = rng.triangular(low, high, mode)
            start = self.now_ts - self.window * DAY + r() * (self.window - length) * DAY
        start = _daytime(start, r, 8, 23)
        case_unit, case_number = self.case_unit(profile, nature, start)
        people = []
        latest = self.now_ts - 600
        for _ in range(size):
            admitted = start + r() * 0.25 * DAY if size > 1 else start
            people.append(
                self.person(profile, nature, case_unit, case_number, held, min(admitted, latest))
            )
        return people

    def person(
        self,
        profile: MeasureProfile,
        nature: str,
        case_unit: str,
        case_number: str,
        held: bool,
        admitted_ts: float,
    ) -> PersonRow:
        rng, r, cat = self.rng, self.random, self.catalog
        admit_ord = _local_ordinal(admitted_ts)
        foreign = r() < profile.foreign_share
        male = r() < self.male_share
        juvenile = False
        birth_ord = 0
        if held and male and not foreign and profile.juvenile_ok and r() < _JUVENILE_SHARE:
            lo = self.now_ord - int(18 * _YEAR_DAYS) + 3  # still under 18 now
            hi = admit_ord - int(14 * _YEAR_DAYS) - 1  # 14 or over when admitted
            if lo <= hi:
                juvenile = True
                birth_ord = lo + int(r() * (hi - lo + 1))
        if not juvenile:
            birth_ord = admit_ord - int(rng.triangular(18.05, 70, self.age_mode) * _YEAR_DAYS)
        birth = dt.date.fromordinal(birth_ord)
        if foreign:
            nationality, name = foreign_person(rng)
            ethnicity, id_type, id_number = "", cat.passport, passport_number(rng)
        else:
            nationality, name = "CHN", chinese_name(rng, male=male)
            ethnicity = cat.han
            if r() >= _HAN_SHARE and cat.ethnicities:
                ethnicity = _pick(r, cat.ethnicities)
            id_type, id_number = cat.resident_id, self.resident_id(birth, male=male)
        left_at: dt.datetime | None = None
        reason = ""
        status: str
        if held:
            elapsed = (self.now_ts - admitted_ts) / DAY
            out = r() < _OUT_SHARE[self.kind]
            status = DetaineeStatus.OUT_TEMPORARILY if out else DetaineeStatus.IN_CUSTODY
        else:
            length = rng.triangular(*self.spans[profile.code])
            left_ts = _daytime(admitted_ts + length * DAY, r, 9, 18)
            if left_ts > self.now_ts - 60:  # would still be here: left some time before now
                left_ts = admitted_ts + r() * (self.now_ts - 60 - admitted_ts)
            left_ts = min(max(left_ts, admitted_ts + 3600), self.now_ts - 60)
            elapsed = (left_ts - admitted_ts) / DAY
            status, reason = self.exit(profile)
            left_at = dt.datetime.fromtimestamp(left_ts, UTC)
        return PersonRow(
            id=uuid7_at(int(admitted_ts * 1000), rng.getrandbits(74)),
            number="",
            name=name,
            gender=cat.male if male else cat.female,
            ethnicity=ethnicity,
            birth_date=birth,
            id_type=id_type,
            id_number=id_number,
            nationality=nationality,
            case_nature=nature,
            legal_measure=profile.code,
            litigation_stage=_pick(r, profile.stage_for(elapsed)),
            case_unit=case_unit,
            case_number=case_number,
            status=status,
            admitted_at=dt.datetime.fromtimestamp(admitted_ts, UTC),
            left_at=left_at,
            cell=None,
            admitted_ts=admitted_ts,
            reason=reason,
            juvenile=juvenile,
            sentenced=profile.sentenced,
            medical=held and r() < 0.02,
            recent=held and elapsed < 15,
        )

    def exit(self, profile: MeasureProfile) -> tuple[str, str]:
        exits = profile.exits or (Exit(DetaineeStatus.RELEASED, "出所", 1),)
        chosen = self.rng.choices(exits, weights=[e.weight for e in exits])[0]
        return chosen.status, chosen.reason

    def resident_id(self, birth: dt.date, *, male: bool) -> str:
        """A GB 11643 number: district, birth date, sequence (odd for men), check character."""
        r = self.random
        if r() < _LOCAL_SHARE or not self.others:
            region = self.plan.region_code
        else:
            pool = self.own_province if r() < 0.5 and self.own_province else self.others
            region = f"{pool[int(r() * len(pool))]}{2 + int(r() * 8):02d}"
        sex = int(r() * 5) * 2 + (1 if male else 0)
        body = f"{region}{birth:%Y%m%d}{int(r() * 100):02d}{sex}"
        return body + resident_id_check(body)

    def case_unit(self, profile: MeasureProfile, nature: str, at_ts: float) -> tuple[str, str]:
        r, place = self.random, self.place
        at = dt.datetime.fromtimestamp(at_ts + _LOCAL_OFFSET, UTC)  # local calendar month
        districts = self.districts or _GENERIC_BRANCHES
        district = districts[int(r() * len(districts))]
        branch = f"{place}公安局{district}分局"
        region = self.plan.region_code
        police_no = f"A{region}{int(r() * 1e6):06d}{at:%Y%m}{int(r() * 1e4):04d}"
        measure = profile.name
        if "司法拘留" in measure:
            if r() < 0.3:
                court = f"{place}中级人民法院"
            else:
                court = f"{place}{district}人民法院" if self.districts else f"{place}人民法院"
            abbr = _PROVINCE_ABBR.get(region[:2], "")
            serial = at.timetuple().tm_yday * 4 + int(r() * 4)  # numbered through the year
            return court, f"（{at.year}）{abbr}{region[:4]}司惩{serial}号"
        if "拘留审查" in measure or "遣送" in measure:
            return f"{place}公安局出入境管理支队", police_no
        if "行政拘留" in measure or "戒毒" in measure:
            if "戒毒" in measure and r() < 0.4:
                return f"{branch}禁毒大队", police_no
            return f"{branch}{_STATIONS[int(r() * len(_STATIONS))]}派出所", police_no
        team = _team(self.catalog.nature_names.get(nature, ""))
        if r() < 0.3:
            return f"{place}公安局{team.replace('大队', '支队')}", police_no
        return f"{branch}{team}", police_no

    # -- numbering, housing, history --

    def number(self, people: list[PersonRow]) -> None:
        """在押人员编号: facility code, admission year, a sequence within the year.

        The sequence of the window's first year starts where a year's admissions at this
        rate would have reached by then, so numbers look like those of a running facility.
        """
        if not people:
            return
        start = dt.date.fromordinal(_local_ordinal(self.now_ts - self.window * DAY))
        per_day = len(people) / self.window
        seq: dict[int, int] = {start.year: int(start.timetuple().tm_yday * per_day)}
        code = self.plan.code
        for p in people:
            year = dt.date.fromordinal(_local_ordinal(p.admitted_ts)).year
            seq[year] = n = seq.get(year, 0) + 1
            p.number = f"{code}{year}{n:05d}"

    def house(self, people: list[PersonRow], cells: list[CellRow]) -> None:
        """Put each held person in a cell: gender, age, 已决/未决, new arrivals first to 过渡,
        co-defendants apart, never over capacity. Whoever finds no place left earlier."""
        r = self.random
        by: dict[tuple[str, str], list[CellRow]] = {}
        for c in cells:
            by.setdefault((c.gender, c.kind), []).append(c)
        male = self.catalog.male
        for p in people:
            if p.left_at is not None:
                continue
            gender = CellGender.MALE if p.gender == male else CellGender.FEMALE
            if p.juvenile:
                wanted = [CellKind.JUVENILE]
            elif p.sentenced:
                wanted = [CellKind.SENTENCED]
            else:
                wanted = []
                if p.medical:
                    wanted.append(CellKind.MEDICAL)
                if p.recent:
                    wanted.append(CellKind.TRANSITION)
                wanted.append(CellKind.ORDINARY)
            for kind in wanted:
                free = [
                    c
                    for c in by.get((gender, kind), ())
                    if c.free > 0 and p.case_number not in c.cases
                ]
                if free:
                    cell = free[int(r() * len(free))]
                    cell.free -= 1
                    cell.cases.add(p.case_number)
                    p.cell = cell
                    break
            else:
                self.no_place(p)

    def legal(self, people: list[PersonRow]) -> None:
        """Each held person's legal history, the stage it puts them in and their clocks."""
        rng, pack = self.rng, builtin_pack()
        for p in people:
            if p.left_at is not None:
                continue
            planned = legal_history(p.legal_measure, p.admitted_at, self.now, rng)
            p.legal = [
                LegalRow(
                    uuid7_at(int(f.at.timestamp() * 1000), rng.getrandbits(74)),
                    f.kind,
                    f.at,
                    f.approval,
                    f.params,
                )
                for f in planned
            ]
            kinds = {r.kind for r in p.legal}
            # The measure follows the history: arrested, or kept here to serve the sentence.
            if "KEPT_TO_SERVE" in kinds:
                p.legal_measure = "30"
            elif "ARREST_EXECUTED" in kinds:
                p.legal_measure = "20"
            facts = [LegalFact(str(r.id), r.kind, r.at, r.approval, r.params) for r in p.legal]
            person = Person(p.legal_measure, p.admitted_at)
            p.litigation_stage = stage_after(person, facts) or p.litigation_stage
            p.sentenced = p.sentenced or p.litigation_stage in ("40", "50")
            p.clocks = compute(person, facts, pack)

    def no_place(self, p: PersonRow) -> None:
        """No cell for this person: make theirs a stay that has already ended."""
        admitted = p.admitted_ts
        left = admitted + self.random() * max(3600.0, self.now_ts - 600 - admitted)
        p.left_at = dt.datetime.fromtimestamp(min(left, self.now_ts - 60), UTC)
        p.status, p.reason = self.exit(self.by_code[p.legal_measure])

    def events(self, people: list[PersonRow], cells: list[CellRow]) -> list[EventRow]:
        rng, r = self.rng, self.random
        by_gender: dict[str, list[CellRow]] = {}
        for c in cells:
            if c.kind in (CellKind.ORDINARY, CellKind.TRANSITION):
                by_gender.setdefault(c.gender, []).append(c)
        male = self.catalog.male
        empty: list[CellRow] = []
        out: list[EventRow] = []
        for p in people:
            cell = p.cell
            if cell is None:  # where a past stay began
                pool = by_gender.get(CellGender.MALE if p.gender == male else CellGender.FEMALE)
                pool = pool or empty
                cell = pool[int(r() * len(pool))] if pool else None
            out.append(
                EventRow(
                    id=uuid7_at(int(p.admitted_ts * 1000), rng.getrandbits(74)),
                    type="detainee.admitted",
                    occurred_at=p.admitted_at,
                    aggregate_id=p.id,
                    payload={
                        "name": p.name,
                        "number": p.number,
                        "cell": f"{cell.number}监室" if cell else "",
                    },
                )
            )
            if p.left_at is not None:
                out.append(
                    EventRow(
                        id=uuid7_at(int(p.left_at.timestamp() * 1000), rng.getrandbits(74)),
                        type="detainee.released",
                        occurred_at=p.left_at,
                        aggregate_id=p.id,
                        payload={"name": p.name, "number": p.number, "reason": p.reason},
                    )
                )
        return out


def _team(nature_name: str) -> str:
    """The investigating team that usually handles an offence."""
    if "毒" in nature_name:
        return "禁毒大队"
    if nature_name in {"危险驾驶", "交通肇事"}:
        return "交通警察大队"
    if "信息网络" in nature_name or "个人信息" in nature_name:
        return "网络安全保卫大队"
    if any(k in nature_name for k in ("赌", "卖淫", "寻衅", "斗殴")):
        return "治安管理大队"
    if any(
        k in nature_name
        for k in (
            "集资",
            "存款",
            "合同诈骗",
            "发票",
            "传销",
            "非法经营",
            "职务侵占",
            "挪用资金",
            "信用卡",
        )
    ):
        return "经济犯罪侦查大队"
    return "刑事侦查大队"


def _daytime(ts: float, random_: Callable[[], float], from_hour: int, to_hour: int) -> float:
    """The same local day as `ts`, at a random time between the two local hours."""
    day = (ts + _LOCAL_OFFSET) // DAY
    return day * DAY - _LOCAL_OFFSET + (from_hour + random_() * (to_hour - from_hour)) * 3600


def generate_facility(
    plan: UnitPlan,
    catalog: Catalog,
    *,
    seed: int,
    now: dt.datetime,
    months: int,
    count: int | None = None,
) -> FacilityData:
    """Everything about one facility; the same arguments always give the same rows."""
    return FacilityGenerator(plan, catalog, seed=seed, now=now, months=months).generate(count)
