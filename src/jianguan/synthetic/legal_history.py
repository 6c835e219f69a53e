"""Believable legal histories for synthetic people, so the deadline board is full.

A criminal case runs through its stages — detention, arrest, investigation, review for
prosecution, trial, judgment — each step taken at a plausible point before its limit; the
history is cut at "now", so the person is caught somewhere along the way. A small share of
cases overrun one limit (a late transfer), which the deadline watch turns into an alert.
Other measures (行政拘留, 司法拘留, 戒毒, 拘留审查) get their one decision, extended where the
stay already exceeds the base term. Every history passes the deadline engine's check (tested).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
MONTH = 30 * DAY  # plans only; the engine counts real months
OVERRUN_SHARE = 0.004  # cases that miss one limit by a few days (超期)


@dataclass(frozen=True)
class PlannedFact:
    kind: str
    at: dt.datetime
    approval: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    document: str = ""


class _Timeline:
    """Facts in time order; anything planned after `now` is not (yet) recorded."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.facts: list[PlannedFact] = []
        self.open = True

    def add(self, kind: str, at: dt.datetime, approval: str = "", /, **params: Any) -> bool:
        if not self.open or at >= self.now - HOUR:
            self.open = False
            return False
        self.facts.append(PlannedFact(kind, at, approval, params))
        return True


def legal_history(
    measure: str, admitted_at: dt.datetime, now: dt.datetime, rng: random.Random
) -> list[PlannedFact]:
    if measure in ("10", "20"):
        return _criminal(admitted_at, now, rng)
    if measure in ("30", "31"):
        return _sentenced(measure, admitted_at, now, rng)
    line = _Timeline(now)
    elapsed_days = (now - admitted_at) / DAY
    if measure == "40":
        days = min(15, max(rng.choice((5, 7, 10, 10, 15)), int(elapsed_days) + 1))
        line.add("ADMIN_DETENTION_EXECUTED", admitted_at, days=days, credit_days=0)
        if elapsed_days >= days:  # a second decision executed together (≤ 20 days in all)
            line.add("ADMIN_DETENTION_EXECUTED", admitted_at + HOUR, days=min(5, 20 - days))
    elif measure == "41":
        days = min(15, max(rng.choice((3, 5, 10, 15)), int(elapsed_days) + 1))
        line.add("JUDICIAL_DETENTION_EXECUTED", admitted_at, days=days)
    elif measure == "50":
        line.add("DRUG_REHAB_DECIDED", admitted_at - rng.uniform(0.2, 2) * DAY)
    elif measure == "60":
        line.add("IMMIGRATION_DETENTION", admitted_at)
        if elapsed_days > 25:
            line.add(
                "IMMIGRATION_EXTENDED", admitted_at + rng.uniform(20, 26) * DAY, "UPPER_POLICE"
            )
    return line.facts


def _criminal(admitted_at: dt.datetime, now: dt.datetime, rng: random.Random) -> list[PlannedFact]:
    line = _Timeline(now)
    r = rng.random
    overrun = r() < OVERRUN_SHARE
    late_phase = rng.choice(("investigation", "review", "trial")) if overrun else ""
    detained = admitted_at - rng.uniform(1, 20) * HOUR  # delivered within 24 h (CPL Art.85)
    line.add("DETENTION_EXECUTED", detained)
    # 提请批准逮捕 within 3 days, 7 with an extension, 30 for 流窜/多次/结伙 (CPL Art.91).
    x = r()
    if x < 0.55:
        request = detained + rng.uniform(1.2, 2.9) * DAY
    elif x < 0.85:
        line.add(
            "DETENTION_EXTENDED", detained + rng.uniform(1.5, 2.8) * DAY, "COUNTY_POLICE", days=4
        )
        request = detained + rng.uniform(4, 6.9) * DAY
    else:
        category = rng.choice(("ROVING", "MULTIPLE", "GANG"))
        line.add(
            "DETENTION_EXTENDED",
            detained + rng.uniform(1.5, 2.8) * DAY,
            "COUNTY_POLICE",
            category=category,
            days=27,
        )
        request = detained + rng.uniform(10, 29) * DAY
    line.add("ARREST_REQUESTED", request)
    arrest = request + rng.uniform(1, 6.8) * DAY  # the procuratorate decides in 7 days
    if not line.add("ARREST_EXECUTED", arrest):
        return line.facts
    # 侦查羁押 2 months; some cases need the first (and rarely the second) extension.
    limit, earliest = 2 * MONTH, arrest
    if r() < 0.2:
        earliest = arrest + rng.uniform(40, 50) * DAY
        line.add("INVESTIGATION_EXTENDED", earliest, "UPPER_PROCURATORATE", step="1")
        limit = 3 * MONTH
        if r() < 0.2:
            earliest = arrest + rng.uniform(70, 80) * DAY
            line.add(
                "INVESTIGATION_EXTENDED",
                earliest,
                "PROVINCIAL_PROCURATORATE",
                step="2",
                category=rng.choice(("CRIMINAL_GROUP", "ROVING", "WIDE")),
            )
            limit = 5 * MONTH
    transfer = max(
        arrest + _within(limit, rng, late=late_phase == "investigation"), earliest + 2 * DAY
    )
    if not line.add("TRANSFERRED_FOR_PROSECUTION", transfer):
        return line.facts
    # 审查起诉 1 month (+15 days); some cases go back for supplementary investigation.
    review_start = transfer
    if r() < 0.12:
        returned = transfer + rng.uniform(15, 28) * DAY
        line.add("RETURNED_FOR_SUPPLEMENT", returned)
        review_start = returned + rng.uniform(10, 28) * DAY
        line.add("RETRANSFERRED", review_start)
    review_limit, earliest = MONTH, review_start
    if r() < 0.2:
        earliest = review_start + rng.uniform(20, 27) * DAY
        line.add("PROSECUTION_EXTENDED", earliest, "PROCURATORATE")
        review_limit = MONTH + 15 * DAY
    prosecuted = max(
        review_start + _within(review_limit, rng, late=late_phase == "review"), earliest + 2 * DAY
    )
    x = r()
    procedure, trial_limit = ("ORDINARY", 3 * MONTH) if x < 0.7 else ("SIMPLIFIED", 20 * DAY)
    if not line.add("PROSECUTED", prosecuted, procedure=procedure):
        return line.facts
    judged = prosecuted + _within(trial_limit, rng, late=late_phase == "trial")
    provisional = {"penalty": "FIXED_TERM", "term_months": rng.choice((8, 12, 18, 24, 36))}
    # A long stay is a long trial: appealed and sent back for retrial (CPL Arts.236, 241).
    while now - judged > 60 * DAY:
        accepted = judged + rng.uniform(12, 25) * DAY
        remanded = accepted + _within(2 * MONTH, rng, late=False)
        if not (
            line.add("FIRST_JUDGMENT", judged, **provisional)
            and line.add("APPEAL_ACCEPTED", accepted)
            and line.add("REMANDED", remanded)
        ):
            return line.facts
        judged = remanded + _within(3 * MONTH, rng, late=False)
    appealed = r() < 0.2  # second instance within 2 months (CPL Art.243)
    accepted = judged + rng.uniform(12, 25) * DAY
    effective = accepted + _within(2 * MONTH, rng, late=False) if appealed else judged + 11 * DAY
    noticed = effective + rng.uniform(2, 9) * DAY
    kept_at = noticed + rng.uniform(1, 4) * DAY
    # Someone still here well after the execution notice serves a short rest here (≤ 3
    # months, CPL Art.264); otherwise the sentence is longer and delivery to prison is due.
    kept = now - noticed > 25 * DAY
    if kept:
        # What remains when the notice arrives decides (CPL Art.264): ≤ 3 months, past now.
        rest = rng.randint(max(20, (now - noticed).days + 5), 85)
        days = (noticed - detained).days + rest
        penalty = {"penalty": "FIXED_TERM", "term_months": days // 30, "term_days": days % 30}
    else:
        served = (now - detained).days // 30  # the sentence outlasts the custody so far
        months = max(rng.choice((8, 10, 12, 18, 24, 36, 60)), served + 6)
        penalty = {"penalty": "FIXED_TERM", "term_months": months}
    if not line.add("FIRST_JUDGMENT", judged, **penalty):
        return line.facts
    if appealed and not line.add("APPEAL_ACCEPTED", accepted):
        return line.facts
    if not line.add("JUDGMENT_EFFECTIVE", effective, **penalty):
        return line.facts
    line.add("EXECUTION_NOTICE_RECEIVED", noticed)
    if kept:
        line.add("KEPT_TO_SERVE", kept_at)
    return line.facts


def _within(limit: dt.timedelta, rng: random.Random, *, late: bool) -> dt.timedelta:
    """When the next step comes: well inside the limit, or (an overrun) a few days after it."""
    if late:
        return limit + rng.uniform(3, 15) * DAY
    return limit * rng.uniform(0.35, 0.9)


def _sentenced(
    measure: str, admitted_at: dt.datetime, now: dt.datetime, rng: random.Random
) -> list[PlannedFact]:
    """留所服刑 or 拘役 served here: custody credited from admission; what remains is short
    enough to be served here (≤ 3 months for 有期徒刑, CPL Art.264)."""
    line = _Timeline(now)
    # The judgment took effect recently enough that what remained at the notice (≤ 3 months,
    # CPL Art.264) still runs past now.
    effective = max(admitted_at + DAY, now - rng.uniform(1, 70) * DAY)
    noticed = effective + rng.uniform(1, 5) * DAY
    rest = rng.randint(min(85, max(5, (now - noticed).days + 5)), 85)
    total = (noticed - admitted_at).days + rest
    # 拘役 is at most six months; a longer stay here is a short fixed term's rest.
    penalty = "DETENTION" if measure == "31" and total <= 180 else "FIXED_TERM"
    line.add(
        "JUDGMENT_EFFECTIVE",
        effective,
        penalty=penalty,
        term_months=total // 30,
        term_days=total % 30,
        custody_credit_from=admitted_at.date().isoformat(),
    )
    line.add("EXECUTION_NOTICE_RECEIVED", noticed)
    if penalty == "FIXED_TERM":
        line.add("KEPT_TO_SERVE", noticed + rng.uniform(1, 3) * DAY)
    return line.facts
