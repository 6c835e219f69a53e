"""The synthetic data generator: reproducible, consistent with the code tables and the rules
that housing and custody will enforce, and quick enough at scale (timing: bench/, not here)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

NOW = dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.UTC)
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = FAST_HASHER


def _seed(**options: Any) -> Any:
    from jianguan.synthetic.seeding import SeedOptions, run_seed

    options.setdefault("now", NOW)
    options.setdefault("quiet", True)
    return run_seed(SeedOptions(**options), say=lambda _m: None)


# --- generation in memory ----------------------------------------------------------------


@pytest.mark.django_db
def test_same_seed_same_people_other_seed_other_people(codes: None) -> None:
    from jianguan.synthetic.catalog import Catalog
    from jianguan.synthetic.generate import DEMO_TREE, generate_facility

    catalog = Catalog.load()
    plan = next(p for p in DEMO_TREE if p.code == "440100K01")

    def people(seed: int) -> list[tuple[Any, ...]]:
        data = generate_facility(plan, catalog, seed=seed, now=NOW, months=6)
        rows = [
            (
                p.id,
                p.name,
                p.number,
                p.id_number,
                p.admitted_at,
                p.left_at,
                p.status,
                p.cell.id if p.cell else None,
            )
            for p in data.people
        ]
        return rows + [(e.id, e.type, e.occurred_at, e.payload) for e in data.events]

    first, again, other = people(42), people(42), people(43)
    assert first == again
    assert len(first) > 200
    assert {r[0] for r in first}.isdisjoint({r[0] for r in other})


@pytest.mark.django_db
def test_scale_tree_is_reproducible_and_well_formed(codes: None) -> None:
    from jianguan.synthetic.catalog import Catalog
    from jianguan.synthetic.generate import scale_tree

    catalog = Catalog.load()
    small = {p.code: p for p in scale_tree(catalog, seed=5, facilities=40)}
    large = {p.code: p for p in scale_tree(catalog, seed=5, facilities=40)}
    assert small == large
    facilities = [p for p in small.values() if p.facility_kind]
    assert len(facilities) == 40
    for plan in small.values():
        assert plan.parent_code in small or plan.code == "000000"


def test_check_character_matches_the_code_tables_parser() -> None:
    from jianguan.codes.idcard import check_digit
    from jianguan.synthetic.generate import resident_id_check

    rng = random.Random(1)
    for _ in range(2000):
        body = "".join(str(rng.randrange(10)) for _ in range(17))
        assert resident_id_check(body) == check_digit(body)


# --- the demo seed -----------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_seed_builds_the_tree_and_the_accounts(codes: None, fast_passwords: None) -> None:
    from jianguan.org.api import User, needs_second_factor, totp_verify
    from jianguan.org.models import Unit
    from jianguan.synthetic.seeding import DEMO_ACCOUNTS, DEMO_PASSWORD

    result = _seed(per_facility=30)

    units = {u.code: u for u in Unit.objects.all()}
    assert set(units) == {
        "000000",
        "440000",
        "440100",
        "440300",
        "440100K01",
        "440100J01",
        "440100R01",
        "440300K01",
    }
    assert units["440100K01"].path == "/000000/440000/440100/440100K01/"
    assert units["440100J01"].facility_kind == "DETENTION_HOUSE"
    assert units["440100R01"].facility_kind == "REHAB_CENTER"
    assert units["440300K01"].region_code == "440304"

    where = {
        "jiedai": "440100K01",
        "shouya": "440100K01",
        "tixun": "440100K01",
        "xunkong": "440100K01",
        "guanjiao": "440100K01",
        "yiwu": "440100K01",
        "suozhang": "440100K01",
        "fenkong": "440100K01",
        "zhihui": "440100K01",
        "sz_guanjiao": "440300K01",
        "city_sup": "440100",
        "prov_sup": "440000",
        "admin": "000000",
    }
    users = {u.username: u for u in User.objects.select_related("unit")}
    assert set(users) == set(where)
    for username, _name, post, _place in DEMO_ACCOUNTS:
        user = users[username]
        assert user.unit is not None
        assert user.unit.code == where[username]
        assert list(user.posts.values_list("kind", flat=True)) == [post]
        assert user.check_password(DEMO_PASSWORD)
        assert user.full_name
        assert user.police_number
        assert bool(user.totp_secret) == needs_second_factor(user)
    assert users["admin"].is_superuser
    assert users["admin"].is_staff
    assert not users["suozhang"].is_superuser
    secrets = {a.username: a.totp_secret for a in result.accounts if a.totp_secret}
    assert set(secrets) == {"suozhang", "admin"}
    import pyotp

    code = pyotp.TOTP(secrets["suozhang"]).now()
    assert totp_verify(users["suozhang"], code)
    assert result.delivered >= result.events  # the activity feed has the history


@pytest.mark.django_db
def test_demo_accounts_and_secrets_are_reproducible(codes: None, fast_passwords: None) -> None:
    from jianguan.org.api import User

    first = _seed(per_facility=5)
    secrets = dict(User.objects.values_list("username", "totp_secret"))
    police = dict(User.objects.values_list("username", "police_number"))
    assert {a.username: a.totp_secret for a in first.accounts if a.totp_secret} == {
        k: v for k, v in secrets.items() if v
    }
    assert len(set(police.values())) == len(police)


@pytest.mark.django_db
def test_demo_people_obey_the_housing_and_custody_rules(codes: None) -> None:
    from jianguan.codes.api import codes_of
    from jianguan.codes.idcard import parse_resident_id
    from jianguan.custody.models import HELD_STATUSES, Detainee
    from jianguan.housing.models import Cell, CellKind

    result = _seed(accounts=False)
    assert 5 * 200 <= result.people <= 5 * 450
    people = list(Detainee.objects.select_related("unit", "cell"))
    assert len(people) == result.people
    held = [p for p in people if p.status in HELD_STATUSES]
    gone = [p for p in people if p.status not in HELD_STATUSES]
    assert len(held) > len(people) * 0.3
    assert gone
    statuses = Counter(p.status for p in people)
    assert set(statuses) == {
        "IN_CUSTODY",
        "OUT_TEMPORARILY",
        "RELEASED",
        "TRANSFERRED",
        "DELIVERED",
    }

    measures = {c.code: c for c in codes_of("LEGAL_MEASURE")}
    stages = {c.code: c.name for c in codes_of("LITIGATION_STAGE")}
    natures = {c.code: c for c in codes_of("CASE_NATURE")}
    genders = {c.code: c.name for c in codes_of("GENDER")}
    ethnicities = {c.code for c in codes_of("ETHNICITY")}
    provinces = {c.code[:2] for c in codes_of("REGION") if not c.parent_code}
    today = NOW.date()

    for p in people:
        # The measure is one this kind of facility executes; stage and nature fit it.
        measure = measures[p.legal_measure]
        assert p.unit.facility_kind in measure.extra["facility_kinds"], p
        stage = stages[p.litigation_stage]
        nature = natures[p.case_nature]
        parent = natures.get(nature.parent_code)
        if measure.name == "刑事拘留":
            assert "刑事拘留" in stage
        elif measure.name == "逮捕":
            assert stage.split("（")[0] in {"侦查", "审查起诉", "一审", "二审", "已决待交付执行"}
        elif measure.name == "行政拘留":
            assert stage == "行政拘留执行"
            assert parent is not None
            assert parent.name == "治安违法"
        elif measure.name == "强制隔离戒毒":
            assert stage == "强制隔离戒毒执行"
            assert nature.name == "吸毒"
        if p.unit.facility_kind == "DETENTION_CENTER":
            assert (parent is not None and parent.name.endswith("犯罪")) or "刑事" in nature.name
        # Times and statuses agree.
        assert p.admitted_at <= NOW
        if p.status in HELD_STATUSES:
            assert p.left_at is None
            assert p.cell is not None
        else:
            assert p.left_at is not None
            assert p.admitted_at < p.left_at <= NOW
            assert p.cell is None
        assert p.number.startswith(f"{p.unit.code}{(p.admitted_at + dt.timedelta(hours=8)).year}")
        # Identity documents.
        assert p.gender in genders
        if p.nationality == "CHN":
            assert p.ethnicity in ethnicities
            parsed = parse_resident_id(p.id_number, today=today, known_province_codes=provinces)
            assert parsed.birth_date == p.birth_date
            assert genders[parsed.gender_code] == genders[p.gender]
        else:
            assert p.id_number
            assert not p.ethnicity
        age = (today - p.birth_date).days / 365.2425
        assert 14 <= age <= 71

    # Every held person's cell fits them; no cell is over capacity.
    occupancy: Counter[Any] = Counter()
    for p in held:
        cell = p.cell
        assert cell is not None
        assert cell.unit_id == p.unit_id
        assert genders[p.gender] == cell.get_gender_display(), (p, cell)
        age = (today - p.birth_date).days / 365.2425
        assert (cell.kind == CellKind.JUVENILE) == (age < 18), (p, cell)
        occupancy[cell.id] += 1
    cells = {c.id: c for c in Cell.objects.all()}
    assert len(cells) == result.cells
    for cell_id, n in occupancy.items():
        assert n <= cells[cell_id].capacity
    # Co-defendants are never in the same cell.
    same_case = Counter((p.cell_id, p.case_number) for p in held)
    assert max(same_case.values()) == 1
    assert {p.nationality for p in people} - {"CHN"}  # a few foreigners
    assert any(c.kind == CellKind.TRANSITION for c in cells.values())
    numbers = Counter((p.unit_id, p.number) for p in people)
    assert max(numbers.values()) == 1


@pytest.mark.django_db
def test_history_events_tell_each_stay(codes: None) -> None:
    from jianguan.custody.models import HELD_STATUSES, Detainee
    from jianguan.outbox.models import Event

    result = _seed(accounts=False, per_facility=50)
    people = {str(p.id): p for p in Detainee.objects.select_related("unit")}
    events = list(Event.objects.filter(aggregate_type="detainee"))
    assert len(events) == result.events
    kinds = Counter((e.aggregate_id, e.type) for e in events)
    for key, p in people.items():
        assert kinds[(key, "detainee.admitted")] == 1
        assert kinds[(key, "detainee.released")] == (p.status not in HELD_STATUSES)
    for e in events:
        p = people[e.aggregate_id]
        assert e.unit_code == p.unit.code
        assert e.actor_name == "seed"
        assert e.payload["name"] == p.name
        assert e.payload["number"] == p.number
        if e.type == "detainee.admitted":
            assert e.occurred_at == p.admitted_at
            assert e.payload["cell"]
        else:
            assert e.occurred_at == p.left_at
            assert e.payload["reason"]


# --- the demo facility's morning of the duty loop ----------------------------------------


@pytest.mark.django_db
def test_demo_seed_leaves_the_duty_loop_running(codes: None, fast_passwords: None) -> None:
    """The demo facility has today's shifts and a morning of records played through the
    services: tasks open, closed, cancelled and escalated, one overdue, every step kept, and
    nothing at any other facility."""
    from django.utils import timezone

    from jianguan.custody.models import Movement
    from jianguan.duty.api import is_overdue, on_shift, task_counts
    from jianguan.duty.models import InfoRecord, ShiftAssignment, Task, TaskStep
    from jianguan.org.models import Unit

    # The morning ends at the seed's `now` or at the wall clock, whichever is earlier.
    anchor = min(NOW, timezone.now())
    result = _seed(per_facility=60)
    facility = Unit.objects.get(code="440100K01")
    assert result.duty is not None
    everything = list(Task.objects.all())
    assert {t.unit_id for t in everything} == {facility.id}
    # The morning's records raise some grades: each rise is a task for 管教 (risk), apart from
    # the morning's own tasks counted below.
    rises = [t for t in everything if t.source == "RISK"]
    assert {(t.category, t.post_kind, t.state) for t in rises} <= {
        ("RISK_GRADE_RISE", "CUSTODIAN", "DISPATCHED")
    }
    tasks = [t for t in everything if t.source != "RISK"]
    assert Counter(t.state for t in tasks) == {
        "DISPATCHED": 4,
        "ACCEPTED": 4,
        "HANDLED": 1,
        "RETURNED": 1,
        "CLOSED": 4,
        "CANCELLED": 1,
    }
    assert result.duty.tasks == dict(Counter(t.state for t in tasks))
    assert InfoRecord.objects.count() == result.duty.records == 15  # one needs no task
    escalated = [t for t in tasks if t.escalation_level]
    assert sorted(t.category for t in escalated) == [
        "MEDICAL_CONDITION_CHANGE",
        "RECEPTION_ITEM_ABNORMAL",
    ]
    assert {t.escalated_to for t in escalated} == {"SUBCONTROL"}
    now = timezone.now()
    overdue = {t.category for t in tasks if is_overdue(t, now)}
    assert {"MEDICAL_CONDITION_CHANGE", "RECEPTION_ITEM_ABNORMAL"} <= overdue
    counts = task_counts(facility.id, now)
    assert counts["open"] == 10 + len(rises)
    assert counts["escalated"] == 2
    # The morning happened over the three hours before it ended, each step at its own moment, in order.
    for task in tasks:
        steps = list(TaskStep.objects.filter(task=task).order_by("at", "id"))
        assert steps[0].action == "created"
        assert anchor - dt.timedelta(hours=3) <= task.created_at == steps[0].at <= now
        assert [s.at for s in steps] == sorted(s.at for s in steps)
        if task.state == "CLOSED":
            assert task.feedback
            assert task.closed_at is not None
            assert task.created_at < task.closed_at <= now
    # Today's shifts: every officer of the facility is on their post when the morning ends
    # (the seed's time, not the wall clock, which may be in the next shift by now).
    assert ShiftAssignment.objects.count() == result.duty.shifts == 2 * 9
    for post in ("PATROL", "CUSTODIAN", "SUBCONTROL", "COMMAND", "LEADER"):
        assert on_shift(facility, post, at=anchor).count() == 1
    assert Movement.objects.filter(unit=facility).count() == result.duty.movements == 4


@pytest.mark.django_db
def test_demo_duty_morning_is_the_same_for_the_same_seed(codes: None, fast_passwords: None) -> None:
    """The script picks its people by the seed: replaying it on the same facility names the
    same people in the same order."""
    from django.utils import timezone

    from jianguan.org.models import Unit
    from jianguan.synthetic.duty_morning import morning_people

    _seed(per_facility=60, accounts=False)
    facility = Unit.objects.get(code="440100K01")
    now = timezone.now()
    first = [p.id for p in morning_people(facility, 20261121, now)]
    assert first == [p.id for p in morning_people(facility, 20261121, now)]
    assert first != [p.id for p in morning_people(facility, 7, now)]
    assert len(first) >= 17


# --- the command -------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_refuses_a_database_with_units(tree: dict[str, Any]) -> None:
    with pytest.raises(CommandError, match="make reset"):
        call_command("seed", "--quiet", "--no-accounts")
    with pytest.raises(CommandError, match="--facilities"):
        call_command("seed", "--quiet", "--append")


@pytest.mark.django_db(transaction=True)
def test_small_scale_run_and_append(codes: None) -> None:
    """Outside a test transaction: on PostgreSQL this takes the background-writer path."""
    from jianguan.custody.models import Detainee
    from jianguan.housing.models import Cell
    from jianguan.org.models import Unit

    out = StringIO()
    args = ["--detainees-per-facility", "20", "--no-accounts", "--quiet", "--now", NOW.isoformat()]
    call_command("seed", "--facilities", "5", *args, stdout=out)
    assert "人员 100 名" in out.getvalue()
    assert ("后台写入线程" in out.getvalue()) == (connection.vendor == "postgresql")
    facilities = list(Unit.objects.filter(level="FACILITY"))
    assert len(facilities) == 5
    assert Detainee.objects.count() == 100
    assert Cell.objects.count() > 5 * 12
    for unit in Unit.objects.select_related("parent"):
        expected = f"{unit.parent.path if unit.parent else '/'}{unit.code}/"
        assert unit.path == expected
        if unit.parent:
            order = ["NATIONAL", "PROVINCE", "CITY", "FACILITY"]
            assert order.index(unit.level) == order.index(unit.parent.level) + 1
    for f in facilities:
        assert f.region_code[:4] == f.parent.code[:4]

    call_command("seed", "--facilities", "3", "--append", *args, stdout=StringIO())
    assert Unit.objects.filter(level="FACILITY").count() == 8
    assert Detainee.objects.count() == 160
    assert Unit.objects.filter(level="NATIONAL").count() == 1
