"""收押 through the admission services: each step's checks name the field at fault, the gate
rules refuse or ask for approval with their article, and completing is all or nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from jianguan.core.errors import DomainError
from jianguan.custody import admission as admission_module
from jianguan.custody.api import (
    Admission,
    AdmissionStatus,
    Deadline,
    Detainee,
    DetaineeStatus,
    LegalEvent,
    admission_add_photo,
    admission_complete,
    admission_refuse,
    admission_save_step,
    admission_start,
)
from tests.custody.factories import (
    PNG,
    WOMAN_ID,
    ago,
    belongings_step,
    health_step,
    person_step,
    photo,
    resident_id,
    search_step,
    woman_step,
)

pytestmark = pytest.mark.django_db


def _started(actor: Any, tree: dict[str, Any], unit: str = "gz_k") -> Admission:
    return admission_start(actor=actor, unit=tree[unit])


def _save(actor: Any, admission: Admission, step: str, data: dict[str, Any]) -> Admission:
    return admission_save_step(actor=actor, admission=admission, step=step, data=data)


def _refused(call: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def _events(type_: str) -> list[Any]:
    from jianguan.outbox.models import Event

    return list(Event.objects.filter(type=type_).order_by("recorded_at", "id"))


# --- starting -------------------------------------------------------------------------------


def test_start_at_a_city_unit_is_refused(actor, tree):
    """Only a facility admits people: starting at 广州's 监管支队 answers NOT_A_FACILITY and
    creates no admission."""
    error = _refused(lambda: admission_start(actor=actor, unit=tree["gz"]))
    assert error.code == "NOT_A_FACILITY"
    assert Admission.objects.count() == 0


def test_start_creates_a_draft_at_the_facility(actor, tree):
    """A new admission is DRAFT at the facility, by the officer, with no steps."""
    admission = _started(actor, tree)
    assert (admission.status, admission.unit_id, admission.started_by, admission.steps) == (
        AdmissionStatus.DRAFT,
        tree["gz_k"].id,
        "gz_shouya",
        {},
    )


# --- step validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"name": ""}, "REQUIRED", "name"),
        ({"id_type": "999"}, "UNKNOWN_CODE", "id_type"),
        ({"id_number": ""}, "REQUIRED", "id_number"),
        ({"id_number": "440103199001011230"}, "ID_NUMBER_CHECK_DIGIT", "id_number"),
        ({"gender": "X"}, "UNKNOWN_CODE", "gender"),
        ({"ethnicity": ""}, "REQUIRED", "ethnicity"),
        ({"legal_measure": "77"}, "UNKNOWN_CODE", "legal_measure"),
        ({"case_nature": "zz"}, "UNKNOWN_CODE", "case_nature"),
        ({"document_kind": "LETTER"}, "UNKNOWN_DOCUMENT", "document_kind"),
        ({"document_number": " "}, "REQUIRED", "document_number"),
        ({"case_unit": ""}, "REQUIRED", "case_unit"),
        ({"executed_at": ""}, "REQUIRED", "executed_at"),
        ({"executed_at": "2025-01-01"}, "BAD_DATETIME", "executed_at"),
        ({"executed_at": ago(hours=-2)}, "FUTURE_EVENT", "executed_at"),
        ({"days": "0"}, "BAD_NUMBER", "days"),
    ],
)
def test_person_step_errors_name_the_field(actor, tree, overrides, code, field):
    """Each bad answer of the person step is refused with its code and field; nothing is kept."""
    admission = _started(actor, tree)
    error = _refused(lambda: _save(actor, admission, "person", person_step(**overrides)))
    assert (error.code, error.field) == (code, field)
    admission.refresh_from_db()
    assert admission.steps == {}


def test_gender_that_contradicts_the_id_number_is_refused(actor, tree):
    """A male ID number entered with gender 2 (女) answers ID_MISMATCH on gender."""
    admission = _started(actor, tree)
    error = _refused(lambda: _save(actor, admission, "person", person_step(gender="2")))
    assert (error.code, error.field, error.message) == (
        "ID_MISMATCH",
        "gender",
        "性别与身份证号码不一致",
    )


def test_birth_date_that_contradicts_the_id_number_is_refused(actor, tree):
    """A birth date other than the one in the ID number answers ID_MISMATCH on birth_date."""
    admission = _started(actor, tree)
    error = _refused(
        lambda: _save(actor, admission, "person", person_step(birth_date="1990-01-02"))
    )
    assert (error.code, error.field) == ("ID_MISMATCH", "birth_date")


def test_birth_date_is_taken_from_the_id_number(actor, tree):
    """Without a birth date the one in the ID number is kept; the number is normalised."""
    admission = _save(actor, _started(actor, tree), "person", person_step())
    assert admission.steps["person"]["birth_date"] == "1990-01-01"


def test_measure_not_executed_in_this_kind_of_facility_is_refused(actor, tree):
    """行政拘留 (40) is not executed at a 看守所: MEASURE_NOT_FOR_FACILITY on legal_measure,
    naming the measure."""
    admission = _started(actor, tree)
    error = _refused(
        lambda: _save(
            actor,
            admission,
            "person",
            person_step(legal_measure="40", document_kind="ADMIN_DETENTION_DECISION"),
        )
    )
    assert (error.code, error.field) == ("MEASURE_NOT_FOR_FACILITY", "legal_measure")
    assert "行政拘留" in error.message
    assert "看守所" in error.message


def test_steps_after_the_first_need_the_person_step(actor, tree):
    """Saving the health step before the person step answers STEP_ORDER."""
    error = _refused(lambda: _save(actor, _started(actor, tree), "health", health_step()))
    assert error.code == "STEP_ORDER"


@pytest.mark.parametrize("step", ["photo", "release", ""])
def test_unknown_step_is_refused(actor, tree, step):
    """The photo is uploaded, not saved as a step; unknown steps answer UNKNOWN_STEP."""
    error = _refused(lambda: _save(actor, _started(actor, tree), step, {}))
    assert error.code == "UNKNOWN_STEP"


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"blood_pressure": ""}, "REQUIRED", "blood_pressure"),
        ({"chest_xray": ""}, "REQUIRED", "chest_xray"),
        ({"allergies": ""}, "REQUIRED", "allergies"),
        ({"doctor": ""}, "REQUIRED", "doctor"),
        ({"pregnant": True}, "BAD_FLAG", "pregnant"),
        ({"head_approval_by": "周局长"}, "APPROVAL_INCOMPLETE", "head_approval_by"),
    ],
)
def test_health_step_errors_name_the_field(actor, tree, overrides, code, field):
    """Each missing item of the 2010 health check, a pregnancy flag on a man and an approval
    without its document are refused on their field."""
    admission = _save(actor, _started(actor, tree), "person", person_step())
    error = _refused(lambda: _save(actor, admission, "health", health_step(**overrides)))
    assert (error.code, error.field) == (code, field)
    admission.refresh_from_db()
    assert "health" not in admission.steps


@pytest.mark.parametrize(
    ("signatures", "code", "field"),
    [
        ({"admitting_officer": "陈收押", "detainee_signed": True}, "REQUIRED", "escort_officer"),
        ({"escort_officer": "刘送押", "detainee_signed": True}, "REQUIRED", "admitting_officer"),
        (
            {"escort_officer": "刘送押", "admitting_officer": "陈收押"},
            "SIGNATURE_REQUIRED",
            "detainee_signed",
        ),
    ],
)
def test_injuries_need_all_three_signatures(actor, tree, signatures, code, field):
    """An injury on the body-surface check is recorded only with the escorting officer's, the
    admitting officer's and the person's signatures (检察规则第六百五十六条)."""
    admission = _save(actor, _started(actor, tree), "person", person_step())
    data = health_step(injuries="左臂擦伤 3 cm", **signatures)
    error = _refused(lambda: _save(actor, admission, "health", data))
    assert (error.code, error.field) == (code, field)


def test_injuries_with_three_signatures_are_kept(actor, tree):
    admission = _save(actor, _started(actor, tree), "person", person_step())
    data = health_step(
        injuries="左臂擦伤 3 cm",
        escort_officer="刘送押",
        admitting_officer="陈收押",
        detainee_signed="on",
    )
    health = _save(actor, admission, "health", data).steps["health"]
    assert (health["injuries"], health["escort_officer"], health["detainee_signed"]) == (
        "左臂擦伤 3 cm",
        "刘送押",
        True,
    )


def test_female_detainee_searched_by_a_male_officer_is_refused(actor, tree, officers):
    """看守所条例第十一条: a woman is searched by female staff; a man among the searchers
    answers FEMALE_SEARCHER_REQUIRED on searchers."""
    admission = _save(actor, _started(actor, tree), "person", woman_step())
    mixed = search_step(officers["admission_f"], officers["admission"])
    error = _refused(lambda: _save(actor, admission, "search", mixed))
    assert (error.code, error.field) == ("FEMALE_SEARCHER_REQUIRED", "searchers")
    assert "看守所条例第十一条" in error.message
    saved = _save(actor, admission, "search", search_step(officers["admission_f"]))
    assert [s["id"] for s in saved.steps["search"]["searchers"]] == [
        str(officers["admission_f"].id)
    ]


def test_searcher_of_another_facility_is_refused(actor, tree, make_user):
    """A searcher must be an officer of this facility: a 深圳 officer answers REQUIRED."""
    stranger = make_user("sz_shouya", "ADMISSION", unit="sz_k", gender="1")
    admission = _save(actor, _started(actor, tree), "person", person_step())
    error = _refused(lambda: _save(actor, admission, "search", search_step(stranger)))
    assert (error.code, error.field) == ("REQUIRED", "searchers")
    error = _refused(lambda: _save(actor, admission, "search", search_step()))
    assert (error.code, error.field) == ("REQUIRED", "searchers")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({}, "REQUIRED"),
        ({"items": [{"name": ""}]}, "REQUIRED"),
        ({"items": [{"name": "手表", "quantity": 0}]}, "BAD_NUMBER"),
        ({"items": [{"name": "手表", "quantity": "两"}]}, "BAD_NUMBER"),
        ({"items": [{"name": "手表", "disposition": "SOLD"}]}, "BAD_CHOICE"),
    ],
)
def test_belongings_errors_name_the_items_field(actor, tree, data, code):
    admission = _save(actor, _started(actor, tree), "person", person_step())
    error = _refused(lambda: _save(actor, admission, "belongings", data))
    assert (error.code, error.field) == (code, "items")


def test_no_belongings_must_be_declared(actor, tree):
    admission = _save(actor, _started(actor, tree), "person", person_step())
    saved = _save(actor, admission, "belongings", belongings_step(items=[], none_declared=True))
    assert saved.steps["belongings"] == {"items": [], "none_declared": True}


# --- photos -------------------------------------------------------------------------------


def test_photo_that_is_not_an_image_is_refused(actor, tree):
    admission = _started(actor, tree)
    upload = photo(b"%PDF-1.7 not a picture", name="face.jpg")
    error = _refused(lambda: admission_add_photo(actor=actor, admission=admission, upload=upload))
    assert (error.code, error.field) == ("NOT_A_PHOTO", "photo")
    assert admission.files.count() == 0


def test_photo_over_8_mb_is_refused(actor, tree):
    admission = _started(actor, tree)
    upload = photo(b"\xff\xd8\xff" + b"\x00" * (8 * 1024 * 1024 - 2))
    error = _refused(lambda: admission_add_photo(actor=actor, admission=admission, upload=upload))
    assert (error.code, error.field) == ("FILE_TOO_LARGE", "photo")
    assert admission.files.count() == 0


def test_photo_is_kept_with_its_digest(actor, tree):
    """A PNG is kept as the person's photo and fills the photo step; an injury photo does not."""
    admission = _started(actor, tree)
    record = admission_add_photo(actor=actor, admission=admission, upload=photo(PNG, "a.png"))
    admission.refresh_from_db()
    assert (record.content_type, record.purpose) == ("image/png", "PHOTO")
    assert admission.steps["photo"]["sha256"] == record.sha256
    injury = admission_add_photo(actor=actor, admission=admission, upload=photo(), purpose="INJURY")
    admission.refresh_from_db()
    assert admission.steps["photo"]["file"] == str(record.id) != str(injury.id)


def test_photo_with_an_unknown_purpose_is_refused(actor, tree):
    admission = _started(actor, tree)
    error = _refused(
        lambda: admission_add_photo(
            actor=actor, admission=admission, upload=photo(), purpose="SELFIE"
        )
    )
    assert (error.code, error.field) == ("BAD_CHOICE", "purpose")


# --- gate rules -----------------------------------------------------------------------------


def test_document_naming_someone_else_is_a_refuse_finding(actor, fill):
    """A 拘留证 naming another person leaves a REFUSE finding (看守所条例第九条) and complete
    is refused with that article; nobody is admitted."""
    admission = fill(person=person_step(document_name="张叁"))
    findings = {f["rule"]: f for f in admission.findings}
    assert findings["DOCUMENT_IDENTITY"]["outcome"] == "REFUSE"
    assert "看守所条例第九条" in findings["DOCUMENT_IDENTITY"]["article"]
    error = _refused(lambda: admission_complete(actor=actor, admission=admission))
    assert error.code == "ADMISSION_NOT_ALLOWED"
    assert "看守所条例第九条" in error.message
    assert Detainee.objects.count() == 0


def test_document_with_another_id_number_is_a_refuse_finding(actor, fill):
    admission = fill(person=person_step(document_id_number=WOMAN_ID))
    assert [f["rule"] for f in admission.findings if f["outcome"] == "REFUSE"] == [
        "DOCUMENT_IDENTITY"
    ]


def test_pregnant_woman_is_not_admitted_to_a_detention_centre(actor, fill, admission_steps):
    """看守所条例第十条第三项: complete is refused, naming the article; the admission stays
    DRAFT so the officer can refuse it formally."""
    admission = fill(person=woman_step(), health=health_step(pregnant=True))
    error = _refused(lambda: admission_complete(actor=actor, admission=admission))
    assert error.code == "ADMISSION_NOT_ALLOWED"
    assert "看守所条例第十条第三项" in error.message
    admission.refresh_from_db()
    assert admission.status == AdmissionStatus.DRAFT
    assert Detainee.objects.count() == 0


def test_person_of_seventy_needs_the_heads_written_approval(actor, fill):
    """A man of 70 or more is admitted only with the written approval of the police organ's
    head (公监管〔2010〕214号): refused without it, admitted with it, the approval recorded."""
    elderly = person_step(id_number=resident_id("44010319500101123"))
    admission = fill(person=elderly)
    error = _refused(lambda: admission_complete(actor=actor, admission=admission))
    assert error.code == "ADMISSION_NOT_ALLOWED"
    assert "书面批准" in error.message
    assert "公监管〔2010〕214号" in error.message
    approved = health_step(head_approval_by="周局长", head_approval_document="穗公批〔2025〕9号")
    admission = admission_save_step(actor=actor, admission=admission, step="health", data=approved)
    detainee = admission_complete(actor=actor, admission=admission)
    assert detainee.birth_date.year == 1950
    (event,) = _events("custody.admitted")
    assert event.payload["approvals"] == ["DC_ELDERLY"]


# --- completing -----------------------------------------------------------------------------


def test_complete_needs_every_step(actor, tree):
    admission = _save(actor, _started(actor, tree), "person", person_step())
    error = _refused(lambda: admission_complete(actor=actor, admission=admission))
    assert error.code == "STEPS_MISSING"
    assert error.message == "还有步骤未完成：健康与体表检查、人身检查、物品登记、照相"


def test_complete_creates_one_person_with_number_legal_event_and_clocks(actor, fill, tree):
    """Completing creates exactly one Detainee (IN_CUSTODY, 侦查（刑事拘留期间）), numbered
    unit code + year + 5 digits, with the 拘留 executed as its first legal event and its
    clocks computed; the admission is COMPLETED and linked."""
    admission = fill()
    detainee = admission_complete(actor=actor, admission=admission)
    assert Detainee.objects.count() == 1
    year = detainee.admitted_at.astimezone().year
    assert re.fullmatch(rf"440100K01{year}\d{{5}}", detainee.number)
    assert detainee.number.endswith("00001")
    assert (detainee.name, detainee.status, detainee.legal_measure, detainee.litigation_stage) == (
        "张三",
        DetaineeStatus.IN_CUSTODY,
        "10",
        "11",
    )
    events = list(LegalEvent.objects.filter(detainee=detainee))
    assert len(events) == 1
    assert (events[0].document_kind, events[0].document_number, events[0].recorded_by) == (
        "拘留证",
        "穗天公（刑）拘字〔2025〕101号",
        "gz_shouya",
    )
    clocks = list(Deadline.objects.filter(detainee=detainee))
    assert clocks
    assert {c.state for c in clocks} <= {"RUNNING", "SUSPENDED"}
    assert any(c.governs_custody and c.expires_at for c in clocks)
    admission.refresh_from_db()
    assert (admission.status, admission.detainee_id) == (AdmissionStatus.COMPLETED, detainee.id)


def test_numbers_are_sequential_per_facility_and_year(admit, make_user):
    """The second and third people at 广州一看 get …00002 and …00003; 深圳一看 starts at 00001."""
    first = admit()
    second = admit(person=woman_step())
    third = admit(
        person=person_step(
            name="王五", document_name="王五", id_number=resident_id("44010319850505123")
        )
    )
    sz_officer = make_user("sz_shouya", "ADMISSION", unit="sz_k", gender="1")
    other = admit("sz_k", search=search_step(sz_officer))
    prefix = first.number[:-5]
    assert [second.number, third.number] == [f"{prefix}00002", f"{prefix}00003"]
    assert other.number == f"440300K01{prefix[9:]}00001"


def test_failure_in_the_middle_of_complete_admits_nobody(actor, fill, monkeypatch):
    """Nothing half-admitted: when recording the first legal event fails, no person, number,
    legal event or clock remains, the admission is still DRAFT, and it completes afterwards
    with the number the failed attempt would have taken."""
    admission = fill()

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("database went away")

    with monkeypatch.context() as patch:
        patch.setattr(admission_module, "legal_event_record", broken)
        with pytest.raises(RuntimeError):
            admission_complete(actor=actor, admission=admission)
    assert (Detainee.objects.count(), LegalEvent.objects.count(), Deadline.objects.count()) == (
        0,
        0,
        0,
    )
    assert _events("custody.admitted") == []
    admission.refresh_from_db()
    assert (admission.status, admission.detainee_id) == (AdmissionStatus.DRAFT, None)
    detainee = admission_complete(actor=actor, admission=admission)
    assert detainee.number.endswith("00001")
    assert Detainee.objects.count() == 1


def test_refuse_closes_the_admission(actor, fill):
    """不予收押 needs a reason; it closes the admission and publishes the reason and findings."""
    admission = fill(person=woman_step(), health=health_step(pregnant=True))
    error = _refused(lambda: admission_refuse(actor=actor, admission=admission, reason="  "))
    assert (error.code, error.field) == ("REQUIRED", "reason")
    refused = admission_refuse(actor=actor, admission=admission, reason="怀孕，通知送押机关")
    assert (refused.status, refused.refused_reason) == (
        AdmissionStatus.REFUSED,
        "怀孕，通知送押机关",
    )
    (event,) = _events("custody.admission_refused")
    assert event.payload["reason"] == "怀孕，通知送押机关"
    assert "DC_PREGNANT_NURSING" in [f["rule"] for f in event.payload["findings"]]
    error = _refused(lambda: admission_complete(actor=actor, admission=refused))
    assert error.code == "ADMISSION_CLOSED"
    assert Detainee.objects.count() == 0


def test_saving_after_completion_is_refused(actor, fill):
    """A completed admission is closed: a step, a photo or a refusal answers ADMISSION_CLOSED
    and the kept answers do not change."""
    admission = fill()
    admission_complete(actor=actor, admission=admission)
    before = Admission.objects.get(id=admission.id).steps
    for call in (
        lambda: _save(actor, admission, "person", person_step(name="改名")),
        lambda: admission_add_photo(actor=actor, admission=admission, upload=photo()),
        lambda: admission_refuse(actor=actor, admission=admission, reason="反悔"),
        lambda: admission_complete(actor=actor, admission=admission),
    ):
        assert _refused(call).code == "ADMISSION_CLOSED"
    assert Admission.objects.get(id=admission.id).steps == before
    assert Detainee.objects.count() == 1
