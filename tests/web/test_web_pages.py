"""Staff pages: the same scope and "not found" rules as the API, the per-post home page, the
units and audit pages, and the language switch."""

from __future__ import annotations

from typing import Any

import pytest

from jianguan.audit.models import AuditEntry
from jianguan.core.ids import uuid7
from jianguan.custody.models import DetaineeStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_detainee) -> dict[str, Any]:
    """广州一看: 甲一, 甲二 (held), 甲三 (released); 广州拘留所: 乙一; 深圳一看: 丙一."""
    return {
        "gz_k1": make_detainee("gz_k", name="甲一"),
        "gz_k2": make_detainee("gz_k", name="甲二", status=DetaineeStatus.OUT_TEMPORARILY),
        "gz_k3": make_detainee("gz_k", name="甲三", status=DetaineeStatus.RELEASED),
        "gz_j": make_detainee("gz_j", name="乙一"),
        "sz_k": make_detainee("sz_k", name="丙一"),
    }


def _text(response) -> str:
    return response.content.decode()


def _head() -> int:
    last = AuditEntry.objects.order_by("-seq").first()
    return last.seq if last else 0


# --- /detainees/ --------------------------------------------------------------------------


def test_detainee_list_as_anonymous_redirects_to_login(people, client):
    """An anonymous visitor is sent to the login page and shown no names."""
    response = client.get("/detainees/")
    assert (response.status_code, response["Location"]) == (302, "/login/?next=/detainees/")


def test_detainee_list_without_permission_is_403(people, make_user, sign_in):
    """An ADMINISTRATOR (no detainee.view) gets the 403 page, no names and no list audit."""
    admin = make_user("gd_admin", "ADMINISTRATOR", unit="gd")
    before = _head()
    response = sign_in(admin).get("/detainees/")
    assert response.status_code == 403
    assert 'data-code="PERMISSION_DENIED"' in _text(response)
    assert not any(name in _text(response) for name in ("甲一", "乙一", "丙一"))
    assert not AuditEntry.objects.filter(seq__gt=before, action="detainee.list").exists()


def test_detainee_list_shows_own_facility_held_people(people, make_user, sign_in):
    """A 管教 of 广州一看 sees its held people (default filter HELD) and nobody else."""
    officer = make_user("gz_guanjiao", "CUSTODIAN")
    text = _text(sign_in(officer).get("/detainees/"))
    assert ("甲一" in text, "甲二" in text) == (True, True)
    assert ("甲三" in text, "乙一" in text, "丙一" in text) == (False, False, False)
    assert "共 2 人" in text


def test_detainee_list_audits_the_rows_shown(people, make_user, sign_in):
    """The page writes one detainee.list entry naming exactly the rows it showed."""
    officer = make_user("gz_guanjiao", "CUSTODIAN")
    before = _head()
    sign_in(officer).get("/detainees/")
    entries = list(AuditEntry.objects.filter(seq__gt=before))
    assert [e.action for e in entries] == ["detainee.list"]
    assert sorted(entries[0].detail["ids"]) == sorted(
        [str(people["gz_k1"].id), str(people["gz_k2"].id)]
    )


def test_city_supervisor_list_spans_both_guangzhou_facilities(people, make_user, sign_in):
    """广州's 业务指导 sees 广州一看 and 广州拘留所 people, not 深圳's."""
    sup = make_user("gz_sup", "SUPERVISOR", unit="gz")
    text = _text(sign_in(sup).get("/detainees/"))
    assert ("甲一" in text, "乙一" in text, "丙一" in text) == (True, True, False)


def test_unit_filter_for_out_of_scope_facility_is_404(people, make_user, sign_in, tree):
    """?unit=<深圳一看> for a 广州 supervisor is the 404 page and a DENIED unit.view entry."""
    sup = make_user("gz_sup", "SUPERVISOR", unit="gz")
    before = _head()
    response = sign_in(sup).get(f"/detainees/?unit={tree['sz_k'].id}")
    assert response.status_code == 404
    assert "丙一" not in _text(response)
    entries = [(e.action, e.outcome) for e in AuditEntry.objects.filter(seq__gt=before)]
    assert entries == [("unit.view", "DENIED")]


def test_status_all_includes_released(people, make_user, sign_in):
    """?status= (全部) also lists the released person."""
    officer = make_user("gz_guanjiao", "CUSTODIAN")
    assert "甲三" in _text(sign_in(officer).get("/detainees/?status="))


# --- /detainees/<id>/ ---------------------------------------------------------------------


def test_detail_of_own_person_renders_and_is_audited(people, make_user, sign_in):
    """The 管教 opens 甲一: 200 with the name, one detainee.view entry outcome OK."""
    officer = make_user("gz_guanjiao", "CUSTODIAN")
    before = _head()
    response = sign_in(officer).get(f"/detainees/{people['gz_k1'].id}/")
    assert response.status_code == 200
    assert "甲一" in _text(response)
    entries = [
        (e.action, e.object_id, e.outcome) for e in AuditEntry.objects.filter(seq__gt=before)
    ]
    assert entries == [("detainee.view", str(people["gz_k1"].id), "OK")]


def test_detail_of_other_facility_is_the_404_page(people, make_user, sign_in):
    """深圳's person is the 404 page for a 广州 管教, naming nothing, audited as DENIED."""
    officer = make_user("gz_guanjiao", "CUSTODIAN")
    before = _head()
    response = sign_in(officer).get(f"/detainees/{people['sz_k'].id}/")
    assert response.status_code == 404
    assert 'data-code="NOT_FOUND"' in _text(response)
    assert "丙一" not in _text(response)
    entries = [(e.action, e.outcome) for e in AuditEntry.objects.filter(seq__gt=before)]
    assert entries == [("detainee.view", "DENIED")]


@pytest.mark.parametrize("bad_id", ["missing", "not-a-uuid"])
def test_detail_of_missing_or_malformed_id_is_404(people, make_user, sign_in, bad_id):
    """A missing or malformed id is the same 404 page, not a 500."""
    officer = make_user("gz_guanjiao", "CUSTODIAN")
    target = uuid7() if bad_id == "missing" else bad_id
    response = sign_in(officer).get(f"/detainees/{target}/")
    assert response.status_code == 404
    assert 'data-code="NOT_FOUND"' in _text(response)


def test_detail_as_anonymous_redirects_without_audit(people, client):
    """An anonymous visitor is sent to log in; nothing is read or audited."""
    before = _head()
    response = client.get(f"/detainees/{people['gz_k1'].id}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert _head() == before


# --- home, units, audit -------------------------------------------------------------------


def test_home_of_custodian_shows_post_and_held_count(people, make_user, sign_in):
    """The 管教's home page is the "管教工作台" with 2 held (in custody + out temporarily)."""
    officer = make_user("gz_guanjiao", "CUSTODIAN")
    text = _text(sign_in(officer).get("/"))
    assert "管教工作台" in text
    assert '<span class="n" data-testid="held">2</span>' in text


def test_home_of_supervisor_lists_facilities_with_counts(people, make_user, sign_in):
    """The 业务指导 home lists 广州's facilities with their held counts, not 深圳's."""
    sup = make_user("gz_sup", "SUPERVISOR", unit="gz")
    text = _text(sign_in(sup).get("/"))
    assert "业务指导工作台" in text
    assert '<span class="n" data-testid="held">3</span>' in text
    assert "广州市第一看守所</a></td><td>看守所</td><td>2</td>" in text
    assert "广州市拘留所</a></td><td>拘留所</td><td>1</td>" in text
    assert "深圳市第一看守所" not in text


def test_home_of_administrator_shows_no_roll(people, make_user, sign_in):
    """An administrator's home has no held count (no detainee.view) but links to the admin."""
    admin = make_user("gd_admin", "ADMINISTRATOR", unit="gd")
    text = _text(sign_in(admin).get("/"))
    assert "系统管理员工作台" in text
    assert 'data-testid="held"' not in text
    assert 'href="/admin/"' in text


def test_units_page_of_city_supervisor_lists_its_facilities(people, make_user, sign_in):
    """/units/ for 广州's supervisor lists 广州 and its two facilities, not 深圳."""
    sup = make_user("gz_sup", "SUPERVISOR", unit="gz")
    text = _text(sign_in(sup).get("/units/"))
    assert ("广州市公安局监管支队" in text, "广州市第一看守所" in text, "广州市拘留所" in text) == (
        True,
        True,
        True,
    )
    assert ("深圳" in text, "广东省公安厅监管总队" in text) == (False, False)


def test_audit_page_without_permission_is_403(make_user, sign_in):
    """A 管教 (no audit.view) gets the 403 page from /audit/."""
    officer = make_user("gz_guanjiao", "CUSTODIAN")
    response = sign_in(officer).get("/audit/")
    assert response.status_code == 403
    assert 'data-code="PERMISSION_DENIED"' in _text(response)


def test_audit_page_with_permission_lists_entries(make_user, sign_in):
    """A 所领导 past the second factor sees the audit page with their facility's entries."""
    leader = make_user("gz_leader", "LEADER")
    client = sign_in(leader)
    client.get("/detainees/")  # leaves a detainee.list entry at 440100K01
    response = client.get("/audit/")
    assert response.status_code == 200
    assert "detainee.list" in _text(response)


def test_audit_page_as_anonymous_redirects(tree, client):
    """An anonymous visitor is sent to log in."""
    assert client.get("/audit/")["Location"] == "/login/?next=/audit/"


# --- language -----------------------------------------------------------------------------


def test_language_switch_sets_english(tree, client):
    """POST /i18n/setlang/ with language=en redirects back and later pages are lang="en";
    switching back restores zh-hans."""
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert (response.status_code, response["Location"]) == (302, "/login/")
    assert client.cookies["django_language"].value == "en"
    assert '<html lang="en">' in _text(client.get("/login/"))
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"})
    assert '<html lang="zh-hans">' in _text(client.get("/login/"))


def test_language_switch_refuses_an_off_site_next(tree, client):
    """An off-site `next` is not followed."""
    response = client.post("/i18n/setlang/", {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"
