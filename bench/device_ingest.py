"""Device messages from the broker to stored alerts and routed tasks, beside the broker's floor.

All in one run on one freshly seeded PostgreSQL database (`jianguan seed --seed 1`) with bench
devices registered at the demo facility, against the machine's Mosquitto:

* throughput — a publisher sends N signed messages at QoS 1 as fast as the consumer keeps up
  (never more than WINDOW ahead of what it has finished), so nothing is dropped by the broker's
  queue limit and the figure is what the consumer sustains:
    floor:  a bare paho subscriber (MQTT v5, QoS 1) counts the messages;
    ingest: the real worker (`jianguan ingest`, its own process) checks, signs off and applies
            them: device state, alerts folded or opened, one duty task per new alert.
  The mix: NEW_SHARE of the messages are new alerts (a device's first, so a new alert and task),
  the rest repeats from CAMERAS cameras that fold into their open alerts.
* latency at a steady --rate (default 500/s) — the production processes as scripts/serve.sh
  starts them (gunicorn gthread, the huey worker, `jianguan ingest`, Redis for the live bell) and
  the 巡控 officer `xunkong` logged in, holding `/live/events/` open. The same mix as above: a
  NEW_SHARE of the messages are new alerts; latency = when a new alert's `device.alert_raised`
  reached the screen − when its message was published.
  The floor: the same paced traffic to a bare subscriber, latency of the same messages.

Prints a table and writes bench/results/device_ingest.json. Usage:

    .venv/bin/python bench/device_ingest.py [--messages 60000] [--rate 500] [--seconds 30]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_latency import (  # the live-screen bench's server and screen
    BIN,
    ROOT,
    SESSION,
    Screen,
    _stop,
    drop,
    login,
    machine,
    run,
    server,
)

RESULTS = ROOT / "bench" / "results"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/jianguan_bench_devices"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883
SCREEN_USER = "xunkong"  # 巡控, 广州市第一看守所
CAMERAS = 1000
NEW_SHARE = 0.02  # of the throughput messages: new alerts, each with its task
WINDOW = 1500  # messages the publisher may be ahead of the consumer (broker queue limit 1000+)
EVENTS = ("CLIMB", "LONE", "DANGER_DWELL", "HANGING", "FIGHT", "FALL")


# --- the database ----------------------------------------------------------------------------


def prepare(db_url: str, env: dict[str, str]) -> None:
    base, name = db_url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    jg = str(BIN / "jianguan")
    run([jg, "migrate", "--noinput", "-v0"], env)
    run([jg, "codes", "load"], env)
    run([jg, "seed", "--seed", "1", "--quiet"], env)


def register(devices: int) -> dict[str, Any]:
    """Bench devices at the demo facility: CAMERAS cameras that repeat, and `devices` more that
    each raise one new alert. Returns the facility code and the devices' codes and secrets."""
    from jianguan.devices.models import Device
    from jianguan.housing.api import Cell
    from jianguan.org.api import user_by_username

    unit = user_by_username(SCREEN_USER).unit  # type: ignore[union-attr]
    cells = list(Cell.objects.filter(unit=unit).order_by("number"))
    now = dt.datetime.now(dt.UTC)
    rows = []
    for i in range(CAMERAS + devices):
        cell = cells[i % len(cells)]
        code = f"BENCH-C{i:05d}" if i < CAMERAS else f"BENCH-N{i:06d}"
        rows.append(
            Device(
                unit=unit,
                code=code,
                kind="VIDEO",
                name=f"{cell.number}监室视频分析",
                location_kind="CELL",
                cell=cell,
                secret=uuid.uuid4().hex * 2,
                silent_after_seconds=86400,
                created_at=now,
            )
        )
    Device.objects.bulk_create(rows, batch_size=2000)
    return {"unit": unit.code, "secrets": {d.code: d.secret for d in rows}}


def applied(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(
        "SELECT coalesce(sum(messages), 0) FROM devices_device WHERE code LIKE 'BENCH-%%'"
    ).fetchone()
    return int(row[0]) if row else 0


# --- messages --------------------------------------------------------------------------------


class Traffic:
    """Signed messages made before the clock starts: repeats from the cameras, and new alerts
    from devices never heard before, each device's sequence numbers growing."""

    def __init__(self, unit: str, secrets: dict[str, str]) -> None:
        from jianguan.devices.protocol import encode

        self.encode, self.unit, self.secrets = encode, unit, secrets
        self.seq: dict[str, int] = {}
        self.fresh = iter(sorted(c for c in secrets if c.startswith("BENCH-N")))
        self.camera = 0

    def _message(self, code: str, event: str) -> tuple[str, bytes, str]:
        seq = self.seq[code] = self.seq.get(code, 0) + 1
        topic, payload = self.encode(
            unit_code=self.unit,
            kind="VIDEO",
            device_code=code,
            event=event,
            seq=seq,
            at=dt.datetime.now(dt.UTC),
            data={"confidence": 0.91, "zone": "窗台"},
            secret=self.secrets[code],
        )
        return topic, payload, f"{code}:{seq}"

    def repeat(self) -> tuple[str, bytes, str]:
        self.camera = (self.camera + 1) % CAMERAS
        code = f"BENCH-C{self.camera:05d}"
        return self._message(code, EVENTS[self.camera % len(EVENTS)])

    def new_alert(self) -> tuple[str, bytes, str]:
        return self._message(next(self.fresh), "CLIMB")

    def mix(self, n: int, every_new: int) -> list[tuple[str, bytes, str]]:
        return [self.new_alert() if i % every_new == 0 else self.repeat() for i in range(n)]


def publisher() -> Any:
    import paho.mqtt.client as mqtt

    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv5,
    )  # fmt: skip
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(MQTT_HOST, MQTT_PORT)
    client.loop_start()
    return client


# --- the bare subscriber (the floor) ----------------------------------------------------------


def _bare(topic_filter: str, client_id: str, count: Any, times: Any, ready: Any, stop: Any) -> None:
    """A separate process: subscribe at QoS 1 and note when each message arrived."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    arrivals: dict[str, float] = {}

    def on_message(client: Any, userdata: Any, message: Any) -> None:
        now = time.time()
        body = json.loads(message.payload)
        arrivals[f"{body['device']}:{body['seq']}"] = now
        with count.get_lock():
            count.value += 1

    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
    )
    client.on_message = on_message
    props = Properties(PacketTypes.CONNECT)
    props.ReceiveMaximum = 2000
    client.connect(MQTT_HOST, MQTT_PORT, properties=props)
    client.subscribe(topic_filter, qos=1)
    client.loop_start()
    time.sleep(0.5)
    ready.set()
    stop.wait()
    client.loop_stop()
    client.disconnect()
    times.update(arrivals)


@contextlib.contextmanager
def bare_subscriber(unit: str) -> Iterator[tuple[Any, dict[str, float]]]:
    """Yield the live count of messages received, and (after the block) when each arrived."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        count, times, ready, stop = ctx.Value("q", 0), manager.dict(), ctx.Event(), ctx.Event()
        client_id = f"bench-bare-{uuid.uuid4().hex[:8]}"
        proc = ctx.Process(target=_bare, args=(f"jianguan/{unit}/#", client_id, count, times,
                                               ready, stop))  # fmt: skip
        proc.start()
        if not ready.wait(20):
            sys.exit("the bare subscriber did not subscribe")
        arrivals: dict[str, float] = {}
        try:
            yield count, arrivals
        finally:
            stop.set()
            proc.join(60)
            arrivals.update(dict(times))


@contextlib.contextmanager
def ingest_worker(env: dict[str, str], unit: str) -> Iterator[subprocess.Popen[bytes]]:
    jg = str(BIN / "jianguan")
    cmd = [jg, "ingest", "--unit", unit, "--client-id", f"bench-ingest-{uuid.uuid4().hex[:8]}"]
    cmd += ["--session-expiry", "60"]  # a bench session must not outlive the bench on the broker
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, **SESSION)
    time.sleep(3.0)  # Django set up, connected, subscribed
    if proc.poll() is not None:
        sys.exit(f"jianguan ingest exited with {proc.returncode}")
    try:
        yield proc
    finally:
        _stop(proc)


# --- the passes ------------------------------------------------------------------------------


def closed_loop(messages: list[tuple[str, bytes, str]], finished: Any) -> dict[str, Any]:
    """Publish as fast as the consumer keeps up; `finished()` says how many it has done."""
    client = publisher()
    base = finished()
    start = time.perf_counter()
    done = 0
    for i, (topic, payload, _) in enumerate(messages):
        while i - done >= WINDOW:
            time.sleep(0.002)
            done = finished() - base
        client.publish(topic, payload, qos=1)
    deadline = time.perf_counter() + 120
    while done < len(messages) and time.perf_counter() < deadline:
        time.sleep(0.005)
        done = finished() - base
    elapsed = time.perf_counter() - start
    client.loop_stop()
    client.disconnect()
    return {"messages": len(messages), "done": done, "seconds": round(elapsed, 3),
            "per_second": round(done / elapsed, 1)}  # fmt: skip


def throughput_floor(traffic: Traffic, n: int, unit: str) -> dict[str, Any]:
    messages = traffic.mix(n, round(1 / NEW_SHARE))
    with bare_subscriber(unit) as (count, _times):
        return closed_loop(messages, lambda: count.value)


def throughput_ingest(
    traffic: Traffic, n: int, unit: str, env: dict[str, str], db: str
) -> dict[str, Any]:
    messages = traffic.mix(n, round(1 / NEW_SHARE))
    with psycopg.connect(db, autocommit=True) as conn:
        tasks_before = conn.execute("SELECT count(*) FROM duty_task").fetchone()[0]  # type: ignore[index]
        with ingest_worker(env, unit):
            result = closed_loop(messages, lambda: applied(conn))
        counts = conn.execute(
            "SELECT count(*), coalesce(sum(count), 0) FROM devices_alert a"
            " JOIN devices_device d ON d.id = a.device_id WHERE d.code LIKE 'BENCH-%%'"
        ).fetchone()
        tasks = conn.execute("SELECT count(*) FROM duty_task").fetchone()[0] - tasks_before  # type: ignore[index]
        refused = conn.execute("SELECT count(*) FROM devices_rejectedmessage").fetchone()[0]  # type: ignore[index]
    return result | {"alerts": counts[0], "alert_messages": int(counts[1]), "tasks": tasks,  # type: ignore[index]
                     "refused": refused}  # fmt: skip


def paced(messages: list[tuple[str, bytes, str]], rate: float) -> dict[str, float]:
    """Publish at a steady `rate`; note when each message was handed to the broker."""
    client = publisher()
    sent: dict[str, float] = {}
    start = time.time() + 0.5
    for i, (topic, payload, key) in enumerate(messages):
        wait = start + i / rate - time.time()
        if wait > 0:
            time.sleep(wait)
        sent[key] = time.time()
        client.publish(topic, payload, qos=1)
    time.sleep(0.5)
    client.loop_stop()
    client.disconnect()
    return sent


def percentiles(latencies: list[float]) -> dict[str, Any]:
    latencies = sorted(latencies)
    n = len(latencies)

    def pct(q: float) -> float:
        return round(latencies[min(n - 1, int(n * q))] * 1000, 2) if n else float("nan")

    return {"measured": n, "p50_ms": pct(0.5), "p99_ms": pct(0.99),
            "max_ms": round(latencies[-1] * 1000, 2) if n else float("nan")}  # fmt: skip


def latency_floor(traffic: Traffic, rate: float, seconds: float, unit: str) -> dict[str, Any]:
    every = round(1 / NEW_SHARE)
    messages = traffic.mix(round(rate * seconds), every)
    marked = {key for i, (_, _, key) in enumerate(messages) if i % every == 0}
    with bare_subscriber(unit) as (_count, got):
        sent = paced(messages, rate)
        time.sleep(2.0)
    return percentiles([got[k] - sent[k] for k in marked if k in got]) | {"sent": len(marked)}


def latency_screen(
    traffic: Traffic, rate: float, seconds: float, unit: str, env: dict[str, str], db: str
) -> dict[str, Any]:
    every = round(1 / NEW_SHARE)
    messages = traffic.mix(round(rate * seconds), every)
    marked = {key for i, (_, _, key) in enumerate(messages) if i % every == 0}
    with server(env, worker=True) as port, ingest_worker(env, unit):
        screen = Screen(port, login(port, SCREEN_USER))
        screen.start()
        if not screen.connected.wait(15):
            sys.exit("the live stream never connected")
        sent = paced(messages, rate)
        with psycopg.connect(db, autocommit=True) as conn:
            deadline = time.time() + 15
            while time.time() < deadline:
                raised = conn.execute(
                    "SELECT count(*) FROM devices_alert WHERE source_ref = ANY(%s)",
                    [[f"dev:{k}" for k in marked]],
                ).fetchone()[0]  # type: ignore[index]
                if raised == len(marked):
                    break
                time.sleep(0.2)
            time.sleep(2.0)
            rows = conn.execute(
                "SELECT id::text, source_ref FROM devices_alert WHERE source_ref = ANY(%s)",
                [[f"dev:{k}" for k in marked]],
            ).fetchall()
        screen.stopping = True
        received = dict(screen.received)
    key_of = {str(uuid.UUID(r[0])): r[1].removeprefix("dev:") for r in rows}
    on_screen = {
        key_of[m["about_id"]]: when
        for when, m in received.values()
        if m["type"] == "device.alert_raised" and m["about_id"] in key_of
    }
    return percentiles([on_screen[k] - sent[k] for k in marked if k in on_screen]) | {
        "sent": len(marked),
        "stored": len(rows),
        "screen_messages": len(received),
        "reconnects": screen.reconnects,
    }


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db-url", default=DEFAULT_DB, help="dropped and recreated")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="emptied before and after")
    parser.add_argument("--messages", type=int, default=60000, help="per throughput pass")
    parser.add_argument("--rate", type=float, default=500.0, help="messages/s, latency passes")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of a latency pass")
    parser.add_argument("--keep-db", action="store_true", help="leave the database behind")
    args = parser.parse_args()

    var = RESULTS / "var-devices"
    (var / "static").mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIANGUAN_", "DJANGO_"))}
    env |= {"JIANGUAN_DATABASE_URL": args.db_url, "JIANGUAN_VAR_DIR": str(var)}
    env |= {"DJANGO_SETTINGS_MODULE": "jianguan.settings"}
    env |= {
        "JIANGUAN_REDIS_URL": args.redis_url,
        "JIANGUAN_MQTT_URL": f"mqtt://{MQTT_HOST}:{MQTT_PORT}",
    }
    facts = machine(args.db_url, args.redis_url)
    redis.Redis.from_url(args.redis_url).flushdb()
    print(f"preparing {args.db_url} …", flush=True)
    prepare(args.db_url, env)
    os.environ.update(env)
    import django

    django.setup()
    fresh_needed = round((args.messages + args.rate * args.seconds) * 2 * NEW_SHARE) + 10
    bench = register(fresh_needed + 100)
    unit = bench["unit"]
    traffic = Traffic(unit, bench["secrets"])
    from django.db import connection

    connection.close()
    results: dict[str, Any] = {}
    try:
        print(f"throughput floor: {args.messages} messages to a bare subscriber …", flush=True)
        results["throughput_floor"] = throughput_floor(traffic, args.messages, unit)
        print(f"throughput ingest: {args.messages} messages through jianguan ingest …", flush=True)
        results["throughput_ingest"] = throughput_ingest(
            traffic, args.messages, unit, env, args.db_url
        )
        print(f"latency floor: {args.rate:g}/s for {args.seconds:g} s …", flush=True)
        results["latency_floor"] = latency_floor(traffic, args.rate, args.seconds, unit)
        print(f"latency to screen: {args.rate:g}/s for {args.seconds:g} s …", flush=True)
        results["latency_screen"] = latency_screen(
            traffic, args.rate, args.seconds, unit, env, args.db_url
        )
    finally:
        if not args.keep_db:
            drop(args.db_url)
        redis.Redis.from_url(args.redis_url).flushdb()
        (var / "huey.sqlite3").unlink(missing_ok=True)

    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["bench/device_ingest.py", *sys.argv[1:]]),
        "machine": facts,
        "cameras": CAMERAS,
        "new_share": NEW_SHARE,
        "window": WINDOW,
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "device_ingest.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(report, indent=2, ensure_ascii=False))
    floor, ingest = results["throughput_floor"], results["throughput_ingest"]
    print(f"\nthroughput: ingest {ingest['per_second']:,.0f}/s beside the floor "
          f"{floor['per_second']:,.0f}/s ({ingest['per_second'] / floor['per_second']:.2f}×)")  # fmt: skip
    lf, ls = results["latency_floor"], results["latency_screen"]
    print(f"latency at {args.rate:g}/s: to screen p50 {ls['p50_ms']} ms p99 {ls['p99_ms']} ms; "
          f"floor p50 {lf['p50_ms']} ms p99 {lf['p99_ms']} ms")  # fmt: skip
    if ingest["done"] != ingest["messages"] or ls["measured"] != ls["sent"]:
        sys.exit("not every message was applied or seen: the figures above are incomplete")


if __name__ == "__main__":
    main()
