"""Fold a person's legal events into deadline clocks, and refuse events that contradict them.

compute() replays the recorded facts (decisions, notices, judgments) in time order and returns
one Clock per kind of term: when it started, when it expires, what it was computed from and how
it changed. check() replays the same facts and asks whether a new one fits: an extension after
expiry, by the wrong authority, or beyond the legal count is refused with a reason naming the
dates and the article.

The engine decides what each kind of fact MEANS (an arrest starts the investigative term, a
psychiatric evaluation stops it); every number, approval level and article comes from the
rule pack (pack.py), so a province can publish a changed pack.

compute() runs for every detainee on every board refresh, so it avoids YAML, regexes and
copies: one sort, one pass, plain objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NoReturn

from jianguan.custody.deadlines import calendar as cal
from jianguan.custody.deadlines.pack import (
    APPROVAL_LEVELS,
    COURT,
    HOURS,
    POLICE,
    SENTENCE,
    DeadlinePack,
    Duration,
    Extension,
    Notice,
    Rule,
    Variant,
)
from jianguan.rules.schema import MEASURE_NAMES

# Fact kinds and their params. A param not listed is stored but ignored by the engine.
#   DETENTION_EXECUTED           self_investigation: bool (人民检察院直接受理案件, 14 days, CPL 167)
#   DETENTION_EXTENDED           days: int (1–4; or up to a total of 30 with a category);
#                                category: ROVING 流窜作案 | MULTIPLE 多次作案 | GANG 结伙作案
#   ARREST_REQUESTED             — (`at` = the procuratorate's receipt of the request)
#   ARREST_NOT_APPROVED          —
#   ARREST_EXECUTED              —
#   INVESTIGATION_EXTENDED       step: "1" | "2" | "3" | "SPECIAL"; category (step 2):
#                                REMOTE | CRIMINAL_GROUP | ROVING | WIDE;
#                                possible_sentence_10y: bool (step 3); requested_on: date
#   NEW_CRIME_DISCOVERED         discovered_on: date (default: the date of `at`)
#   IDENTITY_UNKNOWN             —
#   IDENTITY_ESTABLISHED         — (`at` = the day identity was established)
#   EVALUATION_STARTED           kind: "PSYCHIATRIC" (only this one is not counted) | any other
#   EVALUATION_ENDED             —
#   TRANSFERRED_FOR_PROSECUTION  fast_track: bool; possible_sentence_over_1y: bool
#   PROSECUTION_EXTENDED         —
#   RETURNED_FOR_SUPPLEMENT      —
#   RETRANSFERRED                fast_track, possible_sentence_over_1y as above
#   PROSECUTED                   procedure: ORDINARY | SIMPLIFIED | SUMMARY;
#                                possible_sentence_over_1y: bool; possible_sentence_over_3y: bool
#   FIRST_INSTANCE_EXTENDED      months: int (SUPREME_COURT only, 1–3)
#   TRIAL_POSTPONED              —   (延期审理 for the prosecutor's supplementary investigation)
#   TRIAL_RESUMED                —   (the case is back from supplementary investigation)
#   TRIAL_SUSPENDED              —
#   TRIAL_SUSPENSION_ENDED       —
#   PROCEDURE_CONVERTED          procedure, possible_sentence_over_1y/3y as for PROSECUTED
#   FIRST_JUDGMENT               document: JUDGMENT | RULING; received_on: date; penalty (below)
#   APPEAL_ACCEPTED              —
#   SECOND_INSTANCE_EXTENDED     months: int (SUPREME_COURT only, 1–3)
#   REMANDED                     procedure (default ORDINARY)
#   JUDGMENT_EFFECTIVE           penalty (PENALTIES); term_years, term_months, term_days: int;
#                                custody_credit_from: date, or credit_days: int
#                                (default: the first custody day in the record, else admission)
#   EXECUTION_NOTICE_RECEIVED    —
#   KEPT_TO_SERVE                —
#   ADMIN_DETENTION_EXECUTED     days: int; credit_days: int
#   JUDICIAL_DETENTION_EXECUTED  days: int; credit_days: int
#   LEAVE_STARTED, LEAVE_ENDED   —
#   DRUG_REHAB_DECIDED           executed_on: date (police-facility start; default: admission);
#                                extended_police_stage: bool (戒毒条例第二十七条第三款)
#   DRUG_REHAB_EXTENDED          months: int (default: up to the 1-year maximum)
#   DRUG_REHAB_EARLY_RELEASE     —
#   IMMIGRATION_DETENTION        —
#   IMMIGRATION_EXTENDED         days: int (default: up to 60 in total)
#   RELEASED, TRANSFERRED_OUT, DELIVERED   —
FACT_KINDS: dict[str, str] = {
    "DETENTION_EXECUTED": "执行刑事拘留",
    "DETENTION_EXTENDED": "延长拘留期限",
    "ARREST_REQUESTED": "提请批准逮捕",
    "ARREST_NOT_APPROVED": "不批准逮捕",
    "ARREST_EXECUTED": "执行逮捕",
    "INVESTIGATION_EXTENDED": "延长侦查羁押期限",
    "NEW_CRIME_DISCOVERED": "发现另有重要罪行",
    "IDENTITY_UNKNOWN": "身份不明",
    "IDENTITY_ESTABLISHED": "查清身份",
    "EVALUATION_STARTED": "决定鉴定",
    "EVALUATION_ENDED": "鉴定结束恢复计算",
    "TRANSFERRED_FOR_PROSECUTION": "移送审查起诉",
    "PROSECUTION_EXTENDED": "延长审查起诉期限",
    "RETURNED_FOR_SUPPLEMENT": "退回补充侦查",
    "RETRANSFERRED": "补充侦查完毕重新移送",
    "PROSECUTED": "提起公诉（法院受理）",
    "FIRST_INSTANCE_EXTENDED": "延长一审审理期限",
    "TRIAL_POSTPONED": "延期审理（补充侦查）",
    "TRIAL_RESUMED": "补充侦查完毕移送法院",
    "TRIAL_SUSPENDED": "中止审理",
    "TRIAL_SUSPENSION_ENDED": "恢复审理",
    "PROCEDURE_CONVERTED": "转换审判程序",
    "FIRST_JUDGMENT": "一审宣判",
    "APPEAL_ACCEPTED": "二审受理",
    "SECOND_INSTANCE_EXTENDED": "延长二审审理期限",
    "REMANDED": "发回重审",
    "JUDGMENT_EFFECTIVE": "判决生效",
    "EXECUTION_NOTICE_RECEIVED": "收到执行通知书",
    "KEPT_TO_SERVE": "留所服刑",
    "ADMIN_DETENTION_EXECUTED": "执行行政拘留",
    "JUDICIAL_DETENTION_EXECUTED": "执行司法拘留",
    "LEAVE_STARTED": "请假出所",
    "LEAVE_ENDED": "请假回所",
    "DRUG_REHAB_DECIDED": "决定强制隔离戒毒",
    "DRUG_REHAB_EXTENDED": "延长强制隔离戒毒期限",
    "DRUG_REHAB_EARLY_RELEASE": "提前解除强制隔离戒毒",
    "IMMIGRATION_DETENTION": "拘留审查",
    "IMMIGRATION_EXTENDED": "延长拘留审查期限",
    "RELEASED": "释放",
    "TRANSFERRED_OUT": "转出",
    "DELIVERED": "交付执行",
}

PENALTIES: dict[str, str] = {
    "FIXED_TERM": "有期徒刑",
    "DETENTION": "拘役",
    "LIFE": "无期徒刑",
    "DEATH_REPRIEVE": "死刑缓期二年执行",
    "DEATH": "死刑立即执行",
    "PUBLIC_SURVEILLANCE": "管制",
    "PROBATION": "缓刑",
    "FINE_ONLY": "单处罚金",
    "DEPRIVATION_ONLY": "单处剥夺政治权利",
    "EXEMPT": "免除刑事处罚",
    "ACQUITTED": "无罪",
}
# The defendant in custody is released at once (CPL Art.260; SPP-Rules Art.626).
RELEASE_PENALTIES = frozenset(
    {"ACQUITTED", "EXEMPT", "PROBATION", "PUBLIC_SURVEILLANCE", "FINE_ONLY", "DEPRIVATION_ONLY"}
)
TERM_PENALTIES = frozenset({"FIXED_TERM", "DETENTION"})
PROCEDURES = {"ORDINARY": "普通程序", "SIMPLIFIED": "简易程序", "SUMMARY": "速裁程序"}
# SPC-Interp Arts.368, 376: 简易 and 速裁 may turn into a fuller procedure, never back.
CONVERSIONS = {"SIMPLIFIED": {"ORDINARY"}, "SUMMARY": {"ORDINARY", "SIMPLIFIED"}}
DOCUMENTS = {"JUDGMENT": "判决", "RULING": "裁定"}
PSYCHIATRIC = "PSYCHIATRIC"

CRIMINAL, ADMIN, JUDICIAL, REHAB, IMMIGRATION = "刑事", "行政拘留", "司法拘留", "戒毒", "出入境"
MEASURE_TRACK = {
    "10": CRIMINAL,
    "20": CRIMINAL,
    "30": CRIMINAL,
    "31": CRIMINAL,
    "40": ADMIN,
    "41": JUDICIAL,
    "50": REHAB,
    "60": IMMIGRATION,
    "61": IMMIGRATION,
}
_ANY = frozenset({CRIMINAL, ADMIN, JUDICIAL, REHAB, IMMIGRATION})
_NON_CRIMINAL = {
    "ADMIN_DETENTION_EXECUTED": frozenset({ADMIN}),
    "JUDICIAL_DETENTION_EXECUTED": frozenset({JUDICIAL}),
    "LEAVE_STARTED": frozenset({ADMIN, JUDICIAL}),
    "LEAVE_ENDED": frozenset({ADMIN, JUDICIAL}),
    "DRUG_REHAB_DECIDED": frozenset({REHAB}),
    "DRUG_REHAB_EXTENDED": frozenset({REHAB}),
    "DRUG_REHAB_EARLY_RELEASE": frozenset({REHAB}),
    "IMMIGRATION_DETENTION": frozenset({IMMIGRATION}),
    "IMMIGRATION_EXTENDED": frozenset({IMMIGRATION}),
    "IDENTITY_UNKNOWN": frozenset({CRIMINAL, IMMIGRATION}),
    "IDENTITY_ESTABLISHED": frozenset({CRIMINAL, IMMIGRATION}),
    "RELEASED": _ANY,
    "TRANSFERRED_OUT": _ANY,
    "DELIVERED": _ANY,
}
TERMINAL_KINDS = frozenset({"RELEASED", "TRANSFERRED_OUT", "DELIVERED"})

# The rule whose article is cited when a fact is refused for not fitting the record.
KIND_RULE = {
    "DETENTION_EXECUTED": "CRIMINAL_DETENTION",
    "DETENTION_EXTENDED": "CRIMINAL_DETENTION",
    "ARREST_REQUESTED": "ARREST_REVIEW",
    "ARREST_NOT_APPROVED": "ARREST_REVIEW",
    "ARREST_EXECUTED": "INVESTIGATION",
    "INVESTIGATION_EXTENDED": "INVESTIGATION",
    "NEW_CRIME_DISCOVERED": "INVESTIGATION",
    "TRANSFERRED_FOR_PROSECUTION": "PROSECUTION_REVIEW",
    "PROSECUTION_EXTENDED": "PROSECUTION_REVIEW",
    "RETURNED_FOR_SUPPLEMENT": "PROSECUTION_SUPPLEMENT",
    "RETRANSFERRED": "PROSECUTION_REVIEW",
    "PROSECUTED": "FIRST_INSTANCE",
    "FIRST_INSTANCE_EXTENDED": "FIRST_INSTANCE",
    "TRIAL_POSTPONED": "TRIAL_SUPPLEMENT",
    "TRIAL_RESUMED": "TRIAL_SUPPLEMENT",
    "PROCEDURE_CONVERTED": "FIRST_INSTANCE",
    "FIRST_JUDGMENT": "APPEAL_PERIOD",
    "APPEAL_ACCEPTED": "SECOND_INSTANCE",
    "SECOND_INSTANCE_EXTENDED": "SECOND_INSTANCE",
    "REMANDED": "FIRST_INSTANCE",
    "JUDGMENT_EFFECTIVE": "SENTENCE",
    "EXECUTION_NOTICE_RECEIVED": "DELIVERY_TO_PRISON",
    "KEPT_TO_SERVE": "DELIVERY_TO_PRISON",
    "ADMIN_DETENTION_EXECUTED": "ADMIN_DETENTION",
    "JUDICIAL_DETENTION_EXECUTED": "JUDICIAL_DETENTION",
    "DRUG_REHAB_DECIDED": "DRUG_REHAB",
    "DRUG_REHAB_EXTENDED": "DRUG_REHAB",
    "DRUG_REHAB_EARLY_RELEASE": "DRUG_REHAB",
    "IMMIGRATION_DETENTION": "IMMIGRATION_DETENTION",
    "IMMIGRATION_EXTENDED": "IMMIGRATION_DETENTION",
}
_SUSPENSION_OF = {
    "TRIAL_SUSPENDED": "TRIAL_SUSPENSION",
    "TRIAL_SUSPENSION_ENDED": "TRIAL_SUSPENSION",
    "LEAVE_STARTED": "LEAVE",
    "LEAVE_ENDED": "LEAVE",
    "EVALUATION_STARTED": "PSYCHIATRIC_EVALUATION",
    "EVALUATION_ENDED": "PSYCHIATRIC_EVALUATION",
}

# The litigation stage (LITIGATION_STAGE code) a fact puts the person in; absent = unchanged.
STAGE_OF_KIND = {
    "DETENTION_EXECUTED": "11",
    "DETENTION_EXTENDED": "11",
    "ARREST_REQUESTED": "11",
    "ARREST_NOT_APPROVED": "11",
    "INVESTIGATION_EXTENDED": "12",
    "NEW_CRIME_DISCOVERED": "12",
    "TRANSFERRED_FOR_PROSECUTION": "20",
    "PROSECUTION_EXTENDED": "20",
    "RETURNED_FOR_SUPPLEMENT": "20",
    "RETRANSFERRED": "20",
    "PROSECUTED": "31",
    "FIRST_INSTANCE_EXTENDED": "31",
    "TRIAL_POSTPONED": "31",
    "TRIAL_RESUMED": "31",
    "PROCEDURE_CONVERTED": "31",
    "FIRST_JUDGMENT": "31",
    "REMANDED": "31",
    "APPEAL_ACCEPTED": "32",
    "SECOND_INSTANCE_EXTENDED": "32",
    "JUDGMENT_EFFECTIVE": "40",
    "EXECUTION_NOTICE_RECEIVED": "40",
    "KEPT_TO_SERVE": "50",
    "ADMIN_DETENTION_EXECUTED": "60",
    "JUDICIAL_DETENTION_EXECUTED": "61",
    "DRUG_REHAB_DECIDED": "70",
}
_PRE_ARREST = (None, "11")

RUNNING, SUSPENDED, ENDED = "RUNNING", "SUSPENDED", "ENDED"
_WAIT_IDENTITY, _WAIT_SUPPLEMENT = "IDENTITY", "SUPPLEMENT"


# --- public data ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    legal_measure: str
    admitted_at: dt.datetime


@dataclass(frozen=True, slots=True)
class LegalFact:
    """One recorded legal event (a decision, a notice, a judgment)."""

    id: str
    kind: str
    at: dt.datetime
    approval: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Step:
    """One change of a clock, for its history."""

    fact_id: str
    fact_kind: str
    at: dt.datetime
    expires_at: dt.datetime | None
    article: str
    note: str


@dataclass(frozen=True, slots=True)
class Clock:
    clock: str
    label: str
    rule: str
    article: str
    started_at: dt.datetime
    expires_at: dt.datetime | None
    precision: str
    state: str
    governs_custody: bool
    notice_at: dt.datetime | None
    inputs: Mapping[str, Any]
    history: tuple[Step, ...]
    flags: tuple[str, ...]


class DeadlineRefused(Exception):
    """A new fact contradicts the record; `reason` says why in words a person can act on."""

    def __init__(self, reason: str, article: str) -> None:
        super().__init__(f"{reason}（{article}）" if article else reason)
        self.reason = reason
        self.article = article


# --- a clock while the facts are folded ----------------------------------------------------


@dataclass(slots=True)
class _Run:
    rule: Rule
    variant: Variant
    started_at: dt.datetime
    origin_day: dt.date  # first (uncounted, or for SENTENCE counted) day
    origin_at: dt.datetime  # exact start, for HOURS counting
    segments: list[tuple[str, Duration, str]]  # (granted by, length, fact id); TERM first
    articles: list[str]
    notice: Notice | None
    history: list[Step] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    grants: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    open_ended: bool = False
    suspended_days: int = 0
    paused_by: str = ""  # suspension key while a not-counted interval runs
    paused_since: dt.date | None = None
    waiting: str = ""  # counting starts afresh later (identity unknown, case returned)
    ended: bool = False
    expiry: dt.datetime | None = None  # refreshed by _note_step after every change
    last: dt.date | None = None  # the last day, as of the latest refresh
    court_last: dt.date | None = None  # the court rule's last day where it differs (POLICE)

    def counted(self, unit: str) -> int:
        return sum(seg.amount(unit) for _, seg, _ in self.segments)

    def stopped(self) -> bool:
        return self.open_ended or bool(self.waiting) or self.paused_since is not None

    def last_day(self) -> dt.date:
        """The last day as if nothing stopped the clock (suspended days included)."""
        if self.rule.counting == SENTENCE:
            last = self.origin_day - cal.ONE_DAY
            for _, seg, _ in self.segments:
                last = cal.sentence_last_day(
                    last + cal.ONE_DAY, years=seg.years, months=seg.months, days=seg.days
                )
            return last + dt.timedelta(days=self.suspended_days)
        court_rule = self.rule.counting == COURT
        last, court = self.origin_day, None
        for _, seg, _ in self.segments:
            # The two month rules part only at the end of a month shorter than 31 days.
            if (
                not court_rule
                and seg.total_months
                and court is None
                and last.day < 31
                and cal.is_month_end(last)
            ):
                court = last
            if court is not None:
                court = cal.add_period(court, months=seg.total_months, days=seg.days, court=True)
            last = cal.add_period(last, months=seg.total_months, days=seg.days, court=court_rule)
        if self.suspended_days:
            shift = dt.timedelta(days=self.suspended_days)
            last, court = last + shift, None if court is None else court + shift
        self.court_last = None if court == last else court
        return last

    def refresh(self) -> dt.datetime | None:
        """Recompute the expiry after a change; None while the clock is stopped."""
        if self.stopped():
            self.expiry = None
        elif self.rule.counting == HOURS:
            days = sum(seg.days for _, seg, _ in self.segments) + self.suspended_days
            hours = sum(seg.hours for _, seg, _ in self.segments)
            self.expiry = cal.add_custody_hours(self.origin_at, days=days, hours=hours)
            self.last = cal.local_date(self.expiry)
        else:
            self.last = self.last_day()
            self.expiry = cal.day_end(self.last)
        return self.expiry

    def state(self) -> str:
        if self.ended:
            return ENDED
        return SUSPENDED if self.waiting or self.paused_since is not None else RUNNING


@dataclass(slots=True)
class _State:
    person: Person
    pack: DeadlinePack
    runs: dict[str, _Run] = field(default_factory=dict)
    stage: str | None = None
    ended_by: LegalFact | None = None
    identity_unknown: bool = False
    evaluation: LegalFact | None = None
    open_suspensions: dict[str, LegalFact] = field(default_factory=dict)
    returns: int = 0
    postponements: int = 0
    first_judgment: bool = False
    custody_from: dt.date | None = None
    penalty: str = ""
    detention_days: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def live(self, clock: str) -> _Run | None:
        run = self.runs.get(clock)
        return None if run is None or run.ended else run


# --- small helpers ---------------------------------------------------------------------------


def _date_text(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _instant_text(at: dt.datetime) -> str:
    local = at.astimezone(cal.TZ)
    return f"{_date_text(local.date())}{local.hour}时{local.minute:02d}分"


def _expiry_text(run: _Run, expires_at: dt.datetime) -> str:
    if run.rule.counting == HOURS:
        return _instant_text(expires_at)
    return _date_text(cal.last_day_of(expires_at.astimezone(cal.TZ).date()))


def _refuse(reason: str, article: str) -> NoReturn:
    raise DeadlineRefused(reason, article)


def _param_date(params: Mapping[str, Any], key: str) -> dt.date | None:
    value = params.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return cal.local_date(value)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    raise ValueError(f"{key} 应为日期")


def _param_int(params: Mapping[str, Any], key: str) -> int | None:
    value = params.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} 应为整数")
    return value


def _trial_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Params for choosing a trial term; the procedure defaults to 普通程序."""
    out = dict(params)
    out.setdefault("procedure", "ORDINARY")
    return out


def _pick_variant(rule: Rule, params: Mapping[str, Any]) -> Variant:
    for variant in rule.variants:
        if all(params.get(key) == value for key, value in variant.when.items()):
            return variant
    return rule.variants[-1]


def _unit_of(duration: Duration) -> str:
    return "months" if duration.total_months else "days"


def _levels_text(codes: Iterable[str]) -> str:
    return "或".join(APPROVAL_LEVELS.get(code, code) for code in codes)


# --- changing clocks -----------------------------------------------------------------------


def _note_step(
    run: _Run, fact: LegalFact, article: str, note: str, *, changed: bool = True
) -> None:
    """Record a change; every change of a clock ends here, so its cached expiry stays true."""
    expiry = run.refresh() if changed else run.expiry
    run.history.append(Step(fact.id, fact.kind, fact.at, expiry, article, note))


def _start(
    state: _State,
    rule_id: str,
    fact: LegalFact,
    *,
    variant: Variant | None = None,
    origin: dt.date | None = None,
    article: str = "",
    note: str = "",
) -> _Run:
    """Start a clock, or count an existing one afresh (重新计算): grants and pauses reset."""
    rule = state.pack.rules[rule_id]
    chosen = variant or rule.variants[-1]
    day = origin or cal.local_date(fact.at)
    at = fact.at if origin is None else cal.start_of_day(origin)
    segment = ("TERM", chosen.term, fact.id)
    run = state.runs.get(rule.clock)
    if run is None:
        run = _Run(rule, chosen, at, day, fact.at, [segment], [chosen.article], rule.notice)
        state.runs[rule.clock] = run
    else:
        run.rule, run.variant, run.started_at = rule, chosen, at
        run.origin_day, run.origin_at, run.segments = day, fact.at, [segment]
        run.articles, run.notice, run.grants = [chosen.article], rule.notice, {}
        run.open_ended, run.suspended_days, run.waiting, run.ended = False, 0, "", False
        run.paused_by, run.paused_since = "", None
        run.extra, run.flags = {}, []
    if chosen.target is not None:
        target = cal.add_period(day, months=chosen.target.total_months, days=chosen.target.days)
        run.extra["target_last_day"] = target.isoformat()
    _pause_if_open(state, run, day)
    _note_step(run, fact, article or chosen.article, note or f"开始计算，{chosen.term.text()}")
    return run


def _pause_if_open(state: _State, run: _Run, day: dt.date) -> None:
    """A clock that starts during an open not-counted interval starts paused."""
    for key, opened in state.open_suspensions.items():
        if _suspends(state, key, opened) and run.rule.clock in state.pack.suspensions[key].clocks:
            run.paused_by, run.paused_since = key, day
            return


def _suspends(state: _State, key: str, fact: LegalFact) -> bool:
    # CPL Art.149 / GA-Proc Art.257: only a psychiatric evaluation is not counted.
    return key != "PSYCHIATRIC_EVALUATION" or fact.params.get("kind") == PSYCHIATRIC


def _end(run: _Run | None, fact: LegalFact, note: str) -> None:
    if run is None or run.ended:
        return
    run.ended = True
    _note_step(run, fact, "", note, changed=False)


def _end_all(state: _State, fact: LegalFact, note: str, clocks: Iterable[str] = ()) -> None:
    for clock in clocks or list(state.runs):
        _end(state.runs.get(clock), fact, note)


def _amount(run: _Run, ext: Extension, params: Mapping[str, Any]) -> tuple[Duration | None, int]:
    """The length this extension adds, and the most it could add (in the extension's unit)."""
    if ext.open_ended:
        return None, 0
    if not ext.param and ext.add is not None and ext.to_total is None:
        return ext.add, ext.add.amount(_unit_of(ext.add))
    unit = ext.param or _unit_of(ext.to_total or ext.add or Duration())
    caps = []
    if ext.add is not None:
        caps.append(ext.add.amount(unit))
    if ext.to_total is not None:
        caps.append(ext.to_total.amount(unit) - run.counted(unit))
    cap = min(caps)
    asked = _param_int(params, ext.param) if ext.param else None
    amount = cap if asked is None else asked
    return Duration().plus(unit, amount), cap


def _grant(run: _Run, ext: Extension, fact: LegalFact) -> None:
    add, _ = _amount(run, ext, fact.params)
    run.grants[ext.key] = run.grants.get(ext.key, 0) + 1
    if ext.article not in run.articles:
        run.articles.append(ext.article)
    if ext.notice is not None:
        run.notice = ext.notice
    if add is None:
        run.open_ended = True
        run.flags.append(f"NO_COMPUTED_EXPIRY:{ext.key}")
        _note_step(run, fact, ext.article, f"{ext.label}，期限由批准机关另定")
        return
    run.segments.append((ext.key, add, fact.id))
    _note_step(run, fact, ext.article, f"{ext.label}：延长{add.text()}")


def _pause(state: _State, key: str, fact: LegalFact) -> None:
    """Stop the listed clocks from counting. A clock already paused by another suspension
    keeps that one: overlapping intervals are not added twice, and any part of the second
    interval outside the first is counted, which errs towards the earlier expiry."""
    state.open_suspensions[key] = fact
    if not _suspends(state, key, fact):
        return
    suspension = state.pack.suspensions[key]
    day = cal.local_date(fact.at)
    for run in state.runs.values():
        if run.ended or run.paused_since is not None or run.rule.clock not in suspension.clocks:
            continue
        run.paused_by, run.paused_since = key, day
        _note_step(
            run,
            fact,
            suspension.article,
            f"{suspension.label}不计入期限，自{_date_text(day)}起暂停",
        )


def _resume(state: _State, key: str, fact: LegalFact) -> None:
    opened = state.open_suspensions.pop(key, None)
    if opened is None or not _suspends(state, key, opened):
        return
    suspension = state.pack.suspensions[key]
    day = cal.local_date(fact.at)
    for run in state.runs.values():
        if run.paused_by != key or run.paused_since is None:
            continue
        days = cal.suspended_day_count(run.paused_since, day, suspension.end_day)
        run.suspended_days += days
        run.paused_by, run.paused_since = "", None
        if days and suspension.article not in run.articles:
            run.articles.append(suspension.article)
        if run.ended:
            run.refresh()
            continue
        _note_step(run, fact, suspension.article, f"恢复计算，{suspension.label}{days}日不计入")


# --- what each fact does -------------------------------------------------------------------


def _on_detention(state: _State, fact: LegalFact) -> None:
    rule = state.pack.rules["CRIMINAL_DETENTION"]
    variant = _pick_variant(rule, fact.params)
    _start(
        state,
        "CRIMINAL_DETENTION",
        fact,
        variant=variant,
        note=f"执行拘留，{variant.term.text()}（满二十四小时为一日）",
    )
    state.custody_from = state.custody_from or cal.local_date(fact.at)


def _detention_extension(state: _State, run: _Run, params: Mapping[str, Any]) -> Extension:
    rule = run.rule
    if params.get("category"):
        return rule.extensions["CATEGORY"]
    if run.variant.key == "SELF_INVESTIGATION":
        return rule.extensions["SELF_SPECIAL"]
    return rule.extensions["SPECIAL"]


def _on_detention_extended(state: _State, fact: LegalFact) -> None:
    run = state.live("CRIMINAL_DETENTION")
    if run is not None:
        _grant(run, _detention_extension(state, run, fact.params), fact)


def _on_arrest_requested(state: _State, fact: LegalFact) -> None:
    _end(state.runs.get("CRIMINAL_DETENTION"), fact, "已提请批准逮捕，转入审查批准逮捕期限")
    _start(state, "ARREST_REVIEW", fact, note="人民检察院收到提请批准逮捕书")


def _on_arrest_not_approved(state: _State, fact: LegalFact) -> None:
    _end_all(state, fact, "不批准逮捕", ("CRIMINAL_DETENTION", "ARREST_REVIEW"))
    _start_release(state, fact, "ARREST_NOT_APPROVED", "不批准逮捕，应当立即释放")


def _start_release(state: _State, fact: LegalFact, cause: str, note: str) -> None:
    variant = _pick_variant(state.pack.rules["RELEASE"], {"cause": cause})
    _start(state, "RELEASE", fact, variant=variant, note=note)


def _on_arrest_executed(state: _State, fact: LegalFact) -> None:
    state.custody_from = state.custody_from or cal.local_date(fact.at)
    if state.stage not in _PRE_ARREST:
        return  # arrest decided by a procuratorate or court later on: the stage term governs
    _end_all(state, fact, "已执行逮捕", ("CRIMINAL_DETENTION", "ARREST_REVIEW", "RELEASE"))
    run = _start(state, "INVESTIGATION", fact, note="执行逮捕，侦查羁押期限二个月")
    if state.identity_unknown:
        _wait_for_identity(state, run, fact)


def _investigation_extension(rule: Rule, params: Mapping[str, Any]) -> Extension | None:
    return rule.extensions.get(str(params.get("step", "")).upper())


def _on_investigation_extended(state: _State, fact: LegalFact) -> None:
    run = state.live("INVESTIGATION")
    ext = None if run is None else _investigation_extension(run.rule, fact.params)
    if run is not None and ext is not None:
        _grant(run, ext, fact)


def _on_new_crime(state: _State, fact: LegalFact) -> None:
    if state.live("INVESTIGATION") is None:
        return
    restart = state.pack.rules["INVESTIGATION"].restarts["NEW_CRIME"]
    found = _param_date(fact.params, "discovered_on") or cal.local_date(fact.at)
    note = f"发现另有重要罪行，自{_date_text(found)}起重新计算侦查羁押期限"
    run = _start(state, "INVESTIGATION", fact, origin=found, article=restart.article, note=note)
    run.articles.append(restart.article)
    if state.identity_unknown:
        _wait_for_identity(state, run, fact)


def _wait_for_identity(state: _State, run: _Run, fact: LegalFact) -> None:
    run.waiting = _WAIT_IDENTITY
    article = state.pack.articles["IDENTITY_UNKNOWN"]
    _note_step(run, fact, article, "身份不明，期限自查清身份之日起计算")


def _identity_clocks(state: _State) -> list[_Run]:
    return [
        run
        for run in state.runs.values()
        if not run.ended and "IDENTITY_ESTABLISHED" in run.rule.restarts
    ]


def _on_identity_unknown(state: _State, fact: LegalFact) -> None:
    state.identity_unknown = True
    for run in _identity_clocks(state):
        _wait_for_identity(state, run, fact)


def _on_identity_established(state: _State, fact: LegalFact) -> None:
    state.identity_unknown = False
    for run in _identity_clocks(state):
        if run.waiting != _WAIT_IDENTITY:
            continue
        restart = run.rule.restarts["IDENTITY_ESTABLISHED"]
        note = f"{_date_text(cal.local_date(fact.at))}查清身份，自该日起计算期限"
        restarted = _start(
            state, run.rule.id, fact, variant=run.variant, article=restart.article, note=note
        )
        restarted.articles.append(restart.article)


def _on_evaluation_started(state: _State, fact: LegalFact) -> None:
    state.evaluation = fact
    _pause(state, "PSYCHIATRIC_EVALUATION", fact)


def _on_evaluation_ended(state: _State, fact: LegalFact) -> None:
    state.evaluation = None
    _resume(state, "PSYCHIATRIC_EVALUATION", fact)


_PRE_TRIAL = ("CRIMINAL_DETENTION", "ARREST_REVIEW", "INVESTIGATION")


def _on_transferred(state: _State, fact: LegalFact) -> None:
    _end_all(state, fact, "移送审查起诉", _PRE_TRIAL)
    variant = _pick_variant(state.pack.rules["PROSECUTION_REVIEW"], fact.params)
    _start(
        state,
        "PROSECUTION_REVIEW",
        fact,
        variant=variant,
        note=f"移送审查起诉，{variant.term.text()}",
    )


def _on_prosecution_extended(state: _State, fact: LegalFact) -> None:
    run = state.live("PROSECUTION_REVIEW")
    if run is not None:
        _grant(run, run.rule.extensions["COMPLEX"], fact)


def _on_returned(state: _State, fact: LegalFact) -> None:
    state.returns += 1
    review = state.live("PROSECUTION_REVIEW")
    if review is not None:
        review.waiting = _WAIT_SUPPLEMENT
        _note_step(review, fact, review.rule.article, "退回补充侦查，移送后重新计算审查起诉期限")
    run = _start(state, "PROSECUTION_SUPPLEMENT", fact, note=f"第{state.returns}次退回补充侦查")
    limit = run.rule.max_count
    if limit is not None and state.returns > limit:
        run.flags.append(f"OVER_LIMIT:{state.returns}>{limit}")


def _on_retransferred(state: _State, fact: LegalFact) -> None:
    _end(state.live("SUPPLEMENTARY_INVESTIGATION"), fact, "补充侦查完毕，重新移送审查起诉")
    rule = state.pack.rules["PROSECUTION_REVIEW"]
    restart = rule.restarts["RETRANSFERRED"]
    variant = _pick_variant(rule, fact.params)
    run = _start(
        state,
        "PROSECUTION_REVIEW",
        fact,
        variant=variant,
        article=restart.article,
        note="重新计算审查起诉期限",
    )
    run.articles.append(restart.article)


def _on_prosecuted(state: _State, fact: LegalFact) -> None:
    _end_all(
        state, fact, "提起公诉", (*_PRE_TRIAL, "PROSECUTION_REVIEW", "SUPPLEMENTARY_INVESTIGATION")
    )
    variant = _pick_variant(state.pack.rules["FIRST_INSTANCE"], _trial_params(fact.params))
    _start(state, "FIRST_INSTANCE", fact, variant=variant, note=f"法院受理，{variant.term.text()}")


def _extension_by_approval(rule: Rule, approval: str) -> Extension | None:
    for ext in rule.extensions.values():
        if approval in ext.approval:
            return ext
    return None


def _on_trial_extended(state: _State, fact: LegalFact, clock: str) -> None:
    run = state.live(clock)
    ext = None if run is None else _extension_by_approval(run.rule, fact.approval)
    if run is not None and ext is not None:
        _grant(run, ext, fact)


def _on_postponed(state: _State, fact: LegalFact) -> None:
    state.postponements += 1
    trial = state.live("FIRST_INSTANCE")
    if trial is not None:
        trial.waiting = _WAIT_SUPPLEMENT
        _note_step(trial, fact, trial.rule.article, "延期审理，补充侦查完毕移送后重新计算审理期限")
    run = _start(state, "TRIAL_SUPPLEMENT", fact, note=f"第{state.postponements}次延期审理补充侦查")
    limit = run.rule.max_count
    if limit is not None and state.postponements > limit:
        run.flags.append(f"OVER_LIMIT:{state.postponements}>{limit}")


def _restart_trial(state: _State, fact: LegalFact, key: str, variant: Variant, note: str) -> None:
    restart = state.pack.rules["FIRST_INSTANCE"].restarts[key]
    run = _start(state, "FIRST_INSTANCE", fact, variant=variant, article=restart.article, note=note)
    run.articles.append(restart.article)


def _on_trial_resumed(state: _State, fact: LegalFact) -> None:
    _end(state.live("SUPPLEMENTARY_INVESTIGATION"), fact, "补充侦查完毕移送人民法院")
    trial = state.runs.get("FIRST_INSTANCE")
    rule = state.pack.rules["FIRST_INSTANCE"]
    variant = trial.variant if trial is not None else _pick_variant(rule, _trial_params({}))
    _restart_trial(state, fact, "TRIAL_RESUMED", variant, "补充侦查完毕，重新计算审理期限")


def _on_converted(state: _State, fact: LegalFact) -> None:
    variant = _pick_variant(state.pack.rules["FIRST_INSTANCE"], _trial_params(fact.params))
    note = f"转为{PROCEDURES.get(str(fact.params.get('procedure')), '')}，自决定之日起计算审理期限"
    _restart_trial(state, fact, "PROCEDURE_CONVERTED", variant, note)


def _on_first_judgment(state: _State, fact: LegalFact) -> None:
    state.first_judgment = True
    _end(state.live("FIRST_INSTANCE"), fact, "一审宣判")
    received = _param_date(fact.params, "received_on")
    variant = _pick_variant(state.pack.rules["APPEAL_PERIOD"], fact.params)
    _start(
        state,
        "APPEAL_PERIOD",
        fact,
        variant=variant,
        origin=received,
        note=f"自收到{DOCUMENTS.get(str(fact.params.get('document')), '判决')}书的第二日起算",
    )
    penalty = str(fact.params.get("penalty", ""))
    if penalty in RELEASE_PENALTIES:
        _start_release(state, fact, "JUDGMENT", f"判决{PENALTIES[penalty]}，宣判后应当立即释放")


def _on_appeal_accepted(state: _State, fact: LegalFact) -> None:
    _end(state.live("APPEAL_PERIOD"), fact, "二审受理")
    _end(state.live("FIRST_INSTANCE"), fact, "二审受理")
    _start(state, "SECOND_INSTANCE", fact, note="二审受理，二个月")


def _on_remanded(state: _State, fact: LegalFact) -> None:
    state.first_judgment = False
    _end(state.live("SECOND_INSTANCE"), fact, "发回重审")
    variant = _pick_variant(state.pack.rules["FIRST_INSTANCE"], _trial_params(fact.params))
    _restart_trial(
        state, fact, "REMANDED", variant, "发回重审，原审法院自收到案件之日起重新计算审理期限"
    )


def _credit_start(state: _State, fact: LegalFact) -> tuple[dt.date, str]:
    """The sentence's first day: pre-trial custody is credited one day for one day."""
    given = _param_date(fact.params, "custody_credit_from")
    if given is not None:
        return given, "custody_credit_from"
    days = _param_int(fact.params, "credit_days")
    if days is not None:
        return cal.local_date(fact.at) - dt.timedelta(days=days), "credit_days"
    if state.custody_from is not None:
        return state.custody_from, "first_custody_fact"
    return cal.local_date(state.person.admitted_at), "admitted_at"


def _on_judgment_effective(state: _State, fact: LegalFact) -> None:
    _end_all(
        state,
        fact,
        "判决生效",
        (
            *_PRE_TRIAL,
            "PROSECUTION_REVIEW",
            "SUPPLEMENTARY_INVESTIGATION",
            "FIRST_INSTANCE",
            "APPEAL_PERIOD",
            "SECOND_INSTANCE",
        ),
    )
    penalty = str(fact.params.get("penalty", ""))
    state.penalty = penalty
    if penalty in RELEASE_PENALTIES and state.live("RELEASE") is None:
        _start_release(state, fact, "JUDGMENT", f"判决{PENALTIES[penalty]}，应当立即释放")
    if penalty not in TERM_PENALTIES:
        return
    term = Duration(
        years=_param_int(fact.params, "term_years") or 0,
        months=_param_int(fact.params, "term_months") or 0,
        days=_param_int(fact.params, "term_days") or 0,
    )
    rule = state.pack.rules["SENTENCE"]
    variant = Variant(penalty, MappingProxyType({}), term, rule.article, rule.basis, None)
    first, source = _credit_start(state, fact)
    run = _start(
        state,
        "SENTENCE",
        fact,
        variant=variant,
        origin=first,
        note=f"{PENALTIES[penalty]}{term.text()}，自{_date_text(first)}起算（先行羁押折抵）",
    )
    run.extra["credit_source"] = source


def _on_execution_notice(state: _State, fact: LegalFact) -> None:
    sentence = state.live("SENTENCE")
    if state.penalty == "DETENTION":
        if sentence is not None:
            _note_step(sentence, fact, sentence.rule.article, "拘役由公安机关（看守所）执行")
        return
    if (
        sentence is not None
        and state.penalty == "FIXED_TERM"
        and _within_keep_limit(state, sentence, fact)
    ):
        limit = state.pack.rules["DELIVERY_TO_PRISON"].limits["KEEP_IN_CENTRE"]
        sentence.flags.append("KEEP_IN_CENTRE")
        _note_step(sentence, fact, limit.article, f"{limit.label}")
        return
    _start(state, "DELIVERY_TO_PRISON", fact, note="收到执行通知书，一个月内送交监狱")


def _within_keep_limit(state: _State, sentence: _Run, fact: LegalFact) -> bool:
    """Whether the remaining term is within the limit for 代为执行 (CPL Art.264(2))."""
    if sentence.stopped():
        return False
    limit = state.pack.rules["DELIVERY_TO_PRISON"].limits["KEEP_IN_CENTRE"].value
    today = cal.local_date(fact.at)
    latest = cal.add_period(today, months=limit.total_months, days=limit.days, court=True)
    return sentence.last is not None and sentence.last <= latest


def _on_kept(state: _State, fact: LegalFact) -> None:
    _end(state.live("DELIVERY_TO_PRISON"), fact, "留所服刑")


def _on_short_detention(state: _State, fact: LegalFact, rule_id: str) -> None:
    """行政拘留 / 司法拘留: decisions made separately are executed together (PSAPL Art.16)."""
    rule = state.pack.rules[rule_id]
    decisions = state.detention_days.setdefault(rule_id, [])
    decisions.append(
        (_param_int(fact.params, "days") or 0, _param_int(fact.params, "credit_days") or 0)
    )
    ordered = sum(days for days, _ in decisions)
    combined = rule.limits.get("COMBINED")
    executed = ordered if combined is None else min(ordered, combined.value.days)
    net = max(executed - sum(credit for _, credit in decisions), 0)
    term = Duration(days=net)
    run = state.live(rule.clock)
    if run is None:
        variant = Variant("DECISION", MappingProxyType({}), term, rule.article, rule.basis, None)
        run = _start(
            state, rule_id, fact, variant=variant, note=f"收拘，{ordered}日（折抵后{net}日）"
        )
    else:
        run.segments[0] = ("TERM", term, run.segments[0][2])
        article = combined.article if combined is not None else rule.article
        _note_step(run, fact, article, f"合并执行，共{ordered}日（执行{net}日）")
    if combined is not None and ordered > combined.value.days:
        run.flags[:] = [f for f in run.flags if not f.startswith("ADMIN_COMBINED_CAPPED")]
        run.flags.append(f"ADMIN_COMBINED_CAPPED:{ordered}")
    run.extra["decided_days"] = ordered


def _on_drug_rehab(state: _State, fact: LegalFact) -> None:
    _start(state, "DRUG_REHAB", fact, note="自作出强制隔离戒毒决定之日起计算，二年")
    decided = cal.local_date(fact.at)
    executed = _param_date(fact.params, "executed_on") or max(
        decided, cal.local_date(state.person.admitted_at)
    )
    rule = state.pack.rules["DRUG_REHAB_POLICE_STAGE"]
    variant = _pick_variant(rule, fact.params)
    run = _start(
        state,
        "DRUG_REHAB_POLICE_STAGE",
        fact,
        variant=variant,
        origin=executed,
        note=f"在公安机关强制隔离戒毒场所执行，最长{variant.term.text()}",
    )
    earliest = rule.limits["EARLIEST_TRANSFER"].value
    first = cal.sentence_last_day(
        executed, years=earliest.years, months=earliest.months, days=earliest.days
    )
    run.extra["earliest_transfer"] = (first + cal.ONE_DAY).isoformat()


def _on_drug_extended(state: _State, fact: LegalFact) -> None:
    run = state.live("DRUG_REHAB")
    if run is not None:
        _grant(run, run.rule.extensions["EXTEND"], fact)


def _on_drug_early_release(state: _State, fact: LegalFact) -> None:
    _end_all(state, fact, "提前解除强制隔离戒毒", ("DRUG_REHAB", "DRUG_REHAB_POLICE_STAGE"))
    _start_release(state, fact, "DRUG_EARLY_RELEASE", "经诊断评估提前解除强制隔离戒毒")


def _on_immigration(state: _State, fact: LegalFact) -> None:
    run = _start(state, "IMMIGRATION_DETENTION", fact, note="拘留审查，三十日")
    if state.identity_unknown:
        _wait_for_identity(state, run, fact)


def _on_immigration_extended(state: _State, fact: LegalFact) -> None:
    run = state.live("IMMIGRATION_DETENTION")
    if run is not None:
        _grant(run, run.rule.extensions["EXTEND"], fact)


def _on_terminal(state: _State, fact: LegalFact) -> None:
    state.ended_by = fact
    _end_all(state, fact, FACT_KINDS[fact.kind])


_Handler = Callable[[_State, LegalFact], None]
HANDLERS: dict[str, _Handler] = {
    "DETENTION_EXECUTED": _on_detention,
    "DETENTION_EXTENDED": _on_detention_extended,
    "ARREST_REQUESTED": _on_arrest_requested,
    "ARREST_NOT_APPROVED": _on_arrest_not_approved,
    "ARREST_EXECUTED": _on_arrest_executed,
    "INVESTIGATION_EXTENDED": _on_investigation_extended,
    "NEW_CRIME_DISCOVERED": _on_new_crime,
    "IDENTITY_UNKNOWN": _on_identity_unknown,
    "IDENTITY_ESTABLISHED": _on_identity_established,
    "EVALUATION_STARTED": _on_evaluation_started,
    "EVALUATION_ENDED": _on_evaluation_ended,
    "TRANSFERRED_FOR_PROSECUTION": _on_transferred,
    "PROSECUTION_EXTENDED": _on_prosecution_extended,
    "RETURNED_FOR_SUPPLEMENT": _on_returned,
    "RETRANSFERRED": _on_retransferred,
    "PROSECUTED": _on_prosecuted,
    "FIRST_INSTANCE_EXTENDED": lambda s, f: _on_trial_extended(s, f, "FIRST_INSTANCE"),
    "TRIAL_POSTPONED": _on_postponed,
    "TRIAL_RESUMED": _on_trial_resumed,
    "TRIAL_SUSPENDED": lambda s, f: _pause(s, "TRIAL_SUSPENSION", f),
    "TRIAL_SUSPENSION_ENDED": lambda s, f: _resume(s, "TRIAL_SUSPENSION", f),
    "PROCEDURE_CONVERTED": _on_converted,
    "FIRST_JUDGMENT": _on_first_judgment,
    "APPEAL_ACCEPTED": _on_appeal_accepted,
    "SECOND_INSTANCE_EXTENDED": lambda s, f: _on_trial_extended(s, f, "SECOND_INSTANCE"),
    "REMANDED": _on_remanded,
    "JUDGMENT_EFFECTIVE": _on_judgment_effective,
    "EXECUTION_NOTICE_RECEIVED": _on_execution_notice,
    "KEPT_TO_SERVE": _on_kept,
    "ADMIN_DETENTION_EXECUTED": lambda s, f: _on_short_detention(s, f, "ADMIN_DETENTION"),
    "JUDICIAL_DETENTION_EXECUTED": lambda s, f: _on_short_detention(s, f, "JUDICIAL_DETENTION"),
    "LEAVE_STARTED": lambda s, f: _pause(s, "LEAVE", f),
    "LEAVE_ENDED": lambda s, f: _resume(s, "LEAVE", f),
    "DRUG_REHAB_DECIDED": _on_drug_rehab,
    "DRUG_REHAB_EXTENDED": _on_drug_extended,
    "DRUG_REHAB_EARLY_RELEASE": _on_drug_early_release,
    "IMMIGRATION_DETENTION": _on_immigration,
    "IMMIGRATION_EXTENDED": _on_immigration_extended,
    "RELEASED": _on_terminal,
    "TRANSFERRED_OUT": _on_terminal,
    "DELIVERED": _on_terminal,
}


# --- checking a fact against the record ------------------------------------------------------

_PARAM_TYPES: dict[str, type] = {
    "days": int,
    "months": int,
    "credit_days": int,
    "term_years": int,
    "term_months": int,
    "term_days": int,
    "self_investigation": bool,
    "fast_track": bool,
    "possible_sentence_over_1y": bool,
    "possible_sentence_over_3y": bool,
    "possible_sentence_10y": bool,
    "extended_police_stage": bool,
}
_DATE_PARAMS = (
    "requested_on",
    "discovered_on",
    "received_on",
    "custody_credit_from",
    "executed_on",
)


def _rule_article(state: _State, kind: str) -> str:
    rule_id = KIND_RULE.get(kind)
    return state.pack.rules[rule_id].article if rule_id else state.pack.articles["AFTER_END"]


def _check_params(state: _State, fact: LegalFact) -> None:
    label = FACT_KINDS[fact.kind]
    article = _rule_article(state, fact.kind)
    for key, value in fact.params.items():
        expected = _PARAM_TYPES.get(key)
        if expected is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            _refuse(f"{label}的“{key}”应为不小于0的整数，登记的是“{value}”", article)
        if expected is bool and not isinstance(value, bool):
            _refuse(f"{label}的“{key}”应为是或否，登记的是“{value}”", article)
        if key in _DATE_PARAMS:
            try:
                _param_date(fact.params, key)
            except ValueError:
                _refuse(f"{label}的“{key}”应为日期（YYYY-MM-DD），登记的是“{value}”", article)


def _check_fits_measure(state: _State, fact: LegalFact) -> None:
    track = MEASURE_TRACK.get(state.person.legal_measure)
    if track is None:
        return  # 99 其他, or a code this engine does not know: no constraint
    allowed = _NON_CRIMINAL.get(fact.kind, frozenset({CRIMINAL}))
    if track not in allowed:
        measure = MEASURE_NAMES.get(state.person.legal_measure, state.person.legal_measure)
        _refuse(
            f"在押人员的法律措施为{measure}，不能登记“{FACT_KINDS[fact.kind]}”",
            _rule_article(state, fact.kind),
        )


def _check_not_ended(state: _State, fact: LegalFact) -> None:
    ended = state.ended_by
    if ended is not None:
        _refuse(
            f"{_date_text(cal.local_date(ended.at))}已{FACT_KINDS[ended.kind]}，本次羁押已经结束，"
            f"不能再登记{_date_text(cal.local_date(fact.at))}的“{FACT_KINDS[fact.kind]}”",
            state.pack.articles["AFTER_END"],
        )


def _require_live(state: _State, clock: str, fact: LegalFact, missing: str) -> _Run:
    run = state.live(clock)
    if run is None:
        _refuse(f"{missing}，不能登记“{FACT_KINDS[fact.kind]}”", _rule_article(state, fact.kind))
    return run


def _require_stage(
    state: _State, fact: LegalFact, allowed: tuple[str | None, ...], why: str
) -> None:
    if state.stage not in allowed:
        _refuse(f"{why}，不能登记“{FACT_KINDS[fact.kind]}”", _rule_article(state, fact.kind))


def _check_in_time(run: _Run, fact: LegalFact, label: str, article: str) -> None:
    """An extension must be decided before the term it extends has expired."""
    expires = run.expiry
    if expires is not None and fact.at >= expires:
        _refuse(
            f"{label}的决定时间{_instant_text(fact.at)}晚于原期限届满（{_expiry_text(run, expires)}），"
            "期限届满后不能再延长，应当依法释放或者变更强制措施",
            article,
        )


def _check_grant(state: _State, run: _Run, ext: Extension, fact: LegalFact) -> None:
    """Refuse an extension by the wrong authority, out of order, too often, too long or too late."""
    if ext.variants and run.variant.key not in ext.variants:
        _refuse(f"{run.rule.label}（{run.variant.key}）不适用“{ext.label}”", ext.article)
    if ext.approval and fact.approval not in ext.approval:
        given = APPROVAL_LEVELS.get(fact.approval, fact.approval or "未登记")
        _refuse(
            f"“{ext.label}”须经{_levels_text(ext.approval)}批准，登记的批准机关为{given}",
            ext.article,
        )
    if ext.after and not any(run.grants.get(key) for key in ext.after):
        earlier = "、".join(
            run.rule.extensions[key].label for key in ext.after if key in run.rule.extensions
        )
        _refuse(f"“{ext.label}”须在“{earlier}”之后", ext.article)
    count = run.grants.get(ext.key, 0)
    if ext.max_times is not None and count >= ext.max_times:
        _refuse(f"“{ext.label}”以{ext.max_times}次为限，已经批准{count}次", ext.article)
    _check_requires(ext, fact)
    _check_in_time(run, fact, ext.label, ext.late_article)
    _check_request_lead(run, ext, fact)
    _check_amount(state, run, ext, fact)


def _check_requires(ext: Extension, fact: LegalFact) -> None:
    for param, accepted in ext.requires.items():
        value = fact.params.get(param)
        if accepted is True and value is not True:
            _refuse(f"“{ext.label}”须具备法定条件（{param}），登记中未注明", ext.article)
        if accepted is not True and _category(accepted, value) is None:
            choices = "、".join(accepted.values())
            _refuse(f"“{ext.label}”须注明属于下列情形之一：{choices}", ext.article)


def _category(accepted: Mapping[str, str], value: Any) -> str | None:
    """The category code for a code or its Chinese name (流窜, 流窜作案 or ROVING)."""
    if not isinstance(value, str) or not value:
        return None
    if value in accepted:
        return value
    for code, label in accepted.items():
        if label.startswith(value):
            return code
    return None


def _check_request_lead(run: _Run, ext: Extension, fact: LegalFact) -> None:
    requested = _param_date(fact.params, "requested_on")
    expires = run.expiry
    if ext.request_before is None or requested is None or expires is None:
        return
    last = cal.last_day_of(expires.astimezone(cal.TZ).date())
    latest = last - dt.timedelta(days=ext.request_before.days)
    if requested > latest:
        _refuse(
            f"“{ext.label}”应当在期限届满{ext.request_before.text()}前提请，期限{_date_text(last)}届满，"
            f"最迟应于{_date_text(latest)}提请，实际提请日期为{_date_text(requested)}",
            ext.late_article,
        )


def _check_amount(state: _State, run: _Run, ext: Extension, fact: LegalFact) -> None:
    if ext.open_ended:
        return
    add, cap = _amount(run, ext, fact.params)
    assert add is not None
    unit = ext.param or _unit_of(add)
    asked = add.amount(unit)
    unit_text = "个月" if unit == "months" else "日"
    if cap < ext.minimum:
        total = ext.to_total.text() if ext.to_total else ""
        _refuse(f"{run.rule.label}已达到“{ext.label}”的上限{total}，不能再延长", ext.article)
    if asked < ext.minimum or asked > cap:
        _refuse(
            f"“{ext.label}”可延长{ext.minimum}至{cap}{unit_text}，登记的是{asked}{unit_text}",
            ext.article,
        )


def _check_detention_extended(state: _State, fact: LegalFact) -> None:
    run = _require_live(
        state,
        "CRIMINAL_DETENTION",
        fact,
        "没有正在计算的刑事拘留期限（未执行拘留或者已提请批准逮捕）",
    )
    ext = _detention_extension(state, run, fact.params)
    if ext.key == "SPECIAL":
        _check_without_category(run, ext, fact)
    _check_grant(state, run, ext, fact)


def _check_without_category(run: _Run, ext: Extension, fact: LegalFact) -> None:
    """Beyond seven days only a 流窜/多次/结伙 suspect may be held (GA-Proc Art.129(2))."""
    asked = _param_int(fact.params, "days")
    total = run.counted("days") + (asked or 0)
    if ext.to_total is not None and total > ext.to_total.days:
        category = run.rule.extensions["CATEGORY"]
        _refuse(
            f"延长后拘留期限将达{total}日；未注明流窜作案、多次作案或者结伙作案，"
            f"提请批准逮捕的时间最长为{ext.to_total.text()}",
            _join_articles([ext.article, category.article]),
        )


def _check_arrest_requested(state: _State, fact: LegalFact) -> None:
    if state.stage is None:
        return
    run = _require_live(state, "CRIMINAL_DETENTION", fact, "没有正在计算的刑事拘留期限")
    _check_in_time(run, fact, "提请批准逮捕", run.rule.article)


def _check_arrest_not_approved(state: _State, fact: LegalFact) -> None:
    _require_live(state, "ARREST_REVIEW", fact, "没有提请批准逮捕")


def _check_arrest_executed(state: _State, fact: LegalFact) -> None:
    if state.stage == "12":
        _refuse("已经执行逮捕", _rule_article(state, fact.kind))
    _require_stage(state, fact, (None, "11", "20", "31", "32"), "判决已经生效")


def _check_investigation_extended(state: _State, fact: LegalFact) -> None:
    run = _require_live(state, "INVESTIGATION", fact, "没有执行逮捕后的侦查羁押期限")
    ext = _investigation_extension(run.rule, fact.params)
    if ext is None:
        keys = "、".join(run.rule.extensions)
        _refuse(f"延长侦查羁押期限须注明第几次延长（step：{keys}）", run.rule.article)
    _check_grant(state, run, ext, fact)


def _check_new_crime(state: _State, fact: LegalFact) -> None:
    run = _require_live(state, "INVESTIGATION", fact, "不在逮捕后的侦查羁押期间")
    restart = run.rule.restarts["NEW_CRIME"]
    if restart.approval and fact.approval not in restart.approval:
        _refuse(f"重新计算侦查羁押期限须经{_levels_text(restart.approval)}批准", restart.article)
    found = _param_date(fact.params, "discovered_on")
    if found is not None and found > cal.local_date(fact.at):
        _refuse(f"发现日期{_date_text(found)}晚于批准日期", restart.article)


def _check_identity_unknown(state: _State, fact: LegalFact) -> None:
    if state.identity_unknown:
        _refuse("已登记身份不明，尚未查清", state.pack.articles["IDENTITY_UNKNOWN"])


def _check_identity_established(state: _State, fact: LegalFact) -> None:
    if not state.identity_unknown:
        _refuse("没有登记身份不明，不能登记查清身份", state.pack.articles["IDENTITY_UNKNOWN"])


def _check_evaluation_started(state: _State, fact: LegalFact) -> None:
    article = state.pack.articles["EVALUATION"]
    if state.evaluation is not None:
        _refuse(f"{_date_text(cal.local_date(state.evaluation.at))}决定的鉴定尚未结束", article)
    _require_stage(
        state,
        fact,
        (None, "11", "12", "20", "31", "32"),
        "鉴定期间不计入办案期限只适用于判决生效前",
    )


def _check_evaluation_ended(state: _State, fact: LegalFact) -> None:
    if state.evaluation is None:
        _refuse("没有登记决定鉴定，不能登记鉴定结束", state.pack.articles["EVALUATION"])


def _check_transferred(state: _State, fact: LegalFact) -> None:
    _require_stage(state, fact, (None, "11", "12"), "案件已经移送审查起诉或者已经起诉")


def _check_prosecution_extended(state: _State, fact: LegalFact) -> None:
    run = _require_live(state, "PROSECUTION_REVIEW", fact, "不在审查起诉期间")
    if run.waiting:
        _refuse("案件已退回补充侦查，审查起诉期限待重新移送后计算", run.rule.article)
    _check_grant(state, run, run.rule.extensions["COMPLEX"], fact)


def _check_returned(state: _State, fact: LegalFact) -> None:
    run = _require_live(state, "PROSECUTION_REVIEW", fact, "不在审查起诉期间")
    supplement = state.pack.rules["PROSECUTION_SUPPLEMENT"]
    if run.waiting:
        _refuse("案件已退回补充侦查，尚未重新移送", supplement.article)
    if supplement.max_count is not None and state.returns >= supplement.max_count:
        _refuse(
            f"补充侦查以{supplement.max_count}次为限，已经退回{state.returns}次；"
            "仍然认为证据不足、不符合起诉条件的，应当作出不起诉的决定",
            supplement.article,
        )


def _check_retransferred(state: _State, fact: LegalFact) -> None:
    review = state.live("PROSECUTION_REVIEW")
    if review is None or review.waiting != _WAIT_SUPPLEMENT:
        _refuse("没有退回补充侦查的案件，不能登记重新移送", _rule_article(state, fact.kind))


def _check_prosecuted(state: _State, fact: LegalFact) -> None:
    _require_stage(state, fact, (None, "20"), "案件不在审查起诉阶段")
    review = state.live("PROSECUTION_REVIEW")
    if review is not None and review.waiting:
        _refuse(
            "案件退回补充侦查后尚未重新移送审查起诉", state.pack.rules["PROSECUTION_REVIEW"].article
        )
    _check_procedure(state, fact)


def _check_procedure(state: _State, fact: LegalFact) -> None:
    procedure = _trial_params(fact.params)["procedure"]
    if procedure not in PROCEDURES:
        _refuse(
            f"未知的审判程序“{procedure}”（可用：{'、'.join(PROCEDURES)}）",
            state.pack.rules["FIRST_INSTANCE"].article,
        )


def _check_trial_extended(state: _State, fact: LegalFact, clock: str) -> None:
    run = _require_live(state, clock, fact, f"没有正在计算的{state.pack.rules[clock].label}")
    if run.waiting:
        _refuse("延期审理期间，审理期限待补充侦查完毕后重新计算", run.rule.article)
    ext = _extension_by_approval(run.rule, fact.approval)
    if ext is None:
        levels = dict.fromkeys(code for e in run.rule.extensions.values() for code in e.approval)
        given = APPROVAL_LEVELS.get(fact.approval, fact.approval or "未登记")
        _refuse(
            f"延长{run.rule.label}须经{_levels_text(levels)}批准，登记的批准机关为{given}",
            run.rule.article,
        )
    _check_grant(state, run, ext, fact)


def _check_postponed(state: _State, fact: LegalFact) -> None:
    run = _require_live(state, "FIRST_INSTANCE", fact, "没有正在进行的一审")
    supplement = state.pack.rules["TRIAL_SUPPLEMENT"]
    if run.waiting:
        _refuse("已经延期审理，补充侦查尚未完毕", supplement.article)
    if supplement.max_count is not None and state.postponements >= supplement.max_count:
        _refuse(
            f"公诉人建议延期审理不得超过{supplement.max_count}次，已经延期审理{state.postponements}次",
            supplement.article,
        )


def _check_trial_resumed(state: _State, fact: LegalFact) -> None:
    trial = state.live("FIRST_INSTANCE")
    if trial is None or trial.waiting != _WAIT_SUPPLEMENT:
        _refuse("没有因补充侦查延期审理的案件", _rule_article(state, fact.kind))


def _check_trial_suspended(state: _State, fact: LegalFact) -> None:
    article = state.pack.suspensions["TRIAL_SUSPENSION"].article
    if "TRIAL_SUSPENSION" in state.open_suspensions:
        _refuse("已经中止审理，尚未恢复", article)
    if state.live("FIRST_INSTANCE") is None and state.live("SECOND_INSTANCE") is None:
        _refuse("没有正在进行的审判，不能中止审理", article)


def _check_open(state: _State, fact: LegalFact, key: str, missing: str) -> None:
    if key not in state.open_suspensions:
        _refuse(missing, state.pack.suspensions[key].article)


def _check_converted(state: _State, fact: LegalFact) -> None:
    run = _require_live(state, "FIRST_INSTANCE", fact, "没有正在进行的一审")
    _check_procedure(state, fact)
    current = str(run.variant.when.get("procedure", "ORDINARY"))
    target = _trial_params(fact.params)["procedure"]
    if target not in CONVERSIONS.get(current, set()):
        restart = run.rule.restarts["PROCEDURE_CONVERTED"]
        _refuse(
            f"{PROCEDURES.get(current, current)}不能转为{PROCEDURES.get(target, target)}",
            restart.article,
        )


def _check_first_judgment(state: _State, fact: LegalFact) -> None:
    if state.stage is not None:
        _require_live(state, "FIRST_INSTANCE", fact, "没有正在进行的一审")
    document = fact.params.get("document", "JUDGMENT")
    if document not in DOCUMENTS:
        _refuse(
            f"一审文书应为判决（JUDGMENT）或者裁定（RULING），登记的是“{document}”",
            _rule_article(state, fact.kind),
        )
    _check_penalty(state, fact, required=False)


def _check_penalty(state: _State, fact: LegalFact, *, required: bool) -> None:
    penalty = fact.params.get("penalty")
    article = _rule_article(state, "JUDGMENT_EFFECTIVE")
    if penalty is None and not required:
        return
    if penalty not in PENALTIES:
        _refuse(f"未知的刑罚“{penalty}”（可用：{'、'.join(PENALTIES)}）", article)
    if penalty in TERM_PENALTIES and not any(
        fact.params.get(key) for key in ("term_years", "term_months", "term_days")
    ):
        _refuse(f"判处{PENALTIES[penalty]}须登记刑期（term_years/term_months/term_days）", article)


def _check_appeal_accepted(state: _State, fact: LegalFact) -> None:
    if state.stage is None:
        return
    if state.stage != "31" or not state.first_judgment:
        _refuse("一审尚未宣判，不能受理上诉、抗诉", _rule_article(state, fact.kind))


def _check_remanded(state: _State, fact: LegalFact) -> None:
    _require_live(state, "SECOND_INSTANCE", fact, "没有正在进行的二审")
    _check_procedure(state, fact)


def _check_judgment_effective(state: _State, fact: LegalFact) -> None:
    if state.stage == "31" and not state.first_judgment:
        _refuse("一审尚未宣判，判决不能生效", _rule_article(state, "FIRST_JUDGMENT"))
    _require_stage(state, fact, (None, "31", "32"), "案件不在审判阶段")
    _check_penalty(state, fact, required=True)


def _check_execution_notice(state: _State, fact: LegalFact) -> None:
    _require_stage(state, fact, (None, "40"), "判决尚未生效或者已经留所服刑")
    if state.penalty and state.penalty not in (*TERM_PENALTIES, "LIFE", "DEATH_REPRIEVE"):
        _refuse(
            f"判处{PENALTIES.get(state.penalty, state.penalty)}无需交付监狱执行",
            _rule_article(state, fact.kind),
        )


def _check_kept(state: _State, fact: LegalFact) -> None:
    _require_stage(state, fact, (None, "40"), "判决尚未生效")
    limit = state.pack.rules["DELIVERY_TO_PRISON"].limits["KEEP_IN_CENTRE"]
    sentence = state.live("SENTENCE")
    if state.penalty == "DETENTION":
        return  # 拘役 is executed by the police in the 看守所 (CPL Art.264(2))
    if sentence is None and not state.penalty:
        return  # no judgment in the record (admitted after it): nothing to compare
    if sentence is None or not _within_keep_limit(state, sentence, fact):
        penalty = PENALTIES.get(state.penalty, state.penalty)
        end = f"，刑期至{_date_text(sentence.last_day())}" if sentence is not None else ""
        _refuse(
            f"判处{penalty}{end}，剩余刑期超过{limit.value.text()}，应当送交监狱执行", limit.article
        )


def _check_short_detention(state: _State, fact: LegalFact, rule_id: str) -> None:
    rule = state.pack.rules[rule_id]
    days = _param_int(fact.params, "days")
    if not days:
        _refuse(f"{rule.label}须登记拘留日数（days）", rule.article)
    per = rule.limits["PER_DECISION"]
    if days > per.value.days:
        _refuse(f"{per.label}，登记的是{days}日", per.article)
    credit = _param_int(fact.params, "credit_days") or 0
    if credit > days:
        _refuse(f"折抵日数{credit}日超过拘留日数{days}日", rule.article)
    combined = rule.limits.get("COMBINED")
    earlier = sum(d for d, _ in state.detention_days.get(rule_id, []))
    if combined is not None and earlier + days > combined.value.days:
        _refuse(
            f"已执行的拘留决定共{earlier}日，加上本决定{days}日为{earlier + days}日，"
            f"超过{combined.label}的上限",
            combined.article,
        )


def _check_leave_started(state: _State, fact: LegalFact) -> None:
    article = state.pack.suspensions["LEAVE"].article
    if "LEAVE" in state.open_suspensions:
        _refuse("已经请假出所，尚未回所", article)
    if state.live("ADMIN_DETENTION") is None and state.live("JUDICIAL_DETENTION") is None:
        _refuse("没有正在执行的拘留，不能请假出所", article)


def _check_drug_decided(state: _State, fact: LegalFact) -> None:
    if "DRUG_REHAB" in state.runs:
        _refuse("已经登记强制隔离戒毒决定", _rule_article(state, fact.kind))


def _check_drug_extended(state: _State, fact: LegalFact) -> None:
    run = _require_live(state, "DRUG_REHAB", fact, "没有正在执行的强制隔离戒毒")
    _check_grant(state, run, run.rule.extensions["EXTEND"], fact)


def _check_drug_early_release(state: _State, fact: LegalFact) -> None:
    run = _require_live(state, "DRUG_REHAB", fact, "没有正在执行的强制隔离戒毒")
    limit = run.rule.limits["EARLY_RELEASE"]
    if fact.approval and fact.approval != "DECIDING_ORGAN":
        _refuse("提前解除强制隔离戒毒须报决定机关批准", limit.article)
    served = cal.sentence_last_day(
        run.origin_day, years=limit.value.years, months=limit.value.months, days=limit.value.days
    )
    if cal.local_date(fact.at) <= served:
        _refuse(
            f"强制隔离戒毒自{_date_text(run.origin_day)}起执行，至{_date_text(served)}方满{limit.value.text()}，"
            f"{_date_text(cal.local_date(fact.at))}不能提前解除",
            limit.article,
        )


def _check_immigration(state: _State, fact: LegalFact) -> None:
    if "IMMIGRATION_DETENTION" in state.runs:
        _refuse("已经登记拘留审查决定", _rule_article(state, fact.kind))


def _check_immigration_extended(state: _State, fact: LegalFact) -> None:
    run = _require_live(state, "IMMIGRATION_DETENTION", fact, "没有正在计算的拘留审查期限")
    _check_grant(state, run, run.rule.extensions["EXTEND"], fact)


_Checker = Callable[[_State, LegalFact], None]
CHECKERS: dict[str, _Checker] = {
    "DETENTION_EXECUTED": lambda s, f: _require_stage(
        s, f, (None,), "已经执行刑事拘留或者已经进入后续诉讼阶段"
    ),
    "DETENTION_EXTENDED": _check_detention_extended,
    "ARREST_REQUESTED": _check_arrest_requested,
    "ARREST_NOT_APPROVED": _check_arrest_not_approved,
    "ARREST_EXECUTED": _check_arrest_executed,
    "INVESTIGATION_EXTENDED": _check_investigation_extended,
    "NEW_CRIME_DISCOVERED": _check_new_crime,
    "IDENTITY_UNKNOWN": _check_identity_unknown,
    "IDENTITY_ESTABLISHED": _check_identity_established,
    "EVALUATION_STARTED": _check_evaluation_started,
    "EVALUATION_ENDED": _check_evaluation_ended,
    "TRANSFERRED_FOR_PROSECUTION": _check_transferred,
    "PROSECUTION_EXTENDED": _check_prosecution_extended,
    "RETURNED_FOR_SUPPLEMENT": _check_returned,
    "RETRANSFERRED": _check_retransferred,
    "PROSECUTED": _check_prosecuted,
    "FIRST_INSTANCE_EXTENDED": lambda s, f: _check_trial_extended(s, f, "FIRST_INSTANCE"),
    "TRIAL_POSTPONED": _check_postponed,
    "TRIAL_RESUMED": _check_trial_resumed,
    "TRIAL_SUSPENDED": _check_trial_suspended,
    "TRIAL_SUSPENSION_ENDED": lambda s, f: _check_open(
        s, f, "TRIAL_SUSPENSION", "没有登记中止审理"
    ),
    "PROCEDURE_CONVERTED": _check_converted,
    "FIRST_JUDGMENT": _check_first_judgment,
    "APPEAL_ACCEPTED": _check_appeal_accepted,
    "SECOND_INSTANCE_EXTENDED": lambda s, f: _check_trial_extended(s, f, "SECOND_INSTANCE"),
    "REMANDED": _check_remanded,
    "JUDGMENT_EFFECTIVE": _check_judgment_effective,
    "EXECUTION_NOTICE_RECEIVED": _check_execution_notice,
    "KEPT_TO_SERVE": _check_kept,
    "ADMIN_DETENTION_EXECUTED": lambda s, f: _check_short_detention(s, f, "ADMIN_DETENTION"),
    "JUDICIAL_DETENTION_EXECUTED": lambda s, f: _check_short_detention(s, f, "JUDICIAL_DETENTION"),
    "LEAVE_STARTED": _check_leave_started,
    "LEAVE_ENDED": lambda s, f: _check_open(s, f, "LEAVE", "没有登记请假出所"),
    "DRUG_REHAB_DECIDED": _check_drug_decided,
    "DRUG_REHAB_EXTENDED": _check_drug_extended,
    "DRUG_REHAB_EARLY_RELEASE": _check_drug_early_release,
    "IMMIGRATION_DETENTION": _check_immigration,
    "IMMIGRATION_EXTENDED": _check_immigration_extended,
}


def _validate(state: _State, fact: LegalFact) -> None:
    if fact.kind not in FACT_KINDS:
        _refuse(f"未知的法律事实类型“{fact.kind}”", "")
    _check_not_ended(state, fact)
    _check_fits_measure(state, fact)
    _check_params(state, fact)
    checker = CHECKERS.get(fact.kind)
    if checker is not None:
        checker(state, fact)


# --- folding ---------------------------------------------------------------------------------


# Facts at the same instant (a form that records dates only) apply in procedural order, the
# order of FACT_KINDS, so that an extension never precedes the detention it extends.
_RANK = {kind: rank for rank, kind in enumerate(FACT_KINDS)}


def _order(fact: LegalFact) -> tuple[dt.datetime, int, str]:
    return fact.at, _RANK.get(fact.kind, len(_RANK)), fact.id


def _apply(state: _State, fact: LegalFact) -> None:
    handler = HANDLERS.get(fact.kind)
    if handler is None:
        raise ValueError(f"未知的法律事实类型：{fact.kind}")
    handler(state, fact)
    stage = STAGE_OF_KIND.get(fact.kind)
    if fact.kind == "ARREST_EXECUTED" and state.stage in _PRE_ARREST:
        stage = "12"
    if stage is not None:
        state.stage = stage


def _fold(
    person: Person, ordered: Sequence[LegalFact], pack: DeadlinePack, validate: LegalFact | None
) -> _State:
    state = _State(person, pack)
    checking = False
    for fact in ordered:
        if fact.at.tzinfo is None:
            raise ValueError(f"法律事实 {fact.id} 的时间没有时区")
        checking = checking or fact is validate
        if checking:
            _validate_in_context(state, fact, validate)
        _apply(state, fact)
    return state


def _validate_in_context(state: _State, fact: LegalFact, new: LegalFact | None) -> None:
    try:
        _validate(state, fact)
    except DeadlineRefused as refused:
        if fact is new:
            raise
        when = _date_text(cal.local_date(fact.at))
        raise DeadlineRefused(
            f"登记后，{when}的“{FACT_KINDS.get(fact.kind, fact.kind)}”将不再成立：{refused.reason}",
            refused.article,
        ) from None


# --- building the answer ---------------------------------------------------------------------


def _clock_flags(run: _Run, pack: DeadlinePack) -> tuple[str, ...]:
    if run.expiry is None or run.last is None:
        return tuple(run.flags)
    flags = list(run.flags)
    # GA-Custody-Term Art.4 governs investigation; show where SPC-Interp Art.202(1) differs.
    if run.rule.counting == POLICE and run.court_last is not None:
        flags.append(f"COURT_MONTH_END_DIFFERS:{run.court_last.isoformat()}")
    # CPL Art.105(4): custody is never extended because the last day is a holiday.
    if run.last in pack.holidays:
        flags.append("ENDS_ON_HOLIDAY")
    return tuple(flags)


def _inputs(run: _Run) -> dict[str, Any]:
    hours = run.rule.counting == HOURS
    inputs: dict[str, Any] = {
        "counting": run.rule.counting,
        "variant": run.variant.key,
        "start": run.origin_at.isoformat() if hours else run.origin_day.isoformat(),
        "term": _as_dict(run.variant.term),
        "extensions": [
            {"by": by, "add": _as_dict(seg), "fact": fact_id}
            for by, seg, fact_id in run.segments[1:]
        ],
        "suspended_days": run.suspended_days,
    }
    if run.paused_since is not None:
        inputs["suspended_since"] = run.paused_since.isoformat()
        inputs["suspended_by"] = run.paused_by
    if run.waiting:
        inputs["waiting_for"] = run.waiting
    inputs.update(run.extra)
    return inputs


_JOINED: dict[tuple[str, ...], str] = {}
_AS_DICT: dict[Duration, dict[str, int]] = {}


def _join_articles(articles: Sequence[str]) -> str:
    """One citation list, each article once, in the order they came to apply."""
    key = tuple(articles)
    joined = _JOINED.get(key)
    if joined is None:
        pieces: dict[str, None] = {}
        for article in articles:
            pieces.update(dict.fromkeys(article.split("；")))
        joined = _JOINED[key] = "；".join(pieces)
    return joined


def _as_dict(duration: Duration) -> dict[str, int]:
    """A fresh JSON-ready copy of a duration (the cache saves rebuilding it per detainee)."""
    cached = _AS_DICT.get(duration)
    if cached is None:
        cached = _AS_DICT[duration] = duration.as_dict()
    return dict(cached)


def _clock(run: _Run, pack: DeadlinePack) -> Clock:
    expires = run.expiry
    state = run.state()
    notice_at = None
    if state == RUNNING and expires is not None and run.notice is not None:
        before = run.notice.before
        notice_at = expires - dt.timedelta(hours=24 * before.days + before.hours)
    return Clock(
        clock=run.rule.clock,
        label=run.rule.label,
        rule=run.rule.id,
        article=_join_articles(run.articles),
        started_at=run.started_at,
        expires_at=expires,
        precision="hour" if run.rule.counting == HOURS else "day",
        state=state,
        governs_custody=run.rule.governs_custody,
        notice_at=notice_at,
        inputs=_inputs(run),
        history=tuple(run.history),
        flags=_clock_flags(run, pack),
    )


# --- public functions --------------------------------------------------------------------------


def compute(person: Person, facts: Sequence[LegalFact], pack: DeadlinePack) -> list[Clock]:
    """Every clock the facts start, in the order they were started; deterministic."""
    state = _fold(person, sorted(facts, key=_order), pack, None)
    return [_clock(run, pack) for run in state.runs.values()]


def check(person: Person, facts: Sequence[LegalFact], new: LegalFact, pack: DeadlinePack) -> None:
    """Raise DeadlineRefused if `new` contradicts the record, or makes a later fact wrong."""
    if new.at.tzinfo is None:
        raise ValueError("新法律事实的时间没有时区")
    if any(fact.id == new.id for fact in facts):
        _refuse(f"法律事实 {new.id} 已经登记", "")
    _fold(person, sorted([*facts, new], key=_order), pack, new)


def stage_after(person: Person, facts: Sequence[LegalFact]) -> str | None:
    """The LITIGATION_STAGE code the facts put the person in, or None if they say nothing."""
    stage: str | None = None
    for fact in sorted(facts, key=_order):
        if fact.kind == "ARREST_EXECUTED":
            stage = "12" if stage in _PRE_ARREST else stage
        else:
            stage = STAGE_OF_KIND.get(fact.kind, stage)
    return stage
