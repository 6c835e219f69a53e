"""The demo facility's synthetic risk history: reproducible, with incidents that sometimes have
recorded precursors and sometimes none, scored and trended, and made without the risk model."""

from __future__ import annotations

import ast
import datetime as dt
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

NOW = dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.UTC)


def _seed() -> Any:
    from jianguan.synthetic.seeding import SeedOptions, run_seed

    return run_seed(SeedOptions(now=NOW, quiet=True, accounts=False), say=lambda _m: None)


def test_the_generator_does_not_read_the_model() -> None:
    """Its only risk import is the public face, and only for the fact table, the incident kinds,
    scoring everyone afterwards and the trend: no factor, point, threshold or pack."""
    import jianguan.synthetic.risk_history as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.setdefault(node.module, set()).update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                imported.setdefault(alias.name, set())
    risk = {m: names for m, names in imported.items() if m.startswith("jianguan.risk")}
    assert risk == {"jianguan.risk.api": {"INCIDENTS", "RiskFact", "rescore_all", "trend_replay"}}
    assert not any(m.startswith("jianguan.rules") for m in imported)
    source = Path(module.__file__).read_text(encoding="utf-8")
    assert "risk.yaml" not in source
    assert "live_model" not in source


@pytest.mark.django_db
def test_demo_history_is_written_scored_trended_and_reproducible(codes: None) -> None:
    from django.utils import timezone

    from jianguan.custody.api import HELD_STATUSES, Detainee
    from jianguan.org.api import Unit
    from jianguan.risk.api import INCIDENTS, GradeDaily, RiskFact, RiskScore
    from jianguan.synthetic.risk_history import DAY, OBSERVED, _local_midnight, _stays, simulate

    result = _seed()
    history = result.risk
    facility = Unit.objects.get(code="440100K01")
    facts = RiskFact.objects.filter(recorded_by="synthetic")
    assert facts.count() == history.facts > 500
    assert set(facts.values_list("unit_id", flat=True)) == {facility.id}
    assert set(facts.values_list("link", flat=True)) == {""}
    kinds = Counter(facts.values_list("kind", flat=True))
    assert {k for k in kinds if k.startswith("incident.")} <= set(INCIDENTS)
    assert sum(kinds[k] for k in INCIDENTS) == sum(history.incidents.values()) >= 10
    assert set(kinds) >= OBSERVED  # every kind of precursor occurs
    assert kinds["legal.FIRST_JUDGMENT"] > 0
    assert kinds["manual.FAMILY_EVENT"] > 0
    # Some incidents had an officer's record of that person in the 14 days before, some none.
    assert 0 < history.with_precursor < sum(history.incidents.values())
    # Nothing after the start of today (the duty morning's) and nothing before the 90 days.
    today = timezone.localtime(NOW).date()
    first, last = facts.earliest("at").at, facts.latest("at").at
    assert timezone.localtime(last).date() < today
    assert timezone.localtime(first).date() >= today - dt.timedelta(days=90)
    # Everyone held now has a score; the trend has the last 30 days.
    held = Detainee.objects.filter(unit=facility, status__in=HELD_STATUSES).count()
    assert RiskScore.objects.filter(unit=facility, track="LIVE").count() == held
    days = list(GradeDaily.objects.filter(unit=facility).order_by("day"))
    assert [d.day for d in days] == [today - dt.timedelta(days=i) for i in range(29, -1, -1)]
    assert all(sum(d.people.values()) > 0 for d in days)
    assert len({tuple(sorted(d.people.items())) for d in days}) > 1  # the trend moves
    assert set(days[-1].people) - {"NORMAL"}  # someone above the lowest grade today

    # Replaying the generator gives exactly the facts it wrote; another seed, another history.
    written = sorted(
        (str(d), k, at, label)
        for d, k, at, label in facts.values_list("detainee_id", "kind", "at", "label")
    )
    start = today - 90 * DAY
    stays = _stays(facility, _local_midnight(start), _local_midnight(today))

    def replayed(seed: int) -> list[tuple[str, str, dt.datetime, str]]:
        out = []
        for person, stay in stays:
            rng = random.Random(f"{seed}:risk-history:{stay.key}")
            facts = simulate(stay, start, today, rng)
            out += [(str(person.id), f.kind, f.at, f.label) for f in facts]
        return sorted(out)

    assert replayed(20261121) == written
    assert replayed(7) != written


def test_incidents_follow_distress_not_a_score() -> None:
    """The same person with the same history: a shock (bad news) raises the chance of incidents and
    of recorded precursors over many draws, in the generator's own terms."""
    from jianguan.synthetic.risk_history import StayRecord, simulate

    admitted = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    calm = StayRecord("p", admitted, None, criminal=False, legal=())
    judged = StayRecord(
        "p",
        admitted,
        None,
        criminal=False,
        legal=tuple(
            (
                "FIRST_JUDGMENT",
                dt.datetime(2026, 3, d, 6, tzinfo=dt.UTC),
                {"penalty": "LIFE"},
                f"e{d}",
            )
            for d in (2, 9, 16, 23)
        ),
    )
    start, end = dt.date(2026, 3, 1), dt.date(2026, 4, 1)

    def count(stay: StayRecord) -> Counter[str]:
        found: Counter[str] = Counter()
        for i in range(300):
            for fact in simulate(stay, start, end, random.Random(i)):
                found["incident" if fact.kind.startswith("incident.") else fact.kind] += 1
        return found

    quiet, shaken = count(calm), count(judged)
    assert shaken["incident"] > 1.5 * quiet["incident"]
    assert shaken["duty.CUSTODIAN_MOOD"] > 1.5 * quiet["duty.CUSTODIAN_MOOD"]
    assert quiet["duty.CUSTODIAN_MOOD"] > 0  # calm people are recorded too: noise
