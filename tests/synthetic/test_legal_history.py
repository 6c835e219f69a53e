"""The synthetic legal histories are lawful records: the deadline engine accepts every fact,
and almost nobody is held past a limit (only the deliberate, rare overruns)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest

from jianguan.custody.deadlines import (
    DeadlineRefused,
    LegalFact,
    Person,
    builtin_pack,
    check,
    compute,
)
from jianguan.synthetic.legal_history import legal_history

NOW = dt.datetime(2026, 11, 21, 8, tzinfo=dt.UTC)
LONGEST_STAY_DAYS = {
    "10": 37,
    "20": 400,
    "30": 90,
    "31": 180,
    "40": 20,
    "41": 15,
    "50": 240,
    "60": 60,
}


@pytest.mark.parametrize("measure", sorted(LONGEST_STAY_DAYS))
def test_every_generated_fact_passes_the_engine_check(measure: str) -> None:
    pack, rng = builtin_pack(), random.Random(measure)
    expired, people = Counter[str](), 600
    for _ in range(people):
        admitted = NOW - dt.timedelta(days=rng.uniform(0.1, LONGEST_STAY_DAYS[measure]))
        person = Person(measure, admitted)
        recorded: list[LegalFact] = []
        for i, planned in enumerate(legal_history(measure, admitted, NOW, rng)):
            fact = LegalFact(str(i), planned.kind, planned.at, planned.approval, planned.params)
            try:
                check(person, recorded, fact, pack)
            except DeadlineRefused as refused:
                pytest.fail(f"{measure} {planned.kind} at {planned.at}: {refused.reason}")
            recorded.append(fact)
            assert planned.at < NOW
        for clock in compute(person, recorded, pack):
            overdue = clock.expires_at is not None and clock.expires_at <= NOW
            if clock.governs_custody and clock.state == "RUNNING" and overdue:
                expired[clock.clock] += 1
    assert sum(expired.values()) <= people * 0.01, expired


def test_the_same_seed_gives_the_same_history() -> None:
    admitted = NOW - dt.timedelta(days=200)
    first = legal_history("20", admitted, NOW, random.Random(7))
    assert first == legal_history("20", admitted, NOW, random.Random(7))
    assert first[0].kind == "DETENTION_EXECUTED"
