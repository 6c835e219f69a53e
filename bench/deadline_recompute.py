"""Recomputing every held person's deadlines after a rule-pack change, beside reading the same rows.

All in one run on one PostgreSQL database seeded at national scale
(`jianguan seed --facilities N --detainees-per-facility 334 --no-accounts`):

* read     — the recompute's own reads, batch by batch (people by id, then their legal events),
             with nothing computed or written: the floor a recompute cannot beat;
* compute  — the same reads plus the deadline engine run on every person, nothing written;
* full     — `deadlines_recompute_all()`: reads, computes and replaces every stored clock
             (what publishing a deadlines rule pack triggers).

Prints a table and writes bench/results/deadline_recompute.json. Usage:

    .venv/bin/python bench/deadline_recompute.py [--facilities 5400] [--skip-seed]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "results"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/jianguan_bench_deadlines"

MEASURE = r"""
import json, time, uuid
from collections import defaultdict
from jianguan.custody.deadlines import LegalFact, Person, compute
from jianguan.custody.legal import deadline_pack
from jianguan.custody.models import HELD_STATUSES, Detainee, LegalEvent, Deadline
from jianguan.custody.recompute import deadlines_recompute_all

BATCH = 2000
people = Detainee.objects.filter(status__in=HELD_STATUSES).order_by("id").values_list(
    "id", "unit_id", "unit__path", "legal_measure", "admitted_at")

def walk(run_engine):
    packs, after, n, clocks = {}, None, 0, 0
    while True:
        page = list((people.filter(id__gt=after) if after else people)[:BATCH])
        if not page:
            return n, clocks
        after = page[-1][0]
        facts = defaultdict(list)
        for d, i, k, at, ap, params in (LegalEvent.objects.filter(
                detainee_id__in=[r[0] for r in page]).order_by("detainee_id", "at", "id")
                .values_list("detainee_id", "id", "kind", "at", "approval", "params")):
            facts[d].append(LegalFact(str(i), k, at, ap, params))
        if run_engine:
            for d, unit_id, path, measure, admitted in page:
                live = packs.get(path) or packs.setdefault(path, deadline_pack(path))
                clocks += len(compute(Person(measure, admitted), facts[d], live.pack))
        n += len(page)

out = {}
for name, fn in (("read", lambda: walk(False)), ("compute", lambda: walk(True)),
                 ("full", lambda: (deadlines_recompute_all(), 0))):
    t = time.perf_counter()
    n, clocks = fn()
    out[name] = {"seconds": time.perf_counter() - t, "people": n, "clocks": clocks}
out["stored_clocks"] = Deadline.objects.count()
out["legal_events"] = LegalEvent.objects.count()
print("RESULT" + json.dumps(out))
"""


def run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, env=env, check=True, capture_output=True, text=True)
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", default=DEFAULT_DB)
    parser.add_argument("--facilities", type=int, default=5400)
    parser.add_argument("--skip-seed", action="store_true", help="reuse the seeded database")
    opts = parser.parse_args()
    env = {
        **os.environ,
        "JIANGUAN_DATABASE_URL": opts.db_url,
        "JIANGUAN_VAR_DIR": str(ROOT / "var" / "bench"),
    }
    jg = str(BIN / "jianguan")
    if not opts.skip_seed:
        name = opts.db_url.rsplit("/", 1)[1]
        admin = opts.db_url.rsplit("/", 1)[0] + "/postgres"
        subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True)
        run([jg, "migrate", "-v0"], env)
        run([jg, "codes", "load"], env)
        started = time.perf_counter()
        print(
            run(
                [
                    jg,
                    "seed",
                    "--seed",
                    "1",
                    "--facilities",
                    str(opts.facilities),
                    "--detainees-per-facility",
                    "334",
                    "--no-accounts",
                    "--quiet",
                ],
                env,
            ).strip()[-200:]
        )
        print(f"seeded in {time.perf_counter() - started:.0f} s")
        subprocess.run(["psql", opts.db_url, "-qc", "VACUUM ANALYZE"], check=True)
    out = run([jg, "shell", "-c", MEASURE], env)
    result = json.loads(out.split("RESULT", 1)[1])
    read, full = result["read"], result["full"]
    people = full["people"]
    print(f"{'':10}{'seconds':>10}{'people/s':>12}{'× read':>9}")
    for name in ("read", "compute", "full"):
        r = result[name]
        print(
            f"{name:10}{r['seconds']:10.1f}{r['people'] / r['seconds']:12,.0f}"
            f"{r['seconds'] / read['seconds']:9.2f}"
        )
    print(
        f"{people:,} held people, {result['legal_events']:,} legal events, "
        f"{result['stored_clocks']:,} clocks stored"
    )
    RESULTS.mkdir(exist_ok=True)
    result["machine"] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    (RESULTS / "deadline_recompute.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
