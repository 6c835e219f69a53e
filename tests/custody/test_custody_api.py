"""GET /api/v1/detainees and /api/v1/detainees/{id}: scope, "not found" for not-yours, audited
reads, paging, and a query count that does not grow with the page."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jianguan.audit.models import AuditEntry
from jianguan.core.ids import uuid7
from jianguan.custody.models import DetaineeStatus

pytestmark = pytest.mark.django_db

UNAUTHENTICATED = {"code": "UNAUTHENTICATED", "message": "未登录或令牌无效", "field": None}
NOT_FOUND = {"code": "NOT_FOUND", "message": "在押人员不存在或无权访问", "field": None}


@pytest.fixture
def people(make_detainee) -> dict[str, Any]:
    """Two people in 广州一看 (one released), one in 广州拘留所, one in 深圳一看."""
    return {
        "gz_k1": make_detainee("gz_k", name="甲一", id_number="440103199001011234"),
        "gz_k2": make_detainee("gz_k", name="甲二", status=DetaineeStatus.RELEASED),
        "gz_j": make_detainee("gz_j", name="乙一"),
        "sz_k": make_detainee("sz_k", name="丙一"),
    }


def _ids(*rows: Any) -> set[str]:
    return {str(r.id) for r in rows}


def _new_entries(before: int) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(seq__gt=before).order_by("seq"))


def _head() -> int:
    last = AuditEntry.objects.order_by("-seq").first()
    return last.seq if last else 0


# --- the list -----------------------------------------------------------------------------


def test_list_as_anonymous_is_unauthenticated(people, client):
    """Without credentials the list answers 401 UNAUTHENTICATED and nothing is read or audited."""
    before = _head()
    response = client.get("/api/v1/detainees")
    assert (response.status_code, response.json()) == (401, UNAUTHENTICATED)
    assert "甲一" not in response.content.decode()
    assert _new_entries(before) == []


def test_list_without_view_permission_is_empty(people, make_user, sign_in):
    """An ADMINISTRATOR (no detainee.view) at the province gets count 0 and no items."""
    admin = make_user("gd_admin", "ADMINISTRATOR", unit="gd")
    response = sign_in(admin).get("/api/v1/detainees")
    assert response.status_code == 200
    assert response.json() == {"count": 0, "page": 1, "page_size": 50, "items": []}


def test_facility_custodian_lists_only_own_facility(people, make_user, sign_in):
    """A 管教 of 广州一看 sees both of its people (any status) and nobody else's."""
    officer = make_user("gz_guanjiao", "CUSTODIAN", unit="gz_k")
    body = sign_in(officer).get("/api/v1/detainees").json()
    assert body["count"] == 2
    assert {i["id"] for i in body["items"]} == _ids(people["gz_k1"], people["gz_k2"])


def test_city_supervisor_lists_both_guangzhou_facilities(people, make_user, sign_in):
    """广州's 业务指导 sees 广州一看 and 广州拘留所, not 深圳."""
    sup = make_user("gz_sup", "SUPERVISOR", unit="gz")
    body = sign_in(sup).get("/api/v1/detainees").json()
    assert body["count"] == 3
    assert {i["id"] for i in body["items"]} == _ids(
        people["gz_k1"], people["gz_k2"], people["gz_j"]
    )


def test_province_supervisor_lists_all_of_guangdong(people, make_user, sign_in):
    """广东's 业务指导 sees all four people."""
    sup = make_user("gd_sup", "SUPERVISOR", unit="gd")
    body = sign_in(sup).get("/api/v1/detainees").json()
    assert {i["id"] for i in body["items"]} == _ids(*people.values())


def test_unit_filter_cannot_widen_the_scope(people, make_user, sign_in, tree):
    """Asking for 深圳一看 by unit_id as a 广州 管教 returns nobody."""
    officer = make_user("gz_guanjiao", "CUSTODIAN", unit="gz_k")
    body = sign_in(officer).get(f"/api/v1/detainees?unit_id={tree['sz_k'].id}").json()
    assert (body["count"], body["items"]) == (0, [])


def test_status_and_text_filters(people, make_user, sign_in):
    """status=HELD drops the released person; q matches by name."""
    sup = make_user("gz_sup", "SUPERVISOR", unit="gz")
    client = sign_in(sup)
    held = client.get("/api/v1/detainees?status=HELD").json()
    assert {i["id"] for i in held["items"]} == _ids(people["gz_k1"], people["gz_j"])
    named = client.get("/api/v1/detainees?q=乙").json()
    assert [i["id"] for i in named["items"]] == [str(people["gz_j"].id)]


def test_list_read_is_audited_with_the_ids_shown(people, make_user, sign_in):
    """One detainee.list entry whose detail.ids are the returned ids, in order, with the query."""
    sup = make_user("gz_sup", "SUPERVISOR", unit="gz")
    before = _head()
    body = sign_in(sup).get("/api/v1/detainees?page_size=2").json()
    entries = _new_entries(before)
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.action, entry.object_type, entry.username, entry.unit_code, entry.posts) == (
        "detainee.list",
        "detainee",
        "gz_sup",
        "440100",
        "SUPERVISOR",
    )
    assert entry.detail == {
        "query": {"status": None, "unit_id": None, "q": "", "page": 1, "page_size": 2},
        "ids": [i["id"] for i in body["items"]],
    }
    assert len(entry.detail["ids"]) == 2


def test_list_items_omit_identity_numbers(people, make_user, sign_in):
    """The list carries no ID number; that is only on the audited detail read."""
    officer = make_user("gz_guanjiao", "CUSTODIAN", unit="gz_k")
    response = sign_in(officer).get("/api/v1/detainees")
    assert "440103199001011234" not in response.content.decode()
    assert all("id_number" not in item for item in response.json()["items"])


def test_paging_caps_page_size_and_counts_everyone(make_detainee, make_user, sign_in):
    """page_size above 200 is cut to 200; count is the total; page 2 holds the rest; pages
    below 1 are page 1."""
    for n in range(201):
        make_detainee("gz_k", name=f"人{n}")
    officer = make_user("gz_guanjiao", "CUSTODIAN", unit="gz_k")
    client = sign_in(officer)
    first = client.get("/api/v1/detainees?page_size=500").json()
    assert (first["count"], first["page"], first["page_size"], len(first["items"])) == (
        201,
        1,
        200,
        200,
    )
    second = client.get("/api/v1/detainees?page_size=500&page=2").json()
    assert (second["page"], len(second["items"])) == (2, 1)
    assert {i["id"] for i in first["items"]}.isdisjoint({i["id"] for i in second["items"]})
    zero = client.get("/api/v1/detainees?page_size=0&page=0").json()
    assert (zero["page"], zero["page_size"], len(zero["items"])) == (1, 1, 1)


def test_list_query_count_does_not_grow_with_page_size(
    make_detainee, make_user, sign_in, django_assert_max_num_queries
):
    """Listing 2 or 40 people costs the same number of queries (cells and units are joined)."""
    for n in range(40):
        make_detainee("gz_k", name=f"人{n}")
    officer = make_user("gz_guanjiao", "CUSTODIAN", unit="gz_k")
    client = sign_in(officer)
    counts = []
    for size in (2, 40):
        with CaptureQueriesContext(connection) as ctx:
            assert len(client.get(f"/api/v1/detainees?page_size={size}").json()["items"]) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(11):
        client.get("/api/v1/detainees?page_size=40")


# --- one person ---------------------------------------------------------------------------


def test_detail_as_anonymous_is_unauthenticated(people, client):
    """Without credentials the detail answers 401 and writes no audit entry."""
    before = _head()
    response = client.get(f"/api/v1/detainees/{people['gz_k1'].id}")
    assert (response.status_code, response.json()) == (401, UNAUTHENTICATED)
    assert _new_entries(before) == []


def test_detail_of_own_person_is_returned_and_audited_once(people, make_user, sign_in):
    """A permitted read returns the record and writes exactly one detainee.view entry naming
    the user, unit code, posts and address."""
    officer = make_user("gz_guanjiao", "CUSTODIAN", unit="gz_k")
    person = people["gz_k1"]
    before = _head()
    response = sign_in(officer).get(f"/api/v1/detainees/{person.id}")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["name"], body["id_number"], body["unit_id"]) == (
        str(person.id),
        "甲一",
        "440103199001011234",
        str(person.unit_id),
    )
    entries = _new_entries(before)
    assert len(entries) == 1
    entry = entries[0]
    assert (
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.outcome,
        entry.user_id,
        entry.username,
        entry.unit_code,
        entry.posts,
        entry.address,
    ) == (
        "detainee.view",
        "detainee",
        str(person.id),
        "OK",
        officer.id,
        "gz_guanjiao",
        "440100K01",
        "CUSTODIAN",
        "127.0.0.1",
    )


def test_detail_of_other_facility_is_not_found(people, make_user, sign_in):
    """Another facility's person answers 404 NOT_FOUND, exactly like a missing one, with no
    trace of the record in the response."""
    officer = make_user("gz_guanjiao", "CUSTODIAN", unit="gz_k")
    response = sign_in(officer).get(f"/api/v1/detainees/{people['sz_k'].id}")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert "丙一" not in response.content.decode()


def test_detail_of_other_facility_is_audited_as_denied(people, make_user, sign_in):
    """The refused read of another facility's person leaves one detainee.view entry with
    outcome DENIED for that id."""
    officer = make_user("gz_guanjiao", "CUSTODIAN", unit="gz_k")
    before = _head()
    sign_in(officer).get(f"/api/v1/detainees/{people['sz_k'].id}")
    entries = [(e.action, e.object_id, e.outcome, e.username) for e in _new_entries(before)]
    assert entries == [("detainee.view", str(people["sz_k"].id), "DENIED", "gz_guanjiao")]


def test_detail_of_missing_id_is_not_found(people, make_user, sign_in):
    """An id nobody has answers the same 404 NOT_FOUND body."""
    officer = make_user("gz_guanjiao", "CUSTODIAN", unit="gz_k")
    response = sign_in(officer).get(f"/api/v1/detainees/{uuid7()}")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_detail_of_missing_id_is_audited_as_not_found(people, make_user, sign_in):
    """The read of a missing id leaves one detainee.view entry with outcome NOT_FOUND."""
    officer = make_user("gz_guanjiao", "CUSTODIAN", unit="gz_k")
    missing = uuid7()
    before = _head()
    sign_in(officer).get(f"/api/v1/detainees/{missing}")
    entries = [(e.action, e.object_id, e.outcome) for e in _new_entries(before)]
    assert entries == [("detainee.view", str(missing), "NOT_FOUND")]


def test_detail_of_malformed_id_is_not_found_not_a_crash(people, make_user, sign_in):
    """A malformed id answers 404 NOT_FOUND, not 500."""
    officer = make_user("gz_guanjiao", "CUSTODIAN", unit="gz_k")
    response = sign_in(officer).get("/api/v1/detainees/not-a-uuid")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_detail_without_view_permission_is_not_found(people, make_user, sign_in):
    """An ADMINISTRATOR whose unit covers the person still may not read it: 404."""
    admin = make_user("gd_admin", "ADMINISTRATOR", unit="gd")
    response = sign_in(admin).get(f"/api/v1/detainees/{people['gz_k1'].id}")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_city_supervisor_reads_a_person_below(people, make_user, sign_in):
    """广州's 业务指导 may open a 广州拘留所 record but not a 深圳 one."""
    sup = make_user("gz_sup", "SUPERVISOR", unit="gz")
    client = sign_in(sup)
    assert client.get(f"/api/v1/detainees/{people['gz_j'].id}").status_code == 200
    assert client.get(f"/api/v1/detainees/{people['sz_k'].id}").status_code == 404


def test_list_items_match_the_published_schema(people, make_user, sign_in):
    """The list is serialised without ninja's output validation, so hold every item to the
    OpenAPI schema here: exactly its fields, each of its type."""
    from jianguan.custody.schemas import DetaineeOut, DetaineePage

    officer = make_user("gz_guanjiao", "CUSTODIAN", unit="gz_k")
    body = sign_in(officer).get("/api/v1/detainees?status=").json()
    page = DetaineePage.model_validate(body)
    assert page.count == 2
    assert all(set(item) == set(DetaineeOut.model_fields) for item in body["items"])
    assert {i.name for i in page.items} == {"甲一", "甲二"}
