"""Re-scoring every held person's risk at national scale, and one person after one event, each
beside the time to read the same inputs.

All in one run of one `jianguan shell` process on one PostgreSQL database seeded at national
scale (`jianguan seed --facilities 6000 --detainees-per-facility 334 --no-accounts`: about
2,000,000 records of whom about 1,000,000 are held), plus dynamic facts for 15 % of the people
held (1–4 each in the last 60 days, written with COPY):

* floor    — the full re-score's own reads, page by page (people by id with their stored scores,
             facts, overrides and earlier custodies; then the cells with their occupants, facts
             and stored rows), rows fetched and nothing computed or written;
* compute  — the same reads plus the scoring of every person, nothing written;
* first    — `rescore_all()` with nothing stored: every score, cell and history row is new;
* model    — `rescore_all()` after a new nationwide model version with other points;
* hourly   — `rescore_all()` an hour later with the same model: only fading facts move;
* one event — for random held people: a fact is recorded, then `rescore_person()` (the
             incremental path) is timed, beside its floor (reading the person's record, stored
             scores and facts); and `fact_record()` end to end (the fact, its audit entry and
             event, and the re-score, in one transaction).

The floor is measured twice, before the first scoring (nothing stored) and after it (1,000,000
stored scores to read), and each re-score is compared with the floor of the same state.
Prints a table and writes bench/results/risk_rescore.json. Usage:

    .venv/bin/python bench/risk_rescore.py [--facilities 6000] [--events 600] [--reseed]

The seeded database is kept and reused by later runs (`--reseed` builds it again); every run
first removes the scores, history and bench facts of the previous one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from jianguan.core.ids import uuid7

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "results"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/jianguan_bench_risk"
FACT_SHARE = 0.15  # of the people held, this share has recent dynamic facts
FACT_DAYS = 60
# Dynamic facts as a facility records them: mostly behaviour records, meetings and
# interrogations, a few health events and judgments, rarely an incident.
FACT_KINDS = (
    ("duty.PATROL_CELL_VIOLATION", "违反监规", 20),
    ("duty.PATROL_ABNORMAL_BEHAVIOUR", "异常行为", 12),
    ("duty.CUSTODIAN_MOOD", "情绪异常", 12),
    ("interrogation.ENDED", "提讯结束", 20),
    ("manual.LAWYER_MEETING", "律师会见后情绪波动", 8),
    ("manual.FAMILY_MEETING", "家属会见后情绪波动", 6),
    ("duty.MEDICAL_CONDITION_CHANGE", "病情变化", 6),
    ("legal.FIRST_JUDGMENT", "一审判决", 5),
    ("manual.BAIL_REJECTED", "取保候审申请被驳回", 4),
    ("duty.PATROL_EMERGENCY", "突发事件", 3),
    ("incident.SERIOUS_BREACH", "严重违反监规", 2),
    ("manual.SUICIDE_HISTORY", "有自杀、自伤史", 2),
)
HELD = ("IN_CUSTODY", "OUT_TEMPORARILY")

MEASURE = r"""
import datetime as dt, json, random, statistics, time
from django.db import connection, transaction
from django.utils import timezone
from jianguan.core.actor import Actor
from jianguan.custody.api import HELD_STATUSES, Detainee
from jianguan.risk import full
from jianguan.risk.api import CellRisk, RiskChange, RiskFact, RiskScore, fact_record, rescore_person
from jianguan.risk.model import BUILTIN_PATH
from jianguan.rules.api import RulePack, pack_publish

EVENTS = __EVENTS__
actor = Actor.system("bench")

def sql(*statements):
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)

# A clean start: no scores, history, bench packs or risk tasks of an earlier run.
sql("TRUNCATE risk_riskscore, risk_cellrisk, risk_riskchange",
    "DELETE FROM risk_riskfact WHERE recorded_by = 'bench-event'",
    "DELETE FROM duty_taskstep WHERE task_id IN (SELECT id FROM duty_task WHERE source = 'RISK')",
    "DELETE FROM duty_task WHERE source = 'RISK'",
    "DELETE FROM rules_rulepack WHERE kind = 'risk'")

def walk(now, score):
    # The full re-score's reads (full.py), page by page; with score=True also its scoring.
    run = full.Run("bench", now, "")
    touched, people, pending = {}, 0, 0
    for page in full.held_pages("", full.PAGE):
        inputs = full.person_inputs(page, since=run.since(p.unit_path for p in page), now=now)
        if score:
            pending += len(full._score_people(run, page, inputs, touched))
        else:
            for p in page:
                if p.cell_id:
                    touched[p.cell_id] = p.unit_id
            for row in inputs.stored.values():
                if row[4]:
                    touched[row[4]] = row[3]
        people += len(page)
    ordered = sorted(touched, key=lambda c: (str(touched[c]), c))
    for start in range(0, len(ordered), full.PAGE):
        inputs = full.cell_inputs(ordered[start : start + full.PAGE], since=run.since)
        if score:
            pending += len(full._score_cells(run, inputs))
    return {"people": people, "cells": len(ordered), "pending": pending}

def counts():
    from jianguan.duty.api import Task, TaskSource
    return {"scores": RiskScore.objects.count(), "cells": CellRisk.objects.count(),
            "changes": RiskChange.objects.count(),
            "tasks": Task.objects.filter(source=TaskSource.RISK).count()}

def timed(name, fn):
    before = counts()
    started = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - started
    after = counts()
    row = {"seconds": seconds, **({"people": value} if isinstance(value, int) else value)}
    row["written"] = {k: after[k] - before[k] for k in after}
    out[name] = row
    print(name, round(seconds, 1), flush=True)

def vacuum():  # as autovacuum would after a million writes; each pass starts checkpointed
    sql("VACUUM ANALYZE risk_riskscore", "VACUUM ANALYZE risk_cellrisk",
        "VACUUM ANALYZE risk_riskchange", "CHECKPOINT")

out = {}
first_at = timezone.now()
timed("floor_empty", lambda: walk(first_at, False))
timed("compute_empty", lambda: walk(first_at, True))
sql("CHECKPOINT")
timed("first", lambda: full.rescore_all(cause="bench: 首次评分", now=first_at))
vacuum()
model_at = timezone.now()
timed("floor_scored", lambda: walk(model_at, False))
timed("compute_scored", lambda: walk(model_at, True))
text = (BUILTIN_PATH.read_text(encoding="utf-8")
        .replace('version: "2026.1"', 'version: "2026.1-bench"')
        .replace("points: 10, when: {case_severity_at_least: 4}",
                 "points: 12, when: {case_severity_at_least: 4}")
        .replace('name: "违反监规", points: 6', 'name: "违反监规", points: 8')
        .replace('name: "提讯后", points: 3', 'name: "提讯后", points: 2'))
pack_publish(actor=actor, kind="risk", text=text, unit_code="")
sql("CHECKPOINT")
timed("model", lambda: full.rescore_all(cause="bench: 模型 2026.1-bench 发布", now=model_at))
vacuum()
timed("hourly", lambda: full.rescore_all(cause="bench: 定时重算",
                                          now=model_at + dt.timedelta(hours=1)))

# One event at a time, for random held people.
ids = list(Detainee.objects.filter(status__in=HELD_STATUSES).values_list("id", flat=True))
rng = random.Random(5)
sample = rng.sample(ids, 2 * EVENTS + 20)
kinds = ["manual.FAMILY_EVENT", "manual.BAIL_REJECTED", "manual.COUNSELLING",
         "manual.LAWYER_MEETING", "incident.SERIOUS_BREACH"]
floor_ms, rescore_ms, record_ms, rises = [], [], [], 0

def read_person(person_id):  # what the incremental path reads about the person
    d = Detainee.objects.select_related("unit").get(id=person_id)
    list(RiskScore.objects.filter(detainee_id=person_id))
    list(RiskFact.objects.filter(detainee_id=person_id).values_list("id", "kind", "at", "label"))
    return d

for i, person_id in enumerate(sample[:EVENTS + 10]):
    d = Detainee.objects.select_related("unit").get(id=person_id)
    now = timezone.now()
    RiskFact.objects.create(unit_id=d.unit_id, detainee=d, cell_id=d.cell_id, kind=kinds[i % 5],
                            label=kinds[i % 5], at=now, recorded_at=now, recorded_by="bench-event")
    t = time.perf_counter()
    read_person(person_id)
    t2 = time.perf_counter()
    was = RiskScore.objects.filter(detainee_id=person_id, track="LIVE").values_list("grade", flat=True).first()
    t3 = time.perf_counter()
    score = rescore_person(person_id, cause="bench: 一次事件")
    t4 = time.perf_counter()
    if i >= 10:  # the first calls warm caches and connections
        floor_ms.append((t2 - t) * 1000)
        rescore_ms.append((t4 - t3) * 1000)
        rises += score is not None and score.grade != was
for i, person_id in enumerate(sample[EVENTS + 10:]):
    d = Detainee.objects.select_related("unit").get(id=person_id)
    t = time.perf_counter()
    fact_record(actor=actor, detainee=d, kind=kinds[i % 5], at=timezone.now())
    if i >= 10:
        record_ms.append((time.perf_counter() - t) * 1000)

def pct(values):
    values = sorted(values)
    q = lambda p: values[min(len(values) - 1, int(round(p * (len(values) - 1))))]
    return {"n": len(values), "p50": q(0.5), "p99": q(0.99), "max": values[-1],
            "mean": statistics.fmean(values)}

out["event_floor"] = pct(floor_ms)
out["event_rescore"] = pct(rescore_ms) | {"grade_changes": rises}
out["event_record"] = pct(record_ms)
out["facts"] = RiskFact.objects.count()
out["held"] = len(ids)
print("RESULT" + json.dumps(out))
"""


def run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"failed: {' '.join(args)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def held_count(db_url: str) -> int:
    try:
        with psycopg.connect(db_url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM custody_detainee WHERE status = ANY(%s)", [list(HELD)]
            ).fetchone()
            return int(row[0]) if row else 0
    except psycopg.Error:
        return 0


def seed(db_url: str, facilities: int, env: dict[str, str]) -> None:
    jg = str(BIN / "jianguan")
    name = db_url.rsplit("/", 1)[1]
    admin = db_url.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
    subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True)
    run([jg, "migrate", "-v0"], env)
    run([jg, "codes", "load"], env)
    started = time.perf_counter()
    args = ["seed", "--seed", "1", "--facilities", str(facilities)]
    args += ["--detainees-per-facility", "334", "--no-accounts", "--quiet"]
    print(run([jg, *args], env).strip()[-200:])
    print(f"seeded in {time.perf_counter() - started:.0f} s")


def add_facts(db_url: str) -> int:
    """Recent dynamic facts for FACT_SHARE of the people held (the same ones on every run)."""
    rng = random.Random(1)
    now = dt.datetime.now(dt.UTC)
    kinds = [(k, label) for k, label, _ in FACT_KINDS]
    weights = [w for _, _, w in FACT_KINDS]
    with psycopg.connect(db_url) as conn:
        conn.execute("DELETE FROM risk_riskfact WHERE recorded_by LIKE 'bench%'")
        people = conn.execute(
            "SELECT id, unit_id, cell_id FROM custody_detainee WHERE status = ANY(%s) ORDER BY id",
            [list(HELD)],
        ).fetchall()
        rows = []
        for person, unit, cell in people:
            if rng.random() >= FACT_SHARE:
                continue
            for (kind, label), days in zip(
                rng.choices(kinds, weights, k=rng.randint(1, 4)),
                (rng.random() * FACT_DAYS for _ in range(4)),
                strict=False,
            ):
                at = now - dt.timedelta(days=days)
                rows.append((uuid7(), unit, person, cell, kind, label, at, now, "bench"))
        columns = "id, unit_id, detainee_id, cell_id, kind, label, at, recorded_at, recorded_by"
        with conn.cursor().copy(
            f"COPY risk_riskfact ({columns}, source_ref, link, note) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row((*row, "", "", ""))
        conn.execute("ANALYZE risk_riskfact")
    return len(rows)


def load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", default=DEFAULT_DB)
    parser.add_argument("--facilities", type=int, default=6000)
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--reseed", action="store_true", help="build the database again")
    opts = parser.parse_args()
    env = {
        **os.environ,
        "JIANGUAN_DATABASE_URL": opts.db_url,
        "JIANGUAN_VAR_DIR": str(ROOT / "var" / "bench"),
    }
    # Reuse a seeded database of about the asked size: seeding takes most of an hour.
    wanted = opts.facilities * 334 * 0.45
    if opts.reseed or held_count(opts.db_url) < wanted:
        seed(opts.db_url, opts.facilities, env)
    print(f"{add_facts(opts.db_url):,} bench facts written")
    subprocess.run(["psql", opts.db_url, "-qc", "VACUUM ANALYZE"], check=True)
    started_load = load()
    code = MEASURE.replace("__EVENTS__", str(opts.events))
    out = run([str(BIN / "jianguan"), "shell", "-c", code], env)
    result = json.loads(out.split("RESULT", 1)[1])
    result["load_before"], result["load_after"] = started_load, load()
    report(result)
    RESULTS.mkdir(exist_ok=True)
    result["machine"] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    (RESULTS / "risk_rescore.json").write_text(json.dumps(result, indent=2))


def report(r: dict[str, object]) -> None:
    def row(label: str, key: str, floor: str) -> str:
        p = r[key]
        assert isinstance(p, dict)
        f = r[floor]
        assert isinstance(f, dict)
        w = p.get("written", {})
        wrote = f"{w.get('scores', 0):>+10,}{w.get('cells', 0):>+9,}{w.get('changes', 0):>+11,}"
        wrote += f"{w.get('tasks', 0):>+7,}"
        return (
            f"{label:34}{p['seconds']:9.1f}{p['people'] / p['seconds']:11,.0f}"
            f"{p['seconds'] / f['seconds']:9.2f}   {wrote}"
        )

    print()
    head = f"{'full re-score':34}{'seconds':>9}{'people/s':>11}{'× floor':>9}   "
    print(head + f"{'scores':>10}{'cells':>9}{'history':>11}{'tasks':>7}")
    print(row("floor: read, nothing stored", "floor_empty", "floor_empty"))
    print(row("compute: read + score", "compute_empty", "floor_empty"))
    print(row("first scoring (all new)", "first", "floor_empty"))
    print(row("floor: read, scores stored", "floor_scored", "floor_scored"))
    print(row("compute: read + score", "compute_scored", "floor_scored"))
    print(row("after a new model version", "model", "floor_scored"))
    print(row("an hour later (facts fade)", "hourly", "floor_scored"))
    print()
    print(f"{'one event':34}{'n':>6}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for label, key in (
        ("floor: read person, scores, facts", "event_floor"),
        ("rescore_person after a new fact", "event_rescore"),
        ("fact_record: fact + audit + rescore", "event_record"),
    ):
        p = r[key]
        assert isinstance(p, dict)
        print(f"{label:34}{p['n']:6}{p['p50']:9.2f}{p['p99']:9.2f}{p['max']:9.2f}")
    print()
    print(
        f"{r['held']:,} held, {r['facts']:,} facts; load average {r['load_before']} before, "
        f"{r['load_after']} after"
    )


if __name__ == "__main__":
    main()
