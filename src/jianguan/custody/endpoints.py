"""HTTP endpoints of custody: people, admission, legal events and clocks, placement, movements,
提讯, the deadline board, notices and placement overrides.

Thin: each endpoint checks the permission, fetches objects through a scoped accessor (foreign
and missing ids both answer 404) and calls one service; services raise DomainError, which the
site turns into {"code", "message", "field"}.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from ninja import Body, File, Form, Query, Router, Schema, Status, UploadedFile

from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError
from jianguan.core.http import client_address
from jianguan.custody.api import (
    FACT_KINDS,
    STEPS,
    Admission,
    Deadline,
    DeadlineNotice,
    Detainee,
    Interrogation,
    LegalEvent,
    Movement,
    MovementKind,
    PlacementOverride,
    access_admission,
    access_detainee,
    access_interrogation,
    access_notice,
    access_override,
    admission_add_photo,
    admission_complete,
    admission_refuse,
    admission_save_step,
    admission_start,
    admissions_open,
    audit_list_read,
    cell_assign,
    cell_verdicts,
    deadline_board,
    deadlines_of,
    detainee_rows,
    detainee_search,
    interrogation_end,
    interrogation_request,
    legal_event_record,
    legal_events_of,
    movement_record,
    movements_of,
    notice_handle,
    notices_open,
    override_review,
    overrides_in,
    roll_by_cell,
    steps_missing,
    unplaced,
    urgency,
)
from jianguan.custody.schemas import (
    AdmissionFileOut,
    AdmissionOut,
    AdmissionRefuseIn,
    AdmissionStartIn,
    AdmissionSummaryOut,
    BoardFilter,
    BoardPage,
    CellAssignIn,
    CellVerdictsOut,
    DeadlineOut,
    DetaineeDetailOut,
    DetaineePage,
    InterrogationIn,
    InterrogationOut,
    LegalEventIn,
    LegalEventOut,
    MovementIn,
    MovementOut,
    NoticeHandleIn,
    NoticeOut,
    OverrideOut,
    OverrideReviewIn,
    PlacementOut,
    RollOut,
)
from jianguan.org.api import Perm, access_unit, actor_for, require_perm, scope_unit_ids

# Mounted at /detainees: the people and everything about one person.
router = Router(tags=["在押人员"])
# Mounted at /custody: admissions and the facility-wide views (board, roll, notices, overrides).
custody_router = Router(tags=["收押与羁押期限"])
# Mounted at /interrogations.
interrogation_router = Router(tags=["提讯"])


class ListFilter(Schema):
    status: str | None = None
    unit_id: uuid.UUID | None = None
    q: str = ""
    page: int = 1
    page_size: int = 50


def _actor(request: HttpRequest) -> Actor:
    return actor_for(request.user, address=client_address(request))  # type: ignore[arg-type]


def _person(request: HttpRequest, detainee_id: str) -> Detainee:
    return access_detainee(user=request.user, actor=_actor(request), id=detainee_id)


def _aware(when: dt.datetime | None) -> dt.datetime | None:
    """A time without an offset is local (Asia/Shanghai) time, as an officer types it."""
    if when is not None and timezone.is_naive(when):
        return timezone.make_aware(when)
    return when


def _audit_shown(
    request: HttpRequest, view: str, ids: list[uuid.UUID], filters: Schema | None = None
) -> None:
    """Record whose records a list showed (DESIGN.md §4: reads of personal data)."""
    query = {"view": view, **(filters.model_dump(mode="json") if filters else {})}
    audit_list_read(actor=_actor(request), ids=ids, query=query)


def _paging(page: int, page_size: int) -> tuple[int, int]:
    return max(1, page), max(1, min(page_size, 200))


def _row(d: Detainee) -> dict[str, Any]:
    return {
        **{f: getattr(d, f) for f in DetaineeDetailOut.model_fields if hasattr(d, f)},
        "cell_number": d.cell.number if d.cell else None,
    }


# --- people ----------------------------------------------------------------------------------


@router.get("", response=DetaineePage, summary="在押人员列表（分页）")
def detainee_list(request: HttpRequest, filters: Query[ListFilter]) -> HttpResponse:
    page, page_size = _paging(filters.page, filters.page_size)
    qs = detainee_search(
        user=request.user, status=filters.status, unit_id=filters.unit_id, text=filters.q
    )
    count = qs.count()
    rows = detainee_rows(qs, offset=(page - 1) * page_size, limit=page_size)
    audit_list_read(
        actor=_actor(request), ids=[r["id"] for r in rows], query=filters.model_dump(mode="json")
    )
    # The rows come typed from the database in DetaineePage's shape (tests hold it to the
    # schema); serialising them directly skips a per-field validation pass.
    body = {"count": count, "page": page, "page_size": page_size, "items": rows}
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})


@router.get("/{detainee_id}", response=DetaineeDetailOut, summary="在押人员档案（查看留痕）")
def detainee_detail(request: HttpRequest, detainee_id: str) -> dict[str, Any]:
    return _row(_person(request, detainee_id))


# --- placement -------------------------------------------------------------------------------


@router.get("/{detainee_id}/cells", response=CellVerdictsOut, summary="可安排监室（分押分管审查）")
def detainee_cells(request: HttpRequest, detainee_id: str) -> dict[str, Any]:
    require_perm(request.user, Perm.CELL_VIEW)
    verdicts, live = cell_verdicts(_person(request, detainee_id))
    return {
        "pack_version": live.version,
        "cells": [
            {
                "cell_id": v.cell.id,
                "number": v.cell.number,
                "area": v.cell.area,
                "kind": v.cell.kind,
                "gender": v.cell.gender,
                "capacity": v.cell.capacity,
                "occupants": len(v.cell.occupants),
                "free_places": v.free_places,
                "allowed": v.allowed,
                "findings": v.findings,
            }
            for v in verdicts
        ],
    }


@router.post("/{detainee_id}/cell", response=PlacementOut, summary="安排或调整监室")
def detainee_cell_assign(
    request: HttpRequest, detainee_id: str, payload: CellAssignIn
) -> dict[str, Any]:
    require_perm(request.user, Perm.CELL_ASSIGN)
    placed = cell_assign(
        actor=_actor(request),
        detainee=_person(request, detainee_id),
        cell_id=payload.cell_id,
        override_reason=payload.override_reason,
    )
    assert placed.cell is not None
    return {"detainee_id": placed.id, "cell_id": placed.cell.id, "cell_number": placed.cell.number}


# --- legal events and clocks -----------------------------------------------------------------


def _deadline(d: Deadline, now: dt.datetime) -> dict[str, Any]:
    key, label = urgency(d.expires_at, now) if d.state != "ENDED" else ("ended", "已结束")
    fields = {f: getattr(d, f) for f in DeadlineOut.model_fields if hasattr(d, f)}
    return fields | {"urgency": key, "urgency_label": label}


def _event(e: LegalEvent) -> dict[str, Any]:
    return {
        **{f: getattr(e, f) for f in LegalEventOut.model_fields if hasattr(e, f)},
        "label": FACT_KINDS.get(e.kind, e.kind),
    }


@router.get("/{detainee_id}/deadlines", response=list[DeadlineOut], summary="羁押期限")
def detainee_deadlines(request: HttpRequest, detainee_id: str) -> list[dict[str, Any]]:
    now = timezone.now()
    return [_deadline(d, now) for d in deadlines_of(_person(request, detainee_id))]


@router.get("/{detainee_id}/legal-events", response=list[LegalEventOut], summary="法律文书登记")
def detainee_legal_events(request: HttpRequest, detainee_id: str) -> list[dict[str, Any]]:
    return [_event(e) for e in legal_events_of(_person(request, detainee_id))]


@router.post(
    "/{detainee_id}/legal-events",
    response={201: LegalEventOut},
    summary="登记法律文书（延长、变更、换押、判决……），重算羁押期限",
)
def detainee_legal_event_new(request: HttpRequest, detainee_id: str, payload: LegalEventIn) -> Any:
    require_perm(request.user, Perm.LEGAL_RECORD)
    event = legal_event_record(
        actor=_actor(request),
        detainee=_person(request, detainee_id),
        kind=payload.kind,
        at=_aware(payload.at),  # type: ignore[arg-type]
        approval=payload.approval,
        params=payload.params,
        document_kind=payload.document_kind,
        document_number=payload.document_number,
        issued_by=payload.issued_by,
        note=payload.note,
    )
    return Status(201, _event(event))


# --- movements and 提讯 ----------------------------------------------------------------------

# Leaving for good needs the release permission; going out and coming back the movement one.
_DEPARTURES = {MovementKind.RELEASE, MovementKind.TRANSFER, MovementKind.DELIVER}


def _movement(m: Movement) -> dict[str, Any]:
    return {
        **{f: getattr(m, f) for f in MovementOut.model_fields if hasattr(m, f)},
        "label": MovementKind(m.kind).label,
        "from_cell_number": m.from_cell.number if m.from_cell else None,
        "to_cell_number": m.to_cell.number if m.to_cell else None,
    }


@router.get("/{detainee_id}/movements", response=list[MovementOut], summary="出入所与调监记录")
def detainee_movements(request: HttpRequest, detainee_id: str) -> list[dict[str, Any]]:
    return [_movement(m) for m in movements_of(_person(request, detainee_id))]


@router.post(
    "/{detainee_id}/movements",
    response={201: MovementOut},
    summary="出入所登记（提解、就医、回所、释放、转所、交付执行）",
)
def detainee_movement_new(request: HttpRequest, detainee_id: str, payload: MovementIn) -> Any:
    departure = payload.kind in _DEPARTURES
    require_perm(request.user, Perm.DETAINEE_RELEASE if departure else Perm.DETAINEE_MOVE)
    movement = movement_record(
        actor=_actor(request),
        detainee=_person(request, detainee_id),
        kind=payload.kind,
        at=_aware(payload.at),
        document_number=payload.document_number,
        destination=payload.destination,
        escort=payload.escort,
        reason=payload.reason,
    )
    return Status(201, _movement(movement))


@router.post(
    "/{detainee_id}/interrogations",
    response={201: InterrogationOut},
    summary="提讯登记（期限届满后原提讯证无效，拒绝并留痕）",
)
def detainee_interrogation_new(
    request: HttpRequest, detainee_id: str, payload: InterrogationIn
) -> Any:
    require_perm(request.user, Perm.INTERROGATION)
    record = interrogation_request(
        actor=_actor(request),
        detainee=_person(request, detainee_id),
        warrant_number=payload.warrant_number,
        case_unit=payload.case_unit,
        officers=payload.officers,
        at=_aware(payload.at),
    )
    return Status(201, record)


@interrogation_router.post("/{interrogation_id}/end", response=InterrogationOut, summary="提讯结束")
def interrogation_finish(request: HttpRequest, interrogation_id: str) -> Interrogation:
    require_perm(request.user, Perm.INTERROGATION)
    record = access_interrogation(user=request.user, id=interrogation_id)
    return interrogation_end(actor=_actor(request), interrogation=record)


# --- admission (收押) ------------------------------------------------------------------------


def _summary(a: Admission) -> dict[str, Any]:
    return {
        "id": a.id,
        "unit_id": a.unit_id,
        "status": a.status,
        "started_at": a.started_at,
        "started_by": a.started_by,
        "updated_at": a.updated_at,
        "name": (a.steps.get("person") or {}).get("name", ""),
        "steps_done": [s for s in STEPS if s in a.steps],
        "missing_steps": steps_missing(a),
    }


def _admission(a: Admission) -> dict[str, Any]:
    return _summary(a) | {
        "steps": a.steps,
        "findings": a.findings,
        "refused_reason": a.refused_reason,
        "detainee_id": a.detainee_id,
        "files": list(a.files.order_by("uploaded_at")),
    }


def _draft(request: HttpRequest, admission_id: str) -> Admission:
    require_perm(request.user, Perm.DETAINEE_ADMIT)
    return access_admission(user=request.user, id=admission_id)


@custody_router.post("/admissions", response={201: AdmissionOut}, summary="开始收押登记")
def admission_new(request: HttpRequest, payload: AdmissionStartIn) -> Any:
    require_perm(request.user, Perm.DETAINEE_ADMIT)
    unit = access_unit(user=request.user, id=payload.unit_id)  # type: ignore[arg-type]
    admission = admission_start(actor=_actor(request), unit=unit)
    return Status(201, _admission(admission))


@custody_router.get("/admissions", response=list[AdmissionSummaryOut], summary="办理中的收押登记")
def admission_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_summary(a) for a in admissions_open(request.user)[:200]]


@custody_router.get("/admissions/{admission_id}", response=AdmissionOut, summary="收押登记详情")
def admission_detail(request: HttpRequest, admission_id: str) -> dict[str, Any]:
    return _admission(access_admission(user=request.user, id=admission_id))


@custody_router.put(
    "/admissions/{admission_id}/steps/{step}",
    response=AdmissionOut,
    summary="保存收押步骤（person、health、search、belongings）",
)
def admission_step(
    request: HttpRequest, admission_id: str, step: str, data: Body[dict[str, Any]]
) -> dict[str, Any]:
    admission = _draft(request, admission_id)
    saved = admission_save_step(actor=_actor(request), admission=admission, step=step, data=data)
    return _admission(saved)


@custody_router.post(
    "/admissions/{admission_id}/photo",
    response={201: AdmissionFileOut},
    summary="上传照片（PHOTO 人像，INJURY 伤情；JPEG/PNG，不超过 8 MB）",
)
def admission_photo(
    request: HttpRequest,
    admission_id: str,
    photo: File[UploadedFile],
    purpose: Form[str] = "PHOTO",
) -> Any:
    admission = _draft(request, admission_id)
    record = admission_add_photo(
        actor=_actor(request), admission=admission, upload=photo, purpose=purpose
    )
    return Status(201, record)


@custody_router.post(
    "/admissions/{admission_id}/complete",
    response={201: DetaineeDetailOut},
    summary="完成收押：建立在押人员档案、编号与羁押期限",
)
def admission_finish(request: HttpRequest, admission_id: str) -> Any:
    admission = _draft(request, admission_id)
    detainee = admission_complete(actor=_actor(request), admission=admission)
    return Status(201, _row(detainee))


@custody_router.post("/admissions/{admission_id}/refuse", response=AdmissionOut, summary="不予收押")
def admission_refusal(
    request: HttpRequest, admission_id: str, payload: AdmissionRefuseIn
) -> dict[str, Any]:
    admission = _draft(request, admission_id)
    refused = admission_refuse(actor=_actor(request), admission=admission, reason=payload.reason)
    return _admission(refused)


# --- board, roll, notices, overrides ---------------------------------------------------------


@custody_router.get("/deadline-board", response=BoardPage, summary="羁押期限看板（临近届满在前）")
def board(request: HttpRequest, filters: Query[BoardFilter]) -> dict[str, Any]:
    page, page_size = _paging(filters.page, filters.page_size)
    qs = deadline_board(user=request.user, case_unit=filters.case_unit, clock=filters.clock)
    count = qs.count()
    rows = list(qs[(page - 1) * page_size : page * page_size])
    now = timezone.now()
    items = []
    for d in rows:
        key, label = urgency(d.expires_at, now)
        items.append(
            {
                "detainee_id": d.detainee_id,
                "unit_id": d.unit_id,
                "number": d.detainee.number,
                "name": d.detainee.name,
                "case_unit": d.detainee.case_unit,
                "litigation_stage": d.detainee.litigation_stage,
                "clock": d.clock,
                "label": d.label,
                "article": d.article,
                "expires_at": d.expires_at,
                "precision": d.precision,
                "state": d.state,
                "urgency": key,
                "urgency_label": label,
            }
        )
    _audit_shown(request, "deadline-board", [d.detainee_id for d in rows], filters)
    return {"count": count, "page": page, "page_size": page_size, "items": items}


@custody_router.get("/roll/{unit_id}", response=RollOut, summary="监室在押数（点名表）")
def cell_roll(request: HttpRequest, unit_id: str) -> dict[str, Any]:
    require_perm(request.user, Perm.CELL_VIEW)
    unit = access_unit(user=request.user, id=unit_id)  # type: ignore[arg-type]
    if not unit.facility_kind:
        raise DomainError("NOT_A_FACILITY", f"{unit.name}不是监管场所，没有监室", field="unit_id")
    return {"unit_id": unit.id, "unplaced": unplaced(unit.id), "cells": roll_by_cell(unit.id)}


def _notice(n: DeadlineNotice) -> dict[str, Any]:
    return {
        **{f: getattr(n, f) for f in NoticeOut.model_fields if hasattr(n, f)},
        "detainee_name": n.detainee.name,
        "detainee_number": n.detainee.number,
    }


@custody_router.get("/notices", response=list[NoticeOut], summary="待处理的期限通知与超期警示")
def notice_list(request: HttpRequest) -> list[dict[str, Any]]:
    require_perm(request.user, Perm.DETAINEE_VIEW)
    rows = list(notices_open(scope_unit_ids(request.user))[:500])  # type: ignore[arg-type]
    _audit_shown(request, "notices", [n.detainee_id for n in rows])
    return [_notice(n) for n in rows]


@custody_router.post(
    "/notices/{notice_id}/handle", response=NoticeOut, summary="登记通知送达或超期处理情况"
)
def notice_handled(request: HttpRequest, notice_id: str, payload: NoticeHandleIn) -> dict[str, Any]:
    require_perm(request.user, Perm.LEGAL_RECORD)
    notice = access_notice(user=request.user, id=notice_id)
    return _notice(notice_handle(actor=_actor(request), notice=notice, note=payload.note))


def _override(o: PlacementOverride) -> dict[str, Any]:
    return {
        **{f: getattr(o, f) for f in OverrideOut.model_fields if hasattr(o, f)},
        "detainee_name": o.detainee.name,
        "detainee_number": o.detainee.number,
        "cell_number": o.cell.number,
    }


@custody_router.get(
    "/overrides", response=list[OverrideOut], summary="待审核的分押规则越过记录（所领导）"
)
def override_list(request: HttpRequest) -> list[dict[str, Any]]:
    require_perm(request.user, Perm.DETAINEE_VIEW)
    rows = list(overrides_in(scope_unit_ids(request.user))[:500])  # type: ignore[arg-type]
    _audit_shown(request, "overrides", [o.detainee_id for o in rows])
    return [_override(o) for o in rows]


@custody_router.post(
    "/overrides/{override_id}/review", response=OverrideOut, summary="所领导审核越过记录"
)
def override_decide(
    request: HttpRequest, override_id: str, payload: OverrideReviewIn
) -> dict[str, Any]:
    require_perm(request.user, Perm.LEAD)
    override = access_override(user=request.user, id=override_id)
    reviewed = override_review(
        actor=_actor(request), override=override, approve=payload.approve, note=payload.note
    )
    return _override(reviewed)
