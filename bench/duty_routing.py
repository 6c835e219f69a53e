"""Records routed into tasks per second on PostgreSQL, beside a bare durable insert.

All in one run on one freshly seeded PostgreSQL database (`jianguan seed --seed 1`), with the
same number of concurrent clients for every pass:

* routed — each client calls the real service `jianguan.duty.api.info_record(...)` for
           异常行为 (PATROL_ABNORMAL_BEHAVIOUR, which becomes a task for 管教) about a held
           person of 广州市第一看守所, as the 巡控 officer `xunkong`. One record writes the record,
           a task, two task steps, three audit entries (one hash chain: its head row stays
           locked from the first entry to the commit) and three outbox events;
* insert — the floor: one row as wide as a record (a table made `LIKE duty_inforecord`, with
           a primary key and nothing else) per transaction, by raw SQL through the same
           Django connection: the cost of one durable commit;
* locked — the serialisation floor: the same insert plus `SELECT … FOR UPDATE` and `UPDATE`
           of one shared row in the transaction, as the audit chain's head is taken.

Clients are processes by default (each has its own interpreter, so they do not share a GIL);
`--mode threads` runs them as threads of one process instead. Afterwards one client records
`--breakdown` more in-process with every SQL statement, the commit and the after-commit hooks
timed, to show where a record's time goes and how long the chain head stays locked.

With `--redis-url` (the default, as production runs) the after-commit wake-ups go to RedisHuey
and the live bell to Redis pub/sub; that Redis database is emptied before and after. Prints a
table and writes bench/results/duty_routing.json. Usage:

    .venv/bin/python bench/duty_routing.py [--clients 1,2,4] [--seconds 8] [--mode processes]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import platform
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "results"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/jianguan_bench_routing"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
OFFICER = "xunkong"  # 巡控, 广州市第一看守所 (a demo account of the seed)
CATEGORY = "PATROL_ABNORMAL_BEHAVIOUR"  # 异常行为: becomes a HIGH task for 管教
TEXT = "凌晨2时在监室内来回走动，情绪激动，已口头制止"
WARM_UP = 5  # calls per client before the clock starts (connections, caches, prepared plans)

INSERT_SQL = (
    "INSERT INTO bench_record (id, unit_id, category, category_name, post_kind, recorded_by_id,"
    " recorded_at, detainee_id, cell_id, text, urgency, pack_version)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
LOCK_SQL = "SELECT n FROM bench_head WHERE id = 1 FOR UPDATE"
BUMP_SQL = "UPDATE bench_head SET n = n + 1 WHERE id = 1"


# --- preparing the database ----------------------------------------------------------------


def run(cmd: list[str]) -> str:
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare(db_url: str) -> None:
    """Drop and recreate the database, migrate, load codes, seed, analyze, add the floor tables."""
    base, name = db_url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    jg = str(BIN / "jianguan")
    run([jg, "migrate", "--noinput", "-v0"])
    run([jg, "codes", "load"])
    run([jg, "seed", "--seed", "1", "--quiet"])
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # planner statistics, as autovacuum would leave them
        conn.execute("CREATE TABLE bench_record (LIKE duty_inforecord INCLUDING DEFAULTS)")
        conn.execute("ALTER TABLE bench_record ADD PRIMARY KEY (id)")
        conn.execute("CREATE TABLE bench_head (id int PRIMARY KEY, n bigint NOT NULL)")
        conn.execute("INSERT INTO bench_head VALUES (1, 0)")


def drop(db_url: str) -> None:
    base, name = db_url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_flush(url: str) -> None:
    if url:
        import redis

        redis.Redis.from_url(url).flushdb()


# --- the clients -----------------------------------------------------------------------------


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jianguan.settings")
    import django

    django.setup()


def _operation(kind: str) -> Callable[[int], None]:
    """One call of the pass `kind`; the argument spreads records over the held people."""
    from django.db import connection, transaction

    from jianguan.custody.models import HELD_STATUSES, Detainee
    from jianguan.duty.api import info_record
    from jianguan.org.models import User

    user = User.objects.select_related("unit").get(username=OFFICER)
    held = list(
        Detainee.objects.filter(unit=user.unit, status__in=HELD_STATUSES)
        .order_by("id")
        .values_list("id", "cell_id")
    )

    if kind == "routed":

        def routed(i: int) -> None:
            info_record(
                user=user,
                category=CATEGORY,
                text=TEXT,
                detainee_id=held[i % len(held)][0],
                address="127.0.0.1",
            )

        return routed

    def insert(i: int) -> None:
        detainee_id, cell_id = held[i % len(held)]
        params = (
            uuid.uuid4(),
            user.unit_id,
            CATEGORY,
            "异常行为",
            "PATROL",
            user.id,
            dt.datetime.now(dt.UTC),
            detainee_id,
            cell_id,
            TEXT,
            "HIGH",
            "builtin",
        )
        with transaction.atomic(), connection.cursor() as cursor:
            if kind == "locked":
                cursor.execute(LOCK_SQL)
            cursor.execute(INSERT_SQL, params)
            if kind == "locked":
                cursor.execute(BUMP_SQL)

    return insert


def client(kind: str, index: int, start_at: float, seconds: float) -> dict[str, Any]:
    """Warm up, wait for the common start, then call for `seconds`; per-call latencies in ms."""
    from django.db import connection

    op = _operation(kind)
    base = index * 1_000_003
    for i in range(WARM_UP):
        op(base + i)
    latencies: list[float] = []
    time.sleep(max(0.0, start_at - time.time()))
    end = start_at + seconds
    i = WARM_UP
    while time.time() < end:
        began = time.perf_counter()
        op(base + i)
        latencies.append((time.perf_counter() - began) * 1000)
        i += 1
    finished = time.time()
    connection.close()
    return {"calls": WARM_UP + len(latencies), "latencies": latencies, "finished": finished}


def _process_client(kind: str, index: int, start_at: float, seconds: float) -> dict[str, Any]:
    _django()
    return client(kind, index, start_at, seconds)


def run_pass(kind: str, clients: int, seconds: float, mode: str) -> dict[str, Any]:
    """`clients` concurrent clients of `kind` for `seconds`; records/s and latency percentiles."""
    start_at = time.time() + 3.0 + 0.3 * clients  # time for every client to start and warm up
    if mode == "processes":
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(clients) as pool:
            parts = pool.starmap(
                _process_client, [(kind, i, start_at, seconds) for i in range(clients)]
            )
    else:
        parts = [{} for _ in range(clients)]

        def work(i: int) -> None:
            parts[i] = client(kind, i, start_at, seconds)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    times = sorted(t for p in parts for t in p["latencies"])
    elapsed = max(p["finished"] for p in parts) - start_at
    return {
        "clients": clients,
        "count": len(times),
        "calls": sum(p["calls"] for p in parts),
        "seconds": round(elapsed, 3),
        "per_s": round(len(times) / elapsed, 1),
        "p50_ms": round(percentile(times, 0.50), 2),
        "p99_ms": round(percentile(times, 0.99), 2),
    }


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


# --- where a record's time goes ------------------------------------------------------------

TABLE = re.compile(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)


def _label(sql: str) -> str:
    verb = sql.split(None, 1)[0].upper()
    if verb in {"BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK"}:
        return "BEGIN, SAVEPOINT, RELEASE"
    found = TABLE.search(sql)
    table = found.group(1) if found else "?"
    if table == "audit_auditchainhead" and verb == "SELECT":
        return "SELECT audit_auditchainhead FOR UPDATE"
    return f"{verb} {table}"


@contextmanager
def timed_parts(acc: dict[str, list[float]], held: list[float]) -> Iterator[None]:
    """Time every statement, the commit and the after-commit hooks of the default connection;
    also how long each transaction holds the audit chain's head (first lock → commit done)."""
    from django.db import connection as default

    connection: Any = default  # wrapped below on this instance only, put back afterwards

    locked_since: list[float] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        label = _label(sql)
        if label.startswith("SELECT audit_auditchainhead") and not locked_since:
            locked_since.append(began)
        try:
            return execute(sql, params, many, context)
        finally:
            acc[label].append(time.perf_counter() - began)

    commit, hooks = connection._commit, connection.run_and_clear_commit_hooks

    def timed_commit() -> None:
        began = time.perf_counter()
        commit()
        done = time.perf_counter()
        acc["COMMIT (durable)"].append(done - began)
        if locked_since:
            held.append(done - locked_since.pop())

    def timed_hooks() -> None:
        began = time.perf_counter()
        hooks()
        acc["after commit: queue wake-ups + live bell"].append(time.perf_counter() - began)

    connection._commit = timed_commit
    connection.run_and_clear_commit_hooks = timed_hooks
    try:
        with connection.execute_wrapper(wrapper):
            yield
    finally:
        del connection._commit, connection.run_and_clear_commit_hooks


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process on this machine (the PostgreSQL backend serving us)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def breakdown(records: int) -> dict[str, Any]:
    """One client records `records` in-process with every part timed (ms per record)."""
    from django.db import connection

    op = _operation("routed")
    for i in range(WARM_UP):
        op(i)
    acc: dict[str, list[float]] = defaultdict(list)
    held: list[float] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    server_cpu = _cpu_seconds(backend)
    client_cpu = time.process_time()
    began = time.perf_counter()
    with timed_parts(acc, held):
        for i in range(records):
            op(WARM_UP + i)
    total = time.perf_counter() - began
    client_cpu = time.process_time() - client_cpu
    server_cpu = _cpu_seconds(backend) - server_cpu
    connection.close()
    parts = {
        label: {"ms": round(sum(ts) / records * 1000, 3), "per_record": round(len(ts) / records, 2)}
        for label, ts in sorted(acc.items(), key=lambda kv: -sum(kv[1]))
    }
    measured = sum(sum(ts) for ts in acc.values())
    held.sort()
    return {
        "records": records,
        "ms_per_record": round(total / records * 1000, 3),
        "parts": parts,
        "python_ms": round((total - measured) / records * 1000, 3),
        "statements_per_record": round(
            sum(len(ts) for label, ts in acc.items() if label[0].isupper()) / records, 2
        ),
        "client_cpu_ms": round(client_cpu / records * 1000, 3),
        "server_cpu_ms": round(server_cpu / records * 1000, 3),
        "head_locked_ms_p50": round(percentile(held, 0.5) * 1000, 3),
        "head_locked_ms_mean": round(sum(held) / len(held) * 1000, 3),
    }


def written(calls: int, before: dict[str, int] | None = None) -> dict[str, int]:
    """Rows of the kinds a routed record writes, less those counted `before` (the seed's)."""
    from jianguan.audit.models import AuditEntry
    from jianguan.duty.models import InfoRecord, Task, TaskStep
    from jianguan.outbox.models import Event

    now = {
        "records": InfoRecord.objects.count(),
        "tasks": Task.objects.filter(record__isnull=False).count(),
        "steps": TaskStep.objects.count(),
        "audit_entries": AuditEntry.objects.filter(action__startswith="duty.").count(),
        "events": Event.objects.filter(type__startswith="duty.").count(),
    }
    return {"calls": calls} | {k: v - (before or {}).get(k, 0) for k, v in now.items()}


# --- the report ----------------------------------------------------------------------------


def machine(db_url: str) -> dict[str, Any]:
    import django

    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    with psycopg.connect(db_url.rsplit("/", 1)[0] + "/postgres") as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": row[0] if row else "?",
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db-url", default=DEFAULT_DB, help="dropped and recreated")
    parser.add_argument(
        "--redis-url",
        default=DEFAULT_REDIS,
        help="Redis for the queue and the bell (emptied before and after); '' for none",
    )
    parser.add_argument(
        "--clients", default="1,2,4", help="concurrent clients, a comma-separated list"
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each pass")
    parser.add_argument("--mode", choices=("processes", "threads"), default="processes")
    parser.add_argument("--breakdown", type=int, default=300, help="records timed part by part")
    parser.add_argument("--keep-db", action="store_true", help="leave the database behind")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",") if c.strip()]

    for key in [k for k in os.environ if k.startswith(("JIANGUAN_", "DJANGO_"))]:
        del os.environ[key]
    var = RESULTS / "var-routing"
    (var / "static").mkdir(parents=True, exist_ok=True)
    os.environ |= {
        "JIANGUAN_DATABASE_URL": args.db_url,
        "JIANGUAN_VAR_DIR": str(var),
        "JIANGUAN_REDIS_URL": args.redis_url,
        "DJANGO_SETTINGS_MODULE": "jianguan.settings",
    }
    facts = machine(args.db_url)
    print(f"preparing {args.db_url} …", flush=True)
    redis_flush(args.redis_url)
    prepare(args.db_url)
    _django()
    passes: list[dict[str, Any]] = []
    try:
        seeded = written(0)
        calls = 0
        for n in counts:
            for kind in ("insert", "locked", "routed"):
                print(f"{kind}: {n} {args.mode} for {args.seconds:g} s …", flush=True)
                result = run_pass(kind, n, args.seconds, args.mode) | {"kind": kind}
                passes.append(result)
                calls += result["calls"] if kind == "routed" else 0
        check = written(calls, seeded)
        print(f"breakdown: {args.breakdown} records, one client, every part timed …", flush=True)
        parts = breakdown(args.breakdown)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            drop(args.db_url)
        redis_flush(args.redis_url)

    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["bench/duty_routing.py", *sys.argv[1:]]),
        "machine": facts,
        "mode": args.mode,
        "redis": bool(args.redis_url),
        "passes": passes,
        "written": check,
        "breakdown": parts,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "duty_routing.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")

    print(f"\nmachine: {facts}")
    print(f"clients are {args.mode}; Redis {'on' if args.redis_url else 'off (SqliteHuey)'}\n")
    print(f"{'':34}{'clients':>8}{'per s':>10}{'p50 ms':>9}{'p99 ms':>9}{'of insert':>11}")
    labels = {
        "routed": "routed: info_record → task",
        "insert": "insert: 1 row, durable commit",
        "locked": "locked: + shared head row",
    }
    for n in counts:
        floor = next(p for p in passes if p["clients"] == n and p["kind"] == "insert")
        for kind in ("routed", "insert", "locked"):
            p = next(p for p in passes if p["clients"] == n and p["kind"] == kind)
            print(
                f"{labels[kind]:34}{n:8}{p['per_s']:10.1f}{p['p50_ms']:9.2f}{p['p99_ms']:9.2f}"
                f"{p['per_s'] / floor['per_s']:11.1%}"
            )
    ok = (
        check["records"] == check["tasks"] == check["calls"]
        and check["steps"] == 2 * check["calls"]
        and check["events"] == check["audit_entries"] == 3 * check["calls"]
    )
    print(f"\nwritten by the routed passes: {check} — {'complete' if ok else 'INCOMPLETE'}")
    print(
        f"\none record, one client: {parts['ms_per_record']:.2f} ms, "
        f"{parts['statements_per_record']:.0f} statements; "
        f"chain head locked {parts['head_locked_ms_p50']:.2f} ms (p50)"
    )
    print(
        f"  CPU per record: {parts['client_cpu_ms']:.2f} ms in the client process, "
        f"{parts['server_cpu_ms']:.2f} ms in its PostgreSQL backend"
    )
    for label, part in parts["parts"].items():
        print(f"  {label:44}{part['ms']:8.3f} ms  ×{part['per_record']:g}")
    print(f"  {'Python (ORM, services, hashing, JSON)':44}{parts['python_ms']:8.3f} ms")
    print(f"\nwritten: {out.relative_to(ROOT)}")
    if not ok:
        sys.exit("the routed passes did not write everything they should have")


if __name__ == "__main__":
    main()
