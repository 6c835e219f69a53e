"""The Django admin: reachable only by staff past the second factor; saves go through services."""

from __future__ import annotations

import pyotp
import pytest
from tests.conftest import PASSWORD

from jianguan.audit.models import AuditEntry
from jianguan.core.actor import Actor
from jianguan.org.api import totp_enrol
from jianguan.org.models import Post, Unit, User
from jianguan.outbox.models import Event

pytestmark = pytest.mark.django_db

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def admin(make_user):
    """An administrator: ADMINISTRATOR post at 广东, is_staff and is_superuser."""
    user = make_user("gd_admin", "ADMINISTRATOR", unit="gd")
    User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    user.refresh_from_db()
    return user


def _unit_form(tree, **overrides):
    return {
        "code": "440100K02",
        "name": "广州市第二看守所",
        "level": "FACILITY",
        "facility_kind": "DETENTION_CENTER",
        "region_code": "440111",
        "parent": str(tree["gz"].id),
        "is_active": "on",
        **overrides,
    }


def test_admin_after_real_totp_adds_a_unit(admin, client, tree, side_effects):
    """An administrator who logs in with password and TOTP adds a unit through the admin:
    the unit exists with its path, with one unit.created audit entry and one event."""
    totp_enrol(actor=Actor.system("test"), user=admin, secret=SECRET)
    client.post("/login/", {"username": "gd_admin", "password": PASSWORD})
    assert client.get("/admin/")["Location"] == "/login/totp/"
    client.post("/login/totp/", {"code": pyotp.TOTP(SECRET).now()})
    assert client.get("/admin/").status_code == 200

    before = side_effects()
    response = client.post("/admin/org/unit/add/", _unit_form(tree))
    assert (response.status_code, response["Location"]) == (302, "/admin/org/unit/")
    unit = Unit.objects.get(code="440100K02")
    assert (unit.path, unit.parent, unit.facility_kind) == (
        "/000000/440000/440100/440100K02/",
        tree["gz"],
        "DETENTION_CENTER",
    )
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
    assert (entry.action, entry.object_id, entry.username, entry.address) == (
        "unit.created",
        str(unit.id),
        "gd_admin",
        "127.0.0.1",
    )
    event = Event.objects.get(aggregate_id=str(unit.id))
    assert (event.type, event.actor_name, event.unit_code) == (
        "unit.created",
        "gd_admin",
        "440100K02",
    )


def test_admin_unit_form_shows_unknown_region(admin, sign_in, tree, side_effects):
    """An unknown region code re-renders the form with the error beside region_code and
    writes nothing."""
    client = sign_in(admin)
    before = side_effects()
    response = client.post("/admin/org/unit/add/", _unit_form(tree, region_code="449901"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors == {"region_code": ["“449900”不是有效的行政区划代码"]}
    assert "“449900”不是有效的行政区划代码" in response.content.decode()
    assert side_effects() == before


def test_admin_unit_form_shows_bad_parent(admin, sign_in, tree, side_effects):
    """A facility placed under a province shows the level-order error beside parent."""
    client = sign_in(admin)
    before = side_effects()
    response = client.post("/admin/org/unit/add/", _unit_form(tree, parent=str(tree["gd"].id)))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"parent": ["监所单位的上级必须是地市单位"]}
    assert side_effects() == before


def test_admin_rename_goes_through_unit_update(admin, sign_in, tree):
    """Renaming a unit in the admin writes unit.changed; its code stays read-only."""
    client = sign_in(admin)
    unit = tree["gz_j"]
    response = client.post(
        f"/admin/org/unit/{unit.id}/change/", {"name": "广州市第一拘留所", "is_active": "on"}
    )
    assert response.status_code == 302
    unit.refresh_from_db()
    assert (unit.name, unit.code) == ("广州市第一拘留所", "440100J01")
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.detail) == (
        "unit.changed",
        {"code": "440100J01", "name": "广州市第一拘留所", "is_active": True},
    )


def test_admin_post_change_goes_through_post_update(admin, sign_in):
    """Editing 巡控's permissions in the admin stores them and writes post.changed."""
    client = sign_in(admin)
    post = Post.objects.get(kind="PATROL")
    response = client.post(
        f"/admin/org/post/{post.id}/change/",
        {"name": "巡控", "permissions": ["detainee.view", "detainee.admit"]},
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.permissions == ["detainee.admit", "detainee.view"]
    assert AuditEntry.objects.order_by("-seq").first().action == "post.changed"


def test_admin_refuses_staff_without_second_factor(admin, sign_in):
    """A session that has not passed TOTP is redirected from the admin to /login/totp/."""
    response = sign_in(admin, second_factor=False).get("/admin/")
    assert (response.status_code, response["Location"]) == (302, "/login/totp/")


def test_admin_refuses_non_staff(make_user, sign_in):
    """A 管教 (not staff) is sent to the admin login, not shown the index."""
    officer = make_user("gz_guanjiao", "CUSTODIAN")
    response = sign_in(officer).get("/admin/org/unit/add/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_units_cannot_be_deleted_in_admin(admin, sign_in, tree):
    """Units are deactivated, never deleted: the delete view is forbidden."""
    response = sign_in(admin).post(f"/admin/org/unit/{tree['gz_j'].id}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Unit.objects.filter(pk=tree["gz_j"].pk).exists()


def _user_form(tree, **overrides):
    return {
        "username": "gz_new",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "full_name": "王五",
        "police_number": "",
        "unit": str(tree["gz_k"].id),
        "posts": [str(Post.objects.get(kind="PATROL").id)],
        **overrides,
    }


def test_admin_adds_a_user_with_audit_and_event(admin, sign_in, tree):
    """Adding a 巡控 in the admin stores the user and writes user.created with the posts."""
    response = sign_in(admin).post("/admin/org/user/add/", _user_form(tree))
    assert response.status_code == 302
    user = User.objects.get(username="gz_new")
    payload = {
        "username": "gz_new",
        "name": "王五",
        "unit": "440100K01",
        "posts": ["PATROL"],
        "is_active": True,
    }
    entry = AuditEntry.objects.get(action="user.created", object_id=str(user.id))
    assert (entry.username, entry.detail) == ("gd_admin", payload)
    assert Event.objects.get(aggregate_id=str(user.id)).payload == payload


def test_admin_user_without_post_is_refused(admin, sign_in, tree, side_effects):
    """A user added in the admin without any post is refused like user_create's NO_POST: no
    user is stored (a stored one would have no user.created entry and no event)."""
    before = side_effects()
    sign_in(admin).post("/admin/org/user/add/", _user_form(tree, posts=[]))
    assert not User.objects.filter(username="gz_new").exists()
    assert side_effects() == before
