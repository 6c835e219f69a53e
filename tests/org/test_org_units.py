"""Units: the level order, the refusals (and that a refusal writes nothing), and scope."""

from __future__ import annotations

from typing import Any

import pytest

from jianguan.audit.models import AuditEntry
from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError, NotFound
from jianguan.org.api import (
    FacilityKind,
    UnitLevel,
    access_unit,
    scope_units,
    unit_create,
    units_facilities,
)
from jianguan.org.models import User
from jianguan.outbox.models import Event

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")


def _refused(tree: dict[str, Any], side_effects: Any, **kwargs: Any) -> DomainError:
    """Call unit_create expecting a refusal; assert that nothing at all was written."""
    before = side_effects()
    with pytest.raises(DomainError) as exc:
        unit_create(actor=ACTOR, **kwargs)
    assert side_effects() == before
    return exc.value


def _codes(units: Any) -> list[str]:
    return sorted(units.values_list("code", flat=True))


# --- level order --------------------------------------------------------------------------


def test_facility_under_a_province_is_refused_as_bad_parent(tree, side_effects):
    """A facility's parent must be a city: under a province it is BAD_PARENT on `parent`."""
    err = _refused(
        tree,
        side_effects,
        code="440000K99",
        name="省直看守所",
        level=UnitLevel.FACILITY,
        region_code="440103",
        parent=tree["gd"],
        facility_kind=FacilityKind.DETENTION_CENTER,
    )
    assert (err.code, err.field) == ("BAD_PARENT", "parent")
    assert err.message == "监所单位的上级必须是地市单位"


def test_city_without_parent_is_refused_as_bad_parent(tree, side_effects):
    """A city needs a province above it; parent=None is BAD_PARENT."""
    err = _refused(
        tree,
        side_effects,
        code="440400",
        name="珠海市公安局监管支队",
        level=UnitLevel.CITY,
        region_code="440400",
        parent=None,
    )
    assert (err.code, err.field) == ("BAD_PARENT", "parent")


def test_national_unit_with_a_parent_is_refused(tree, side_effects):
    """The national unit is the root: giving it a parent is BAD_PARENT."""
    err = _refused(
        tree,
        side_effects,
        code="000001",
        name="第二个部级单位",
        level=UnitLevel.NATIONAL,
        region_code="000000",
        parent=tree["gd"],
    )
    assert (err.code, err.field, err.message) == ("BAD_PARENT", "parent", "部级单位没有上级单位")


def test_province_under_a_city_is_refused(tree, side_effects):
    """Levels cannot be skipped or inverted: a province under a city is BAD_PARENT."""
    err = _refused(
        tree,
        side_effects,
        code="450000",
        name="广西",
        level=UnitLevel.PROVINCE,
        region_code="450000",
        parent=tree["gz"],
    )
    assert (err.code, err.field) == ("BAD_PARENT", "parent")


def test_duplicate_code_is_refused_even_with_surrounding_spaces(tree, side_effects):
    """An existing code, padded with spaces, is DUPLICATE_CODE on `code`."""
    err = _refused(
        tree,
        side_effects,
        code=" 440100K01 ",
        name="重复的看守所",
        level=UnitLevel.FACILITY,
        region_code="440103",
        parent=tree["gz"],
        facility_kind=FacilityKind.DETENTION_CENTER,
    )
    assert (err.code, err.field) == ("DUPLICATE_CODE", "code")
    assert err.message == "单位代码 440100K01 已存在"


def test_facility_without_kind_is_refused(tree, side_effects):
    """A facility must say whether it is a 看守所, 拘留所 or 戒毒所."""
    err = _refused(
        tree,
        side_effects,
        code="440100K02",
        name="广州市第二看守所",
        level=UnitLevel.FACILITY,
        region_code="440103",
        parent=tree["gz"],
        facility_kind="",
    )
    assert (err.code, err.field) == ("FACILITY_KIND_REQUIRED", "facility_kind")


def test_city_with_unknown_region_is_refused(tree, side_effects):
    """A region code absent from the REGION table is UNKNOWN_CODE on `region_code`."""
    err = _refused(
        tree,
        side_effects,
        code="449900",
        name="不存在的市",
        level=UnitLevel.CITY,
        region_code="449900",
        parent=tree["gd"],
    )
    assert (err.code, err.field) == ("UNKNOWN_CODE", "region_code")
    assert err.message == "“449900”不是有效的行政区划代码"


def test_facility_region_is_checked_through_its_city(tree, side_effects):
    """A county code whose city (first four digits + 00) is unknown is refused."""
    err = _refused(
        tree,
        side_effects,
        code="440100K03",
        name="错区划看守所",
        level=UnitLevel.FACILITY,
        region_code="449901",
        parent=tree["gz"],
        facility_kind=FacilityKind.DETENTION_CENTER,
    )
    assert (err.code, err.field) == ("UNKNOWN_CODE", "region_code")
    assert err.message == "“449900”不是有效的行政区划代码"


def test_unit_create_writes_unit_audit_entry_and_event(tree, side_effects):
    """A valid create stores the path, one audit entry and one outbox event with the payload."""
    before = side_effects()
    unit = unit_create(
        actor=ACTOR,
        code=" 440100K02 ",
        name=" 广州市第二看守所 ",
        level=UnitLevel.FACILITY,
        region_code="440111",
        parent=tree["gz"],
        facility_kind=FacilityKind.DETENTION_CENTER,
    )
    after = side_effects()
    grown = {k: after[k] - before[k] for k in after}
    assert grown == {"units": 1, "users": 0, "tokens": 0, "audit": 1, "events": 1, "activity": 0}
    unit.refresh_from_db()
    assert (unit.code, unit.name, unit.path) == (
        "440100K02",
        "广州市第二看守所",
        "/000000/440000/440100/440100K02/",
    )
    payload = {"code": "440100K02", "name": "广州市第二看守所", "level": "FACILITY"}
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.object_type, entry.object_id, entry.detail, entry.username) == (
        "unit.created",
        "unit",
        str(unit.id),
        payload,
        "test",
    )
    event = Event.objects.get(aggregate_id=str(unit.id))
    assert (event.type, event.unit_code, event.payload, event.actor_name) == (
        "unit.created",
        "440100K02",
        payload,
        "test",
    )


def test_facility_kind_is_dropped_for_a_non_facility(tree):
    """A facility kind given for a city is not stored (the check constraint forbids it)."""
    unit = unit_create(
        actor=ACTOR,
        code="440400",
        name="珠海市公安局监管支队",
        level=UnitLevel.CITY,
        region_code="440400",
        parent=tree["gd"],
        facility_kind=FacilityKind.DETENTION_CENTER,
    )
    unit.refresh_from_db()
    assert unit.facility_kind == ""


# --- scope --------------------------------------------------------------------------------


def test_facility_officer_sees_only_own_facility(make_user):
    """A 管教 of 广州市第一看守所 has exactly that one unit in scope."""
    officer = make_user("gz_guanjiao", "CUSTODIAN", unit="gz_k")
    assert _codes(scope_units(officer)) == ["440100K01"]
    assert _codes(units_facilities(officer)) == ["440100K01"]


def test_city_supervisor_sees_its_subtree_only(make_user, tree):
    """广州 sees itself and its two facilities, not 深圳 nor a unit whose code merely starts alike."""
    unit_create(
        actor=ACTOR,
        code="440100X",  # same prefix as 广州's code, but a sibling under 广东
        name="前缀相同的地市",
        level=UnitLevel.CITY,
        region_code="440100",
        parent=tree["gd"],
    )
    sup = make_user("gz_sup", "SUPERVISOR", unit="gz")
    assert _codes(scope_units(sup)) == ["440100", "440100J01", "440100K01"]
    assert _codes(units_facilities(sup)) == ["440100J01", "440100K01"]


def test_province_supervisor_sees_all_of_guangdong(make_user):
    """广东 sees every unit below it but not the national unit above it."""
    sup = make_user("gd_sup", "SUPERVISOR", unit="gd")
    assert _codes(scope_units(sup)) == [
        "440000",
        "440100",
        "440100J01",
        "440100K01",
        "440300",
        "440300K01",
    ]


def test_user_without_unit_sees_nothing(tree):
    """A user attached to no unit has an empty scope."""
    loose = User.objects.create_user("loose", password="x-long-password")
    assert list(scope_units(loose)) == []
    assert list(units_facilities(loose)) == []


def test_access_unit_outside_scope_is_not_found_and_audited(make_user, tree):
    """access_unit answers NotFound for another city's unit and records a DENIED unit.view."""
    officer = make_user("gz_guanjiao", "CUSTODIAN", unit="gz_k")
    before = AuditEntry.objects.count()
    with pytest.raises(NotFound):
        access_unit(user=officer, id=tree["sz_k"].id)
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.object_id, entry.outcome, entry.username) == (
        "unit.view",
        str(tree["sz_k"].id),
        "DENIED",
        "gz_guanjiao",
    )
    assert access_unit(user=officer, id=tree["gz_k"].id) == tree["gz_k"]


def test_access_unit_with_malformed_id_is_not_found(make_user):
    """A malformed id answers NotFound, not a crash."""
    officer = make_user("gz_guanjiao", "CUSTODIAN", unit="gz_k")
    with pytest.raises(NotFound):
        access_unit(user=officer, id="not-a-uuid")
