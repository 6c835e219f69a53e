"""收押 as a guided, resumable flow (LAW.md §2.1).

Steps: the person and the legal document, the health and body-surface check, the search,
the belongings, the photo. Each step's answers are validated and kept on the Admission; the
person's record is created only by `admission_complete`, in one transaction, so a failure at
any point leaves the admission where it was — never a half-admitted person.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from jianguan.codes.api import require_code, resident_id_parse
from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError
from jianguan.custody.admission_rules import (
    DOCUMENT_KINDS,
    AdmissionFacts,
    AdmissionFinding,
    assess,
    may_admit,
)
from jianguan.custody.legal import deadlines_recompute, legal_event_record
from jianguan.custody.models import (
    Admission,
    AdmissionFile,
    AdmissionStatus,
    Detainee,
    DetaineeStatus,
    NumberSequence,
)
from jianguan.org.api import user_by_id_in_unit
from jianguan.outbox.api import change_record
from jianguan.rules.api import pack_for

STEPS: dict[str, str] = {
    "person": "人员信息与法律文书",
    "health": "健康与体表检查",
    "search": "人身检查",
    "belongings": "物品登记",
    "photo": "照相",
}
RESIDENT_ID = "111"
HEALTH_ITEMS = {  # 公监管〔2010〕214号 §一: the items of the admission health check
    "blood_pressure": "血压",
    "blood_routine": "血常规",
    "ecg": "心电图",
    "ultrasound": "B超",
    "chest_xray": "胸片",
}
INTERVIEW_ITEMS = {
    "current_condition": "现病情况",
    "history": "既往病史",
    "allergies": "药物过敏史",
    "family_history": "家族病史",
}
HEALTH_FLAGS = {
    "pregnant": "怀孕",
    "nursing_infant_under_1": "正在哺乳未满一周岁婴儿",
    "psychosis": "精神病",
    "acute_infectious": "急性传染病",
    "serious_illness": "其他严重疾病（危及生命或生活不能自理）",
}
DISPOSITIONS = {
    "KEPT": "代为保管",
    "TO_FAMILY": "交家属",
    "TO_CASE_UNIT": "移交办案单位",
    "CONFISCATED": "没收（违禁品）",
}
PHOTO_TYPES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
PHOTO_MAX_BYTES = 8 * 1024 * 1024


def _text(data: Mapping[str, Any], key: str, label: str, *, required: bool = True) -> str:
    value = str(data.get(key) or "").strip()
    if required and not value:
        raise DomainError("REQUIRED", f"请填写{label}", field=key)
    return value


def _flag(data: Mapping[str, Any], key: str) -> bool:
    return data.get(key) in (True, "1", "on", "true", "yes")


def _moment(data: Mapping[str, Any], key: str, label: str) -> dt.datetime:
    raw = _text(data, key, label)
    value = parse_datetime(raw) if "T" in raw or " " in raw else None
    if value is None:
        raise DomainError("BAD_DATETIME", f"{label}格式应为 年-月-日 时:分", field=key)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now() + dt.timedelta(minutes=5):
        raise DomainError("FUTURE_EVENT", f"{label}不能晚于当前时间", field=key)
    return value


def _open(admission: Admission) -> Admission:
    locked = Admission.objects.select_for_update().select_related("unit").get(id=admission.id)
    if locked.status != AdmissionStatus.DRAFT:
        raise DomainError(
            "ADMISSION_CLOSED", f"该收押登记已{AdmissionStatus(locked.status).label}，不能再修改"
        )
    return locked


@transaction.atomic
def admission_start(*, actor: Actor, unit: Any) -> Admission:
    if not unit.facility_kind:
        raise DomainError("NOT_A_FACILITY", f"{unit.name}不是监管场所，不能收押")
    now = timezone.now()
    admission = Admission.objects.create(
        unit=unit, started_at=now, updated_at=now, started_by=actor.username
    )
    change_record(
        actor=actor,
        type="custody.admission_started",
        aggregate_type="admission",
        aggregate_id=admission.id,
        unit_code=unit.code,
        payload={"by": actor.username},
    )
    return admission


# --- step validation ------------------------------------------------------------------------


def _clean_person(unit: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    name = _text(data, "name", "姓名")
    id_type = _text(data, "id_type", "证件类型")
    require_code(table="ID_DOCUMENT_TYPE", code=id_type, field="id_type")
    id_number = _text(data, "id_number", "证件号码", required=id_type == RESIDENT_ID).upper()
    gender = _text(data, "gender", "性别")
    require_code(table="GENDER", code=gender, field="gender")
    birth = parse_date(str(data.get("birth_date") or ""))
    if id_type == RESIDENT_ID:
        parsed = resident_id_parse(id_number)
        id_number = parsed.number
        if birth and birth != parsed.birth_date:
            raise DomainError("ID_MISMATCH", "出生日期与身份证号码不一致", field="birth_date")
        if gender != parsed.gender_code:
            raise DomainError("ID_MISMATCH", "性别与身份证号码不一致", field="gender")
        birth = parsed.birth_date
    if birth is None:
        raise DomainError("REQUIRED", "请填写出生日期", field="birth_date")
    nationality = _text(data, "nationality", "国籍").upper()
    ethnicity = _text(data, "ethnicity", "民族", required=nationality == "CHN")
    if ethnicity:
        require_code(table="ETHNICITY", code=ethnicity, field="ethnicity")
    measure = require_code(
        table="LEGAL_MEASURE", code=_text(data, "legal_measure", "法律措施"), field="legal_measure"
    )
    if unit.facility_kind not in measure.extra.get("facility_kinds", []):
        raise DomainError(
            "MEASURE_NOT_FOR_FACILITY",
            f"「{measure.name}」不在{unit.get_facility_kind_display()}执行（{measure.extra.get('basis', '')}）",
            field="legal_measure",
        )
    case_nature = _text(data, "case_nature", "案件性质")
    require_code(table="CASE_NATURE", code=case_nature, field="case_nature")
    document_kind = _text(data, "document_kind", "收押法律文书")
    if document_kind not in DOCUMENT_KINDS:
        raise DomainError("UNKNOWN_DOCUMENT", "请选择收押法律文书种类", field="document_kind")
    days = str(data.get("days") or "").strip()
    if days and (not days.isdigit() or int(days) < 1):
        raise DomainError("BAD_NUMBER", "拘留天数应为正整数", field="days")
    return {
        "name": name,
        "gender": gender,
        "birth_date": birth.isoformat(),
        "ethnicity": ethnicity,
        "nationality": nationality,
        "id_type": id_type,
        "id_number": id_number,
        "legal_measure": measure.code,
        "case_nature": case_nature,
        "case_unit": _text(data, "case_unit", "办案单位"),
        "case_number": _text(data, "case_number", "案件编号", required=False),
        "document_kind": document_kind,
        "document_number": _text(data, "document_number", "文书编号"),
        "document_issued_by": _text(data, "document_issued_by", "出具文书的机关"),
        "document_name": _text(data, "document_name", "文书上载明的姓名"),
        "document_id_number": _text(
            data, "document_id_number", "文书上载明的证件号码", required=False
        ).upper(),
        "executed_at": _moment(data, "executed_at", "执行（决定）时间").isoformat(),
        "days": int(days) if days else None,
        "credit_days": int(str(data.get("credit_days") or "0") or 0),
        "first_offence_minor": _flag(data, "first_offence_minor"),
        "serious_circumstances": _flag(data, "serious_circumstances"),
    }


def _clean_health(data: Mapping[str, Any], person: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {k: _text(data, k, label) for k, label in HEALTH_ITEMS.items()}
    clean |= {k: _text(data, k, label) for k, label in INTERVIEW_ITEMS.items()}
    clean |= {k: _flag(data, k) for k in HEALTH_FLAGS}
    if person.get("gender") == "1" and (clean["pregnant"] or clean["nursing_infant_under_1"]):
        raise DomainError("BAD_FLAG", "男性不适用怀孕、哺乳项目", field="pregnant")
    clean["doctor"] = _text(data, "doctor", "检查医生")
    clean["injuries"] = _text(data, "injuries", "体表伤情", required=False)
    if clean["injuries"]:
        # 人民检察院刑事诉讼规则第六百五十六条: injuries are photographed and the record is
        # signed by the escorting officer, the admitting officer and the person.
        clean["escort_officer"] = _text(data, "escort_officer", "送押民警签名")
        clean["admitting_officer"] = _text(data, "admitting_officer", "收押民警签名")
        if not _flag(data, "detainee_signed"):
            raise DomainError(
                "SIGNATURE_REQUIRED", "体表有伤情的，须由被收押人签名确认", field="detainee_signed"
            )
        clean["detainee_signed"] = True
    clean["head_approval_by"] = _text(data, "head_approval_by", "批准领导", required=False)
    clean["head_approval_document"] = _text(
        data, "head_approval_document", "书面批准文号", required=False
    )
    if bool(clean["head_approval_by"]) != bool(clean["head_approval_document"]):
        raise DomainError(
            "APPROVAL_INCOMPLETE",
            "领导书面批准须同时填写批准人和批准文号",
            field="head_approval_by",
        )
    return clean


def _clean_search(unit: Any, data: Mapping[str, Any], person: Mapping[str, Any]) -> dict[str, Any]:
    ids = data.get("searchers") or []
    if isinstance(ids, str):
        ids = [ids]
    searchers = [user_by_id_in_unit(unit, str(i)) for i in ids if str(i).strip()]
    if not searchers or None in searchers:
        raise DomainError("REQUIRED", "请选择本所的检查民警", field="searchers")
    if person.get("gender") == "2" and any(u.gender != "2" for u in searchers if u):
        # 看守所条例第十一条；公安机关办理刑事案件程序规定第一百五十五条
        raise DomainError(
            "FEMALE_SEARCHER_REQUIRED",
            "检查女性被收押人的身体，应当由女工作人员进行（看守所条例第十一条）",
            field="searchers",
        )
    return {
        "searchers": [{"id": str(u.id), "name": str(u)} for u in searchers if u],
        "findings": _text(data, "findings", "检查情况"),
        "contraband": _text(data, "contraband", "违禁品", required=False),
        "evidence": _text(data, "evidence", "涉案物品", required=False),
    }


def _clean_belongings(data: Mapping[str, Any]) -> dict[str, Any]:
    items = data.get("items") or []
    none_declared = _flag(data, "none_declared")
    if not items and not none_declared:
        raise DomainError(
            "REQUIRED", "请逐件登记随身物品；没有物品的请勾选「无随身物品」", field="items"
        )
    clean = []
    for i, item in enumerate(items, 1):
        name = str(item.get("name") or "").strip()
        if not name:
            raise DomainError("REQUIRED", f"第{i}件物品缺少名称", field="items")
        raw = item.get("quantity")
        quantity = "1" if raw is None or raw == "" else str(raw).strip()  # 0 is not "missing"
        if not quantity.isdigit() or int(quantity) < 1:
            raise DomainError("BAD_NUMBER", f"第{i}件物品「{name}」的数量应为正整数", field="items")
        disposition = str(item.get("disposition") or "KEPT")
        if disposition not in DISPOSITIONS:
            raise DomainError("BAD_CHOICE", f"第{i}件物品的处理方式无效", field="items")
        clean.append(
            {
                "name": name,
                "quantity": int(quantity),
                "note": str(item.get("note") or "").strip(),
                "disposition": disposition,
            }
        )
    return {"items": clean, "none_declared": none_declared and not clean}


@transaction.atomic
def admission_save_step(
    *, actor: Actor, admission: Admission, step: str, data: Mapping[str, Any]
) -> Admission:
    """Validate and keep one step's answers. A refused step changes nothing."""
    locked = _open(admission)
    if step not in STEPS or step == "photo":
        raise DomainError("UNKNOWN_STEP", f"未知的步骤：{step}")
    person = locked.steps.get("person")
    if step != "person" and not person:
        raise DomainError("STEP_ORDER", "请先登记人员信息与法律文书")
    if step == "person":
        clean = _clean_person(locked.unit, data)
    elif step == "health":
        clean = _clean_health(data, person)
    elif step == "search":
        clean = _clean_search(locked.unit, data, person)
    else:
        clean = _clean_belongings(data)
    locked.steps = {**locked.steps, step: clean}
    locked.findings = [_finding_json(f) for f in _assess(locked)]
    locked.updated_at = timezone.now()
    locked.save(update_fields=["steps", "findings", "updated_at"])
    change_record(
        actor=actor,
        type="custody.admission_step_saved",
        aggregate_type="admission",
        aggregate_id=locked.id,
        unit_code=locked.unit.code,
        payload={"step": step, "label": STEPS[step], "name": locked.steps["person"]["name"]},
    )
    return locked


def _sniff(upload: UploadedFile) -> tuple[bytes, str]:
    if upload.size and upload.size > PHOTO_MAX_BYTES:
        raise DomainError("FILE_TOO_LARGE", "照片不能超过 8 MB", field="photo")
    body = upload.read(PHOTO_MAX_BYTES + 1)
    if len(body) > PHOTO_MAX_BYTES:
        raise DomainError("FILE_TOO_LARGE", "照片不能超过 8 MB", field="photo")
    for content_type, magic in PHOTO_TYPES.items():
        if body.startswith(magic):
            return body, content_type
    raise DomainError("NOT_A_PHOTO", "只接受 JPEG 或 PNG 格式的照片", field="photo")


@transaction.atomic
def admission_add_photo(
    *, actor: Actor, admission: Admission, upload: UploadedFile, purpose: str = "PHOTO"
) -> AdmissionFile:
    """Keep the person's photo (purpose PHOTO) or a photo of an injury (INJURY)."""
    locked = _open(admission)
    if purpose not in ("PHOTO", "INJURY"):
        raise DomainError("BAD_CHOICE", "照片用途无效", field="purpose")
    body, content_type = _sniff(upload)
    digest = hashlib.sha256(body).hexdigest()
    ext = ".jpg" if content_type == "image/jpeg" else ".png"
    record = AdmissionFile(
        admission=locked,
        purpose=purpose,
        content_type=content_type,
        sha256=digest,
        uploaded_at=timezone.now(),
        uploaded_by=actor.username,
    )
    record.file.save(
        f"{locked.id}-{purpose.lower()}-{digest[:12]}{ext}", ContentFile(body), save=False
    )
    record.save()
    if purpose == "PHOTO":
        locked.steps = {**locked.steps, "photo": {"file": str(record.id), "sha256": digest}}
        locked.updated_at = timezone.now()
        locked.save(update_fields=["steps", "updated_at"])
    change_record(
        actor=actor,
        type="custody.admission_photo_added",
        aggregate_type="admission",
        aggregate_id=locked.id,
        unit_code=locked.unit.code,
        payload={"purpose": purpose, "sha256": digest},
    )
    return record


# --- review, refusal and completion ---------------------------------------------------------


def _assess(admission: Admission) -> list[AdmissionFinding]:
    person = admission.steps.get("person") or {}
    health = admission.steps.get("health") or {}
    birth = parse_date(person.get("birth_date") or "")
    facts = AdmissionFacts(
        facility_kind=admission.unit.facility_kind,
        legal_measure=person.get("legal_measure", ""),
        gender=person.get("gender", ""),
        birth_date=birth,
        today=timezone.localdate(),
        pregnant=bool(health.get("pregnant")),
        nursing_infant_under_1=bool(health.get("nursing_infant_under_1")),
        psychosis=bool(health.get("psychosis")),
        acute_infectious=bool(health.get("acute_infectious")),
        serious_illness=bool(health.get("serious_illness")),
        first_offence_minor=bool(person.get("first_offence_minor")),
        serious_circumstances=bool(person.get("serious_circumstances")),
        head_written_approval=bool(health.get("head_approval_document")),
        document_kind=person.get("document_kind", ""),
        document_matches_person=_document_matches(person),
    )
    return assess(facts, pack_for("admission", admission.unit.path).pack)


def _document_matches(person: Mapping[str, Any]) -> bool:
    """看守所条例第九条: the papers must name this person."""
    if not person:
        return True
    if person.get("document_name") != person.get("name"):
        return False
    on_document = person.get("document_id_number")
    return not on_document or on_document == person.get("id_number")


def _finding_json(f: AdmissionFinding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "label": f.label,
        "article": f.article,
        "outcome": f.outcome,
        "reason": f.reason,
        "satisfied_by_approval": f.satisfied_by_approval,
    }


def steps_missing(admission: Admission) -> list[str]:
    return [label for step, label in STEPS.items() if step not in admission.steps]


@transaction.atomic
def admission_refuse(*, actor: Actor, admission: Admission, reason: str) -> Admission:
    """不予收押: closes the admission; the deciding organ is to be told why."""
    locked = _open(admission)
    if not reason.strip():
        raise DomainError("REQUIRED", "请写明不予收押的理由", field="reason")
    locked.status = AdmissionStatus.REFUSED
    locked.refused_reason = reason.strip()
    locked.updated_at = timezone.now()
    locked.save(update_fields=["status", "refused_reason", "updated_at"])
    person = locked.steps.get("person") or {}
    change_record(
        actor=actor,
        type="custody.admission_refused",
        aggregate_type="admission",
        aggregate_id=locked.id,
        unit_code=locked.unit.code,
        payload={
            "name": person.get("name", ""),
            "case_unit": person.get("case_unit", ""),
            "reason": locked.refused_reason,
            "findings": locked.findings,
        },
    )
    return locked


def _next_number(unit: Any, year: int) -> str:
    seq, _ = NumberSequence.objects.select_for_update().get_or_create(unit=unit, year=year)
    NumberSequence.objects.filter(id=seq.id).update(last=F("last") + 1)
    seq.refresh_from_db(fields=["last"])
    return f"{unit.code}{year}{seq.last:05d}"


@transaction.atomic
def admission_complete(*, actor: Actor, admission: Admission) -> Detainee:
    """收押: create the person's record, number, first legal event and clocks — all or nothing."""
    locked = _open(admission)
    missing = steps_missing(locked)
    if missing:
        raise DomainError("STEPS_MISSING", f"还有步骤未完成：{'、'.join(missing)}")
    findings = _assess(locked)
    if not may_admit(findings):
        blocking = "；".join(
            f"{f.reason}（{f.article}）"
            for f in findings
            if f.outcome == "REFUSE" or (f.outcome == "APPROVAL" and not f.satisfied_by_approval)
        )
        raise DomainError("ADMISSION_NOT_ALLOWED", f"不能收押：{blocking}")
    p = locked.steps["person"]
    now = timezone.now()
    detainee = Detainee.objects.create(
        unit=locked.unit,
        number=_next_number(locked.unit, timezone.localdate(now).year),
        name=p["name"],
        gender=p["gender"],
        ethnicity=p["ethnicity"],
        birth_date=parse_date(p["birth_date"]),
        id_type=p["id_type"],
        id_number=p["id_number"],
        nationality=p["nationality"],
        case_nature=p["case_nature"],
        legal_measure=p["legal_measure"],
        litigation_stage=INITIAL_STAGE.get(p["legal_measure"], "99"),
        case_unit=p["case_unit"],
        case_number=p["case_number"],
        status=DetaineeStatus.IN_CUSTODY,
        admitted_at=now,
    )
    fact = initial_fact(p)
    if fact:
        kind, params = fact
        legal_event_record(
            actor=actor,
            detainee=detainee,
            kind=kind,
            at=dt.datetime.fromisoformat(p["executed_at"]),
            params=params,
            document_kind=DOCUMENT_KINDS.get(p["document_kind"], p["document_kind"]),
            document_number=p["document_number"],
            issued_by=p["document_issued_by"],
        )
    else:
        deadlines_recompute(detainee)
    locked.status = AdmissionStatus.COMPLETED
    locked.detainee = detainee
    locked.findings = [_finding_json(f) for f in findings]
    locked.updated_at = now
    locked.save(update_fields=["status", "detainee", "findings", "updated_at"])
    change_record(
        actor=actor,
        type="custody.admitted",
        aggregate_type="detainee",
        aggregate_id=detainee.id,
        unit_code=locked.unit.code,
        payload={
            "admission": str(locked.id),
            "name": detainee.name,
            "number": detainee.number,
            "legal_measure": detainee.legal_measure,
            "case_unit": detainee.case_unit,
            "approvals": [f.rule for f in findings if f.satisfied_by_approval],
        },
    )
    return detainee


# The stage a measure starts in (LITIGATION_STAGE codes).
INITIAL_STAGE = {
    "10": "11",
    "20": "12",
    "30": "50",
    "31": "50",
    "40": "60",
    "41": "61",
    "50": "70",
    "60": "99",
    "61": "99",
}


def initial_fact(person: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The legal event the admission document records, which starts the person's clocks."""
    measure = person["legal_measure"]
    days = person.get("days")
    if measure == "10":
        return "DETENTION_EXECUTED", {}
    if measure == "20":
        return "ARREST_EXECUTED", {}
    if measure == "40":
        return "ADMIN_DETENTION_EXECUTED", {
            "days": days or 15,
            "credit_days": person.get("credit_days", 0),
        }
    if measure == "41":
        return "JUDICIAL_DETENTION_EXECUTED", {"days": days or 15}
    if measure == "50":
        return "DRUG_REHAB_DECIDED", {}
    if measure == "60":
        return "IMMIGRATION_DETENTION", {}
    return None
