"""What the code tables offer, shaped for the generator.

Every code the generator writes comes from the tables loaded in the database
(`jianguan.codes.api.codes_of`). Practice knowledge — which measure is common where, how
long it lasts, which stage and case nature go with it, how a stay ends — is keyed by the
*names* of codes, never by code values, and anything the tables hold that this module does
not know gets a neutral default, so new or renamed codes still produce consistent data.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Final

from jianguan.codes.api import Code, codes_of
from jianguan.custody.api import DetaineeStatus
from jianguan.org.api import FacilityKind

DAY: Final = 86_400.0


@dataclass(frozen=True)
class Weighted:
    """Choices with cumulative weights, ready for random.choices(cum_weights=...)."""

    items: tuple[str, ...]
    cum: tuple[float, ...]

    @classmethod
    def of(cls, pairs: list[tuple[str, float]]) -> Weighted:
        pairs = [(k, w) for k, w in pairs if w > 0]
        return cls(tuple(k for k, _ in pairs), tuple(itertools.accumulate(w for _, w in pairs)))

    def __bool__(self) -> bool:
        return bool(self.items)


@dataclass(frozen=True)
class Exit:
    status: str
    reason: str
    weight: float


@dataclass(frozen=True)
class MeasureProfile:
    """How stays under one legal measure look in practice."""

    code: str
    name: str
    held_weight: float  # share among people held now
    left_weight: float  # share among stays that ended in the window
    max_days: float  # longest stay to draw (capped by the history window)
    mode_days: float  # most common length / elapsed time
    min_days: float = 0.0
    stages: tuple[tuple[float, Weighted], ...] = ()  # (elapsed days from, stage choice)
    natures: Weighted = field(default_factory=lambda: Weighted((), ()))
    exits: tuple[Exit, ...] = ()
    foreign_share: float = 0.01
    sentenced: bool = False  # 已决: held apart from the unsentenced
    juvenile_ok: bool = False

    def stage_for(self, elapsed_days: float) -> Weighted:
        chosen = self.stages[0][1]
        for since, stages in self.stages:
            if elapsed_days >= since:
                chosen = stages
        return chosen


# Practice weights of criminal case natures (by name) among people held in 看守所.
_CRIMINAL_WEIGHTS: Final[dict[str, float]] = {
    "盗窃": 14,
    "诈骗": 12,
    "帮助信息网络犯罪活动": 8,
    "走私、贩卖、运输、制造毒品": 7,
    "故意伤害": 7,
    "寻衅滋事": 5,
    "开设赌场": 5,
    "危险驾驶": 4,
    "抢劫": 3,
    "掩饰、隐瞒犯罪所得、犯罪所得收益": 3,
    "容留他人吸毒": 3,
    "非法持有毒品": 2,
    "强奸": 2,
    "聚众斗殴": 2,
    "妨害公务": 2,
    "组织、领导传销活动": 2,
    "侵犯公民个人信息": 2,
    "非法吸收公众存款": 2,
    "引诱、容留、介绍卖淫": 2,
    "敲诈勒索": 2,
    "合同诈骗": 2,
    "非法经营": 2,
    "赌博": 1.5,
    "交通肇事": 1.5,
    "故意杀人": 1,
    "受贿": 1,
    "袭警": 1,
    "非法拘禁": 1,
    "信用卡诈骗": 1,
    "偷越国（边）境": 1,
    "组织他人偷越国（边）境": 0.8,
    "故意毁坏财物": 1,
    "抢夺": 0.8,
    "职务侵占": 0.8,
    "拐卖妇女、儿童": 0.5,
    "绑架": 0.3,
    "组织、领导、参加黑社会性质组织": 0.6,
    "其他刑事犯罪": 1,
}
# Offences whose maximum penalty is 拘役: no arrest (逮捕) for them.
_NO_ARREST: Final = frozenset({"危险驾驶"})


def _by_name(codes: list[Code], *names: str) -> Code | None:
    """The first code whose name equals one of `names`, else the first that contains one."""
    for name in names:
        for c in codes:
            if c.name == name:
                return c
    for name in names:
        for c in codes:
            if name in c.name:
                return c
    return None


@dataclass
class Catalog:
    """Codes and practice profiles for one generation run."""

    male: str
    female: str
    han: str
    ethnicities: Weighted  # the others, by rough population share
    resident_id: str
    passport: str
    province_codes: frozenset[str]
    measures: dict[str, list[MeasureProfile]]  # by facility kind
    regions: dict[str, Code]  # province and city entries by code
    nature_names: dict[str, str]  # case nature code → name

    @classmethod
    def load(cls) -> Catalog:
        genders = codes_of("GENDER")
        ethnicities = codes_of("ETHNICITY")
        id_types = codes_of("ID_DOCUMENT_TYPE")
        regions = codes_of("REGION")
        natures = codes_of("CASE_NATURE")
        if not genders or not regions:
            raise LookupError("代码表未载入：先运行 `jianguan codes load`")
        male = _by_name(genders, "男")
        female = _by_name(genders, "女")
        han = _by_name(ethnicities, "汉族")
        resident = _by_name(id_types, "居民身份证")
        passport = _by_name(id_types, "普通护照", "护照")
        if male is None or female is None:
            raise LookupError("性别代码表缺少“男”或“女”")
        others = [e for e in ethnicities if han is None or e.code != han.code]
        return cls(
            male=male.code,
            female=female.code,
            han=han.code if han else (ethnicities[0].code if ethnicities else ""),
            ethnicities=Weighted.of(
                [
                    (e.code, _ETHNIC_WEIGHTS.get(e.name, 0.05))
                    for e in others
                    if not e.name.startswith(("其他", "外国"))
                ]
            ),
            resident_id=resident.code if resident else (id_types[0].code if id_types else ""),
            passport=passport.code if passport else (id_types[-1].code if id_types else ""),
            province_codes=frozenset(r.code[:2] for r in regions if not r.parent_code),
            measures=_measure_profiles(),
            regions={r.code: r for r in regions},
            nature_names={n.code: n.name for n in natures},
        )

    def provinces(self) -> list[Code]:
        return [r for r in self.regions.values() if not r.parent_code]

    def cities_of(self, province: str) -> list[Code]:
        return sorted(
            (r for r in self.regions.values() if r.parent_code == province), key=lambda r: r.code
        )

    def city_name(self, region_code: str) -> str:
        """A usable place name for a (county or city) region code: 广州市, 北京市, …"""
        city = self.regions.get(region_code[:4] + "00")
        province = self.regions.get(region_code[:2] + "0000")
        if city is not None and not _is_placeholder(city.name):
            return city.name
        return province.name if province is not None else ""


def _is_placeholder(name: str) -> bool:
    """市辖区, 县, 省直辖县级行政区划: the city level of a table that has no real city there."""
    return name in {"市辖区", "县"} or "直辖" in name


# Rough population shares (per mille) of the largest minorities; the rest get a small weight.
_ETHNIC_WEIGHTS: Final[dict[str, float]] = {
    "壮族": 14,
    "回族": 8,
    "维吾尔族": 8,
    "苗族": 8,
    "满族": 7.5,
    "彝族": 7,
    "土家族": 7,
    "藏族": 5,
    "蒙古族": 4.5,
    "布依族": 2.5,
    "侗族": 2.5,
    "瑶族": 2.2,
    "白族": 1.5,
    "朝鲜族": 1.2,
    "哈尼族": 1.2,
    "黎族": 1.1,
    "哈萨克族": 1.1,
    "傣族": 1,
}


def _measure_profiles() -> dict[str, list[MeasureProfile]]:
    measures = codes_of("LEGAL_MEASURE")
    stages = codes_of("LITIGATION_STAGE")
    natures = codes_of("CASE_NATURE")
    by_kind: dict[str, list[MeasureProfile]] = {k: [] for k in FacilityKind.values}
    for m in measures:
        kinds = m.extra.get("facility_kinds") or []
        profile = _profile(m, stages, natures)
        for kind in kinds:
            if kind in by_kind:
                by_kind[kind].append(profile)
    return by_kind


def _stage(stages: list[Code], *names: str) -> Weighted:
    found = _by_name(stages, *names) or _by_name(stages, "其他")
    code = found.code if found else (stages[0].code if stages else "")
    return Weighted.of([(code, 1)])


def _stage_mix(stages: list[Code], pairs: list[tuple[str, float]]) -> Weighted:
    chosen: list[tuple[str, float]] = []
    for name, weight in pairs:
        found = _by_name(stages, name)
        if found is not None:
            chosen.append((found.code, weight))
    return Weighted.of(chosen) if chosen else _stage(stages, "其他")


def _children(natures: list[Code], *parent_names: str) -> Weighted:
    """The case natures under the named parent(s); the parent itself if it has none."""
    picks: list[tuple[str, float]] = []
    for name in parent_names:
        parent = _by_name([n for n in natures if not n.parent_code], name)
        if parent is None:
            continue
        kids = [n for n in natures if n.parent_code == parent.code]
        picks += [(k.code, 1.0) for k in kids] or [(parent.code, 1.0)]
    if not picks:
        other = _by_name(natures, "其他")
        picks = [(other.code if other else natures[0].code, 1.0)] if natures else []
    return Weighted.of(picks)


def _criminal(natures: list[Code], *, arrest: bool) -> Weighted:
    """Criminal offences: the children of every chapter whose name ends in 犯罪."""
    chapters = {n.code for n in natures if not n.parent_code and n.name.endswith("犯罪")}
    picks: list[tuple[str, float]] = []
    for n in natures:
        if n.parent_code in chapters or (not n.parent_code and n.name == "其他刑事犯罪"):
            if arrest and n.name in _NO_ARREST:
                continue
            weight = _CRIMINAL_WEIGHTS.get(n.name, 0.3)
            if n.extra.get("severity") == 5:
                weight = min(weight, 1.0)
            picks.append((n.code, weight))
    return Weighted.of(picks) if picks else _children(natures, "其他")


def _profile(m: Code, stages: list[Code], natures: list[Code]) -> MeasureProfile:
    name = m.name
    released, transferred, delivered = (
        DetaineeStatus.RELEASED.value,
        DetaineeStatus.TRANSFERRED.value,
        DetaineeStatus.DELIVERED.value,
    )
    if "刑事拘留" in name:
        return MeasureProfile(
            m.code,
            name,
            held_weight=22,
            left_weight=55,
            max_days=37,
            mode_days=5,
            min_days=0.5,
            stages=((0, _stage(stages, "侦查（刑事拘留期间）", "刑事拘留", "侦查")),),
            natures=_criminal(natures, arrest=False),
            foreign_share=0.02,
            juvenile_ok=True,
            exits=(
                Exit(released, "变更强制措施为取保候审，释放", 65),
                Exit(released, "变更强制措施为监视居住，释放", 8),
                Exit(released, "撤销案件，释放", 7),
                Exit(transferred, "异地羁押，转所", 20),
            ),
        )
    if "逮捕" in name:
        return MeasureProfile(
            m.code,
            name,
            held_weight=70,
            left_weight=40,
            max_days=400,
            mode_days=90,
            min_days=7,
            stages=(
                (0, _stage_mix(stages, [("侦查（逮捕后侦查羁押）", 1)])),
                (45, _stage_mix(stages, [("侦查（逮捕后侦查羁押）", 2), ("审查起诉", 3)])),
                (90, _stage_mix(stages, [("审查起诉", 3), ("一审", 5)])),
                (150, _stage_mix(stages, [("一审", 5), ("二审", 2), ("已决待交付执行", 1)])),
            ),
            natures=_criminal(natures, arrest=True),
            foreign_share=0.02,
            juvenile_ok=True,
            exits=(
                Exit(delivered, "判决生效，交付监狱执行", 60),
                Exit(released, "判处缓刑，释放", 12),
                Exit(released, "变更强制措施为取保候审，释放", 10),
                Exit(released, "刑期届满，释放", 3),
                Exit(transferred, "换押，转所羁押", 15),
            ),
        )
    if "留所服刑" in name:
        return MeasureProfile(
            m.code,
            name,
            held_weight=5,
            left_weight=3,
            max_days=90,
            mode_days=45,
            min_days=7,
            stages=((0, _stage(stages, "留所服刑")),),
            natures=_criminal(natures, arrest=False),
            sentenced=True,
            exits=(Exit(released, "刑满释放", 1),),
        )
    if "拘役" in name:
        return MeasureProfile(
            m.code,
            name,
            held_weight=3,
            left_weight=2,
            max_days=180,
            mode_days=60,
            min_days=30,
            stages=((0, _stage(stages, "留所服刑")),),
            natures=_criminal(natures, arrest=False),
            sentenced=True,
            exits=(Exit(released, "拘役期满，释放", 1),),
        )
    if "行政拘留" in name:
        return MeasureProfile(
            m.code,
            name,
            held_weight=85,
            left_weight=88,
            max_days=20,
            mode_days=5,
            min_days=1,
            stages=((0, _stage(stages, "行政拘留执行")),),
            natures=_children(natures, "治安违法"),
            exits=(
                Exit(released, "拘留期满，释放", 95),
                Exit(released, "行政复议决定撤销拘留，释放", 1),
                Exit(released, "暂缓执行，释放", 4),
            ),
        )
    if "司法拘留" in name:
        return MeasureProfile(
            m.code,
            name,
            held_weight=8,
            left_weight=7,
            max_days=15,
            mode_days=7,
            min_days=1,
            stages=((0, _stage(stages, "司法拘留执行")),),
            natures=_children(natures, "妨害诉讼"),
            exits=(
                Exit(released, "司法拘留期满，释放", 85),
                Exit(released, "人民法院决定提前解除拘留，释放", 15),
            ),
        )
    if "拘留审查" in name or "遣送" in name:
        return MeasureProfile(
            m.code,
            name,
            held_weight=5 if "审查" in name else 2,
            left_weight=4 if "审查" in name else 1,
            max_days=30,
            mode_days=10,
            min_days=1,
            stages=((0, _stage(stages, "其他")),),
            natures=_children(natures, "违反出境入境管理"),
            foreign_share=1.0,
            exits=(Exit(released, "遣送出境", 75), Exit(released, "解除拘留审查", 25)),
        )
    if "戒毒" in name:
        return MeasureProfile(
            m.code,
            name,
            held_weight=100,
            left_weight=100,
            max_days=240,
            mode_days=90,
            min_days=14,
            stages=((0, _stage(stages, "强制隔离戒毒执行", "戒毒")),),
            natures=_children(natures, "吸毒"),
            foreign_share=0.005,
            exits=(
                Exit(transferred, "移送司法行政部门强制隔离戒毒所", 80),
                Exit(released, "诊断评估合格，提前解除强制隔离戒毒", 12),
                Exit(released, "所外就医，解除强制隔离戒毒", 8),
            ),
        )
    # A measure this module does not know: rare, generic, never "其他" unless alone.
    weight = 0.0 if name.startswith("其他") else 1.0
    return MeasureProfile(
        m.code,
        name,
        held_weight=weight,
        left_weight=weight,
        max_days=60,
        mode_days=15,
        stages=((0, _stage(stages, "其他")),),
        natures=_children(natures, "其他"),
        exits=(Exit(released, "出所", 1),),
    )
