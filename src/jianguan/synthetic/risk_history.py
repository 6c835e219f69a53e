"""A synthetic risk history for the demo facility: incidents from a process the model never sees.

Each person held at the facility during the last 90 days gets a hidden daily level of distress
that wanders (mean-reverting, with noise) around a personal baseline and jumps at life events:
admission, the legal events in their record (逮捕, 起诉, 一审判决, 判决生效), rejected bail,
news from the family. Officers see that state only through noisy records whose daily chance
rises with it (情绪异常, 异常行为, 拒绝服药, 拒绝进食, 违规, a hidden rope, a counsellor's finding);
incidents (自伤, 暴力, 脱逃企图, 严重违规) happen with a daily hazard that grows with it. Some
people hide their distress, some shocks never reach the officers, and calm people break rules
too: so some incidents have no recorded precursor and most precursors lead to nothing.

Nothing here reads the risk model: no factor, point, decay or threshold (the source check in
tests/synthetic/test_risk_history.py holds that line). The generator writes only facts, of the
kinds the platform records; the live model then scores them like any others. See
docs/synthetic-incidents.md for the process, its parameters and what a backtest should find.

Deterministic: each person draws from `random.Random(f"{seed}:risk-history:{detainee id}")`,
so their history depends only on the seed, their record and `now`.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from jianguan.core.ids import uuid7_at
from jianguan.custody.api import FACT_KINDS, Detainee, LegalEvent
from jianguan.org.api import Unit
from jianguan.risk.api import INCIDENTS, RiskFact, rescore_all, trend_replay

DAY: Final = dt.timedelta(days=1)
RECORDED_BY: Final = "synthetic"


@dataclass(frozen=True)
class Signal:
    """An officer's record whose daily chance is logistic in the distress D:
    p = 1 / (1 + exp(-(intercept + slope·seen·D + per_hostility·hostility)))."""

    kind: str
    intercept: float
    slope: float
    texts: tuple[str, ...]
    per_hostility: float = 0.0
    medicated_only: bool = False


@dataclass(frozen=True)
class Process:
    """The latent process and its observation (docs/synthetic-incidents.md explains each)."""

    days: int = 90
    # Person traits: gamma-distributed with mean 1.
    vulnerability_shape: float = 2.0
    hostility_shape: float = 1.5
    seen_range: tuple[float, float] = (0.3, 1.2)  # how visible a person's distress is
    medicated_share: float = 0.25
    # Distress: D ← D + recovery·(baseline − D) + noise·N(0,1) + shocks, floored at 0.
    recovery: float = 0.1
    noise: float = 0.12
    baseline: float = 0.15
    baseline_per_vulnerability: float = 0.25
    long_custody_after_days: int = 60
    long_custody_rise: float = 0.2  # reached gradually over the next 120 days
    burn_in_days: int = 30
    # Shocks: size × uniform(0.6, 1.4) × (0.5 + 0.5·vulnerability).
    admission_shock: float = 1.2
    legal_shocks: tuple[tuple[str, float], ...] = (
        ("ARREST_EXECUTED", 0.5),
        ("PROSECUTED", 0.3),
        ("RETURNED_FOR_SUPPLEMENT", 0.3),
        ("FIRST_JUDGMENT", 0.8),  # plus 0.3·log2(1 + years of the term)
        ("JUDGMENT_EFFECTIVE", 0.4),
    )
    bail_rejected_per_day: float = 1 / 200  # criminal cases before the first judgment
    bail_rejected_shock: float = 0.7
    bail_rejected_known: float = 0.95
    family_news_per_day: float = 1 / 150
    family_news_shock: float = 0.9
    family_news_known: float = 0.6  # officers learn of it
    # Incidents: daily hazard base·exp(slope·D). An incident leaves D as it was: it does not
    # resolve what drove it (repetition is common).
    hazard_base: float = 0.0005
    hazard_slope: float = 1.6
    incident_weights: tuple[tuple[str, str, float], ...] = (
        # kind, trait the weight follows, constant part
        ("incident.SELF_HARM", "vulnerability", 0.1),
        ("incident.VIOLENCE", "hostility", 0.1),
        ("incident.ESCAPE_ATTEMPT", "", 0.12),
        ("incident.SERIOUS_BREACH", "hostility", 0.3),
    )
    signals: tuple[Signal, ...] = (
        Signal(
            "duty.CUSTODIAN_MOOD",
            -6.2,
            2.0,
            (
                "情绪低落，少言寡语",
                "多次哭泣，称“活着没意思”",
                "情绪烦躁，与同监室人员顶撞",
                "整夜失眠",
            ),
        ),
        Signal(
            "duty.PATROL_ABNORMAL_BEHAVIOUR",
            -6.5,
            1.9,
            (
                "夜间反复起身，自言自语",
                "独自在角落发呆，呼之不应",
                "在厕所区域逗留过久",
                "拒绝放风",
            ),
        ),
        Signal(
            "duty.MEDICAL_REFUSES_MEDICINE",
            -5.0,
            1.6,
            ("拒绝服用降压药", "发药时将药藏于舌下", "拒绝服用处方药物"),
            medicated_only=True,
        ),
        Signal("manual.REFUSES_FOOD", -8.0, 2.0, ("连续两餐拒绝进食",)),
        Signal(
            "duty.PATROL_CELL_VIOLATION",
            -5.6,
            0.5,
            ("未按规定时间就寝", "私自调换铺位", "与他人争抢物品", "不服从值班员安排"),
            per_hostility=0.9,
        ),
        Signal(
            "duty.PATROL_EMERGENCY",
            -9.5,
            2.0,
            ("铺位下发现用布条搓成的绳索", "发现私藏的磨尖牙刷柄", "多次试探监室门窗"),
        ),
        Signal("manual.COUNSELLING", -7.5, 1.5, ("心理咨询发现明显抑郁倾向",)),
    )


PROCESS: Final = Process()
OBSERVED: Final = frozenset(s.kind for s in PROCESS.signals)
INCIDENT_RECORDS: Final = {  # what the patrol records when it finds the incident
    "incident.SELF_HARM": "发现在押人员自伤，已制止并送医务室",
    "incident.VIOLENCE": "两名在押人员打架，已制止分开",
    "incident.ESCAPE_ATTEMPT": "发现在押人员试图撬动窗栅",
}


@dataclass(frozen=True)
class PlannedFact:
    kind: str
    at: dt.datetime
    label: str
    source_ref: str = ""


@dataclass(frozen=True)
class StayRecord:
    """What the simulation needs of one person: the stay and the legal events on record."""

    key: str
    admitted_at: dt.datetime
    left_at: dt.datetime | None
    criminal: bool  # 刑事拘留 or 逮捕: may apply for bail
    legal: tuple[tuple[str, dt.datetime, dict[str, Any], str], ...]  # kind, at, params, id


@dataclass
class Hidden:
    """A person's traits and today's distress: never written anywhere."""

    vulnerability: float
    hostility: float
    seen: float
    medicated: bool
    distress: float = 0.0


def _local_midnight(day: dt.date, zone: dt.tzinfo | None = None) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=zone or timezone.get_current_timezone())


def _logistic(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _judgment_shock(params: dict[str, Any]) -> float:
    if params.get("penalty") in ("LIFE", "DEATH", "DEATH_SUSPENDED"):
        return 1.2
    years = (params.get("term_months") or 0) / 12
    return 0.3 * math.log2(1 + years)


def simulate(
    stay: StayRecord, start: dt.date, end: dt.date, rng: random.Random, p: Process = PROCESS
) -> list[PlannedFact]:
    """The facts one person's hidden process leaves in the record on days [start, end)."""
    person = Hidden(
        vulnerability=rng.gammavariate(p.vulnerability_shape, 1 / p.vulnerability_shape),
        hostility=rng.gammavariate(p.hostility_shape, 1 / p.hostility_shape),
        seen=rng.uniform(*p.seen_range),
        medicated=rng.random() < p.medicated_share,
    )
    sensitivity = 0.5 + 0.5 * person.vulnerability
    base = p.baseline + p.baseline_per_vulnerability * person.vulnerability
    person.distress = base
    judged_at = min((at for k, at, _, _ in stay.legal if k == "FIRST_JUDGMENT"), default=None)
    first_day = max(start, timezone.localtime(stay.admitted_at).date())
    last_day = end - DAY
    if stay.left_at is not None:
        last_day = min(last_day, timezone.localtime(stay.left_at).date())
    if stay.admitted_at < _local_midnight(first_day):
        for _ in range(p.burn_in_days):  # settle near the baseline before the record starts
            person.distress = max(
                0.0,
                person.distress + p.recovery * (base - person.distress) + p.noise * rng.gauss(),
            )
    facts: list[PlannedFact] = []
    zone = timezone.get_current_timezone()
    day = first_day
    while day <= last_day:
        opens = max(_local_midnight(day, zone), stay.admitted_at)
        closes = _local_midnight(day + DAY, zone)
        if stay.left_at is not None:
            closes = min(closes, stay.left_at)
        if opens < closes:
            facts += _day(stay, person, day, opens, closes, base, sensitivity, judged_at, rng, p)
        day += DAY
    return facts


def _day(
    stay: StayRecord,
    person: Hidden,
    day: dt.date,
    opens: dt.datetime,
    closes: dt.datetime,
    base: float,
    sensitivity: float,
    judged_at: dt.datetime | None,
    rng: random.Random,
    p: Process,
) -> list[PlannedFact]:
    """One day: drift, the day's shocks, then what officers saw and whether an incident came."""
    facts: list[PlannedFact] = []
    days_held = (closes - stay.admitted_at) / DAY
    long_custody = min(1.0, max(0.0, (days_held - p.long_custody_after_days) / 120))
    target = base + p.long_custody_rise * long_custody
    d = person.distress + p.recovery * (target - person.distress) + p.noise * rng.gauss()
    shocked_at = opens

    def shock(size: float, at: dt.datetime) -> None:
        nonlocal d, shocked_at
        d += size * rng.uniform(0.6, 1.4) * sensitivity
        shocked_at = max(shocked_at, at)

    def at_random(after: dt.datetime) -> dt.datetime:
        return after + (closes - after) * rng.random()

    if opens == stay.admitted_at:
        shock(p.admission_shock, opens)
    for kind, at, params, event_id in stay.legal:
        if opens <= at < closes:
            facts.append(PlannedFact(f"legal.{kind}", at, FACT_KINDS.get(kind, kind), event_id))
            if kind in dict(p.legal_shocks):
                extra = _judgment_shock(params) if kind == "FIRST_JUDGMENT" else 0.0
                shock(dict(p.legal_shocks)[kind] + extra, at)
    before_judgment = judged_at is None or opens < judged_at
    if stay.criminal and before_judgment and rng.random() < p.bail_rejected_per_day:
        at = at_random(opens)
        shock(p.bail_rejected_shock, at)
        if rng.random() < p.bail_rejected_known:
            facts.append(PlannedFact("manual.BAIL_REJECTED", at, "取保候审申请被驳回"))
    if rng.random() < p.family_news_per_day:
        at = at_random(opens)
        shock(p.family_news_shock, at)
        if rng.random() < p.family_news_known:
            news = rng.choice(("家属来信告知亲人病重", "得知配偶提出离婚", "家中老人去世"))
            facts.append(PlannedFact("manual.FAMILY_EVENT", at, f"家庭变故：{news}"))
    d = max(0.0, d)
    for signal in p.signals:
        if signal.medicated_only and not person.medicated:
            continue
        x = signal.intercept + signal.slope * person.seen * d
        if rng.random() < _logistic(x + signal.per_hostility * person.hostility):
            text = rng.choice(signal.texts)
            facts.append(PlannedFact(signal.kind, at_random(shocked_at), _label(signal.kind, text)))
    if rng.random() < 1 - math.exp(-p.hazard_base * math.exp(p.hazard_slope * d)):
        kind = _incident_kind(person, rng, p)
        at = at_random(shocked_at)
        facts.append(PlannedFact(kind, at, INCIDENTS[kind]))
        if kind in INCIDENT_RECORDS:
            found = at + dt.timedelta(minutes=rng.randint(2, 20))
            label = _label("duty.PATROL_EMERGENCY", INCIDENT_RECORDS[kind])
            facts.append(PlannedFact("duty.PATROL_EMERGENCY", found, label))
    person.distress = d
    return facts


SIGNAL_NAMES: Final = {
    "duty.CUSTODIAN_MOOD": "情绪异常",
    "duty.PATROL_ABNORMAL_BEHAVIOUR": "异常行为",
    "duty.MEDICAL_REFUSES_MEDICINE": "拒绝服药",
    "duty.PATROL_CELL_VIOLATION": "监室违规",
    "duty.PATROL_EMERGENCY": "突发事件（自伤自残、打架、脱逃迹象）",
    "manual.REFUSES_FOOD": "拒绝进食",
    "manual.COUNSELLING": "心理咨询（发现问题）",
}


def _label(kind: str, text: str) -> str:
    """As the platform labels them: a duty record's category name and its text."""
    return f"{SIGNAL_NAMES[kind]}：{text}"


def _incident_kind(person: Hidden, rng: random.Random, p: Process) -> str:
    traits = {"vulnerability": person.vulnerability, "hostility": person.hostility, "": 0.0}
    kinds = [kind for kind, _, _ in p.incident_weights]
    weights = [traits[trait] + constant for _, trait, constant in p.incident_weights]
    return rng.choices(kinds, weights)[0]


# --- writing it ----------------------------------------------------------------------------------


@dataclass
class HistoryResult:
    people: int = 0
    facts: int = 0
    incidents: dict[str, int] = field(default_factory=dict)
    with_precursor: int = (
        0  # incidents with an officer's record of that person in the 14 days before
    )
    trend_days: int = 0


def _stays(unit: Unit, first: dt.datetime, end: dt.datetime) -> list[tuple[Any, StayRecord]]:
    people = list(
        Detainee.objects.filter(unit=unit, admitted_at__lt=end)
        .filter(Q(left_at__isnull=True) | Q(left_at__gt=first))
        .order_by("number")
    )
    legal: dict[Any, list[tuple[str, dt.datetime, dict[str, Any], str]]] = {}
    for detainee_id, event_id, kind, at, params in (
        LegalEvent.objects.filter(detainee__in=people, at__gte=first, at__lt=end)
        .order_by("at", "id")
        .values_list("detainee_id", "id", "kind", "at", "params")
    ):
        legal.setdefault(detainee_id, []).append((kind, at, params or {}, str(event_id)))
    return [
        (
            person,
            StayRecord(
                key=str(person.id),
                admitted_at=person.admitted_at,
                left_at=person.left_at,
                criminal=person.legal_measure in ("10", "20"),
                legal=tuple(legal.get(person.id, ())),
            ),
        )
        for person in people
    ]


def _with_precursor(facts: Sequence[PlannedFact]) -> int:
    seen = sorted(f.at for f in facts if f.kind in OBSERVED)
    return sum(
        1 for f in facts if f.kind in INCIDENTS and any(f.at - 14 * DAY <= at < f.at for at in seen)
    )


def risk_history(
    *, unit: Unit, seed: int, now: dt.datetime, trend_days: int = 30, process: Process = PROCESS
) -> HistoryResult:
    """Write the facility's last `process.days` days of facts (today is left to the duty
    morning), score everyone held now and replay the last `trend_days` days of the trend."""
    today = timezone.localtime(now).date()
    start = today - process.days * DAY
    end = _local_midnight(today)
    result = HistoryResult()
    rows: list[RiskFact] = []
    incidents: dict[str, int] = {}
    for person, stay in _stays(unit, _local_midnight(start), end):
        rng = random.Random(f"{seed}:risk-history:{stay.key}")
        planned = simulate(stay, start, today, rng, process)
        result.people += 1
        result.with_precursor += _with_precursor(planned)
        for fact in planned:
            if fact.kind in INCIDENTS:
                incidents[fact.kind] = incidents.get(fact.kind, 0) + 1
            rows.append(
                RiskFact(
                    id=uuid7_at(int(fact.at.timestamp() * 1000), rng.getrandbits(74)),
                    unit_id=unit.id,
                    detainee_id=person.id,
                    cell_id=person.cell_id,
                    kind=fact.kind,
                    label=fact.label[:200],
                    at=fact.at,
                    source_ref=fact.source_ref,
                    link="",
                    recorded_at=fact.at + dt.timedelta(minutes=rng.randint(1, 30)),
                    recorded_by=RECORDED_BY,
                )
            )
    with transaction.atomic():
        RiskFact.objects.bulk_create(rows, batch_size=2000)
    result.facts = len(rows)
    result.incidents = dict(sorted(incidents.items()))
    rescore_all(unit.path, cause="合成历史：初次评估", now=now)
    days = [today - i * DAY for i in range(trend_days - 1, -1, -1)]
    result.trend_days = trend_replay(unit=unit, days=days, now=now)
    return result
