"""Write synthetic data: the demo tree through the org services, bulk data straight in.

Units of the demo tree and the demo accounts go through `org.api.unit_create` /
`user_create`, so they are validated, audited and evented like any other. Everything
bulk — scale units, cells, people and their history events — bypasses the per-row
services for speed and is written in batches (default 5,000 people) of whole facilities,
one transaction per batch, so an interrupted run keeps what it had written:

- Units of a scale tree go in with one `bulk_create`. Cells, people and events go in with
  `bulk_create`, or on PostgreSQL with binary COPY (the same rows; the column list and the
  defaults of columns not given come from the models). On PostgreSQL, two writer threads,
  each with its own connection, ingest batches while the main thread generates the next
  ones, and the batch transactions commit with `synchronous_commit` off: a crash may lose
  the last batches, never consistency.
- History events (`detainee.admitted`, `detainee.released`) are appended straight to the
  outbox table (`outbox.models.Event`) in the batch's transaction rather than through
  `event_append`, which writes them one by one. `occurred_at` is the historic time;
  `recorded_at` is when the row was written, because consumers read the outbox in
  `recorded_at` order with a short look-back window: a back-dated `recorded_at` would be
  skipped by any consumer whose cursor has already passed it. No audit entries are written
  for bulk rows: nobody acted on them.
"""

from __future__ import annotations

import base64
import datetime as dt
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from django.db import connection, connections, models, transaction
from django.utils import timezone
from tqdm import tqdm

from jianguan.audit.api import audit_record
from jianguan.codes.api import codes_load
from jianguan.core.actor import Actor
from jianguan.core.bulk import bulk_insert
from jianguan.core.ids import uuid7, uuid7_at
from jianguan.custody.api import Deadline, Detainee, LegalEvent
from jianguan.custody.deadlines import builtin_pack
from jianguan.custody.legal import clock_values
from jianguan.custody.recompute import DEADLINE_COLUMNS
from jianguan.housing.api import Cell
from jianguan.org.api import (
    PostKind,
    Unit,
    User,
    needs_second_factor,
    posts_ensure_defaults,
    totp_enrol,
    unit_create,
    user_create,
)
from jianguan.outbox.api import deliver
from jianguan.outbox.models import Event
from jianguan.synthetic.catalog import Catalog
from jianguan.synthetic.devices import DevicesResult, demo_devices
from jianguan.synthetic.duty_morning import MorningResult, duty_morning
from jianguan.synthetic.generate import (
    DEMO_TREE,
    FacilityData,
    FacilityGenerator,
    UnitPlan,
    scale_tree,
)
from jianguan.synthetic.risk_history import HistoryResult, risk_history

DEMO_PASSWORD: Final = "jianguan-demo-2026"  # noqa: S105  (published: the demo's own)
DEFAULT_SEED: Final = 20261121
SEED_ACTOR: Final = "seed"

# username, full name, post, where: the demo facility, the other facility, its city, its
# province, the national unit.
DEMO_ACCOUNTS: Final[tuple[tuple[str, str, str, str], ...]] = (
    ("jiedai", "陈志强", PostKind.RECEPTION, "facility"),
    ("shouya", "李建华", PostKind.ADMISSION, "facility"),
    ("tixun", "王海涛", PostKind.INTERROGATION, "facility"),
    ("xunkong", "刘洋", PostKind.PATROL, "facility"),
    ("guanjiao", "黄文杰", PostKind.CUSTODIAN, "facility"),
    ("yiwu", "张丽娟", PostKind.MEDICAL, "facility"),
    ("suozhang", "周国平", PostKind.LEADER, "facility"),
    ("fenkong", "马建军", PostKind.SUBCONTROL, "facility"),
    ("zhihui", "何志明", PostKind.COMMAND, "facility"),
    ("sz_guanjiao", "林振华", PostKind.CUSTODIAN, "other_facility"),
    ("city_sup", "梁伟明", PostKind.SUPERVISOR, "city"),
    ("prov_sup", "郑建军", PostKind.SUPERVISOR, "province"),
    ("admin", "吴晓东", PostKind.ADMINISTRATOR, "national"),
)


class SeedRefused(Exception):
    """The database is not in a state the seed may write to."""


@dataclass(frozen=True)
class SeedOptions:
    seed: int = DEFAULT_SEED
    facilities: int | None = None  # None: the demo tree
    per_facility: int | None = None  # None: 200-450 each
    months: int = 6
    now: dt.datetime | None = None
    accounts: bool = True
    append: bool = False
    quiet: bool = False
    batch_size: int = 5000
    writers: int = 2  # PostgreSQL: connections writing in parallel


@dataclass
class Account:
    username: str
    full_name: str
    post: str
    unit: str
    totp_secret: str = ""


@dataclass
class SeedResult:
    units: int = 0
    facilities: int = 0
    cells: int = 0
    detainees: Counter[str] = field(default_factory=Counter)
    events: int = 0
    legal_events: int = 0
    deadlines: int = 0
    delivered: int = 0
    accounts: list[Account] = field(default_factory=list)
    duty: MorningResult | None = None
    risk: HistoryResult | None = None
    devices: DevicesResult | None = None
    seconds: float = 0.0
    bulk_seconds: float = 0.0
    method: str = ""

    @property
    def people(self) -> int:
        return sum(self.detainees.values())

    @property
    def rate(self) -> float:
        return self.people / self.bulk_seconds if self.bulk_seconds else 0.0


def run_seed(options: SeedOptions, *, say: Callable[[str], None] = print) -> SeedResult:
    """Seed the database; see the module docstring for what goes through which path."""
    started = time.perf_counter()
    now = (options.now or timezone.now()).astimezone(dt.UTC)
    if options.append and options.facilities is None:
        raise SeedRefused("--append 只用于追加规模数据，请同时指定 --facilities")
    if Unit.objects.exists() and not options.append:
        raise SeedRefused(
            "数据库中已有单位数据，seed 只在新数据库上运行（例如先执行 `make reset`），"
            "或加 --append 追加规模数据"
        )
    actor = Actor.system(SEED_ACTOR)
    codes_load(actor=actor)
    catalog = Catalog.load()
    result = SeedResult()
    note = (lambda _m: None) if options.quiet else say

    if options.facilities is None:
        facilities = _demo_units(actor)
    else:
        facilities = _scale_units(catalog, options, now)
    result.units = len(facilities.units)
    result.facilities = len(facilities.plans)
    note(f"单位：{result.units} 个，其中监所 {result.facilities} 个")

    if options.accounts and not options.append:
        result.accounts = _demo_accounts(actor, facilities, seed=options.seed)
    elif options.accounts:
        note("追加模式不创建演示账号")

    bulk_started = time.perf_counter()
    _people(options, catalog, facilities, now, result)
    result.bulk_seconds = time.perf_counter() - bulk_started

    if options.facilities is None and result.accounts:
        # The demo facility's morning: shifts, records, tasks in every state, movements.
        users = {u.username: u for u in User.objects.select_related("unit")}
        result.duty = duty_morning(
            unit=_account_units(facilities)["facility"], users=users, seed=options.seed, now=now
        )
        note(f"勤务：{result.duty.records} 条动态信息，{sum(result.duty.tasks.values())} 项任务")

    if options.facilities is None:  # the demo facility's last 90 days of risk facts
        history = risk_history(
            unit=_account_units(facilities)["facility"], seed=options.seed, now=now
        )
        result.risk = history
        incidents = sum(history.incidents.values())
        note(
            f"风险历史：{history.facts} 条事实，其中事件 {incidents} 起；"
            f"已评估全所并回放 {history.trend_days} 天等级分布"
        )

    if options.facilities is None:  # the demo facility's devices, for the simulator to drive
        result.devices = demo_devices(
            unit=_account_units(facilities)["facility"], seed=options.seed, now=now
        )
        note(f"设备：{result.devices.total} 台（视频、终端、报警按钮、周界、门禁、手环、脚环）")

    if options.facilities is None:  # the demo's activity feed shows its history at once
        while handled := deliver():
            result.delivered += handled
    else:
        note("历史事件留在发件箱，由后台 worker（或 `jianguan outbox deliver`）投递")
    result.seconds = time.perf_counter() - started
    return result


# --- units -------------------------------------------------------------------------------


@dataclass
class Facilities:
    units: list[Unit]
    plans: list[UnitPlan]  # the facilities to fill, in order
    by_code: dict[str, Unit]


def _demo_units(actor: Actor) -> Facilities:
    by_code: dict[str, Unit] = {}
    for plan in DEMO_TREE:
        by_code[plan.code] = unit_create(
            actor=actor,
            code=plan.code,
            name=plan.name,
            level=plan.level,
            region_code=plan.region_code,
            parent=by_code[plan.parent_code] if plan.parent_code else None,
            facility_kind=plan.facility_kind,
        )
    plans = [p for p in DEMO_TREE if p.facility_kind]
    return Facilities(list(by_code.values()), plans, by_code)


def _scale_units(catalog: Catalog, options: SeedOptions, now: dt.datetime) -> Facilities:
    assert options.facilities is not None
    existing = dict(Unit.objects.values_list("code", "name"))
    plans = scale_tree(catalog, seed=options.seed, facilities=options.facilities, existing=existing)
    rng = random.Random(f"{options.seed}:units:{len(existing)}")
    created_ms = int((now - dt.timedelta(days=1000)).timestamp() * 1000)
    parents = {u.code: u for u in Unit.objects.filter(code__in={p.parent_code for p in plans})}
    units: list[Unit] = []
    for plan in plans:
        parent = parents.get(plan.parent_code) if plan.parent_code else None
        unit = Unit(
            id=uuid7_at(created_ms, rng.getrandbits(74)),
            code=plan.code,
            name=plan.name,
            level=plan.level,
            facility_kind=plan.facility_kind,
            region_code=plan.region_code,
            parent=parent,
            path=f"{parent.path if parent else '/'}{plan.code}/",
            is_active=True,
        )
        parents[plan.code] = unit
        units.append(unit)
    with transaction.atomic():
        Unit.objects.bulk_create(units, batch_size=2000)
    facilities = [p for p in plans if p.facility_kind]
    return Facilities(units, facilities, {u.code: u for u in units})


# --- accounts ----------------------------------------------------------------------------


def _account_units(facilities: Facilities) -> dict[str, Unit]:
    """Where each demo account sits: the first 看守所, another one, and its upper units."""
    centres = [
        facilities.by_code[p.code]
        for p in facilities.plans
        if p.facility_kind == "DETENTION_CENTER"
    ]
    if len(centres) < 2:
        raise SeedRefused("创建演示账号至少需要两个看守所；请加 --no-accounts 或增加 --facilities")
    facility = centres[0]
    # Prefer a 看守所 in another city as "the other facility".
    other = next((c for c in centres[1:] if c.parent_id != facility.parent_id), centres[1])
    city = _parent(facility)
    province = _parent(city)
    national = _parent(province)
    return {
        "facility": facility,
        "other_facility": other,
        "city": city,
        "province": province,
        "national": national,
    }


def _parent(unit: Unit) -> Unit:
    if unit.parent is None:
        raise SeedRefused(f"{unit.name} 没有上级单位")
    return unit.parent


def _demo_accounts(actor: Actor, facilities: Facilities, *, seed: int) -> list[Account]:
    posts_ensure_defaults()
    where = _account_units(facilities)
    rng = random.Random(f"{seed}:accounts")
    accounts: list[Account] = []
    for username, full_name, post, place in DEMO_ACCOUNTS:
        unit = where[place]
        police_number = f"{unit.region_code[:2]}{rng.randrange(10**4):04d}"
        secret = base64.b32encode(bytes(rng.getrandbits(8) for _ in range(20))).decode()
        with transaction.atomic():
            user = user_create(
                actor=actor,
                username=username,
                password=DEMO_PASSWORD,
                full_name=full_name,
                unit=unit,
                posts=[post],
                police_number=police_number,
            )
            if post == PostKind.ADMINISTRATOR:
                _make_superuser(actor, user)
            enrolled = ""
            if needs_second_factor(user):
                enrolled = totp_enrol(actor=actor, user=user, secret=secret)
        accounts.append(Account(username, full_name, PostKind(post).label, unit.name, enrolled))
    return accounts


def _make_superuser(actor: Actor, user: User) -> None:
    """The demo administrator may also use Django's admin site."""
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    audit_record(
        actor=actor,
        action="user.superuser_granted",
        object_type="user",
        object_id=user.id,
        detail={"username": user.username},
    )


# --- people ------------------------------------------------------------------------------


def _people(
    options: SeedOptions,
    catalog: Catalog,
    facilities: Facilities,
    now: dt.datetime,
    result: SeedResult,
) -> None:
    writer = BulkWriter()
    total = options.per_facility * len(facilities.plans) if options.per_facility else None
    bar = tqdm(total=total, unit="人", disable=options.quiet, desc="在押人员", unit_scale=True)

    def write(batch: list[FacilityData]) -> None:
        writer.write(batch, facilities.by_code, result)
        bar.update(sum(len(d.people) for d in batch))

    # On PostgreSQL the server ingests one batch while Python generates the next. Inside a
    # caller's transaction (tests) everything stays on the caller's connection.
    background = writer.copy and not connection.in_atomic_block
    threads = options.writers
    sink: Sink = BackgroundSink(write, threads=threads) if background else Sink(write)
    result.method = writer.method + (f"，{threads} 个后台写入线程" if background else "")
    batch: list[FacilityData] = []
    size = 0
    try:
        for data in _facility_data(options, catalog, facilities.plans, now):
            batch.append(data)
            size += len(data.people)
            if size >= options.batch_size:
                sink.put(batch)
                batch, size = [], 0
        if batch:
            sink.put(batch)
    finally:
        sink.close()
        bar.close()


class Sink:
    """Writes each batch at once."""

    def __init__(self, write: Callable[[list[FacilityData]], None]) -> None:
        self.write = write

    def put(self, batch: list[FacilityData]) -> None:
        self.write(batch)

    def close(self) -> None:
        pass


class BackgroundSink(Sink):
    """Writes batches on threads of their own (each with its own database connection) while
    the caller generates the next ones. Batches are independent — whole facilities with
    their cells, people and events — so the order in which they commit does not matter.
    The first error stops the writing and is raised in the caller at its next put or at
    close."""

    def __init__(self, write: Callable[[list[FacilityData]], None], *, threads: int) -> None:
        super().__init__(write)
        self.queue: queue.Queue[list[FacilityData] | None] = queue.Queue(maxsize=threads + 1)
        self.error: BaseException | None = None
        self.threads = [
            threading.Thread(target=self._run, name=f"seed-writer-{i}", daemon=True)
            for i in range(threads)
        ]
        for thread in self.threads:
            thread.start()

    def _run(self) -> None:
        try:
            while (batch := self.queue.get()) is not None:
                if self.error is None:
                    try:
                        self.write(batch)
                    except BaseException as exc:  # handed to the caller's thread
                        self.error = exc
        finally:
            connections.close_all()  # this thread's connections only

    def put(self, batch: list[FacilityData]) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(batch)

    def close(self) -> None:
        for thread in self.threads:
            if thread.is_alive():
                self.queue.put(None)
        for thread in self.threads:
            thread.join()
        if self.error is not None:
            error, self.error = self.error, None
            raise error


def _facility_data(
    options: SeedOptions, catalog: Catalog, plans: list[UnitPlan], now: dt.datetime
) -> Iterator[FacilityData]:
    for plan in plans:
        generator = FacilityGenerator(
            plan, catalog, seed=options.seed, now=now, months=options.months
        )
        yield generator.generate(options.per_facility)


CELL_COLUMNS: Final = ("id", "unit_id", "number", "area", "kind", "gender", "capacity")
PERSON_COLUMNS: Final = (
    "id",
    "unit_id",
    "number",
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "id_type",
    "id_number",
    "nationality",
    "case_nature",
    "legal_measure",
    "litigation_stage",
    "case_unit",
    "case_number",
    "status",
    "admitted_at",
    "left_at",
    "cell_id",
)
LEGAL_COLUMNS: Final = (
    "id",
    "detainee_id",
    "kind",
    "at",
    "approval",
    "params",
    "recorded_at",
    "recorded_by",
    "pack_version",
)
EVENT_COLUMNS: Final = (
    "id",
    "type",
    "occurred_at",
    "recorded_at",
    "unit_code",
    "actor_name",
    "aggregate_type",
    "aggregate_id",
    "payload",
)


class BulkWriter:
    """Inserts one batch of facilities in one transaction: COPY on PostgreSQL, else bulk_create.

    Rows are tuples in the order of the *_COLUMNS above; every other column of the model
    takes the field's default (for COPY the same value for every row, computed once).
    """

    def __init__(self) -> None:
        self.copy = connection.vendor == "postgresql"
        self.method = "COPY" if self.copy else "bulk_create"
        self.lock = threading.Lock()  # writers may run on several threads

    def write(self, batch: list[FacilityData], units: dict[str, Unit], result: SeedResult) -> None:
        recorded_at = timezone.now()
        cells: list[tuple[Any, ...]] = []
        people: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        legal: list[tuple[Any, ...]] = []
        deadlines: list[tuple[Any, ...]] = []
        version = builtin_pack().version
        statuses: Counter[str] = Counter()
        for data in batch:
            unit_id = units[data.plan.code].id
            code = data.plan.code
            cells += [
                (c.id, unit_id, c.number, c.area, c.kind, c.gender, c.capacity) for c in data.cells
            ]
            people += [
                (
                    p.id,
                    unit_id,
                    p.number,
                    p.name,
                    p.gender,
                    p.ethnicity,
                    p.birth_date,
                    p.id_type,
                    p.id_number,
                    p.nationality,
                    p.case_nature,
                    p.legal_measure,
                    p.litigation_stage,
                    p.case_unit,
                    p.case_number,
                    p.status,
                    p.admitted_at,
                    p.left_at,
                    p.cell.id if p.cell else None,
                )
                for p in data.people
            ]
            statuses.update(p.status for p in data.people)
            for p in data.people:
                legal += [
                    (
                        r.id,
                        p.id,
                        r.kind,
                        r.at,
                        r.approval,
                        r.params,
                        recorded_at,
                        SEED_ACTOR,
                        version,
                    )
                    for r in p.legal
                ]
                deadlines += [
                    (uuid7(), p.id, unit_id, *clock_values(c), version, recorded_at)
                    for c in p.clocks
                ]
            events += [
                (
                    e.id,
                    e.type,
                    e.occurred_at,
                    recorded_at,
                    code,
                    SEED_ACTOR,
                    "detainee",
                    str(e.aggregate_id),
                    e.payload,
                )
                for e in data.events
            ]
        with transaction.atomic():
            if self.copy:  # losing the last batches in a crash is fine for synthetic data
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            self.insert(Cell, CELL_COLUMNS, cells)
            self.insert(Detainee, PERSON_COLUMNS, people)
            self.insert(LegalEvent, LEGAL_COLUMNS, legal)
            self.insert(Deadline, DEADLINE_COLUMNS, deadlines)
            self.insert(Event, EVENT_COLUMNS, events)
        with self.lock:
            result.cells += len(cells)
            result.events += len(events)
            result.legal_events += len(legal)
            result.deadlines += len(deadlines)
            result.detainees.update(statuses)

    def insert(
        self, model: type[models.Model], columns: tuple[str, ...], rows: list[tuple[Any, ...]]
    ) -> None:
        try:
            bulk_insert(model, columns, rows)
        except LookupError as exc:
            raise LookupError(f"{exc}：合成数据需要更新") from None
