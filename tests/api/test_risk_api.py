# The risk fixtures are imported from tests.risk.conftest; pytest passes them by name.
# ruff: noqa: F811
"""Risk assessment over /api/v1/risk: a facility's scores (highest grade first, by grade), its
cells and distribution, one person's explained score with history and facts, a fact recorded
by hand, a leader's manual grade and its review — and who is refused: anonymous (401), a post
without the permission (403), another facility (404, nothing changed), bad input (400 naming
the field, nothing written)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from tests.risk.conftest import cells, held, record  # noqa: F401

from jianguan.audit.api import audit_entries
from jianguan.core.actor import Actor
from jianguan.org.api import api_token_issue
from jianguan.risk.api import (
    ReviewStatus,
    RiskFact,
    RiskOverride,
    RiskScore,
    Track,
    override_grant,
    rescore_person,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/risk"
NOBODY = "01900000-0000-7000-8000-000000000000"


@pytest.fixture
def staff(make_user: Callable[..., Any]) -> dict[str, Any]:
    return {
        "patrol": make_user("gz_xunkong", "PATROL", full_name="吴巡控"),
        "custodian": make_user("gz_guanjiao", "CUSTODIAN", full_name="李管教"),
        "medical": make_user("gz_yiwu", "MEDICAL", full_name="赵医生"),
        "leader": make_user("gz_suozhang", "LEADER", full_name="周所长"),
        "leader2": make_user("gz_fusuozhang", "LEADER", full_name="郑副所长"),
        "reception": make_user("gz_jiedai", "RECEPTION", full_name="钱接待"),
        "sz_custodian": make_user("sz_guanjiao", "CUSTODIAN", unit="sz_k", full_name="深圳管教"),
        "sz_leader": make_user("sz_suozhang", "LEADER", unit="sz_k", full_name="深圳所长"),
        "city": make_user("gz_zhidao", "SUPERVISOR", unit="gz", full_name="市局指导"),
    }


class Caller:
    """A client speaking JSON with one user's bearer token."""

    def __init__(self, client: Client, user: Any) -> None:
        raw = api_token_issue(actor=Actor.system("test"), user=user, name="api-test")
        self.client, self.headers = client, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    def get(self, path: str, **query: Any) -> Any:
        return self.client.get(API + path, query, **self.headers)

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(
            API + path, body or {}, content_type="application/json", **self.headers
        )


@pytest.fixture
def as_user(client: Client) -> Callable[[Any], Caller]:
    return lambda user: Caller(client, user)


@pytest.fixture
def scored(held: Any) -> Any:
    rescore_person(held.id, cause="收押入所")
    return held


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content.decode()
    return response.json()


def _error(response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content.decode()
    body = response.json()
    assert body["code"] == code, body
    assert body["field"] == field, body
    assert body["message"]
    return body


def _state() -> dict[str, Any]:
    """What a refused request must leave unchanged."""
    return {
        "facts": RiskFact.objects.count(),
        "overrides": list(RiskOverride.objects.values_list("id", "review_status", "ended_at")),
        "scores": list(
            RiskScore.objects.order_by("id").values_list("id", "score", "grade", "computed_at")
        ),
    }


# --- a facility ---------------------------------------------------------------------------


def test_anonymous_is_refused(client, scored):
    response = client.get(f"{API}/scores")
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"


def test_scores_list_highest_grade_first_with_colours(
    as_user, staff, scored, record, make_detainee, cells, tree
):
    calm = make_detainee("gz_k", name="李四", cell=cells["101"], case_nature="0301")
    rescore_person(calm.id, cause="收押入所")
    record("PATROL_ABNORMAL_BEHAVIOUR", scored)

    body = _ok(as_user(staff["custodian"]).get("/scores"))
    assert body["unit_id"] == str(tree["gz_k"].id)
    assert body["model"]["version"] == "2026.1"
    assert [g["code"] for g in body["model"]["grades"]] == ["NORMAL", "LEVEL3", "LEVEL2", "LEVEL1"]
    assert body["count"] == 2
    first, second = body["items"]
    assert (first["name"], first["grade"], first["grade_name"], first["colour"]) == (
        "张三",
        "LEVEL3",
        "三级风险",
        "#d9a800",
    )
    assert (first["score"], first["cell_number"], first["overridden"]) == (33.0, "102", False)
    assert second["name"] == "李四"
    assert second["grade"] == "NORMAL"
    assert "出生日期（年龄）" in first["missing"]
    assert first["confidence"] < 1

    only = _ok(as_user(staff["custodian"]).get("/scores", grade="NORMAL"))
    assert [i["name"] for i in only["items"]] == ["李四"]
    shown = audit_entries().filter(action="detainee.list").first()
    assert shown.detail["query"]["view"] == "risk-scores"


def test_a_supervisor_names_the_facility_and_cannot_reach_another(as_user, staff, scored, tree):
    city = as_user(staff["city"])
    _error(city.get("/scores"), 400, "UNIT_REQUIRED", "unit_id")
    body = _ok(city.get("/scores", unit_id=str(tree["gz_k"].id)))
    assert [i["name"] for i in body["items"]] == ["张三"]
    _error(city.get("/scores", unit_id=str(tree["sz_k"].id)), 404, "NOT_FOUND")
    _error(city.get("/scores", unit_id=str(tree["gz"].id)), 400, "NOT_A_FACILITY", "unit_id")
    other = as_user(staff["sz_custodian"])
    _error(other.get("/scores", unit_id=str(tree["gz_k"].id)), 404, "NOT_FOUND")
    assert _ok(other.get("/scores"))["items"] == []


def test_shadow_track_needs_a_trial_model(as_user, staff, scored):
    _error(as_user(staff["leader"]).get("/scores", track="SHADOW"), 400, "NO_SHADOW_MODEL", "track")
    _error(as_user(staff["leader"]).get("/scores", track="OLD"), 400, "BAD_TRACK", "track")


def test_cells_and_distribution(as_user, staff, scored, record, cells):
    record("PATROL_ABNORMAL_BEHAVIOUR", scored)
    caller = as_user(staff["custodian"])
    body = _ok(caller.get("/cells"))
    (cell,) = body["items"]
    assert (cell["number"], cell["grade"], cell["colour"], cell["occupants"]) == (
        "102",
        "LEVEL3",
        "#d9a800",
        1,
    )
    detail = _ok(caller.get(f"/cells/{cells['102'].id}"))
    top = detail["live"]["factors"][0]
    assert top["code"] == "TOP_OCCUPANT"
    assert top["link"] == f"/risk/people/{scored.id}/"
    assert [c["grade"] for c in detail["history"]] == ["LEVEL3", "NORMAL"]
    assert detail["shadow"] is None
    dist = _ok(caller.get("/distribution"))
    assert dist["live"] == {"people": {"LEVEL3": 1}, "cells": {"LEVEL3": 1}}
    assert dist["shadow"] is None
    assert dist["trend"] == []
    _error(as_user(staff["sz_custodian"]).get(f"/cells/{cells['102'].id}"), 404, "NOT_FOUND")


# --- a person -----------------------------------------------------------------------------


def test_a_person_s_score_explains_itself_and_links_the_fact(as_user, staff, scored, record):
    rec = record("PATROL_ABNORMAL_BEHAVIOUR", scored)
    body = _ok(as_user(staff["custodian"]).get(f"/people/{scored.id}"))
    live = body["live"]
    assert (live["score"], live["grade"], live["computed_grade"]) == (33.0, "LEVEL3", "LEVEL3")
    line = next(f for f in live["factors"] if f["code"] == "ABNORMAL_BEHAVIOUR")
    assert line["points"] == 15.0
    assert line["link"] == f"/duty/tasks/{rec.task.id}/"
    assert line["label"].startswith("异常行为")
    (fact,) = body["facts"]
    assert fact["id"] == line["fact"]
    assert fact["by_hand"] is False
    latest = body["history"][0]
    assert (latest["from_grade"], latest["grade"]) == ("NORMAL", "LEVEL3")
    assert latest["moved"][0]["code"] == "ABNORMAL_BEHAVIOUR"
    assert body["shadow"] is None
    assert body["overrides"] == []


def test_another_facility_s_person_is_not_found(as_user, staff, scored):
    before = _state()
    other = as_user(staff["sz_custodian"])
    _error(other.get(f"/people/{scored.id}"), 404, "NOT_FOUND")
    _error(other.get(f"/people/{NOBODY}"), 404, "NOT_FOUND")
    body = {"kind": "manual.FAMILY_EVENT", "note": "家属病故"}
    _error(other.post(f"/people/{scored.id}/facts", body), 404, "NOT_FOUND")
    override = {"grade": "LEVEL1", "reason": "同案犯供述其策划脱逃，需严密看管", "days": 3}
    _error(
        as_user(staff["sz_leader"]).post(f"/people/{scored.id}/override", override),
        404,
        "NOT_FOUND",
    )
    assert _state() == before


def test_an_officer_records_a_fact_and_gets_the_new_score(as_user, staff, scored):
    body = _ok(
        as_user(staff["custodian"]).post(
            f"/people/{scored.id}/facts",
            {"kind": "manual.FAMILY_EVENT", "note": "父亲病故"},
        ),
        201,
    )
    assert body["fact"]["kind"] == "manual.FAMILY_EVENT"
    assert body["fact"]["by_hand"] is True
    assert (body["live"]["score"], body["live"]["grade"]) == (30.0, "LEVEL3")
    line = next(f for f in body["live"]["factors"] if f["code"] == "BAD_NEWS")
    assert line["fact"] == body["fact"]["id"]
    assert line["link"] == f"/risk/people/{scored.id}/"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"kind": "manual.NOPE"}, "kind", "UNKNOWN_FACT_KIND"),
        ({}, "kind", "UNKNOWN_FACT_KIND"),
        ({"kind": "manual.BAD_NEWS", "at": "2099-01-01T08:00:00"}, "at", "FACT_IN_FUTURE"),
        ({"kind": "manual.BAD_NEWS", "note": "很" * 2001}, "note", "NOTE_TOO_LONG"),
    ],
)
def test_a_bad_fact_is_refused_naming_the_field(as_user, staff, scored, body, field, code):
    before = _state()
    _error(as_user(staff["medical"]).post(f"/people/{scored.id}/facts", body), 400, code, field)
    assert _state() == before


def test_a_post_without_the_permission_records_nothing(as_user, staff, scored):
    before = _state()
    body = {"kind": "manual.FAMILY_EVENT"}
    _error(
        as_user(staff["reception"]).post(f"/people/{scored.id}/facts", body),
        403,
        "PERMISSION_DENIED",
    )
    override = {"grade": "LEVEL1", "reason": "同案犯供述其策划脱逃，需严密看管", "days": 3}
    _error(
        as_user(staff["custodian"]).post(f"/people/{scored.id}/override", override),
        403,
        "PERMISSION_DENIED",
    )
    assert _state() == before


def test_a_leader_overrides_and_another_reviews(as_user, staff, scored):
    body = _ok(
        as_user(staff["leader"]).post(
            f"/people/{scored.id}/override",
            {"grade": "LEVEL2", "reason": "家属反映其有轻生念头，需重点关注", "days": 7},
        ),
        201,
    )
    assert (body["grade"], body["computed_grade"], body["review_status"]) == (
        "LEVEL2",
        "NORMAL",
        "PENDING",
    )
    person = _ok(as_user(staff["custodian"]).get(f"/people/{scored.id}"))
    assert person["live"]["grade"] == "LEVEL2"
    assert person["live"]["overridden"] is True
    assert person["live"]["override"]["id"] == body["id"]

    url = f"/overrides/{body['id']}/review"
    _error(as_user(staff["leader"]).post(url, {"decision": "uphold"}), 400, "SELF_REVIEW")
    _error(
        as_user(staff["leader2"]).post(url, {"decision": "revoke"}), 400, "NOTE_REQUIRED", "note"
    )
    _error(
        as_user(staff["leader2"]).post(url, {"decision": "maybe"}),
        400,
        "DECISION_REQUIRED",
        "decision",
    )
    _error(as_user(staff["sz_leader"]).post(url, {"decision": "uphold"}), 404, "NOT_FOUND")
    _error(
        as_user(staff["leader2"]).post(f"/overrides/{NOBODY}/review", {"decision": "uphold"}),
        404,
        "NOT_FOUND",
    )
    assert RiskOverride.objects.get(id=body["id"]).review_status == ReviewStatus.PENDING

    done = _ok(as_user(staff["leader2"]).post(url, {"decision": "uphold", "note": "同意"}))
    assert (done["review_status"], done["reviewed_by"]) == ("UPHELD", "gz_fusuozhang")
    assert RiskScore.objects.get(detainee_id=scored.id, track=Track.LIVE).grade == "LEVEL2"


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"days": 31}, "days", "OVERRIDE_DAYS"),
        ({"days": 0}, "days", "OVERRIDE_DAYS"),
        ({"reason": "调整"}, "reason", "REASON_REQUIRED"),
        ({"grade": "LEVEL9"}, "grade", "UNKNOWN_GRADE"),
    ],
)
def test_a_bad_override_is_refused_naming_the_field(as_user, staff, scored, change, field, code):
    before = _state()
    body = {"grade": "LEVEL2", "reason": "家属反映其有轻生念头，需重点关注", "days": 7} | change
    _error(as_user(staff["leader"]).post(f"/people/{scored.id}/override", body), 400, code, field)
    assert _state() == before


def test_a_released_person_is_no_longer_assessed(as_user, staff, scored):
    override_grant(
        actor=Actor.system("test"),
        detainee=scored,
        grade="LEVEL2",
        reason="家属反映其有轻生念头，需重点关注",
        days=7,
    )
    scored.status = "RELEASED"
    scored.save(update_fields=["status"])
    before = _state()
    _error(
        as_user(staff["custodian"]).post(f"/people/{scored.id}/facts", {"kind": "manual.BAD_NEWS"}),
        400,
        "NOT_HELD",
    )
    assert _state() == before
