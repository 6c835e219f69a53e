"""Requests/s of the authenticated, paged detainee list beside the floors it cannot beat.

Measured whole-process, all in one run on one machine:

* real  — GET /api/v1/detainees?page=1&page_size=50&status=HELD with a Bearer token, served by
          gunicorn (2 sync workers) from a PostgreSQL database seeded by `jianguan seed --seed 1`;
* bare  — a bare Django project (bench/bare: no middleware, no database) whose one view returns
          a fixed JsonResponse of 50 rows of the same shape, served by the same gunicorn command;
* sql   — the endpoint's own count and page SELECTs (captured from Django), replayed with raw
          psycopg by as many processes as gunicorn has workers, fetching every row;
* commit — as many processes each committing (autocommit, fsync) an UPDATE of one shared row:
          the most appends/s a chain whose head row is locked until commit can take.

wrk (Debian package `wrk`) drives both servers with the same threads, connections and duration.
Prints a table and writes bench/results/api_list.json. Usage:

    .venv/bin/python bench/api_list.py [--db-url URL] [--duration 10] [--connections 32]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import json
import multiprocessing
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "results"
API_PATH = "/api/v1/detainees?page=1&page_size=50&status=HELD"
BARE_PATH = "/page"
WORKERS = 2
# One durable commit updating one shared row: the ceiling of the audit chain's locked head.
COMMIT_SQL = "UPDATE bench_commit SET n = n + 1 WHERE id = 1"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/jianguan_bench"

# Run inside `jianguan shell`: issue the token, then capture the SQL of one real request.
TOKEN_SNIPPET = f"""
import json
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from jianguan.core.actor import Actor
from jianguan.org.api import api_token_issue
from jianguan.org.models import User
token = api_token_issue(
    actor=Actor.system("bench"), user=User.objects.get(username="guanjiao"), name="bench"
)
with CaptureQueriesContext(connection) as ctx:
    r = Client().get({API_PATH!r}, SERVER_NAME="127.0.0.1", headers={{"authorization": f"Bearer {{token}}"}})
body = r.json()
print(json.dumps({{"token": token, "status": r.status_code, "count": body.get("count"),
    "items": len(body.get("items", [])), "queries": [q["sql"] for q in ctx.captured_queries]}}))
"""


def run(cmd: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare(db_url: str, env: dict[str, str]) -> dict[str, Any]:
    """Drop and recreate the database, migrate, load codes, seed, analyze, issue a token."""
    base, name = db_url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    jg = str(BIN / "jianguan")
    run([jg, "migrate", "--noinput", "-v0"], env)
    run([jg, "codes", "load"], env)
    run([jg, "seed", "--seed", "1"], env)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # planner statistics, as autovacuum would leave them
        conn.execute("CREATE TABLE bench_commit (id int PRIMARY KEY, n int NOT NULL)")
        conn.execute("INSERT INTO bench_commit VALUES (1, 0)")
    out = json.loads(run([jg, "shell", "-v0", "-c", TOKEN_SNIPPET], env).strip().splitlines()[-1])
    if out["status"] != 200 or not out["items"]:
        sys.exit(
            f"the endpoint answered {out['status']} with {out['items']} rows; nothing to bench"
        )
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def gunicorn(app: str, env: dict[str, str], cwd: Path, probe: str, token: str) -> Iterator[str]:
    """Serve app on a free port with WORKERS sync workers; yield its base URL; always stop it."""
    port = free_port()
    cmd = [str(BIN / "gunicorn"), app, "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}"]
    proc = subprocess.Popen([*cmd, "--log-level", "warning"], env=env, cwd=cwd)
    url = f"http://127.0.0.1:{port}"
    try:
        headers = {"Authorization": f"Bearer {token}"}
        request = urllib.request.Request(url + probe, headers=headers)  # noqa: S310
        for _ in range(100):
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(request, timeout=5) as response,  # noqa: S310
            ):
                if response.status == 200:
                    break
            if proc.poll() is not None:
                sys.exit(f"gunicorn {app} exited with {proc.returncode}")
            time.sleep(0.2)
        else:
            sys.exit(f"gunicorn {app} never answered {probe}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, token: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
    cmd += ["-H", f"Authorization: Bearer {token}", url]
    subprocess.run([*cmd[:3], "-d2s", *cmd[5:]], capture_output=True, check=True)  # warm-up
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),  # type: ignore[union-attr]
        "p99_ms": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),  # type: ignore[union-attr]
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def _sql_worker(db_url: str, queries: list[str], seconds: float) -> tuple[int, list[float]]:
    loops, times = 0, []
    with psycopg.connect(db_url, autocommit=True) as conn:
        end = time.perf_counter() + seconds
        while (start := time.perf_counter()) < end:
            for sql in queries:
                cur = conn.execute(sql.encode())
                if cur.description:
                    cur.fetchall()
            times.append((time.perf_counter() - start) * 1000)
            loops += 1
    return loops, times


def sql_floor(db_url: str, queries: list[str], seconds: float) -> dict[str, Any]:
    """The endpoint's SELECTs on custody_detainee, replayed by WORKERS processes for seconds."""
    with multiprocessing.Pool(WORKERS) as pool:
        parts = pool.starmap(_sql_worker, [(db_url, queries, seconds)] * WORKERS)
    times = sorted(t for _, ts in parts for t in ts)
    return {
        "rps": sum(n for n, _ in parts) / seconds,
        "p50_ms": round(times[len(times) // 2], 3),
        "p99_ms": round(times[int(len(times) * 0.99)], 3),
        "queries": len(queries),
    }


def machine() -> dict[str, Any]:
    import django

    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": importlib.metadata.version("gunicorn"),
        "wrk": wrk_version[1] if len(wrk_version) > 1 else "?",
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", default=DEFAULT_DB)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: install it with `apt-get install -y wrk` (Debian package)")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIANGUAN_", "DJANGO_"))}
    env |= {"JIANGUAN_DATABASE_URL": args.db_url, "JIANGUAN_VAR_DIR": str(RESULTS / "var")}
    (RESULTS / "var" / "static").mkdir(parents=True, exist_ok=True)  # whitenoise wants it
    facts = machine()
    print(f"preparing {args.db_url} …", flush=True)
    prepared = prepare(args.db_url, env)
    token = prepared["token"]
    detainee_sql = [q for q in prepared["queries"] if 'FROM "custody_detainee"' in q]

    results: dict[str, dict[str, Any]] = {}
    with gunicorn("jianguan.wsgi:application", env, ROOT, API_PATH, token) as url:
        results["real"] = wrk(url + API_PATH, token, args)
    bare_env = env | {"DJANGO_SETTINGS_MODULE": "bare.settings"}
    with gunicorn("bare.wsgi:application", bare_env, ROOT / "bench", BARE_PATH, token) as url:
        results["bare"] = wrk(url + BARE_PATH, token, args)
    results["sql"] = sql_floor(args.db_url, detainee_sql, args.duration)
    results["commit"] = sql_floor(args.db_url, [COMMIT_SQL], args.duration)

    ratio = results["real"]["rps"] / results["bare"]["rps"]
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["bench/api_list.py", *sys.argv[1:]]),
        "machine": facts,
        "wrk": {
            "threads": args.threads,
            "connections": args.connections,
            "duration_s": args.duration,
        },
        "gunicorn_workers": WORKERS,
        "rows_matching": prepared["count"],
        "queries_per_request": len(prepared["queries"]),
        "results": results,
        "ratio_real_to_bare": round(ratio, 4),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "api_list.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")

    print(f"\nmachine: {report['machine']}")
    print(
        f"rows matching: {prepared['count']}, SQL queries per request: {len(prepared['queries'])}"
    )
    print(f"\n{'':28}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
    labels = {
        "real": "real: GET /api/v1/detainees",
        "bare": "bare: Django JsonResponse",
        "sql": f"sql: {len(detainee_sql)} SELECTs, psycopg",
        "commit": "commit: 1 row, serialised",
    }
    for key, label in labels.items():
        r = results[key]
        print(f"{label:28}{r['rps']:12.1f}{r['p50_ms']:10.2f}{r['p99_ms']:10.2f}")
    for key in ("real", "bare"):
        if results[key]["non_2xx"] or results[key]["socket_errors"]:
            print(
                f"warning: {key}: {results[key]['non_2xx']} non-2xx, {results[key]['socket_errors']}"
            )
    print(f"\nratio real/bare: {ratio:.1%} (aim ≥ 30%)")
    print(f"written: {(RESULTS / 'api_list.json').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
