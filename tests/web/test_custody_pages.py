"""Custody pages: 收押 wizard and review, placement with its reasons, the person's record
(clocks, legal events, movements, 提讯), the deadline board, the roll, notices and overrides —
who may open each, what each shows, and that a refused form keeps what was typed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from jianguan.codes.idcard import check_digit
from jianguan.custody import api as custody
from jianguan.custody.models import (
    Admission,
    AdmissionStatus,
    Deadline,
    DeadlineNotice,
    Detainee,
    DetaineeStatus,
    Interrogation,
    PlacementOverride,
)
from jianguan.housing.models import Cell
from jianguan.org.api import actor_for

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CASE_UNIT = "广州市公安局天河区分局"
OTHER_CASE_UNIT = "广州市公安局越秀区分局"


def _text(response: Any) -> str:
    return response.content.decode()


def _row(page: str, number: str) -> str:
    """The placement table's row of one cell."""
    start = page.index(f'data-cell="{number}"')
    return page[start : page.index("</tr>", start)]


def resident_id(serial: int, *, male: bool = True) -> str:
    first17 = f"44010319900101{serial:02d}{'1' if male else '2'}"
    return first17 + check_digit(first17)


def local_input(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%dT%H:%M}"


def person_form(serial: int = 1, **overrides: Any) -> dict[str, Any]:
    """A man under 刑事拘留 brought in on a 拘留证 executed two hours ago."""
    name = overrides.pop("name", "张三")
    return {
        "name": name,
        "gender": "1",
        "id_type": "111",
        "id_number": resident_id(serial),
        "nationality": "CHN",
        "ethnicity": "01",
        "legal_measure": "10",
        "case_nature": "0201",
        "case_unit": CASE_UNIT,
        "case_number": "A440106202501",
        "document_kind": "DETENTION_WARRANT",
        "document_number": "穗天公（刑）拘字〔2025〕101号",
        "document_issued_by": CASE_UNIT,
        "document_name": name,
        "executed_at": local_input(timezone.now() - dt.timedelta(hours=2)),
        **overrides,
    }


HEALTH_FORM = {
    "blood_pressure": "120/80",
    "blood_routine": "正常",
    "ecg": "窦性心律",
    "ultrasound": "未见异常",
    "chest_xray": "未见异常",
    "current_condition": "无不适",
    "history": "无",
    "allergies": "无",
    "family_history": "无",
    "doctor": "王医生",
}


@pytest.fixture
def officer(make_user) -> Any:
    return make_user("gz_shouya", "ADMISSION", full_name="赵收押", gender="1")


@pytest.fixture
def admit(officer) -> Any:
    """Admit a person through the services (the wizard itself is tested page by page)."""

    def do(
        serial: int,
        *,
        name: str,
        executed: dt.datetime | None = None,
        case_unit: str = CASE_UNIT,
        case_number: str = "A440106202501",
        measure: str = "10",
        document: str = "DETENTION_WARRANT",
    ) -> Detainee:
        actor = actor_for(officer)
        admission = custody.admission_start(actor=actor, unit=officer.unit)
        person = person_form(
            serial,
            name=name,
            case_unit=case_unit,
            case_number=case_number,
            legal_measure=measure,
            document_kind=document,
            executed_at=(executed or timezone.now() - dt.timedelta(hours=2)).isoformat(),
        )
        for step, data in (
            ("person", person),
            ("health", HEALTH_FORM),
            ("search", {"searchers": [str(officer.id)], "findings": "未发现违禁品"}),
            ("belongings", {"none_declared": True}),
        ):
            admission = custody.admission_save_step(
                actor=actor, admission=admission, step=step, data=data
            )
        upload = SimpleUploadedFile("face.png", PNG, content_type="image/png")
        custody.admission_add_photo(actor=actor, admission=admission, upload=upload)
        return custody.admission_complete(actor=actor, admission=admission)

    return do


def make_cell(tree: dict[str, Any], number: str, **extra: Any) -> Cell:
    return Cell.objects.create(
        unit=tree[extra.pop("unit", "gz_k")],
        number=number,
        area=extra.pop("area", "一监区"),
        kind=extra.pop("kind", "ORDINARY"),
        gender=extra.pop("gender", "1"),
        capacity=extra.pop("capacity", 12),
        **extra,
    )


# --- /admissions/ ---------------------------------------------------------------------------


def test_admissions_as_anonymous_redirects_to_login(tree, client):
    """An anonymous visitor is sent to log in."""
    response = client.get("/admissions/")
    assert (response.status_code, response["Location"]) == (302, "/login/?next=/admissions/")


def test_patrol_officer_may_not_open_or_start_admissions(make_user, sign_in):
    """A 巡控 officer (no detainee.admit) gets 403 for the list and for 开始收押; nothing is made."""
    client = sign_in(make_user("gz_xunkong", "PATROL"))
    response = client.get("/admissions/")
    assert response.status_code == 403
    assert 'data-code="PERMISSION_DENIED"' in _text(response)
    assert client.post("/admissions/start/").status_code == 403
    assert Admission.objects.count() == 0


def test_admission_list_shows_start_button_and_open_admissions(officer, sign_in):
    """The 收押 post sees 开始收押 and the open admission of its facility by the person's name."""
    admission = custody.admission_start(actor=actor_for(officer), unit=officer.unit)
    custody.admission_save_step(
        actor=actor_for(officer), admission=admission, step="person", data=person_form()
    )
    text = _text(sign_in(officer).get("/admissions/"))
    assert "开始收押" in text
    assert "张三" in text
    assert "健康与体表检查" in text  # listed among the steps still to do


def test_start_creates_a_draft_and_opens_the_person_step(officer, sign_in):
    """开始收押 creates one DRAFT admission at the officer's facility and opens step 1."""
    response = sign_in(officer).post("/admissions/start/")
    admission = Admission.objects.get()
    assert (admission.unit_id, admission.status) == (officer.unit_id, AdmissionStatus.DRAFT)
    assert response["Location"] == f"/admissions/{admission.id}/person/"


def test_city_officer_cannot_start_an_admission(make_user, sign_in):
    """A 收押 post held at a city unit is told only a facility can admit; nothing is made."""
    client = sign_in(make_user("gz_city", "ADMISSION", unit="gz"))
    response = client.post("/admissions/start/")
    assert response.status_code == 400
    assert "只有监所的民警才能办理收押" in _text(response)
    assert Admission.objects.count() == 0


def test_whole_wizard_through_the_pages(officer, sign_in, tree):
    """Each step's POST moves to the next; the review shows the answers; 确认收押 creates the
    person with a number and clocks and lands on the placement page."""
    client = sign_in(officer)
    client.post("/admissions/start/")
    admission = Admission.objects.get()
    base = f"/admissions/{admission.id}"

    page = _text(client.get(f"{base}/person/"))
    assert 'value="CHN"' in page  # nationality defaults to CHN
    assert '<option value="111" selected>' in page  # resident ID card by default
    assert '<option value="40">行政拘留</option>' not in page  # 看守所: no 行政拘留
    assert '<option value="20">逮捕</option>' in page

    steps = [
        ("person", person_form(), f"{base}/health/"),
        ("health", HEALTH_FORM, f"{base}/search/"),
        (
            "search",
            {"searchers": [str(officer.id)], "findings": "未发现违禁品"},
            f"{base}/belongings/",
        ),
        (
            "belongings",
            {
                "item_name": ["手机", "钱包", ""],
                "item_quantity": ["1", "2", ""],
                "item_note": ["黑色", "", ""],
                "item_disposition": ["KEPT", "TO_FAMILY", "KEPT"],
            },
            f"{base}/photo/",
        ),
    ]
    for step, data, target in steps:
        response = client.post(f"{base}/{step}/", data)
        assert (step, response.status_code, response["Location"]) == (step, 302, target)
    response = client.post(
        f"{base}/photo/", {"photo": SimpleUploadedFile("me.png", PNG, content_type="image/png")}
    )
    assert response["Location"] == f"{base}/review/"

    admission.refresh_from_db()
    assert admission.steps["belongings"]["items"] == [
        {"name": "手机", "quantity": 1, "note": "黑色", "disposition": "KEPT"},
        {"name": "钱包", "quantity": 2, "note": "", "disposition": "TO_FAMILY"},
    ]
    review = _text(client.get(f"{base}/review/"))
    for shown in ("张三", "刑事拘留", "拘留证", "王医生", "赵收押", "钱包", "交家属"):
        assert shown in review
    assert "未发现不予收押或需要批准的情形" in review

    response = client.post(f"{base}/complete/")
    detainee = Detainee.objects.get()
    assert response["Location"] == f"/detainees/{detainee.id}/placement/"
    assert detainee.number.startswith("440100K01")
    assert Deadline.objects.filter(detainee=detainee, clock="CRIMINAL_DETENTION").exists()
    assert "已收押" in _text(client.get(response["Location"]))


def test_failed_person_step_keeps_what_was_typed(officer, sign_in):
    """A bad ID number is refused beside its field; every typed value is shown again and the
    admission keeps no answers."""
    client = sign_in(officer)
    admission = custody.admission_start(actor=actor_for(officer), unit=officer.unit)
    form = person_form(id_number="440103199001011230", case_number="A-TYPED-0042")
    response = client.post(f"/admissions/{admission.id}/person/", form)
    assert response.status_code == 400
    text = _text(response)
    assert '<span class="field-error" data-field="id_number">' in text
    for typed in ('value="张三"', 'value="440103199001011230"', 'value="A-TYPED-0042"'):
        assert typed in text
    assert '<option value="DETENTION_WARRANT" selected>' in text
    assert f'value="{form["executed_at"]}"' in text
    admission.refresh_from_db()
    assert admission.steps == {}


def test_failed_belongings_step_keeps_the_rows(officer, sign_in):
    """A quantity that is not a number is refused; the rows come back as typed."""
    client = sign_in(officer)
    admission = custody.admission_start(actor=actor_for(officer), unit=officer.unit)
    custody.admission_save_step(
        actor=actor_for(officer), admission=admission, step="person", data=person_form()
    )
    response = client.post(
        f"/admissions/{admission.id}/belongings/",
        {
            "item_name": ["手表", ""],
            "item_quantity": ["两块", ""],
            "item_note": ["银色", ""],
            "item_disposition": ["TO_CASE_UNIT", "KEPT"],
        },
    )
    assert response.status_code == 400
    text = _text(response)
    assert "第1件物品「手表」的数量应为正整数" in text
    assert ('value="手表"' in text, 'value="两块"' in text, 'value="银色"' in text) == (
        True,
        True,
        True,
    )
    assert '<option value="TO_CASE_UNIT" selected>' in text
    admission.refresh_from_db()
    assert "belongings" not in admission.steps


def test_search_step_for_a_woman_shows_the_female_searcher_hint(officer, sign_in):
    """For a woman the search step says only female staff may search her."""
    admission = custody.admission_start(actor=actor_for(officer), unit=officer.unit)
    woman = person_form(name="李四", gender="2", id_number=resident_id(2, male=False))
    custody.admission_save_step(
        actor=actor_for(officer), admission=admission, step="person", data=woman
    )
    text = _text(sign_in(officer).get(f"/admissions/{admission.id}/search/"))
    assert "人身检查应当由女工作人员进行" in text
    health = _text(sign_in(officer).get(f"/admissions/{admission.id}/health/"))
    assert 'name="pregnant"' in health


def test_health_step_of_a_man_has_no_pregnancy_items(officer, sign_in):
    """The pregnancy and nursing items are only shown for women."""
    admission = custody.admission_start(actor=actor_for(officer), unit=officer.unit)
    custody.admission_save_step(
        actor=actor_for(officer), admission=admission, step="person", data=person_form()
    )
    text = _text(sign_in(officer).get(f"/admissions/{admission.id}/health/"))
    assert 'name="pregnant"' not in text
    assert 'name="psychosis"' in text


def test_review_of_a_pregnant_woman_shows_the_refusal(officer, make_user, sign_in):
    """A pregnant woman at a 看守所: the review shows the REFUSE finding with its article, the
    confirm button is disabled, and a forced confirm is refused with no person created."""
    searcher = make_user("gz_nv", "ADMISSION", full_name="钱女警", gender="2")
    actor = actor_for(officer)
    admission = custody.admission_start(actor=actor, unit=officer.unit)
    woman = person_form(name="李四", gender="2", id_number=resident_id(2, male=False))
    for step, data in (
        ("person", woman),
        ("health", {**HEALTH_FORM, "pregnant": "on"}),
        ("search", {"searchers": [str(searcher.id)], "findings": "无"}),
        ("belongings", {"none_declared": True}),
    ):
        admission = custody.admission_save_step(
            actor=actor, admission=admission, step=step, data=data
        )
    client = sign_in(officer)
    text = _text(client.get(f"/admissions/{admission.id}/review/"))
    assert '<li class="finding refuse"><span class="tag">不予收押</span>' in text
    assert "怀孕、哺乳不满一周岁婴儿的妇女不予收押" in text
    assert "看守所条例第十条第三项" in text
    assert "尚未完成的步骤：照相" in text
    assert '<button type="submit" class="big" disabled>确认收押</button>' in text

    custody.admission_add_photo(
        actor=actor,
        admission=admission,
        upload=SimpleUploadedFile("f.png", PNG, content_type="image/png"),
    )
    response = client.post(f"/admissions/{admission.id}/complete/")
    assert response.status_code == 400
    assert "不能收押" in _text(response)
    assert Detainee.objects.count() == 0


def test_refusal_needs_a_reason_and_then_closes_the_admission(officer, sign_in):
    """不予收押 without a reason is refused beside the field; with one the admission closes."""
    client = sign_in(officer)
    admission = custody.admission_start(actor=actor_for(officer), unit=officer.unit)
    response = client.post(f"/admissions/{admission.id}/refuse/", {"reason": " "})
    assert response.status_code == 400
    assert '<span class="field-error" data-field="reason">' in _text(response)
    response = client.post(f"/admissions/{admission.id}/refuse/", {"reason": "文书与本人不符"})
    assert response["Location"] == "/admissions/"
    admission.refresh_from_db()
    assert (admission.status, admission.refused_reason) == (
        AdmissionStatus.REFUSED,
        "文书与本人不符",
    )


def test_admission_of_another_facility_is_404(officer, make_user, sign_in):
    """深圳's 收押 officer cannot open 广州's admission: the same 404 as a missing one."""
    admission = custody.admission_start(actor=actor_for(officer), unit=officer.unit)
    client = sign_in(make_user("sz_shouya", "ADMISSION", unit="sz_k"))
    for url in (f"/admissions/{admission.id}/person/", f"/admissions/{admission.id}/review/"):
        response = client.get(url)
        assert response.status_code == 404
        assert 'data-code="NOT_FOUND"' in _text(response)
    assert client.get("/admissions/not-a-uuid/person/").status_code == 404
    assert client.post(f"/admissions/{admission.id}/refuse/", {"reason": "x"}).status_code == 404
    admission.refresh_from_db()
    assert admission.status == AdmissionStatus.DRAFT


def test_photo_is_served_only_to_the_facility(officer, admit, make_user, sign_in):
    """The admission photo is served to the facility (audited) and is a 404 elsewhere."""
    from jianguan.audit.models import AuditEntry

    detainee = admit(1, name="张三")
    response = sign_in(officer).get(f"/detainees/{detainee.id}/photo/")
    assert (response.status_code, response["Content-Type"]) == (200, "image/png")
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert AuditEntry.objects.filter(action="admission.photo_view").count() == 1
    other = sign_in(make_user("sz_guanjiao", "CUSTODIAN", unit="sz_k"))
    assert other.get(f"/detainees/{detainee.id}/photo/").status_code == 404


# --- placement -------------------------------------------------------------------------------


@pytest.fixture
def cells(tree) -> dict[str, Cell]:
    return {
        "101": make_cell(tree, "101"),
        "102": make_cell(tree, "102"),
        "901": make_cell(tree, "901", kind="TRANSITION"),
        "201": make_cell(tree, "201", gender="2"),
    }


def test_placement_explains_every_cell(officer, admit, cells, sign_in):
    """The co-defendant's cell is 不可安排 and names the rule, the article and the person; the
    women's cell is 不可安排 by 男女分押; the transition cell is 可安排; an ordinary empty cell
    needs a reason."""
    partner = admit(1, name="王五")
    Detainee.objects.filter(id=partner.id).update(cell=cells["101"])
    detainee = admit(2, name="张三")
    text = _text(sign_in(officer).get(f"/detainees/{detainee.id}/placement/"))
    row_101 = _row(text, "101")
    assert "不可安排" in row_101
    assert "同案犯分押" in row_101
    assert "看守所条例第十四条" in row_101
    assert "王五（" in row_101  # the co-defendant by name, not by id
    assert str(partner.id) not in row_101
    assert 'name="cell"' not in row_101  # no button for a hard block
    row_201 = _row(text, "201")
    assert ("不可安排" in row_201, "男女分押" in row_201) == (True, True)
    row_901 = _row(text, "901")
    assert ("可安排" in row_901, ">安排</button>" in row_901) == (True, True)
    row_102 = _row(text, "102")
    assert ("需说明理由" in row_102, 'name="override_reason"' in row_102) == (True, True)


def test_placement_refuses_a_hard_block_and_changes_nothing(officer, admit, cells, sign_in):
    """Posting the co-defendant's cell anyway is refused with the reason; no cell is set."""
    partner = admit(1, name="王五")
    Detainee.objects.filter(id=partner.id).update(cell=cells["101"])
    detainee = admit(2, name="张三")
    response = sign_in(officer).post(
        f"/detainees/{detainee.id}/placement/", {"cell": str(cells["101"].id)}
    )
    assert response.status_code == 400
    assert "不能安排到101监室" in _text(response)
    detainee.refresh_from_db()
    assert detainee.cell_id is None


def test_placement_into_an_allowed_cell(officer, admit, cells, sign_in):
    """安排 into the transition cell sets the cell and shows it on the record."""
    detainee = admit(1, name="张三")
    client = sign_in(officer)
    response = client.post(f"/detainees/{detainee.id}/placement/", {"cell": str(cells["901"].id)})
    assert response["Location"] == f"/detainees/{detainee.id}/"
    detainee.refresh_from_db()
    assert detainee.cell_id == cells["901"].id
    text = _text(client.get(response["Location"]))
    assert '<dd data-testid="cell">901</dd>' in text
    assert "已安排监室" in text


def test_warned_placement_needs_a_reason_and_keeps_it(officer, admit, cells, sign_in):
    """A warn-only cell without a reason is refused beside the reason field; with one the
    placement is made and an override awaits the leader."""
    detainee = admit(1, name="张三")
    client = sign_in(officer)
    url = f"/detainees/{detainee.id}/placement/"
    response = client.post(url, {"cell": str(cells["102"].id), "override_reason": ""})
    assert response.status_code == 400
    assert '<span class="field-error" data-field="override_reason">' in _text(response)
    assert PlacementOverride.objects.count() == 0
    response = client.post(url, {"cell": str(cells["102"].id), "override_reason": "过渡监室已满"})
    assert response.status_code == 302
    override = PlacementOverride.objects.get()
    assert (override.cell_id, override.reason) == (cells["102"].id, "过渡监室已满")


def test_placement_needs_cell_assign(admit, cells, make_user, sign_in):
    """A 管教 (no cell.assign) gets 403."""
    detainee = admit(1, name="张三")
    assert (
        sign_in(make_user("gz_guanjiao", "CUSTODIAN"))
        .get(f"/detainees/{detainee.id}/placement/")
        .status_code
        == 403
    )


def test_placement_with_a_foreign_cell_is_404(officer, admit, tree, sign_in):
    """深圳's cell or a malformed id is the 404 page, as for a missing cell."""
    detainee = admit(1, name="张三")
    foreign = make_cell(tree, "101", unit="sz_k")
    client = sign_in(officer)
    url = f"/detainees/{detainee.id}/placement/"
    assert client.post(url, {"cell": str(foreign.id)}).status_code == 404
    assert client.post(url, {"cell": "nonsense"}).status_code == 404


# --- the person's record -----------------------------------------------------------------------


def test_record_shows_the_clock_with_its_end(officer, admit, sign_in):
    """An arrested person's 侦查羁押期限 is shown to the day with （当日24时）, with its article;
    a 刑事拘留 clock is shown to the minute."""
    arrested = admit(
        1, name="张三", measure="20", document="ARREST_WARRANT", case_number="A-ARREST"
    )
    clock = Deadline.objects.get(detainee=arrested, governs_custody=True, state="RUNNING")
    assert clock.precision == "day"
    last = timezone.localtime(clock.expires_at - dt.timedelta(microseconds=1))
    text = _text(sign_in(officer).get(f"/detainees/{arrested.id}/"))
    assert f"{last:%Y-%m-%d}（当日24时）" in text
    assert clock.label in text
    assert clock.article in text

    detained = admit(2, name="李明")
    hours = Deadline.objects.get(detainee=detained, clock="CRIMINAL_DETENTION")
    text = _text(sign_in(officer).get(f"/detainees/{detained.id}/"))
    assert f"{timezone.localtime(hours.expires_at):%Y-%m-%d %H:%M}" in text
    assert "3日内届满" in text  # 3 days less two hours: the urgent band


def test_legal_event_is_recorded_from_the_form(officer, admit, sign_in):
    """An extension of 拘留 by the county police with days=4 is recorded and the clock moves."""
    detainee = admit(1, name="张三")
    before = Deadline.objects.get(detainee=detainee, clock="CRIMINAL_DETENTION").expires_at
    response = sign_in(officer).post(
        f"/detainees/{detainee.id}/legal/",
        {
            "kind": "DETENTION_EXTENDED",
            "at": local_input(timezone.now() - dt.timedelta(hours=1)),
            "approval": "COUNTY_POLICE",
            "p_days": "4",
            "p_months": "",
            "document_number": "穗天公延拘〔2025〕1号",
        },
    )
    assert response.status_code == 302
    event = custody.legal_events_of(detainee).last()
    assert (event.kind, event.params, event.approval) == (
        "DETENTION_EXTENDED",
        {"days": 4},
        "COUNTY_POLICE",
    )
    after = Deadline.objects.get(detainee=detainee, clock="CRIMINAL_DETENTION").expires_at
    assert after - before == dt.timedelta(days=4)


def test_refused_legal_event_shows_reason_and_keeps_the_form(officer, admit, sign_in):
    """An extension by the wrong authority is refused with its article; the typed values stay
    and nothing is recorded."""
    detainee = admit(1, name="张三")
    count = custody.legal_events_of(detainee).count()
    response = sign_in(officer).post(
        f"/detainees/{detainee.id}/legal/",
        {
            "kind": "DETENTION_EXTENDED",
            "at": local_input(timezone.now() - dt.timedelta(hours=1)),
            "approval": "COURT",
            "p_days": "4",
            "document_number": "DOC-TYPED-7",
        },
    )
    assert response.status_code == 400
    text = _text(response)
    assert 'data-testid="legal-error"' in text
    assert "依据" in text
    assert 'value="DOC-TYPED-7"' in text
    assert '<option value="COURT" selected>' in text
    assert custody.legal_events_of(detainee).count() == count


def test_legal_event_form_needs_legal_record(admit, make_user, sign_in):
    """A 管教 may read the record but may not record a legal event (403), and sees no form."""
    detainee = admit(1, name="张三")
    client = sign_in(make_user("gz_guanjiao", "CUSTODIAN"))
    assert "登记法律事项" not in _text(client.get(f"/detainees/{detainee.id}/"))
    response = client.post(f"/detainees/{detainee.id}/legal/", {"kind": "ARREST_EXECUTED"})
    assert response.status_code == 403


def test_medical_exit_and_return(officer, admit, sign_in):
    """出所就医 without a destination is refused beside the field; with one the person is out,
    and 回所 brings them back."""
    detainee = admit(1, name="张三")
    client = sign_in(officer)
    url = f"/detainees/{detainee.id}/movements/"
    response = client.post(url, {"kind": "OUT_MEDICAL", "escort": "孙民警"})
    assert response.status_code == 400
    text = _text(response)
    assert '<span class="field-error" data-field="destination">' in text
    assert 'value="孙民警"' in text
    assert client.post(url, {"kind": "OUT_MEDICAL", "destination": "市一医院", "escort": "孙民警"})[
        "Location"
    ].endswith("#movements")
    detainee.refresh_from_db()
    assert detainee.status == DetaineeStatus.OUT_TEMPORARILY
    client.post(url, {"kind": "RETURN"})
    detainee.refresh_from_db()
    assert detainee.status == DetaineeStatus.IN_CUSTODY
    assert "市一医院" in _text(client.get(f"/detainees/{detainee.id}/"))


def test_release_needs_the_release_permission(admit, make_user, sign_in):
    """A 提讯 officer may not release (403); the person stays held."""
    detainee = admit(1, name="张三")
    client = sign_in(make_user("gz_tixun", "INTERROGATION"))
    response = client.post(
        f"/detainees/{detainee.id}/movements/", {"kind": "RELEASE", "document_number": "释1"}
    )
    assert response.status_code == 403
    detainee.refresh_from_db()
    assert detainee.status == DetaineeStatus.IN_CUSTODY


def test_interrogation_admitted_and_ended(admit, make_user, sign_in):
    """A valid 提讯 is admitted, listed as running and ended with 结束提讯."""
    detainee = admit(1, name="张三")
    client = sign_in(make_user("gz_tixun", "INTERROGATION"))
    response = client.post(
        f"/detainees/{detainee.id}/interrogations/",
        {"warrant_number": "提讯证001", "case_unit": CASE_UNIT, "officers": "刘、陈"},
    )
    assert response.status_code == 302
    record = Interrogation.objects.get()
    assert "正在提讯" in _text(client.get(f"/detainees/{detainee.id}/"))
    client.post(f"/interrogations/{record.id}/end/")
    record.refresh_from_db()
    assert record.ended_at is not None
    assert client.post(f"/interrogations/{record.id}/end/").status_code == 404


def test_interrogation_on_an_expired_clock_is_refused_prominently(admit, make_user, sign_in):
    """Once the 拘留 has run out, the 提讯 is refused with the reason shown in the refusal box."""
    detainee = admit(1, name="张三", executed=timezone.now() - dt.timedelta(days=5))
    client = sign_in(make_user("gz_tixun", "INTERROGATION"))
    response = client.post(
        f"/detainees/{detainee.id}/interrogations/",
        {"warrant_number": "提讯证009", "case_unit": CASE_UNIT, "officers": "刘"},
    )
    assert response.status_code == 400
    text = _text(response)
    assert 'data-testid="interrogation-refused"' in text
    assert "原提讯证不能使用" in text
    assert "公安机关适用刑事羁押期限规定第二十八条" in text
    assert Interrogation.objects.get().admitted is False


# --- 期限看板 ---------------------------------------------------------------------------------


def test_board_lists_nearest_end_first_and_filters_by_case_unit(officer, admit, sign_in):
    """Three 刑事拘留 clocks come nearest first; the case-unit filter keeps only its people."""
    now = timezone.now()
    admit(1, name="甲远", executed=now - dt.timedelta(hours=1))
    admit(2, name="乙近", executed=now - dt.timedelta(hours=60), case_unit=OTHER_CASE_UNIT)
    admit(3, name="丙中", executed=now - dt.timedelta(hours=30))
    client = sign_in(officer)
    text = _text(client.get("/deadlines/"))
    assert text.index("乙近") < text.index("丙中") < text.index("甲远")
    assert 'data-urgency="critical"' in text  # 乙近: 12 hours left
    assert f'<option value="{OTHER_CASE_UNIT}">' in text

    text = _text(client.get("/deadlines/", {"case_unit": OTHER_CASE_UNIT}))
    assert ("乙近" in text, "甲远" in text, "丙中" in text) == (True, False, False)


def test_board_is_scoped_to_the_user(admit, make_user, sign_in):
    """深圳's officer sees none of 广州's clocks; an administrator gets 403."""
    admit(1, name="张三")
    text = _text(sign_in(make_user("sz_guanjiao", "CUSTODIAN", unit="sz_k")).get("/deadlines/"))
    assert "张三" not in text
    admin = make_user("gd_admin", "ADMINISTRATOR", unit="gd")
    assert sign_in(admin).get("/deadlines/").status_code == 403


# --- 在押点名 --------------------------------------------------------------------------------


def test_roll_by_cell_and_unplaced(officer, admit, cells, sign_in):
    """The roll shows each cell's count and the unplaced people with a link to place them."""
    placed = admit(1, name="王五", case_number="A-1")
    Detainee.objects.filter(id=placed.id).update(cell=cells["101"])
    waiting = admit(2, name="张三", case_number="A-2")
    text = _text(sign_in(officer).get("/roll/"))
    assert '<span class="n" data-testid="unplaced">1</span>' in text
    assert f'href="/detainees/{waiting.id}/placement/"' in text
    assert "<td>101</td><td>普通监室</td><td>男</td><td>12</td><td>1</td><td>0</td>" in text


def test_roll_of_a_facility_out_of_scope_is_404(officer, tree, sign_in):
    assert sign_in(officer).get(f"/roll/?unit={tree['sz_k'].id}").status_code == 404


# --- 期限通知 --------------------------------------------------------------------------------


@pytest.fixture
def overdue(admit) -> Detainee:
    """A 刑事拘留 executed five days ago with no extension: over its term; the watch has run."""
    detainee = admit(1, name="张三", executed=timezone.now() - dt.timedelta(days=5))
    custody.deadline_watch()
    return detainee


def test_notices_list_print_and_handle(overdue, make_user, sign_in):
    """The leader sees the over-term alert, prints it, and records how it was handled."""
    leader = make_user("gz_leader", "LEADER")
    client = sign_in(leader)
    home = _text(client.get("/"))
    assert '<span class="n" data-testid="expired-alerts">1</span>' in home
    notice = DeadlineNotice.objects.get(kind="EXPIRED")
    text = _text(client.get("/notices/"))
    assert "张三" in text
    assert "已超期羁押" in text
    printed = client.get(f"/notices/{notice.id}/print/")
    assert printed.status_code == 200
    assert "超期羁押情况报告" in _text(printed)
    assert "广州市第一看守所" in _text(printed)

    response = client.post(f"/notices/{notice.id}/handle/", {"note": ""})
    assert response.status_code == 400
    assert "请写明处理情况" in _text(response)
    response = client.post(f"/notices/{notice.id}/handle/", {"note": "已书面报告驻所检察室"})
    assert response["Location"] == "/notices/"
    notice.refresh_from_db()
    assert (notice.handled_by, notice.handling_note) == ("gz_leader", "已书面报告驻所检察室")


def test_before_expiry_notice_prints_as_the_notice(admit, officer, sign_in):
    """A 拘留 ending within a day gets the 羁押期限即将届满通知书, addressed to the case unit."""
    admit(1, name="张三", executed=timezone.now() - dt.timedelta(hours=60))
    custody.deadline_watch()
    notice = DeadlineNotice.objects.get(kind="BEFORE_EXPIRY")
    text = _text(sign_in(officer).get(f"/notices/{notice.id}/print/"))
    assert "羁押期限即将届满通知书" in text
    assert f"{CASE_UNIT}：" in text


def test_notice_handle_needs_lead_or_legal_record(overdue, make_user, sign_in):
    """A 管教 may read the notices but not handle them."""
    notice = DeadlineNotice.objects.get(kind="EXPIRED")
    client = sign_in(make_user("gz_guanjiao", "CUSTODIAN"))
    assert client.get("/notices/").status_code == 200
    assert client.post(f"/notices/{notice.id}/handle/", {"note": "x"}).status_code == 403
    notice.refresh_from_db()
    assert notice.handled_at is None


def test_notice_of_another_facility_is_404(overdue, make_user, sign_in):
    notice = DeadlineNotice.objects.get(kind="EXPIRED")
    client = sign_in(make_user("sz_leader", "LEADER", unit="sz_k"))
    assert client.get(f"/notices/{notice.id}/print/").status_code == 404
    assert client.post(f"/notices/{notice.id}/handle/", {"note": "x"}).status_code == 404


# --- 越过规则审核 ----------------------------------------------------------------------------


@pytest.fixture
def override(officer, admit, cells) -> PlacementOverride:
    detainee = admit(1, name="张三")
    custody.cell_assign(
        actor=actor_for(officer),
        detainee=detainee,
        cell_id=cells["102"].id,
        override_reason="过渡监室维修",
    )
    return PlacementOverride.objects.get()


def test_leader_reviews_an_override(override, make_user, sign_in):
    """The leader sees the pending override with its rule and reason; a rejection needs a note
    (kept when refused); approval closes it."""
    client = sign_in(make_user("gz_leader", "LEADER"))
    assert '<span class="n" data-testid="pending-overrides">1</span>' in _text(client.get("/"))
    text = _text(client.get("/overrides/"))
    assert ("张三" in text, "新收押人员过渡管理" in text, "过渡监室维修" in text) == (
        True,
        True,
        True,
    )
    url = f"/overrides/{override.id}/review/"
    response = client.post(url, {"decision": "reject", "note": ""})
    assert response.status_code == 400
    assert "不同意时请写明意见" in _text(response)
    client.post(url, {"decision": "approve", "note": "同意"})
    override.refresh_from_db()
    assert (override.review_status, override.reviewed_by) == ("APPROVED", "gz_leader")


def test_overrides_need_the_leader(override, officer, sign_in):
    client = sign_in(officer)
    assert client.get("/overrides/").status_code == 403
    url = f"/overrides/{override.id}/review/"
    assert client.post(url, {"decision": "approve"}).status_code == 403
    override.refresh_from_db()
    assert override.review_status == "PENDING"


# --- home and navigation -------------------------------------------------------------------------


def test_admission_post_home_shows_open_admissions_and_unplaced(officer, admit, sign_in):
    admit(1, name="张三")
    custody.admission_start(actor=actor_for(officer), unit=officer.unit)
    text = _text(sign_in(officer).get("/"))
    assert '<span class="n" data-testid="open-admissions">1</span>' in text
    assert '<span class="n" data-testid="unplaced">1</span>' in text
    assert 'href="/admissions/"' in text


def test_navigation_follows_permissions(make_user, sign_in):
    """The 巡控 officer's menu has no 收押 and no 越过规则审核; the leader's has the review."""
    text = _text(sign_in(make_user("gz_xunkong", "PATROL")).get("/"))
    assert ('href="/admissions/"' in text, 'href="/overrides/"' in text) == (False, False)
    assert 'href="/deadlines/"' in text
    text = _text(sign_in(make_user("gz_leader", "LEADER")).get("/"))
    assert 'href="/overrides/"' in text


def test_pages_in_english(officer, sign_in):
    """The language switch turns the admission page into English."""
    client = sign_in(officer)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Start an admission" in _text(client.get("/admissions/"))


def test_board_queries_do_not_grow_with_rows(officer, admit, sign_in):
    """The board reads its rows with their people and facilities in a fixed number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = sign_in(officer)
    admit(1, name="甲")
    client.get("/deadlines/")  # warm the session and the code caches
    with CaptureQueriesContext(connection) as few:
        client.get("/deadlines/")
    for serial in range(2, 6):
        admit(serial, name=f"乙{serial}", case_number=f"A-{serial}")
    with CaptureQueriesContext(connection) as many:
        text = _text(client.get("/deadlines/"))
    assert text.count('data-urgency="') == 5
    assert len(many) == len(few)


@pytest.mark.parametrize(
    "url", ["/admissions/", "/deadlines/", "/roll/", "/notices/", "/overrides/"]
)
def test_custody_lists_as_anonymous_redirect_to_login(tree, client, url):
    response = client.get(url)
    assert (response.status_code, response["Location"]) == (302, f"/login/?next={url}")


@pytest.mark.parametrize(
    ("post", "suffix", "data"),
    [
        ("ADMISSION", "legal/", {"kind": "ARREST_REQUESTED", "at": "2025-01-01T10:00"}),
        ("ADMISSION", "movements/", {"kind": "OUT_MEDICAL", "destination": "医院", "escort": "甲"}),
        ("ADMISSION", "placement/", {"cell": "00000000-0000-0000-0000-000000000000"}),
        (
            "INTERROGATION",
            "interrogations/",
            {"warrant_number": "1", "case_unit": "x", "officers": "y"},
        ),
    ],
)
def test_writes_on_another_facilitys_person_are_404(admit, make_user, sign_in, post, suffix, data):
    """深圳's officers get the 404 page for 广州's person, and nothing is written."""
    from jianguan.custody.models import LegalEvent, Movement

    detainee = admit(1, name="张三")
    counts = (LegalEvent.objects.count(), Movement.objects.count(), Interrogation.objects.count())
    client = sign_in(make_user("sz_user", post, unit="sz_k"))
    response = client.post(f"/detainees/{detainee.id}/{suffix}", data)
    assert response.status_code == 404
    assert "张三" not in _text(response)
    assert (
        LegalEvent.objects.count(),
        Movement.objects.count(),
        Interrogation.objects.count(),
    ) == counts
    detainee.refresh_from_db()
    assert (detainee.status, detainee.cell_id) == (DetaineeStatus.IN_CUSTODY, None)
