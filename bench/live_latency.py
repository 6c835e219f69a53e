"""Time from a record's commit to its message on a subscribed live screen, at a steady rate.

All in one run on one freshly seeded PostgreSQL database (`jianguan seed --seed 1`):

* floor    — the producers insert one row per transaction (raw SQL, a table as wide as a
             record) and PUBLISH its id on Redis at the same pace; a bare Redis subscriber
             notes when each arrives. What a commit and the bell alone cost;
* redis    — the real server as production runs it (gunicorn, gthread, 2 workers × 16
             threads, the huey worker beside it, JIANGUAN_REDIS_URL set) and one subscriber:
             the 管教 officer `guanjiao` logs in through the login form and holds
             `/live/events/` open over plain HTTP. `--producers` processes call the real
             service `info_record(...)` as the 巡控 officer `xunkong` of the same facility,
             each paced at its share of `--rate` records/s and offset from the others, and note
             the time right after each call returns (committed, bell rung);
* embedded — the same without Redis: streams look for new events every 0.25 s.

Latency = when the subscriber read the record's `duty.info_recorded` message − when the
producer's call returned. Every message must arrive; the task's two messages are counted too.
Producers and subscriber are separate processes, so they do not share a GIL. The Redis
database given is emptied before and after. Prints a table and writes
bench/results/live_latency.json. Usage:

    .venv/bin/python bench/live_latency.py [--rate 100] [--seconds 30] [--modes redis,embedded]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import multiprocessing
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "results"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/jianguan_bench_live"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
PASSWORD = "jianguan-demo-2026"  # the seed's published demo password  # noqa: S105
PRODUCER = "xunkong"  # 巡控, 广州市第一看守所
SUBSCRIBER = "guanjiao"  # 管教, same facility, no second factor
CATEGORY = "PATROL_ABNORMAL_BEHAVIOUR"
TEXT = "凌晨2时在监室内来回走动，情绪激动，已口头制止"
FLOOR_CHANNEL = "bench:floor"
WARM_UP = 3  # calls per producer before the clock starts
START_AFTER = 6.0  # seconds for the producers to start, set Django up and warm up
DRAIN_SECONDS = 8.0  # after the last record: longer than the streams' 5 s re-read without a bell
INSERT_SQL = (
    "INSERT INTO bench_record (id, unit_id, category, category_name, post_kind, recorded_by_id,"
    " recorded_at, detainee_id, cell_id, text, urgency, pack_version)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


# --- database, server ------------------------------------------------------------------------


def run(cmd: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare(db_url: str, env: dict[str, str]) -> None:
    base, name = db_url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    jg = str(BIN / "jianguan")
    run([jg, "migrate", "--noinput", "-v0"], env)
    run([jg, "codes", "load"], env)
    run([jg, "seed", "--seed", "1", "--quiet"], env)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CREATE TABLE bench_record (LIKE duty_inforecord INCLUDING DEFAULTS)")
        conn.execute("ALTER TABLE bench_record ADD PRIMARY KEY (id)")


def drop(db_url: str) -> None:
    base, name = db_url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


SESSION: dict[str, Any] = {"start_new_session": True}  # one process group each, to stop


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    with contextlib.suppress(OSError):
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return []


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server started in its own session. gunicorn's workers would wait for open live
    streams to end (minutes), so those left after a second are killed while their master is
    still there to reap them; the master then exits on its own."""
    proc.send_signal(signal.SIGQUIT if "gunicorn" in str(proc.args) else signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=1)
    for child in _children(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.contextmanager
def server(env: dict[str, str], *, worker: bool) -> Iterator[int]:
    """gunicorn as scripts/serve.sh starts it (and the huey worker); yield its port."""
    port = free_port()
    cmd = [str(BIN / "gunicorn"), "jianguan.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    cmd += ["--workers", "2", "--worker-class", "gthread", "--threads", "16"]
    procs = [subprocess.Popen([*cmd, "--log-level", "warning"], env=env, cwd=ROOT, **SESSION)]
    if worker:
        jg = str(BIN / "jianguan")
        procs.append(subprocess.Popen([jg, "run_huey", "--quiet"], env=env, cwd=ROOT, **SESSION))
    try:
        for _ in range(150):
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/login/")
                if conn.getresponse().status == 200:
                    break
            if procs[0].poll() is not None:
                sys.exit(f"gunicorn exited with {procs[0].returncode}")
            time.sleep(0.2)
        else:
            sys.exit("gunicorn never answered /login/")
        yield port
    finally:
        for proc in reversed(procs):
            _stop(proc)


# --- the subscriber: the login form, then /live/events/ --------------------------------------


def login(port: int, username: str) -> str:
    """Log in through the form as a browser does; return the session cookie header."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/login/")
    page = conn.getresponse()
    body = page.read().decode()
    jar = SimpleCookie()
    for header in page.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if found is None or "csrftoken" not in jar:
        sys.exit("the login page has no CSRF token")
    form = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": found.group(1)}
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={jar['csrftoken'].value}",
    }
    conn.request("POST", "/login/", body=urlencode(form), headers=headers)
    done = conn.getresponse()
    done.read()
    for header in done.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    if done.status != 302 or "sessionid" not in jar:
        sys.exit(f"login as {username} failed ({done.status})")
    return f"sessionid={jar['sessionid'].value}"


class Screen(threading.Thread):
    """One live screen's stream: notes when each message arrives; reconnects like a browser."""

    def __init__(self, port: int, cookie: str) -> None:
        super().__init__(daemon=True)
        self.port, self.cookie = port, cookie
        self.received: dict[str, tuple[float, dict[str, Any]]] = {}  # event id → (when, data)
        self.connected = threading.Event()
        self.stopping = False
        self.last_id = ""
        self.reconnects = 0

    def run(self) -> None:
        while not self.stopping:
            headers = {"Cookie": self.cookie, "Accept": "text/event-stream"}
            if self.last_id:
                headers["Last-Event-ID"] = self.last_id
                self.reconnects += 1
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                conn.request("GET", "/live/events/", headers=headers)
                response = conn.getresponse()
                if response.status != 200:
                    sys.exit(f"/live/events/ answered {response.status}")
                self._read(response)
            except OSError:
                if self.stopping:
                    return
                time.sleep(0.5)
            finally:
                conn.close()

    def _read(self, response: http.client.HTTPResponse) -> None:
        data = ""
        while not self.stopping:
            line = response.readline()
            now = time.time()
            if not line:
                return  # the server ended the stream: reconnect with Last-Event-ID
            text = line.decode().rstrip("\n")
            if text == ": connected":
                self.connected.set()
            elif text.startswith("data: "):
                data = text[6:]
            elif text == "" and data:
                message = json.loads(data)
                self.received.setdefault(message["id"], (now, message))
                self.last_id, data = message["id"], ""


# --- the producers ---------------------------------------------------------------------------


def _paced(rate: float, seconds: float, start_at: float, call: Any) -> dict[str, Any]:
    """Call at `rate` per second from `start_at` for `seconds`; note when each call returned."""
    sent: list[tuple[str, float]] = []
    late = 0
    count = round(rate * seconds)
    for i in range(count):
        due = start_at + i / rate
        wait = due - time.time()
        if wait > 0:
            time.sleep(wait)
        elif wait < -0.01:
            late += 1
        key = call(i)
        sent.append((key, time.time()))
    finished = time.time()
    return {"sent": sent, "late": late, "rate": round(count / (finished - start_at), 1), "warm": 0}


def _producer(kind: str, rate: float, seconds: float, start_at: float) -> dict[str, Any]:
    """A separate process: Django set up from the environment, then paced calls of `kind`."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jianguan.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    from jianguan.custody.models import HELD_STATUSES, Detainee
    from jianguan.duty.api import info_record
    from jianguan.org.models import User

    user = User.objects.select_related("unit").get(username=PRODUCER)
    held = list(
        Detainee.objects.filter(unit=user.unit, status__in=HELD_STATUSES)
        .order_by("id")
        .values_list("id", "cell_id")
    )
    bell = redis.Redis.from_url(os.environ["BENCH_FLOOR_REDIS"]) if kind == "floor" else None

    def record(i: int) -> str:
        done = info_record(
            user=user,
            category=CATEGORY,
            text=TEXT,
            detainee_id=held[i % len(held)][0],
            address="127.0.0.1",
        )
        return str(done.id)

    def floor(i: int) -> str:
        key = uuid.uuid4()
        detainee_id, cell_id = held[i % len(held)]
        now = dt.datetime.now(dt.UTC)
        params = [key, user.unit_id, CATEGORY, "异常行为", "PATROL", user.id, now, detainee_id]
        params += [cell_id, TEXT, "HIGH", "builtin"]  # as wide as a record
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(INSERT_SQL, params)
        assert bell is not None
        bell.publish(FLOOR_CHANNEL, str(key))
        return str(key)

    call = floor if kind == "floor" else record
    for i in range(WARM_UP):  # before the clock starts: connection, caches, prepared plans
        call(-1 - i)
    if time.time() > start_at:
        sys.exit("a producer was not ready at the start; raise START_AFTER")
    result = _paced(rate, seconds, start_at, call) | {"warm": WARM_UP}
    connection.close()
    return result


def produce(
    kind: str, rate: float, seconds: float, env: dict[str, str], producers: int
) -> dict[str, Any]:
    """`producers` spawned processes with `env` as their environment, each paced at
    rate/producers and offset from the others, so that together they call at `rate`."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    start_at = time.time() + START_AFTER
    jobs = [(kind, rate / producers, seconds, start_at + i / rate) for i in range(producers)]
    try:
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(producers) as pool:
            parts = pool.starmap(_producer, jobs)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    sent = sorted((x for p in parts for x in p["sent"]), key=lambda x: x[1])
    span = sent[-1][1] - start_at if sent else float("nan")
    return {
        "sent": sent,
        "late": sum(p["late"] for p in parts),
        "rate": round(len(sent) / span, 1),
        "warm": sum(p["warm"] for p in parts),
    }


def summary(sent: list[tuple[str, float]], got: dict[str, float]) -> dict[str, Any]:
    latencies = sorted((got[key] - at) * 1000 for key, at in sent if key in got)
    n = len(latencies)

    def pct(q: float) -> float:
        return round(latencies[min(n - 1, int(n * q))], 2) if n else float("nan")

    return {
        "sent": len(sent),
        "received": n,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1], 2) if n else float("nan"),
    }


def floor_pass(
    rate: float, seconds: float, env: dict[str, str], redis_url: str, producers: int
) -> dict[str, Any]:
    """Bare insert + PUBLISH, read by a bare subscriber in this process."""
    client = redis.Redis.from_url(redis_url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(FLOOR_CHANNEL)
    got: dict[str, float] = {}
    stop = threading.Event()

    def listen() -> None:
        while not stop.is_set():
            message = pubsub.get_message(timeout=0.5)
            if message:
                got[message["data"].decode()] = time.time()

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    produced = produce("floor", rate, seconds, env | {"BENCH_FLOOR_REDIS": redis_url}, producers)
    time.sleep(1.0)
    stop.set()
    listener.join()
    pubsub.close()
    return summary(produced["sent"], got) | {"rate": produced["rate"], "late": produced["late"]}


def live_pass(
    rate: float, seconds: float, env: dict[str, str], worker: bool, producers: int
) -> dict[str, Any]:
    """The real server, one logged-in screen, a paced producer of real records."""
    with server(env, worker=worker) as port:
        screen = Screen(port, login(port, SUBSCRIBER))
        screen.start()
        if not screen.connected.wait(15):
            sys.exit("the live stream never connected")
        produced = produce("record", rate, seconds, env, producers)
        sent_ids = {key for key, _ in produced["sent"]}
        deadline = time.time() + DRAIN_SECONDS
        while time.time() < deadline:
            about = {m["about_id"] for _, m in screen.received.values()}
            if sent_ids <= about:
                break
            time.sleep(0.2)
        screen.stopping = True
        received = dict(screen.received)
    by_record = {
        m["about_id"]: when for when, m in received.values() if m["type"] == "duty.info_recorded"
    }
    task_messages = sum(1 for _, m in received.values() if m["about"] == "task")
    return summary(produced["sent"], by_record) | {
        "rate": produced["rate"],
        "late": produced["late"],
        "warm": produced["warm"],
        "task_messages": task_messages,
        "messages": len(received),
        "reconnects": screen.reconnects,
    }


# --- the report ----------------------------------------------------------------------------


def machine(db_url: str, redis_url: str) -> dict[str, Any]:
    import django

    with psycopg.connect(db_url.rsplit("/", 1)[0] + "/postgres") as conn:
        row = conn.execute("SHOW server_version").fetchone()
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": row[0] if row else "?",
        "redis": redis.Redis.from_url(redis_url).info()["redis_version"],
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db-url", default=DEFAULT_DB, help="dropped and recreated")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="emptied before and after")
    parser.add_argument("--rate", type=float, default=100.0, help="records per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each pass")
    parser.add_argument(
        "--modes", default="redis,embedded", help="server modes to run: redis, embedded"
    )
    parser.add_argument(
        "--producers", type=int, default=4, help="producer processes sharing the rate"
    )
    parser.add_argument(
        "--no-worker", action="store_true", help="do not run the huey worker beside gunicorn"
    )
    parser.add_argument("--keep-db", action="store_true", help="leave the database behind")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    if set(modes) - {"redis", "embedded"}:
        sys.exit("--modes takes redis and/or embedded")

    var = RESULTS / "var-live"
    (var / "static").mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIANGUAN_", "DJANGO_"))}
    env |= {"JIANGUAN_DATABASE_URL": args.db_url, "JIANGUAN_VAR_DIR": str(var)}
    env |= {"DJANGO_SETTINGS_MODULE": "jianguan.settings"}
    with_redis = env | {"JIANGUAN_REDIS_URL": args.redis_url}
    facts = machine(args.db_url, args.redis_url)
    redis.Redis.from_url(args.redis_url).flushdb()
    print(f"preparing {args.db_url} …", flush=True)
    prepare(args.db_url, env)
    results: dict[str, dict[str, Any]] = {}
    try:
        print(f"floor: insert + PUBLISH at {args.rate:g}/s for {args.seconds:g} s …", flush=True)
        results["floor"] = floor_pass(args.rate, args.seconds, env, args.redis_url, args.producers)
        for mode in modes:
            print(f"{mode}: info_record at {args.rate:g}/s for {args.seconds:g} s …", flush=True)
            mode_env = with_redis if mode == "redis" else env
            results[mode] = live_pass(
                args.rate, args.seconds, mode_env, not args.no_worker, args.producers
            )
    finally:
        if not args.keep_db:
            drop(args.db_url)
        redis.Redis.from_url(args.redis_url).flushdb()
        (var / "huey.sqlite3").unlink(missing_ok=True)

    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["bench/live_latency.py", *sys.argv[1:]]),
        "machine": facts,
        "rate": args.rate,
        "seconds": args.seconds,
        "producers": args.producers,
        "huey_worker": not args.no_worker,
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "live_latency.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")

    print(f"\nmachine: {facts}")
    print(f"\n{'':44}{'sent':>7}{'recv':>7}{'rate/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    labels = {
        "floor": "floor: insert + PUBLISH → bare subscriber",
        "redis": "redis: info_record → /live/events/",
        "embedded": "embedded: same, streams poll 0.25 s",
    }
    complete = True
    for key, r in results.items():
        print(
            f"{labels[key]:44}{r['sent']:7}{r['received']:7}{r['rate']:8.1f}"
            f"{r['p50_ms']:9.2f}{r['p99_ms']:9.2f}{r['max_ms']:9.2f}"
        )
        complete &= r["received"] == r["sent"]
        if key != "floor":
            complete &= r["messages"] == 3 * (r["sent"] + r["warm"])
    for key, r in results.items():
        if r["late"]:
            print(f"note: {key}: {r['late']} calls started more than 10 ms behind schedule")
        if key != "floor":
            print(
                f"{key}: {r['messages']} messages in all ({r['warm']} warm-up records' included),"
                f" {r['task_messages']} about tasks, {r['reconnects']} reconnects"
            )
    print(f"written: {out.relative_to(ROOT)}")
    if not complete:
        sys.exit("some messages never arrived")


if __name__ == "__main__":
    main()
