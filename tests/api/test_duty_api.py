# The duty fixtures are imported from tests.duty.conftest; pytest passes them by name.
# ruff: noqa: F811
"""The duty loop over /api/v1/duty: the catalogue a post may record, a record becoming a task,
each move of a task, the accept race (409 with who won), shifts — and who is refused: a wrong
post (403, with the service's message), another facility (404, nothing changed), bad input
(400 naming the field, nothing written)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from tests.duty.conftest import anomaly, held, staff  # noqa: F401

from jianguan.audit.api import audit_entries
from jianguan.core.actor import Actor
from jianguan.duty.api import InfoRecord, ShiftAssignment, Task, TaskState, TaskStep
from jianguan.org.api import api_token_issue

pytestmark = pytest.mark.django_db

API = "/api/v1/duty"
NOBODY = "01900000-0000-7000-8000-000000000000"


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
def as_user(client: Client) -> Any:
    return lambda user: Caller(client, user)


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
        "records": InfoRecord.objects.count(),
        "tasks": list(Task.objects.order_by("id").values_list("id", "state", "version")),
        "steps": TaskStep.objects.count(),
        "shifts": ShiftAssignment.objects.count(),
    }


def _record(caller: Caller, held: Any, category: str = "PATROL_ABNORMAL_BEHAVIOUR") -> Any:
    body = _ok(
        caller.post(
            "/records",
            {"category": category, "text": "在监室内来回走动，情绪激动", "detainee": str(held.id)},
        ),
        201,
    )
    return body["task"]


# --- catalogue ------------------------------------------------------------------------------


def test_catalogue_lists_what_the_post_records_with_handler_and_limits(as_user, staff):
    body = _ok(as_user(staff["patrol"]).get("/catalogue"))
    assert body["pack_version"] == "2026.3"
    assert body["pack_origin"] == "内置默认"
    assert body["pack_unit_code"] == ""
    assert body["posts"] == ["PATROL"]
    assert body["escalation"] == ["SUBCONTROL", "COMMAND", "LEADER"]
    codes = [c["code"] for c in body["categories"]]
    assert codes == [
        "PATROL_ABNORMAL_BEHAVIOUR",
        "PATROL_CELL_VIOLATION",
        "PATROL_EMERGENCY",
        "PATROL_FACILITY_HAZARD",
    ]
    first = body["categories"][0]
    assert first["handler"] == "CUSTODIAN"
    assert first["handler_label"] == "管教"
    assert first["urgency"] == "HIGH"
    assert (first["accept_minutes"], first["handle_minutes"]) == (5, 60)
    urgent = next(r for r in body["limits"] if r["urgency"] == "URGENT")
    assert (urgent["accept_minutes"], urgent["handle_minutes"], urgent["escalate_minutes"]) == (
        2,
        15,
        2,
    )


def test_information_only_category_has_no_handler_or_limits(as_user, staff):
    body = _ok(as_user(staff["custodian"]).get("/catalogue"))
    talk = next(c for c in body["categories"] if c["code"] == "CUSTODIAN_TALK_FINDING")
    assert talk["task"] is False
    assert talk["handler"] == ""
    assert talk["accept_minutes"] is None
    assert "PATROL_ABNORMAL_BEHAVIOUR" not in [c["code"] for c in body["categories"]]


def test_catalogue_needs_a_facility_officer(as_user, make_user, client):
    supervisor = make_user("gz_zhidao", "SUPERVISOR", unit="gz")
    _error(as_user(supervisor).get("/catalogue"), 403, "PERMISSION_DENIED")
    assert client.get(API + "/catalogue").status_code == 401


# --- records ----------------------------------------------------------------------------------


def test_record_becomes_a_task_for_the_handling_post(as_user, staff, held):
    before = InfoRecord.objects.count()
    body = _ok(
        as_user(staff["patrol"]).post(
            "/records",
            {
                "category": "PATROL_ABNORMAL_BEHAVIOUR",
                "text": "凌晨2时在监室内来回走动",
                "detainee": str(held.id),
                "urgency": "URGENT",
            },
        ),
        201,
    )
    assert InfoRecord.objects.count() == before + 1
    assert body["record"]["category_name"] == "异常行为"
    assert body["record"]["post_kind"] == "PATROL"
    assert body["record"]["urgency"] == "URGENT"
    task = body["task"]
    assert task["state"] == "DISPATCHED"
    assert task["post_kind"] == "CUSTODIAN"
    assert task["detainee_name"] == "张三"
    assert task["urgency"] == "URGENT"
    saved = Task.objects.get(id=task["id"])
    assert str(saved.record_id) == body["record"]["id"]


def test_information_only_record_has_no_task(as_user, staff, held):
    body = _ok(
        as_user(staff["custodian"]).post(
            "/records",
            {"category": "CUSTODIAN_TALK_FINDING", "text": "家中有变故", "detainee": str(held.id)},
        ),
        201,
    )
    assert body["task"] is None
    assert not Task.objects.filter(record_id=body["record"]["id"]).exists()


def test_record_by_a_post_not_responsible_is_refused_with_who_records_it(as_user, staff, held):
    before = _state()
    body = _error(
        as_user(staff["medical"]).post(
            "/records",
            {"category": "PATROL_ABNORMAL_BEHAVIOUR", "text": "x", "detainee": str(held.id)},
        ),
        403,
        "PERMISSION_DENIED",
    )
    assert "巡控" in body["message"]
    assert _state() == before


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"category": "PATROL_ABNORMAL_BEHAVIOUR", "text": "  "}, "REQUIRED", "text"),
        ({"category": "NO_SUCH_THING", "text": "x"}, "UNKNOWN_CATEGORY", "category"),
        (
            {"category": "PATROL_ABNORMAL_BEHAVIOUR", "text": "x", "urgency": "NORMAL"},
            "URGENCY_LOWERED",
            "urgency",
        ),
        (
            {"category": "PATROL_ABNORMAL_BEHAVIOUR", "text": "x", "detainee": NOBODY},
            "NOT_HELD",
            "detainee",
        ),
        (
            {"category": "PATROL_ABNORMAL_BEHAVIOUR", "text": "x", "cell": NOBODY},
            "UNKNOWN_CELL",
            "cell",
        ),
    ],
)
def test_bad_record_is_refused_naming_the_field(as_user, staff, body, code, field):
    before = _state()
    _error(as_user(staff["patrol"]).post("/records", body), 400, code, field)
    assert _state() == before


def test_a_person_of_another_facility_can_not_be_recorded(as_user, staff, make_detainee):
    elsewhere = make_detainee("sz_k", name="李四")
    before = _state()
    _error(
        as_user(staff["patrol"]).post(
            "/records",
            {"category": "PATROL_ABNORMAL_BEHAVIOUR", "text": "x", "detainee": str(elsewhere.id)},
        ),
        400,
        "NOT_HELD",
        "detainee",
    )
    assert _state() == before


# --- task lists and detail ------------------------------------------------------------------


def test_mine_lists_the_handling_posts_tasks_and_audits_whom_it_showed(as_user, staff, held):
    task = _record(as_user(staff["patrol"]), held)
    body = _ok(as_user(staff["custodian"]).get("/tasks", scope="mine"))
    assert body["count"] == 1
    assert [t["id"] for t in body["items"]] == [task["id"]]
    assert body["items"][0]["state_label"] == "待接收"
    assert body["items"][0]["overdue"] is False
    reads = [
        e
        for e in audit_entries().filter(action="detainee.list")
        if e.detail["query"].get("view") == "duty-tasks-mine"
    ]
    assert len(reads) == 1
    assert reads[0].detail["ids"] == [str(held.id)]
    # The recording post is not the handling one.
    assert _ok(as_user(staff["patrol"]).get("/tasks"))["count"] == 0


def test_since_keeps_tasks_created_from_then_on(as_user, staff, held):
    _record(as_user(staff["patrol"]), held)
    later = (timezone.now() + dt.timedelta(minutes=1)).isoformat()
    assert _ok(as_user(staff["custodian"]).get("/tasks", scope="mine", since=later))["count"] == 0


def test_open_and_closed_are_for_dispatchers(as_user, staff, held):
    task = _record(as_user(staff["patrol"]), held)
    _error(as_user(staff["custodian"]).get("/tasks", scope="open"), 403, "PERMISSION_DENIED")
    _error(as_user(staff["custodian"]).get("/tasks", scope="closed"), 403, "PERMISSION_DENIED")
    _error(as_user(staff["custodian"]).get("/tasks", scope="all"), 400, "BAD_SCOPE", "scope")
    subcontrol = as_user(staff["subcontrol"])
    assert [t["id"] for t in _ok(subcontrol.get("/tasks", scope="open"))["items"]] == [task["id"]]
    assert _ok(subcontrol.get("/tasks", scope="closed"))["count"] == 0

    custodian = as_user(staff["custodian"])
    _ok(custodian.post(f"/tasks/{task['id']}/accept"))
    _ok(
        custodian.post(
            f"/tasks/{task['id']}/handle", {"feedback": "谈话安抚", "outcome": "RESOLVED"}
        )
    )
    closed = _ok(subcontrol.get("/tasks", scope="closed"))
    assert [t["id"] for t in closed["items"]] == [task["id"]]
    assert closed["items"][0]["state"] == "CLOSED"
    assert _ok(subcontrol.get("/tasks", scope="open"))["count"] == 0


def test_detail_shows_every_step(as_user, staff, held):
    task = _record(as_user(staff["patrol"]), held)
    body = _ok(as_user(staff["custodian"]).get(f"/tasks/{task['id']}"))
    assert [s["action"] for s in body["steps"]] == ["created", "dispatched"]
    assert body["steps"][0]["actor_name"] == "吴巡控"
    assert body["steps"][1]["note"] == "派发至管教"
    assert body["steps"][1]["has_photo"] is False


def test_another_facilitys_task_is_not_found_and_stays_unchanged(as_user, staff, held):
    task = _record(as_user(staff["patrol"]), held)
    stranger = as_user(staff["sz_custodian"])
    before = _state()
    _error(stranger.get(f"/tasks/{task['id']}"), 404, "NOT_FOUND")
    _error(stranger.get(f"/tasks/{NOBODY}"), 404, "NOT_FOUND")
    _error(stranger.get("/tasks/not-an-id"), 404, "NOT_FOUND")
    _error(stranger.post(f"/tasks/{task['id']}/accept"), 404, "NOT_FOUND")
    _error(
        stranger.post(f"/tasks/{task['id']}/handle", {"feedback": "x", "outcome": "RESOLVED"}),
        404,
        "NOT_FOUND",
    )
    assert _state() == before


# --- moving a task along --------------------------------------------------------------------


def test_accept_by_the_wrong_post_is_forbidden_with_the_reason(as_user, staff, held):
    task = _record(as_user(staff["patrol"]), held)
    before = _state()
    body = _error(
        as_user(staff["medical"]).post(f"/tasks/{task['id']}/accept"), 403, "PERMISSION_DENIED"
    )
    assert "管教" in body["message"]
    assert _state() == before


def test_second_officer_to_accept_is_told_who_has_it(as_user, staff, held):
    task = _record(as_user(staff["patrol"]), held)
    won = _ok(as_user(staff["custodian"]).post(f"/tasks/{task['id']}/accept"))
    assert won["state"] == "ACCEPTED"
    assert won["assignee_name"] == "李管教"
    before = _state()
    body = _error(
        as_user(staff["custodian2"]).post(f"/tasks/{task['id']}/accept"), 409, "ALREADY_ACCEPTED"
    )
    assert body["message"] == "该任务已由李管教接收"
    assert _state() == before


@pytest.mark.django_db(transaction=True)
def test_two_officers_accepting_at_once_one_gets_409(staff, held):
    task = _record(Caller(Client(), staff["patrol"]), held)
    callers = {k: Caller(Client(), staff[k]) for k in ("custodian", "custodian2")}
    barrier = threading.Barrier(2)
    answers: dict[str, Any] = {}

    def accept(key: str) -> None:
        try:
            barrier.wait()
            answers[key] = callers[key].post(f"/tasks/{task['id']}/accept")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(k,)) for k in callers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in answers.values())
    assert statuses == [200, 409]
    loser = next(r for r in answers.values() if r.status_code == 409).json()
    assert loser["code"] == "ALREADY_ACCEPTED"
    winner = next(k for k, r in answers.items() if r.status_code == 200)
    assert loser["message"] == f"该任务已由{staff[winner].full_name}接收"
    assert TaskStep.objects.filter(task_id=task["id"], action="accepted").count() == 1


def test_handle_needs_feedback_then_closes(as_user, staff, held):
    task = _record(as_user(staff["patrol"]), held)
    custodian = as_user(staff["custodian"])
    _ok(custodian.post(f"/tasks/{task['id']}/accept"))
    before = _state()
    _error(
        custodian.post(f"/tasks/{task['id']}/handle", {"outcome": "RESOLVED"}),
        400,
        "FEEDBACK_REQUIRED",
        "feedback",
    )
    _error(
        custodian.post(f"/tasks/{task['id']}/handle", {"feedback": "已谈话"}),
        400,
        "BAD_OUTCOME",
        "outcome",
    )
    _error(
        as_user(staff["custodian2"]).post(
            f"/tasks/{task['id']}/handle", {"feedback": "已谈话", "outcome": "RESOLVED"}
        ),
        403,
        "PERMISSION_DENIED",
    )
    assert _state() == before
    body = _ok(
        custodian.post(
            f"/tasks/{task['id']}/handle", {"feedback": "谈话安抚，情绪平稳", "outcome": "RESOLVED"}
        )
    )
    assert body["state"] == "CLOSED"
    assert body["feedback"] == "谈话安抚，情绪平稳"
    assert [s["action"] for s in body["steps"]][-2:] == ["handled", "closed"]


def test_verified_category_is_returned_reworked_and_verified(as_user, staff, held):
    task = _record(as_user(staff["patrol"]), held, category="PATROL_EMERGENCY")
    custodian, subcontrol = as_user(staff["custodian"]), as_user(staff["subcontrol"])
    _ok(custodian.post(f"/tasks/{task['id']}/accept"))
    feedback = {"feedback": "已制止并隔离", "outcome": "RESOLVED"}
    assert _ok(custodian.post(f"/tasks/{task['id']}/handle", feedback))["state"] == "HANDLED"
    _error(custodian.post(f"/tasks/{task['id']}/verify"), 403, "PERMISSION_DENIED")
    _error(subcontrol.post(f"/tasks/{task['id']}/return"), 400, "REQUIRED", "reason")
    returned = _ok(subcontrol.post(f"/tasks/{task['id']}/return", {"reason": "未写明伤情"}))
    assert returned["state"] == "RETURNED"
    assert returned["return_count"] == 1
    _ok(custodian.post(f"/tasks/{task['id']}/handle", feedback | {"feedback": "无伤情"}))
    closed = _ok(subcontrol.post(f"/tasks/{task['id']}/verify", {"note": "核实无误"}))
    assert closed["state"] == "CLOSED"
    assert closed["steps"][-1]["note"] == "核实无误"
    # A closed task can not be verified again: a conflict with its state, not a bad request.
    _error(subcontrol.post(f"/tasks/{task['id']}/verify"), 409, "BAD_STATE")


def test_dispatch_to_one_officer(as_user, staff, held):
    task = _record(as_user(staff["patrol"]), held)
    subcontrol = as_user(staff["subcontrol"])
    before = _state()
    _error(
        subcontrol.post(f"/tasks/{task['id']}/dispatch", {"post": "NOWHERE"}),
        400,
        "UNKNOWN_POST",
        "post",
    )
    _error(
        subcontrol.post(
            f"/tasks/{task['id']}/dispatch",
            {"post": "CUSTODIAN", "assignee": str(staff["sz_custodian"].id)},
        ),
        400,
        "NOT_IN_UNIT",
        "assignee",
    )
    _error(
        as_user(staff["custodian"]).post(f"/tasks/{task['id']}/dispatch", {"post": "MEDICAL"}),
        403,
        "PERMISSION_DENIED",
    )
    assert _state() == before
    body = _ok(
        subcontrol.post(
            f"/tasks/{task['id']}/dispatch",
            {"post": "CUSTODIAN", "assignee": str(staff["custodian2"].id), "note": "熟悉情况"},
        )
    )
    assert body["assignee_name"] == "王管教"
    assert body["steps"][-1]["note"] == "改派至管教（王管教）：熟悉情况"
    _error(
        as_user(staff["custodian"]).post(f"/tasks/{task['id']}/accept"), 403, "PERMISSION_DENIED"
    )
    assert (
        _ok(as_user(staff["custodian2"]).post(f"/tasks/{task['id']}/accept"))["state"] == "ACCEPTED"
    )


def test_urgency_is_set_by_a_dispatcher(as_user, staff, held):
    task = _record(as_user(staff["patrol"]), held)
    command = as_user(staff["command"])
    _error(
        command.post(f"/tasks/{task['id']}/urgency", {"urgency": "RED"}),
        400,
        "BAD_URGENCY",
        "urgency",
    )
    _error(
        as_user(staff["custodian"]).post(f"/tasks/{task['id']}/urgency", {"urgency": "URGENT"}),
        403,
        "PERMISSION_DENIED",
    )
    body = _ok(command.post(f"/tasks/{task['id']}/urgency", {"urgency": "URGENT"}))
    assert body["urgency"] == "URGENT"
    assert body["steps"][-1]["action"] == "prioritised"


def test_cancel_needs_a_reason_and_an_open_task(as_user, staff, held):
    task = _record(as_user(staff["patrol"]), held)
    leader = as_user(staff["leader"])
    _error(leader.post(f"/tasks/{task['id']}/cancel"), 400, "REQUIRED", "reason")
    body = _ok(leader.post(f"/tasks/{task['id']}/cancel", {"reason": "重复记录"}))
    assert body["state"] == "CANCELLED"
    _error(leader.post(f"/tasks/{task['id']}/cancel", {"reason": "再次"}), 409, "BAD_STATE")
    assert Task.objects.get(id=task["id"]).state == TaskState.CANCELLED


def test_manual_task_by_a_dispatcher(as_user, staff):
    command = as_user(staff["command"])
    before = _state()
    _error(command.post("/tasks", {"post": "PATROL"}), 400, "REQUIRED", "title")
    _error(
        as_user(staff["custodian"]).post("/tasks", {"title": "加强巡视", "post": "PATROL"}),
        403,
        "PERMISSION_DENIED",
    )
    assert _state() == before
    body = _ok(
        command.post(
            "/tasks",
            {"title": "加强3号监室巡视", "detail": "今晚", "post": "PATROL", "urgency": "HIGH"},
        ),
        201,
    )
    assert body["source"] == "MANUAL"
    assert body["state"] == "DISPATCHED"
    assert body["post_kind"] == "PATROL"
    assert body["created_by"] == "gz_zhihui"
    mine = _ok(as_user(staff["patrol"]).get("/tasks"))
    assert [t["id"] for t in mine["items"]] == [body["id"]]


# --- shifts ---------------------------------------------------------------------------------


def test_shifts_are_rostered_by_command_and_listed_by_day(as_user, staff):
    command = as_user(staff["command"])
    today = timezone.localdate()
    starts = f"{today.isoformat()}T08:00"
    ends = f"{today.isoformat()}T20:00"
    body = _ok(
        command.post(
            "/shifts",
            {
                "officer": str(staff["custodian"].id),
                "post": "CUSTODIAN",
                "starts_at": starts,
                "ends_at": ends,
            },
        ),
        201,
    )
    assert body["officer_name"] == "李管教"
    assert body["post_label"] == "管教"
    assert timezone.localtime(dt.datetime.fromisoformat(body["starts_at"])).hour == 8
    listed = _ok(as_user(staff["patrol"]).get("/shifts", date=today.isoformat()))
    assert [s["id"] for s in listed] == [body["id"]]
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert _ok(command.get("/shifts", date=tomorrow)) == []


def test_bad_shifts_are_refused(as_user, staff):
    command = as_user(staff["command"])
    today = timezone.localdate().isoformat()
    shift = {
        "officer": str(staff["custodian"].id),
        "post": "CUSTODIAN",
        "starts_at": f"{today}T08:00",
        "ends_at": f"{today}T20:00",
    }
    before = _state()
    _error(as_user(staff["patrol"]).post("/shifts", shift), 403, "PERMISSION_DENIED")
    _error(
        command.post("/shifts", shift | {"officer": str(staff["sz_custodian"].id)}),
        400,
        "NOT_IN_UNIT",
        "officer",
    )
    _error(command.post("/shifts", shift | {"post": "MEDICAL"}), 400, "POST_NOT_HELD", "post")
    _error(
        command.post("/shifts", shift | {"ends_at": f"{today}T07:00"}), 400, "BAD_SHIFT", "ends_at"
    )
    assert _state() == before
