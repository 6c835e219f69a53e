"""The org endpoints: /me, /units (scope), and unit and user creation by administrators only."""

from __future__ import annotations

import pytest
from tests.conftest import PASSWORD

from jianguan.audit.models import AuditEntry
from jianguan.core.actor import Actor
from jianguan.org.api import api_token_issue
from jianguan.org.models import Unit, User
from jianguan.outbox.models import Event

pytestmark = pytest.mark.django_db

UNAUTHENTICATED = {"code": "UNAUTHENTICATED", "message": "未登录或令牌无效", "field": None}
DENIED = {"code": "PERMISSION_DENIED", "message": "当前岗位无“系统管理”权限", "field": None}
UNIT_NOT_FOUND = {"code": "NOT_FOUND", "message": "单位不存在或无权访问", "field": None}


def _post(client, path, data, **extra):
    return client.post(path, data, content_type="application/json", **extra)


def _new_facility(tree, **overrides):
    return {
        "code": "440100K02",
        "name": "广州市第二看守所",
        "level": "FACILITY",
        "region_code": "440111",
        "parent_id": str(tree["gz"].id),
        "facility_kind": "DETENTION_CENTER",
        **overrides,
    }


def _new_user(tree, **overrides):
    return {
        "username": "gz_new",
        "password": PASSWORD,
        "full_name": "王五",
        "unit_id": str(tree["gz_k"].id),
        "posts": ["PATROL"],
        **overrides,
    }


@pytest.fixture
def admin(make_user):
    return make_user("gd_admin", "ADMINISTRATOR", unit="gd")


# --- /me and /units -----------------------------------------------------------------------


def test_me_describes_the_user(make_user, sign_in):
    """/me answers the user, their unit, posts and permissions."""
    officer = make_user("gz_guanjiao", "CUSTODIAN", full_name="赵六")
    body = sign_in(officer).get("/api/v1/me").json()
    assert body == {
        "id": str(officer.id),
        "username": "gz_guanjiao",
        "full_name": "赵六",
        "unit": {
            "id": str(officer.unit.id),
            "code": "440100K01",
            "name": "广州市第一看守所",
            "level": "FACILITY",
            "facility_kind": "DETENTION_CENTER",
            "region_code": "440103",
            "parent_id": str(officer.unit.parent_id),
        },
        "posts": ["CUSTODIAN"],
        "permissions": ["cell.view", "detainee.view", "education.handle"],
    }


def test_units_lists_the_city_subtree(make_user, sign_in):
    """/units for 广州's supervisor lists 广州 and its two facilities, in path order."""
    sup = make_user("gz_sup", "SUPERVISOR", unit="gz")
    body = sign_in(sup).get("/api/v1/units").json()
    assert [u["code"] for u in body] == ["440100", "440100J01", "440100K01"]


def test_units_as_anonymous_is_unauthenticated(tree, client):
    """/units without credentials answers 401 and lists nothing."""
    response = client.get("/api/v1/units")
    assert (response.status_code, response.json()) == (401, UNAUTHENTICATED)


def test_unit_detail_out_of_scope_is_not_found_and_audited(make_user, sign_in, tree):
    """Another city's unit answers 404 NOT_FOUND and leaves a DENIED unit.view entry."""
    sup = make_user("gz_sup", "SUPERVISOR", unit="gz")
    client = sign_in(sup)
    response = client.get(f"/api/v1/units/{tree['sz_k'].id}")
    assert (response.status_code, response.json()) == (404, UNIT_NOT_FOUND)
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.object_id, entry.outcome) == (
        "unit.view",
        str(tree["sz_k"].id),
        "DENIED",
    )
    own = client.get(f"/api/v1/units/{tree['gz_j'].id}")
    assert (own.status_code, own.json()["code"]) == (200, "440100J01")


# --- POST /units --------------------------------------------------------------------------


def test_unit_create_as_anonymous_is_unauthenticated(tree, client, side_effects):
    """Anonymous POST /units answers 401 and writes nothing."""
    before = side_effects()
    response = _post(client, "/api/v1/units", _new_facility(tree))
    assert (response.status_code, response.json()) == (401, UNAUTHENTICATED)
    assert side_effects() == before


def test_unit_create_by_non_administrator_is_denied(make_user, sign_in, tree, side_effects):
    """A 业务指导 (no system.administer) gets 403 PERMISSION_DENIED; nothing is written."""
    sup = make_user("gz_sup", "SUPERVISOR", unit="gz")
    client = sign_in(sup)
    before = side_effects()
    response = _post(client, "/api/v1/units", _new_facility(tree))
    assert (response.status_code, response.json()) == (403, DENIED)
    assert side_effects() == before
    assert not Unit.objects.filter(code="440100K02").exists()


def test_unit_create_by_administrator(admin, sign_in, tree, side_effects):
    """An administrator creates a facility under a city in scope: 201 with the unit, one
    audit entry and one event naming the administrator."""
    before = side_effects()
    response = _post(sign_in(admin), "/api/v1/units", _new_facility(tree))
    assert response.status_code == 201
    unit = Unit.objects.get(code="440100K02")
    assert response.json() == {
        "id": str(unit.id),
        "code": "440100K02",
        "name": "广州市第二看守所",
        "level": "FACILITY",
        "facility_kind": "DETENTION_CENTER",
        "region_code": "440111",
        "parent_id": str(tree["gz"].id),
    }
    after = side_effects()
    assert {k: after[k] - before[k] for k in after} == {
        "units": 1,
        "users": 0,
        "tokens": 0,
        "audit": 1,
        "events": 1,
        "activity": 0,
    }
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.username, entry.unit_code, entry.posts, entry.address) == (
        "unit.created",
        "gd_admin",
        "440000",
        "ADMINISTRATOR",
        "127.0.0.1",
    )
    assert Event.objects.get(aggregate_id=str(unit.id)).actor_name == "gd_admin"


def test_unit_create_with_bad_region_is_a_field_error(admin, sign_in, tree, side_effects):
    """An unknown region answers 400 UNKNOWN_CODE on region_code; nothing is written."""
    before = side_effects()
    response = _post(sign_in(admin), "/api/v1/units", _new_facility(tree, region_code="449901"))
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("UNKNOWN_CODE", "region_code")
    assert side_effects() == before


def test_unit_create_under_out_of_scope_parent_is_not_found(make_user, sign_in, tree, side_effects):
    """A 广州 administrator cannot create under 深圳: the parent is 404 NOT_FOUND."""
    gz_admin = make_user("gz_admin", "ADMINISTRATOR", unit="gz")
    before = side_effects()
    response = _post(
        sign_in(gz_admin),
        "/api/v1/units",
        _new_facility(tree, code="440300K02", region_code="440304", parent_id=str(tree["sz"].id)),
    )
    assert (response.status_code, response.json()) == (404, UNIT_NOT_FOUND)
    after = side_effects()
    assert (after["units"], after["events"]) == (before["units"], before["events"])


def test_unit_create_with_a_bearer_token(admin, client, tree):
    """An administrator's API token may create units without a session or second factor."""
    raw = api_token_issue(actor=Actor.system("test"), user=admin, name="同步")
    response = _post(
        client, "/api/v1/units", _new_facility(tree), HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code == 201


def test_administrator_session_without_second_factor_is_held(admin, sign_in, tree, side_effects):
    """An administrator's session that has not passed TOTP gets 401 SECOND_FACTOR_REQUIRED."""
    before = side_effects()
    response = _post(sign_in(admin, second_factor=False), "/api/v1/units", _new_facility(tree))
    assert (response.status_code, response.json()["code"]) == (401, "SECOND_FACTOR_REQUIRED")
    assert side_effects() == before


# --- POST /users --------------------------------------------------------------------------


def test_user_create_by_non_administrator_is_denied(make_user, sign_in, tree, side_effects):
    """A 管教 gets 403 PERMISSION_DENIED from POST /users; no user is created."""
    officer = make_user("gz_guanjiao", "CUSTODIAN")
    client = sign_in(officer)
    before = side_effects()
    response = _post(client, "/api/v1/users", _new_user(tree))
    assert (response.status_code, response.json()) == (403, DENIED)
    assert side_effects() == before
    assert not User.objects.filter(username="gz_new").exists()


def test_user_create_by_administrator(admin, sign_in, tree, client):
    """An administrator creates a 巡控 at 广州一看; the new user can log in."""
    response = _post(sign_in(admin), "/api/v1/users", _new_user(tree))
    assert response.status_code == 201
    created = User.objects.get(username="gz_new")
    assert response.json() == {
        "id": str(created.id),
        "username": "gz_new",
        "full_name": "王五",
        "unit_id": str(tree["gz_k"].id),
        "posts": ["PATROL"],
    }
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.object_id, entry.username) == (
        "user.created",
        str(created.id),
        "gd_admin",
    )
    client.logout()
    login = client.post("/login/", {"username": "gz_new", "password": PASSWORD})
    assert login.status_code == 302


def test_user_create_without_posts_is_refused(admin, sign_in, tree, side_effects):
    """posts=[] answers 400 NO_POST on field posts; no user, audit entry or event."""
    before = side_effects()
    response = _post(sign_in(admin), "/api/v1/users", _new_user(tree, posts=[]))
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("NO_POST", "posts")
    assert side_effects() == before
    assert not User.objects.filter(username="gz_new").exists()


def test_user_create_with_unknown_post_is_refused(admin, sign_in, tree, side_effects):
    """An unknown post answers 400 UNKNOWN_POST on field posts and writes nothing."""
    before = side_effects()
    response = _post(sign_in(admin), "/api/v1/users", _new_user(tree, posts=["CHEF"]))
    assert (response.status_code, response.json()["code"]) == (400, "UNKNOWN_POST")
    assert side_effects() == before


def test_user_create_at_out_of_scope_unit_is_not_found(make_user, sign_in, tree, side_effects):
    """A 广州 administrator cannot place a user in 深圳: 404, nothing written."""
    gz_admin = make_user("gz_admin", "ADMINISTRATOR", unit="gz")
    client = sign_in(gz_admin)
    before = side_effects()
    response = _post(client, "/api/v1/users", _new_user(tree, unit_id=str(tree["sz_k"].id)))
    assert (response.status_code, response.json()) == (404, UNIT_NOT_FOUND)
    after = side_effects()
    assert (after["users"], after["events"]) == (before["users"], before["events"])
