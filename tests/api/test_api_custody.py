# The custody fixtures are imported from tests.custody.conftest; pytest passes them by name.
# ruff: noqa: F811
"""The custody core and rule packs over /api/v1: an admission from the first step to the cell,
legal events, movements and 提讯, the board, notices and overrides; who may write (403), whose
records are out of reach (404, nothing changed), and publishing a rule pack."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from tests.custody.conftest import (  # noqa: F401
    actor,
    admission_steps,
    admit,
    cells,
    fill,
    officers,
)
from tests.custody.factories import (
    JPEG,
    ago,
    belongings_step,
    health_step,
    person_step,
    search_step,
)

from jianguan.audit.api import audit_entries
from jianguan.core.actor import Actor
from jianguan.custody.api import (
    Admission,
    DeadlineNotice,
    Interrogation,
    LegalEvent,
    Movement,
    PlacementOverride,
    ReviewStatus,
    cell_assign,
    deadline_watch,
)
from jianguan.org.api import api_token_issue

pytestmark = pytest.mark.django_db

API = "/api/v1"
NOBODY = "01900000-0000-7000-8000-000000000000"


def _auth(user: Any) -> dict[str, str]:
    raw = api_token_issue(actor=Actor.system("test"), user=user, name="api-test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


class Caller:
    """A test client speaking JSON with one user's bearer token."""

    def __init__(self, client: Any, user: Any) -> None:
        self.client, self.headers = client, _auth(user)

    def get(self, path: str, **query: Any) -> Any:
        return self.client.get(API + path, query, **self.headers)

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(
            API + path, body or {}, content_type="application/json", **self.headers
        )

    def put(self, path: str, body: Any) -> Any:
        return self.client.put(API + path, body, content_type="application/json", **self.headers)

    def upload(self, path: str, data: dict[str, Any]) -> Any:
        return self.client.post(API + path, data, **self.headers)

    def yaml(self, path: str, text: str, **query: Any) -> Any:
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        return self.client.post(
            f"{API}{path}?{qs}", text.encode(), content_type="application/yaml", **self.headers
        )


@pytest.fixture
def as_user(client: Any) -> Any:
    return lambda user: Caller(client, user)


@pytest.fixture
def strangers(make_user: Any) -> dict[str, Any]:
    """深圳一看's staff: every post that could write, none with 广州 in scope."""
    return {
        "admission": make_user("sz_shouya", "ADMISSION", unit="sz_k", gender="1"),
        "leader": make_user("sz_suozhang", "LEADER", unit="sz_k", gender="1"),
        "interrogation": make_user("sz_tixun", "INTERROGATION", unit="sz_k", gender="1"),
    }


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content.decode()
    return response.json()


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content.decode()
    body = response.json()
    assert body["code"] == code, body
    assert set(body) >= {"code", "message", "field"}
    return body


def _counts() -> dict[str, int]:
    return {
        "admissions": Admission.objects.count(),
        "events": LegalEvent.objects.count(),
        "movements": Movement.objects.count(),
        "interrogations": Interrogation.objects.count(),
    }


# --- admission to placement ----------------------------------------------------------------


def test_admission_through_the_api_to_placement(as_user, officers, cells, tree):
    """A 收押 officer starts an admission, saves each step, uploads the photo, completes it and
    places the person in the transition cell; each answer reflects the new state."""
    api = as_user(officers["admission"])
    started = _ok(api.post("/custody/admissions", {"unit_id": str(tree["gz_k"].id)}), 201)
    assert (started["status"], started["missing_steps"]) == (
        "DRAFT",
        ["人员信息与法律文书", "健康与体表检查", "人身检查", "物品登记", "照相"],
    )
    base = f"/custody/admissions/{started['id']}"
    for step, data in (
        ("person", person_step()),
        ("health", health_step()),
        ("search", search_step(officers["admission"])),
        ("belongings", belongings_step()),
    ):
        saved = _ok(api.put(f"{base}/steps/{step}", data))
        assert step in saved["steps_done"]
    picture = SimpleUploadedFile("face.jpg", JPEG, content_type="image/jpeg")
    photo = _ok(api.upload(f"{base}/photo", {"photo": picture, "purpose": "PHOTO"}), 201)
    assert (photo["purpose"], photo["content_type"]) == ("PHOTO", "image/jpeg")
    detail = _ok(api.get(base))
    assert (detail["missing_steps"], detail["name"], detail["steps"]["person"]["gender"]) == (
        [],
        "张三",
        "1",
    )
    assert [f["id"] for f in detail["files"]] == [photo["id"]]
    assert [a["id"] for a in _ok(api.get("/custody/admissions"))] == [started["id"]]

    person = _ok(api.post(f"{base}/complete"), 201)
    assert (person["name"], person["status"], person["litigation_stage"]) == (
        "张三",
        "IN_CUSTODY",
        "11",
    )
    assert person["number"].startswith("440100K01")
    assert _ok(api.get("/custody/admissions")) == []
    assert _ok(api.get(base))["detainee_id"] == person["id"]

    who = f"/detainees/{person['id']}"
    (clock,) = _ok(api.get(f"{who}/deadlines"))
    assert (clock["clock"], clock["state"], clock["urgency"]) == (
        "CRIMINAL_DETENTION",
        "RUNNING",
        "urgent",
    )
    (event,) = _ok(api.get(f"{who}/legal-events"))
    assert (event["kind"], event["label"], event["document_kind"]) == (
        "DETENTION_EXECUTED",
        "执行刑事拘留",
        "拘留证",
    )
    verdicts = _ok(api.get(f"{who}/cells"))
    assert verdicts["pack_version"] == "2026.1"
    first = verdicts["cells"][0]
    assert (first["number"], first["allowed"], first["findings"]) == ("T1", True, [])
    women = next(c for c in verdicts["cells"] if c["number"] == "201")
    sex = next(f for f in women["findings"] if f["rule"] == "SEX")
    assert (women["allowed"], sex["hard"], sex["label"]) == (False, True, "男女分押")
    assert "看守所条例" in sex["article"]
    assert sex["reason"]

    placed = _ok(api.post(f"{who}/cell", {"cell_id": str(cells["T1"].id)}))
    assert placed == {
        "detainee_id": person["id"],
        "cell_id": str(cells["T1"].id),
        "cell_number": "T1",
    }
    (move,) = _ok(api.get(f"{who}/movements"))
    assert (move["kind"], move["from_cell_number"], move["to_cell_number"]) == (
        "CELL_MOVE",
        None,
        "T1",
    )
    roll = _ok(api.get(f"/custody/roll/{tree['gz_k'].id}"))
    t1 = next(c for c in roll["cells"] if c["number"] == "T1")
    assert (roll["unplaced"], t1["present"], t1["out"]) == (0, 1, 0)


def test_step_errors_answer_code_message_and_field(as_user, officers, tree):
    api = as_user(officers["admission"])
    started = _ok(api.post("/custody/admissions", {"unit_id": str(tree["gz_k"].id)}), 201)
    base = f"/custody/admissions/{started['id']}"
    body = _error(api.put(f"{base}/steps/person", person_step(gender="2")), 400, "ID_MISMATCH")
    assert body == {"code": "ID_MISMATCH", "message": "性别与身份证号码不一致", "field": "gender"}
    not_photo = SimpleUploadedFile("x.jpg", b"GIF89a....", content_type="image/jpeg")
    body = _error(api.upload(f"{base}/photo", {"photo": not_photo}), 400, "NOT_A_PHOTO")
    assert body["field"] == "photo"
    body = _error(api.post(f"{base}/complete"), 400, "STEPS_MISSING")
    body = _error(api.post(f"{base}/refuse", {"reason": ""}), 400, "REQUIRED")
    refused = _ok(api.post(f"{base}/refuse", {"reason": "法律文书与本人不符"}))
    assert (refused["status"], refused["refused_reason"]) == ("REFUSED", "法律文书与本人不符")
    _error(api.put(f"{base}/steps/person", person_step()), 400, "ADMISSION_CLOSED")


def test_admission_refused_at_the_gate_names_the_article(as_user, officers, fill):
    """A pregnant woman at a 看守所: complete answers 400 with 看守所条例第十条第三项."""
    from tests.custody.factories import woman_step

    admission = fill(person=woman_step(), health=health_step(pregnant=True))
    api = as_user(officers["admission"])
    body = _error(
        api.post(f"/custody/admissions/{admission.id}/complete"), 400, "ADMISSION_NOT_ALLOWED"
    )
    assert "看守所条例第十条第三项" in body["message"]


# --- who may write -------------------------------------------------------------------------


def test_patrol_token_cannot_record_legal_events(as_user, officers, admit, side_effects):
    """A 巡控 may read the person but not record a legal event: 403, no event, no audit entry,
    nothing published."""
    person = admit()
    api = as_user(officers["patrol"])
    assert _ok(api.get(f"/detainees/{person.id}/legal-events"))
    before, counts = side_effects(), _counts()
    body = _error(
        api.post(
            f"/detainees/{person.id}/legal-events",
            {"kind": "ARREST_REQUESTED", "at": timezone.now().isoformat()},
        ),
        403,
        "PERMISSION_DENIED",
    )
    assert body["message"] == "当前岗位无“登记法律文书与羁押期限”权限"
    assert (side_effects(), _counts()) == (before, counts)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/custody/admissions", {"unit_id": "UNIT"}),
        ("post", "/detainees/PERSON/cell", {"cell_id": NOBODY}),
        ("post", "/detainees/PERSON/movements", {"kind": "OUT_MEDICAL"}),
        ("post", "/detainees/PERSON/movements", {"kind": "RELEASE", "document_number": "1"}),
        (
            "post",
            "/detainees/PERSON/interrogations",
            {"warrant_number": "1", "case_unit": "x", "officers": "y"},
        ),
        ("post", f"/custody/overrides/{NOBODY}/review", {"approve": True}),
    ],
)
def test_patrol_token_cannot_write(
    as_user, officers, admit, tree, side_effects, method, path, body
):
    """Admission, placement, movements, release, 提讯 and override review all answer 403 to a
    巡控, and leave nothing behind."""
    person = admit()
    path = path.replace("PERSON", str(person.id))
    body = {k: (str(tree["gz_k"].id) if v == "UNIT" else v) for k, v in body.items()}
    api = as_user(officers["patrol"])
    before, counts = side_effects(), _counts()
    _error(getattr(api, method)(path, body), 403, "PERMISSION_DENIED")
    assert (side_effects(), _counts()) == (before, counts)


def test_anonymous_is_unauthenticated(client, admit):
    person = admit()
    response = client.post(
        f"{API}/detainees/{person.id}/legal-events",
        {"kind": "ARREST_REQUESTED", "at": timezone.now().isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 401
    assert client.get(f"{API}/custody/deadline-board").status_code == 401


# --- other facilities' records -------------------------------------------------------------


def test_other_facilitys_person_is_not_found_and_untouched(as_user, strangers, admit, cells):
    """深圳's officers, holding every needed permission, get 404 for a 广州 person on every
    read and write, and nothing changes."""
    person = admit()
    who = f"/detainees/{person.id}"
    now = timezone.now().isoformat()
    counts = _counts()
    for user, method, path, body in (
        ("admission", "get", f"{who}/deadlines", None),
        ("admission", "get", f"{who}/legal-events", None),
        ("admission", "get", f"{who}/movements", None),
        ("admission", "get", f"{who}/cells", None),
        ("admission", "post", f"{who}/legal-events", {"kind": "ARREST_REQUESTED", "at": now}),
        ("admission", "post", f"{who}/cell", {"cell_id": str(cells["T1"].id)}),
        ("admission", "post", f"{who}/movements", {"kind": "RELEASE", "document_number": "1"}),
        (
            "interrogation",
            "post",
            f"{who}/interrogations",
            {"warrant_number": "1", "case_unit": "x", "officers": "y"},
        ),
    ):
        api = as_user(strangers[user])
        response = api.get(path) if method == "get" else api.post(path, body)
        body = _error(response, 404, "NOT_FOUND")
        assert body["message"] == "在押人员不存在或无权访问"
        assert "张三" not in response.content.decode()
    assert _counts() == counts
    person.refresh_from_db()
    assert (person.status, person.cell_id) == ("IN_CUSTODY", None)


def test_other_facilitys_admission_unit_and_roll_are_not_found(as_user, strangers, fill, tree):
    admission = fill()
    api = as_user(strangers["admission"])
    base = f"/custody/admissions/{admission.id}"
    _error(api.get(base), 404, "NOT_FOUND")
    _error(api.put(f"{base}/steps/person", person_step()), 404, "NOT_FOUND")
    _error(api.post(f"{base}/complete"), 404, "NOT_FOUND")
    _error(api.post(f"{base}/refuse", {"reason": "x"}), 404, "NOT_FOUND")
    _error(api.post("/custody/admissions", {"unit_id": str(tree["gz_k"].id)}), 404, "NOT_FOUND")
    assert _ok(api.get("/custody/admissions")) == []
    _error(api.get(f"/custody/roll/{tree['gz_k'].id}"), 404, "NOT_FOUND")
    admission.refresh_from_db()
    assert (admission.status, admission.steps["person"]["name"]) == ("DRAFT", "张三")
    assert Admission.objects.count() == 1


def test_malformed_ids_are_not_found(as_user, officers):
    api = as_user(officers["admission"])
    _error(api.get("/custody/admissions/not-a-uuid"), 404, "NOT_FOUND")
    _error(api.get("/detainees/not-a-uuid/deadlines"), 404, "NOT_FOUND")


def test_start_at_a_city_unit_is_refused(as_user, make_user, tree):
    city_officer = make_user("gz_city_shouya", "ADMISSION", unit="gz")
    body = _error(
        as_user(city_officer).post("/custody/admissions", {"unit_id": str(tree["gz"].id)}),
        400,
        "NOT_A_FACILITY",
    )
    assert "不是监管场所" in body["message"]


# --- legal events, movements, 提讯 ---------------------------------------------------------


def test_legal_event_recorded_and_refused(as_user, officers, admit):
    """A lawful extension answers 201 with the event; one by the wrong authority answers 400
    LEGAL_EVENT_REFUSED naming the article, and is not stored."""
    person = admit()
    api = as_user(officers["admission"])
    path = f"/detainees/{person.id}/legal-events"
    at = (timezone.now() - dt.timedelta(minutes=5)).isoformat()
    body = _error(
        api.post(
            path,
            {
                "kind": "DETENTION_EXTENDED",
                "at": at,
                "approval": "PROCURATORATE",
                "params": {"days": 4},
            },
        ),
        400,
        "LEGAL_EVENT_REFUSED",
    )
    assert "刑事诉讼法第九十一条第一款" in body["message"]
    assert body["field"] == "kind"
    assert LegalEvent.objects.filter(detainee=person).count() == 1
    event = _ok(
        api.post(
            path,
            {
                "kind": "DETENTION_EXTENDED",
                "at": at,
                "approval": "COUNTY_POLICE",
                "params": {"days": 4},
                "document_number": "穗天公延拘字〔2025〕1号",
                "issued_by": "广州市公安局天河区分局",
            },
        ),
        201,
    )
    assert (event["label"], event["approval"], event["params"], event["recorded_by"]) == (
        "延长拘留期限",
        "COUNTY_POLICE",
        {"days": 4},
        "gz_shouya",
    )
    clocks = _ok(api.get(f"/detainees/{person.id}/deadlines"))
    assert clocks[0]["history"][-1]["fact_kind"] == "DETENTION_EXTENDED"


def test_local_time_without_offset_is_shanghai_time(as_user, officers, admit):
    person = admit()
    api = as_user(officers["admission"])
    local = timezone.localtime(timezone.now() - dt.timedelta(minutes=10)).replace(
        tzinfo=None, microsecond=0
    )
    event = _ok(
        api.post(
            f"/detainees/{person.id}/legal-events",
            {"kind": "ARREST_REQUESTED", "at": local.isoformat()},
        ),
        201,
    )
    assert dt.datetime.fromisoformat(event["at"]) == timezone.make_aware(local)


def test_future_event_answers_400_on_at(as_user, officers, admit):
    person = admit()
    later = (timezone.now() + dt.timedelta(hours=2)).isoformat()
    body = _error(
        as_user(officers["admission"]).post(
            f"/detainees/{person.id}/legal-events", {"kind": "ARREST_REQUESTED", "at": later}
        ),
        400,
        "FUTURE_EVENT",
    )
    assert body["field"] == "at"


def test_movements_out_back_and_release(as_user, officers, admit):
    person = admit()
    who = f"/detainees/{person.id}"
    api = as_user(officers["admission"])
    out = _ok(
        api.post(
            f"{who}/movements",
            {"kind": "OUT_MEDICAL", "destination": "广州市第一人民医院", "escort": "陈收押"},
        ),
        201,
    )
    assert (out["kind"], out["label"]) == ("OUT_MEDICAL", "出所就医")
    assert _ok(api.get(who))["status"] == "OUT_TEMPORARILY"
    _ok(api.post(f"{who}/movements", {"kind": "RETURN"}), 201)
    leader = as_user(officers["leader"])
    _ok(leader.post(f"{who}/movements", {"kind": "RELEASE", "document_number": "释1"}), 201)
    assert _ok(api.get(who))["status"] == "RELEASED"
    assert {c["state"] for c in _ok(api.get(f"{who}/deadlines"))} == {"ENDED"}
    assert {c["urgency"] for c in _ok(api.get(f"{who}/deadlines"))} == {"ended"}
    body = _error(
        api.post(f"{who}/movements", {"kind": "OUT_MEDICAL", "destination": "x", "escort": "y"}),
        400,
        "NOT_IN_FACILITY",
    )
    assert "已释放" in body["message"]


def test_interrogation_refused_on_a_void_warrant(as_user, officers, admit):
    """On an expired 拘留 the 提讯 answers 400 WARRANT_VOID and the attempt is kept."""
    person = admit(person=person_step(executed_at=ago(days=4)))
    api = as_user(officers["interrogation"])
    body = _error(
        api.post(
            f"/detainees/{person.id}/interrogations",
            {"warrant_number": "提5", "case_unit": "天河分局", "officers": "刘、黄"},
        ),
        400,
        "WARRANT_VOID",
    )
    assert "公安机关适用刑事羁押期限规定第二十八条" in body["message"]
    (record,) = Interrogation.objects.all()
    assert (record.admitted, record.warrant_number) == (False, "提5")


def test_interrogation_starts_and_ends(as_user, officers, strangers, admit):
    person = admit()
    api = as_user(officers["interrogation"])
    started = _ok(
        api.post(
            f"/detainees/{person.id}/interrogations",
            {"warrant_number": "提6", "case_unit": "天河分局", "officers": "刘、黄"},
        ),
        201,
    )
    assert (started["admitted"], started["ended_at"]) == (True, None)
    _error(
        as_user(strangers["interrogation"]).post(f"/interrogations/{started['id']}/end"),
        404,
        "NOT_FOUND",
    )
    _error(
        as_user(officers["patrol"]).post(f"/interrogations/{started['id']}/end"),
        403,
        "PERMISSION_DENIED",
    )
    ended = _ok(api.post(f"/interrogations/{started['id']}/end"))
    assert ended["ended_at"] is not None
    _error(api.post(f"/interrogations/{started['id']}/end"), 400, "NOT_RUNNING")


# --- board, notices, overrides -------------------------------------------------------------


def test_deadline_board_nearest_end_first(as_user, officers, strangers, admit, make_user):
    """The board lists running custody clocks in scope, the nearest end first, with urgency;
    filters by case unit; pages; and never shows another facility's people."""
    later = admit(person=person_step(name="晚", document_name="晚", executed_at=ago(hours=2)))
    sooner = admit(
        person=person_step(
            name="早", document_name="早", executed_at=ago(hours=60), case_unit="越秀分局"
        )
    )
    sz_officer = strangers["admission"]
    admit("sz_k", search=search_step(sz_officer))
    api = as_user(officers["admission"])
    board = _ok(api.get("/custody/deadline-board"))
    assert board["count"] == 2
    assert [i["detainee_id"] for i in board["items"]] == [str(sooner.id), str(later.id)]
    assert [i["urgency"] for i in board["items"]] == ["critical", "urgent"]
    assert board["items"][0]["label"] == "刑事拘留期限"
    read = audit_entries().first()
    assert (read.action, read.detail["ids"], read.detail["query"]["view"]) == (
        "detainee.list",
        [str(sooner.id), str(later.id)],
        "deadline-board",
    )
    filtered = _ok(api.get("/custody/deadline-board", case_unit="越秀分局"))
    assert [i["name"] for i in filtered["items"]] == ["早"]
    paged = _ok(api.get("/custody/deadline-board", page=2, page_size=1))
    assert (paged["count"], [i["name"] for i in paged["items"]]) == (2, ["晚"])
    assert _ok(as_user(sz_officer).get("/custody/deadline-board"))["count"] == 1


def test_notices_listed_and_handled(as_user, officers, strangers, admit):
    person = admit()
    clock = person.deadlines.get(clock="CRIMINAL_DETENTION")
    deadline_watch(now=clock.notice_at + dt.timedelta(minutes=1))
    api = as_user(officers["admission"])
    (notice,) = _ok(api.get("/custody/notices"))
    assert (notice["kind"], notice["detainee_name"], notice["recipient"]) == (
        "BEFORE_EXPIRY",
        "张三",
        "广州市公安局天河区分局",
    )
    assert _ok(as_user(strangers["admission"]).get("/custody/notices")) == []
    _error(
        as_user(strangers["admission"]).post(
            f"/custody/notices/{notice['id']}/handle", {"note": "x"}
        ),
        404,
        "NOT_FOUND",
    )
    _error(
        as_user(officers["patrol"]).post(f"/custody/notices/{notice['id']}/handle", {"note": "x"}),
        403,
        "PERMISSION_DENIED",
    )
    handled = _ok(api.post(f"/custody/notices/{notice['id']}/handle", {"note": "已书面送达"}))
    assert (handled["handled_by"], handled["handling_note"]) == ("gz_shouya", "已书面送达")
    assert _ok(api.get("/custody/notices")) == []
    assert DeadlineNotice.objects.get().handled_at is not None


def test_overrides_reviewed_by_the_leader(as_user, officers, strangers, admit, actor, cells):
    person = admit()
    cell_assign(
        actor=actor, detainee=person, cell_id=cells["102"].id, override_reason="过渡监室满员"
    )
    leader = as_user(officers["leader"])
    (override,) = _ok(leader.get("/custody/overrides"))
    assert (override["detainee_name"], override["cell_number"], override["reason"]) == (
        "张三",
        "102",
        "过渡监室满员",
    )
    assert [f["rule"] for f in override["findings"]] == ["TRANSITION"]
    path = f"/custody/overrides/{override['id']}/review"
    _error(as_user(officers["admission"]).post(path, {"approve": True}), 403, "PERMISSION_DENIED")
    _error(as_user(strangers["leader"]).post(path, {"approve": True}), 404, "NOT_FOUND")
    body = _error(leader.post(path, {"approve": False}), 400, "NOTE_REQUIRED")
    assert body["field"] == "note"
    reviewed = _ok(leader.post(path, {"approve": False, "note": "调回过渡监室"}))
    assert (reviewed["review_status"], reviewed["reviewed_by"]) == ("REJECTED", "gz_suozhang")
    assert PlacementOverride.objects.get().review_status == ReviewStatus.REJECTED
    assert _ok(leader.get("/custody/overrides")) == []


# --- rule packs ----------------------------------------------------------------------------


def _separation(version: str) -> str:
    from jianguan.rules.api import pack_kinds

    text = pack_kinds()["separation"].builtin_path.read_text(encoding="utf-8")
    return text.replace('version: "2026.1"', f'version: "{version}"')


def test_rule_packs_listed_and_published(as_user, make_user, officers):
    """广东's administrator publishes a separation pack for the province; 广州's officers see it
    among the packs that govern them; a 深圳 facility pack is not theirs to see."""
    admin = as_user(make_user("gd_admin", "ADMINISTRATOR", unit="gd"))
    listing = _ok(as_user(officers["admission"]).get("/rules/packs"))
    assert {k["name"]: k["builtin_version"] for k in listing["kinds"]} == {
        "admission": "2026.1",
        "deadlines": "2026.1",
        "duty": "2026.3",
        "devices": "2026.1",
        "separation": "2026.1",
        "risk": "2026.1",
    }
    assert listing["packs"] == []
    pack = _ok(admin.yaml("/rules/packs/separation", _separation("gd-1"), unit_code="440000"), 201)
    assert (
        pack["kind"],
        pack["version"],
        pack["unit_code"],
        pack["status"],
        pack["published_by"],
    ) == (
        "separation",
        "gd-1",
        "440000",
        "ACTIVE",
        "gd_admin",
    )
    trial = _ok(
        admin.yaml(
            "/rules/packs/separation", _separation("sz-try"), unit_code="440300K01", shadow="true"
        ),
        201,
    )
    assert trial["status"] == "SHADOW"
    seen = _ok(as_user(officers["admission"]).get("/rules/packs"))["packs"]
    assert [(p["version"], p["unit_code"]) for p in seen] == [("gd-1", "440000")]


def test_broken_rule_pack_answers_the_line(as_user, make_user):
    admin = as_user(make_user("gd_admin", "ADMINISTRATOR", unit="gd"))
    text = _separation("gd-2").replace("  - id: FOREIGN", "  - id: ALIEN")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "id: ALIEN" in t)
    body = _error(
        admin.yaml("/rules/packs/separation", text, unit_code="440000"), 400, "RULEPACK_INVALID"
    )
    assert body["message"].startswith(f"第 {line} 行：")


def test_rule_pack_publishing_is_limited(as_user, make_user, officers):
    """Only rules.publish may publish (403); a unit outside one's subtree is not found (404);
    a nationwide pack is for the national level only (400)."""
    admin = as_user(make_user("gd_admin", "ADMINISTRATOR", unit="gd"))
    text = _separation("x-1")
    _error(
        as_user(officers["leader"]).yaml("/rules/packs/separation", text, unit_code="440100K01"),
        403,
        "PERMISSION_DENIED",
    )
    _error(admin.yaml("/rules/packs/separation", text, unit_code="450000"), 404, "NOT_FOUND")
    body = _error(admin.yaml("/rules/packs/separation", text), 400, "RULEPACK_SCOPE")
    assert body["field"] == "unit_code"
    _error(
        admin.yaml("/rules/packs/patrol", text, unit_code="440000"), 400, "UNKNOWN_RULEPACK_KIND"
    )
    national = as_user(make_user("nation_admin", "ADMINISTRATOR", unit="nation"))
    assert _ok(national.yaml("/rules/packs/separation", text), 201)["unit_code"] == ""


def test_board_query_count_does_not_grow_with_the_page(as_user, officers, admit):
    """One row or two cost the same queries: the person and unit are joined, not fetched."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admit()
    admit(person=person_step(name="王五", document_name="王五", case_number="OTHER"))
    api = as_user(officers["admission"])
    counts = []
    for size in (1, 2):
        with CaptureQueriesContext(connection) as ctx:
            assert len(_ok(api.get("/custody/deadline-board", page_size=size))["items"]) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
