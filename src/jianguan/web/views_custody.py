"""Custody pages: 收押, cell placement, the person's record (clocks, legal events, movements,
提讯), the deadline board, the roll, deadline notices and the leader's review of overrides.

Thin: a view reads through a selector and writes through a service. A refused write renders
the same form again with everything that was typed and the service's message beside the field
it names, so an officer on shift never types anything twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from jianguan.audit.api import audit_record
from jianguan.codes.api import code_names, codes_of
from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError, NotFound
from jianguan.core.http import client_address
from jianguan.custody.api import (
    APPROVAL_LEVELS,
    DISPOSITIONS,
    DOCUMENT_KINDS,
    FACT_KINDS,
    HEALTH_FLAGS,
    HEALTH_ITEMS,
    HELD_STATUSES,
    INTERVIEW_ITEMS,
    STEPS,
    Admission,
    AdmissionStatus,
    Deadline,
    Detainee,
    DetaineeStatus,
    MovementKind,
    NoticeKind,
    access_admission,
    access_detainee,
    access_notice,
    access_override,
    admission_add_photo,
    admission_complete,
    admission_refuse,
    admission_save_step,
    admission_start,
    admissions_open,
    audit_list_read,
    case_units_in_scope,
    cell_assign,
    cell_verdicts,
    deadline_board,
    deadlines_of,
    detainee_search,
    detainees_visible,
    interrogation_end,
    interrogation_request,
    interrogations_running,
    legal_event_record,
    legal_events_of,
    movement_record,
    movements_of,
    notice_handle,
    notices_open,
    override_review,
    overrides_in,
    roll,
    roll_by_cell,
    steps_missing,
    unplaced,
    urgency,
)
from jianguan.housing.api import CellKind
from jianguan.org.api import (
    Perm,
    UnitLevel,
    access_unit,
    actor_for,
    has_perm,
    require_perm,
    scope_unit_ids,
    units_facilities,
    users_of_unit,
)

PAGE_SIZE = 50
BLANK_ITEM_ROWS = 3


def _actor(request: HttpRequest) -> Actor:
    return actor_for(request.user, address=client_address(request))  # type: ignore[arg-type]


def _form_error(exc: DomainError) -> dict[str, str]:
    """The refusal as {field: message}; a page-level error (404, 403) is re-raised."""
    if exc.status != 400:
        raise exc
    return {exc.field or "__all__": exc.message}


def _facility_of(user: Any) -> Any:
    """The user's own unit when it is a facility, else None."""
    unit = user.unit
    return unit if unit is not None and unit.level == UnitLevel.FACILITY else None


def _local_input(value: dt.datetime | str | None) -> str:
    """An instant as the value of a datetime-local input (local time, to the minute)."""
    if not value:
        return ""
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            return value
        value = parsed
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def _moment(raw: str, *, field: str, required: bool = True) -> dt.datetime | None:
    """A datetime-local value as an aware instant, or a DomainError on the field."""
    raw = raw.strip()
    if not raw:
        if required:
            raise DomainError("REQUIRED", str(_("请填写时间")), field=field)
        return None
    value = parse_datetime(raw)
    if value is None:
        raise DomainError("BAD_DATETIME", str(_("时间格式应为 年-月-日 时:分")), field=field)
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _uuid(raw: str, what: str) -> uuid.UUID:
    """An id from the URL or a form; a malformed one is the same NotFound as a missing one."""
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise NotFound(what) from None


def _values(request: HttpRequest) -> dict[str, Any]:
    return {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}


# --- 收押 ------------------------------------------------------------------------------------


@login_required
def admission_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.DETAINEE_ADMIT)
    facility = _facility_of(user)
    rows = list(admissions_open(user).select_related("unit")[:200])
    context = {
        "facility": facility,
        "rows": [
            {
                "a": a,
                "name": (a.steps.get("person") or {}).get("name", ""),
                "done": [label for step, label in STEPS.items() if step in a.steps],
                "missing": steps_missing(a),
            }
            for a in rows
        ],
        "unplaced": unplaced(facility.id) if facility else 0,
    }
    return render(request, "web/admission_list.html", context)


@login_required
@require_POST
def admission_begin(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.DETAINEE_ADMIT)
    facility = _facility_of(user)
    if facility is None:
        raise DomainError("NOT_A_FACILITY", str(_("只有监所的民警才能办理收押")))
    admission = admission_start(actor=_actor(request), unit=facility)
    return redirect("web:admission_step", admission.id, "person")


def _open_admission(request: HttpRequest, admission_id: str) -> Admission:
    user: Any = request.user
    require_perm(user, Perm.DETAINEE_ADMIT)
    return access_admission(user=user, id=admission_id)


def _step_bar(admission: Admission, current: str) -> list[dict[str, Any]]:
    return [
        {"step": step, "label": label, "done": step in admission.steps, "current": step == current}
        for step, label in STEPS.items()
    ]


def _next_step(step: str) -> str | None:
    order = list(STEPS)
    index = order.index(step)
    return order[index + 1] if index + 1 < len(order) else None


def _saved_values(admission: Admission, step: str) -> dict[str, Any]:
    """What a step shows when opened: its saved answers, or the defaults of a new form."""
    saved: dict[str, Any] = dict(admission.steps.get(step) or {})
    if step == "person":
        if not saved:
            return {"id_type": "111", "nationality": "CHN"}
        saved["executed_at"] = _local_input(saved.get("executed_at"))
        if saved.get("days") is None:
            saved["days"] = ""
    elif step == "search":
        saved["searchers"] = [s["id"] for s in saved.get("searchers", [])]
    return saved


def _item_rows(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = [dict(i) for i in items]
    return rows + [{"disposition": "KEPT"} for _i in range(max(1, BLANK_ITEM_ROWS - len(rows)))]


def _typed_items(request: HttpRequest) -> list[dict[str, str]]:
    """The belongings rows as typed; wholly blank rows are dropped."""
    columns = zip(
        request.POST.getlist("item_name"),
        request.POST.getlist("item_quantity"),
        request.POST.getlist("item_note"),
        request.POST.getlist("item_disposition"),
        strict=False,
    )
    items = []
    for name, quantity, note, disposition in columns:
        if name.strip() or quantity.strip() or note.strip():
            items.append(
                {
                    "name": name.strip(),
                    "quantity": quantity.strip(),
                    "note": note.strip(),
                    "disposition": disposition,
                }
            )
    return items


def _step_context(
    admission: Admission, step: str, values: Mapping[str, Any], errors: Mapping[str, str]
) -> dict[str, Any]:
    unit = admission.unit
    person = admission.steps.get("person") or {}
    gender = values.get("gender") if step == "person" else person.get("gender", "")
    context: dict[str, Any] = {
        "a": admission,
        "step": step,
        "step_label": STEPS[step],
        "bar": _step_bar(admission, step),
        "v": values,
        "errors": errors,
        "person": person,
        "female": gender == "2",
    }
    if step == "person":
        context |= {
            "genders": codes_of("GENDER"),
            "id_types": codes_of("ID_DOCUMENT_TYPE"),
            "ethnicities": codes_of("ETHNICITY"),
            "measures": [
                c
                for c in codes_of("LEGAL_MEASURE")
                if unit.facility_kind in c.extra.get("facility_kinds", [])
            ],
            "natures": codes_of("CASE_NATURE"),
            "document_kinds": DOCUMENT_KINDS,
        }
    elif step == "health":
        context |= {
            "health_items": HEALTH_ITEMS,
            "interview_items": INTERVIEW_ITEMS,
            "health_flags": {
                k: label
                for k, label in HEALTH_FLAGS.items()
                if context["female"] or k not in ("pregnant", "nursing_infant_under_1")
            },
            "injury_photos": list(admission.files.filter(purpose="INJURY").order_by("uploaded_at")),
        }
    elif step == "search":
        context["staff"] = list(users_of_unit(unit))
        context["searchers"] = [str(s) for s in values.get("searchers", [])]
    elif step == "belongings":
        context["items"] = _item_rows(values.get("items", []))
        context["dispositions"] = DISPOSITIONS
    elif step == "photo":
        context["photo"] = admission.files.filter(purpose="PHOTO").order_by("-uploaded_at").first()
    return context


@login_required
@require_http_methods(["GET", "POST"])
def admission_step(request: HttpRequest, admission_id: str, step: str) -> HttpResponse:
    admission = _open_admission(request, admission_id)
    if step not in STEPS:
        raise NotFound("收押步骤")
    if admission.status != AdmissionStatus.DRAFT:
        return redirect("web:admission_review", admission.id)
    if request.method == "GET":
        values = _saved_values(admission, step)
        return render(
            request, "web/admission_step.html", _step_context(admission, step, values, {})
        )
    actor = _actor(request)
    values = _values(request)
    errors: dict[str, str] = {}
    try:
        if step == "photo":
            upload = request.FILES.get("photo")
            if upload is None:
                if "photo" in admission.steps:
                    return redirect("web:admission_review", admission.id)
                raise DomainError("REQUIRED", str(_("请选择要上传的照片")), field="photo")
            admission_add_photo(actor=actor, admission=admission, upload=upload)
        else:
            data: dict[str, Any] = dict(values)
            if step == "search":
                data["searchers"] = request.POST.getlist("searchers")
                values["searchers"] = data["searchers"]
            elif step == "belongings":
                data["items"] = values["items"] = _typed_items(request)
            admission = admission_save_step(actor=actor, admission=admission, step=step, data=data)
    except DomainError as exc:
        errors = _form_error(exc)
    if not errors and step == "health":
        try:
            for upload in request.FILES.getlist("injury_photos"):
                admission_add_photo(
                    actor=actor, admission=admission, upload=upload, purpose="INJURY"
                )
        except DomainError as exc:
            message = _form_error(exc).popitem()[1]
            errors = {"injury_photos": f"{message}{_('（其余检查内容已保存）')}"}
    if errors:
        context = _step_context(admission, step, values, errors)
        return render(request, "web/admission_step.html", context, status=400)
    following = _next_step(step)
    if following:
        return redirect("web:admission_step", admission.id, following)
    return redirect("web:admission_review", admission.id)


OUTCOMES = {
    "REFUSE": _("不予收押"),
    "APPROVAL": _("须经书面批准"),
    "WARN": _("提示核实"),
}


def _review_context(admission: Admission, errors: Mapping[str, str]) -> dict[str, Any]:
    person = admission.steps.get("person") or {}
    names = {
        "gender": code_names("GENDER"),
        "id_type": code_names("ID_DOCUMENT_TYPE"),
        "ethnicity": code_names("ETHNICITY"),
        "legal_measure": code_names("LEGAL_MEASURE"),
        "case_nature": code_names("CASE_NATURE"),
    }
    labels = {key: names[key].get(person.get(key, ""), person.get(key, "")) for key in names}
    labels["document_kind"] = DOCUMENT_KINDS.get(person.get("document_kind", ""), "")
    executed = parse_datetime(person.get("executed_at") or "")
    health = admission.steps.get("health") or {}
    findings = [
        {**f, "outcome_label": OUTCOMES.get(f.get("outcome", ""), f.get("outcome", ""))}
        for f in admission.findings
    ]
    return {
        "a": admission,
        "bar": _step_bar(admission, "review"),
        "on_review": True,
        "person": person,
        "labels": labels,
        "executed_at": executed,
        "health": health,
        "health_items": [(label, health.get(k, "")) for k, label in HEALTH_ITEMS.items()],
        "interview_items": [(label, health.get(k, "")) for k, label in INTERVIEW_ITEMS.items()],
        "health_flags": [label for k, label in HEALTH_FLAGS.items() if health.get(k)],
        "search": admission.steps.get("search") or {},
        "belongings": admission.steps.get("belongings") or {},
        "dispositions": DISPOSITIONS,
        "photo": admission.files.filter(purpose="PHOTO").order_by("-uploaded_at").first(),
        "injury_photos": list(admission.files.filter(purpose="INJURY").order_by("uploaded_at")),
        "findings": findings,
        "blocking": any(
            f.get("outcome") == "REFUSE"
            or (f.get("outcome") == "APPROVAL" and not f.get("satisfied_by_approval"))
            for f in admission.findings
        ),
        "missing": steps_missing(admission),
        "errors": errors,
    }


@login_required
def admission_review(request: HttpRequest, admission_id: str) -> HttpResponse:
    admission = _open_admission(request, admission_id)
    return render(request, "web/admission_review.html", _review_context(admission, {}))


@login_required
@require_POST
def admission_confirm(request: HttpRequest, admission_id: str) -> HttpResponse:
    user: Any = request.user
    admission = _open_admission(request, admission_id)
    try:
        detainee = admission_complete(actor=_actor(request), admission=admission)
    except DomainError as exc:
        context = _review_context(admission, _form_error(exc))
        return render(request, "web/admission_review.html", context, status=400)
    messages.success(request, f"{_('已收押')}：{detainee.name}（{detainee.number}）")
    if has_perm(user, Perm.CELL_ASSIGN):
        return redirect("web:placement", detainee.id)
    return redirect("web:detainee", detainee.id)


@login_required
@require_POST
def admission_reject(request: HttpRequest, admission_id: str) -> HttpResponse:
    admission = _open_admission(request, admission_id)
    reason = request.POST.get("reason", "")
    try:
        admission_refuse(actor=_actor(request), admission=admission, reason=reason)
    except DomainError as exc:
        context = _review_context(admission, _form_error(exc))
        context["reason"] = reason
        return render(request, "web/admission_review.html", context, status=400)
    messages.success(request, str(_("已登记不予收押，请将理由告知送押机关")))
    return redirect("web:admissions")


@login_required
def admission_file(request: HttpRequest, admission_id: str, file_id: str) -> FileResponse:
    """A photo kept with an admission: personal data, so served only here, and audited."""
    admission = _open_admission(request, admission_id)
    record = admission.files.filter(id=_uuid(file_id, "照片")).first()
    if record is None:
        raise NotFound("照片")
    return _serve_photo(request, record, admission_id=str(admission.id))


def _serve_photo(request: HttpRequest, record: Any, *, admission_id: str) -> FileResponse:
    audit_record(
        actor=_actor(request),
        action="admission.photo_view",
        object_type="admission",
        object_id=admission_id,
        detail={"file": str(record.id), "purpose": record.purpose},
        wait_for_flush=False,
    )
    response = FileResponse(record.file.open("rb"), content_type=record.content_type)
    response["Cache-Control"] = "private, no-store"
    return response


# --- placement -------------------------------------------------------------------------------


@dataclass
class CellRow:
    id: str
    number: str
    area: str
    kind: str
    occupants: int
    capacity: int
    verdict: str  # ok | warn | blocked | current
    findings: list[dict[str, Any]] = field(default_factory=list)


def _occupant_names(user: Any, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = detainees_visible(user).filter(id__in=ids).values_list("id", "name", "number")
    return {str(i): f"{name}（{number}）" for i, name, number in rows}


def _cell_rows(user: Any, detainee: Detainee) -> list[CellRow]:
    verdicts, _live = cell_verdicts(detainee)
    names = _occupant_names(user, {o for v in verdicts for f in v.findings for o in f.occupant_ids})
    kinds = dict(CellKind.choices)
    rows = []
    for v in verdicts:
        findings = []
        for f in v.findings:
            reason = f.reason
            for oid in f.occupant_ids:
                reason = reason.replace(oid, names.get(oid, oid))
            findings.append(
                {"label": f.label, "reason": reason, "article": f.article, "hard": f.hard}
            )
        if str(detainee.cell_id) == v.cell.id:
            verdict = "current"
        else:
            verdict = "ok" if v.clean else "warn" if v.allowed else "blocked"
        rows.append(
            CellRow(
                id=v.cell.id,
                number=v.cell.number,
                area=v.cell.area,
                kind=kinds.get(v.cell.kind, v.cell.kind),
                occupants=len(v.cell.occupants),
                capacity=v.cell.capacity,
                verdict=verdict,
                findings=findings,
            )
        )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def placement(request: HttpRequest, detainee_id: str) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.CELL_ASSIGN)
    actor = _actor(request)
    detainee = access_detainee(user=user, actor=actor, id=detainee_id)
    errors: dict[str, str] = {}
    typed = {"cell": "", "override_reason": ""}
    if request.method == "POST":
        typed = {
            "cell": request.POST.get("cell", ""),
            "override_reason": request.POST.get("override_reason", ""),
        }
        _uuid(typed["cell"], "监室")
        try:
            placed = cell_assign(
                actor=actor,
                detainee=detainee,
                cell_id=typed["cell"],
                override_reason=typed["override_reason"],
            )
        except DomainError as exc:
            errors = _form_error(exc)
        else:
            number = placed.cell.number if placed.cell else ""
            messages.success(request, f"{_('已安排监室')}：{placed.name} → {number}")
            return redirect("web:detainee", placed.id)
    context = {
        "d": detainee,
        "rows": _cell_rows(user, detainee),
        "errors": errors,
        "typed": typed,
        "held": detainee.status in HELD_STATUSES,
    }
    return render(request, "web/placement.html", context, status=400 if errors else 200)


# --- the person's record -----------------------------------------------------------------------

# What each flag of a computed clock means, for the officer (the engine adds details after ":").
FLAG_TEXT = {
    "COURT_MONTH_END_DIFFERS": _(
        "起算日为月末：按法院的计算方法（至次月最后一日）与按公安机关的计算方法（至次月对应日）结果不同；侦查阶段取较早的日期（最高人民法院刑诉法解释第二百零二条；公安机关适用刑事羁押期限规定第四条）"
    ),
    "ENDS_ON_HOLIDAY": _(
        "届满日为节假日：在押人员的羁押期限不因节假日而延长，应在届满日当天办结（刑事诉讼法第一百零五条第四款）"
    ),
    "NO_COMPUTED_EXPIRY": _(
        "经批准延期审理，期限由批准机关另定，本系统不计算届满时间（刑事诉讼法第一百五十七条）"
    ),
    "OVER_LIMIT": _("退回补充侦查或延期审理的次数已超过法定次数，请核实"),
    "KEEP_IN_CENTRE": _(
        "交付执行前剩余刑期在三个月以下，由看守所代为执行（刑事诉讼法第二百六十四条第二款）"
    ),
    "ADMIN_COMBINED_CAPPED": _(
        "分别决定、合并执行的拘留，最长不超过二十日（治安管理处罚法第十六条）"
    ),
}
FLAG_DETAIL = {
    "COURT_MONTH_END_DIFFERS": _("按法院计算方法的最后一日"),
    "OVER_LIMIT": _("次数/上限"),
    "ADMIN_COMBINED_CAPPED": _("决定拘留日数合计"),
}


COUNTING = {
    "HOURS": _("按小时计算（满二十四小时为一日）"),
    "DAYS": _("按日计算（起算日不计入）"),
    "POLICE": _("按月计算（至次月对应日）"),
    "COURT": _("按月计算（法院计算方法）"),
    "SENTENCE": _("按刑期计算（起算日计入）"),
}
INPUT_LABELS = {
    "counting": _("计算方法"),
    "start": _("起算"),
    "term": _("基本期限"),
    "extensions": _("已延长"),
    "suspended_days": _("不计入期限的天数"),
    "suspended_since": _("暂停计算自"),
}
HIDDEN_INPUTS = {"variant", "suspended_by", "waiting_for"}


def _duration_text(value: Any) -> str:
    if not isinstance(value, Mapping):
        return str(value)
    units = (("years", _("年")), ("months", _("个月")), ("days", _("日")), ("hours", _("小时")))
    return "".join(f"{value[k]}{label}" for k, label in units if value.get(k)) or "0"


def _moment_text(value: Any) -> str:
    moment = parse_datetime(str(value)) if "T" in str(value) else None
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else str(value)


def _inputs_text(inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What a clock was computed from, in words: method, start, term, extensions, pauses."""
    shown: list[tuple[str, str]] = []
    for key, value in inputs.items():
        if key in HIDDEN_INPUTS or (key == "suspended_days" and not value):
            continue
        if key == "counting":
            text = str(COUNTING.get(value, value))
        elif key in ("start", "suspended_since"):
            text = _moment_text(value)
        elif key == "term":
            text = _duration_text(value)
        elif key == "extensions":
            if not value:
                continue
            text = "、".join(_duration_text(e.get("add")) for e in value)
        else:
            text = str(value)
        shown.append((str(INPUT_LABELS.get(key, key)), text))
    return shown


def _flag_text(flag: str) -> tuple[str, str]:
    code, _sep, detail = flag.partition(":")
    text = str(FLAG_TEXT.get(code, code))
    label = FLAG_DETAIL.get(code)
    if detail and label:
        text = f"{text}（{label}：{detail}）"
    return code, text


# The board's colour bands (custody.api.urgency), labelled for the page's language.
URGENCY_LABELS = {
    "expired": _("已超期"),
    "critical": _("1日内届满"),
    "urgent": _("3日内届满"),
    "soon": _("7日内届满"),
    "normal": _("正常"),
    "suspended": _("暂停计算"),
    "ended": _("已结束"),
}


@dataclass
class ClockRow:
    d: Deadline
    end: dt.datetime | None  # the last instant shown: the last day (day precision) or the time
    day_precision: bool
    urgency: str
    urgency_label: str
    left_days: int = 0
    left_hours: int = 0
    overdue: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    flags: list[tuple[str, str]] = field(default_factory=list)
    inputs: list[tuple[str, str]] = field(default_factory=list)


def _clock_row(d: Deadline, now: dt.datetime) -> ClockRow:
    key, label = urgency(d.expires_at if d.state == "RUNNING" else None, now)
    if d.state == "ENDED":
        key = "ended"
    label = str(URGENCY_LABELS.get(key, label))
    end = None
    if d.expires_at is not None:
        end = d.expires_at - dt.timedelta(microseconds=1) if d.precision == "day" else d.expires_at
    row = ClockRow(
        d=d, end=end, day_precision=d.precision == "day", urgency=key, urgency_label=label
    )
    if d.expires_at is not None:
        left = d.expires_at - now
        row.overdue = left < dt.timedelta(0)
        seconds = abs(int(left.total_seconds()))
        row.left_days, row.left_hours = seconds // 86400, seconds % 86400 // 3600
    row.history = [
        {
            **step,
            "at": parse_datetime(step.get("at") or ""),
            "expires_at": parse_datetime(step.get("expires_at") or ""),
        }
        for step in d.history
    ]
    row.flags = [_flag_text(f) for f in d.flags]
    row.inputs = _inputs_text(d.inputs)
    return row


# The typed parameters a legal event may carry (see the engine's list of fact params); only the
# ones filled in are sent. Choice labels are the UI's; the engine checks the codes.
INT_PARAMS = ("days", "months", "credit_days", "term_years", "term_months", "term_days")
DATE_PARAMS = ("requested_on", "discovered_on", "received_on", "custody_credit_from", "executed_on")
FLAG_PARAMS = (
    "possible_sentence_over_1y",
    "possible_sentence_over_3y",
    "possible_sentence_10y",
    "fast_track",
    "self_investigation",
    "extended_police_stage",
)
CHOICE_PARAMS: dict[str, dict[str, Any]] = {
    "step": {
        "1": _("第一次延长"),
        "2": _("第二次延长"),
        "3": _("第三次延长"),
        "SPECIAL": _("特别重大复杂案件"),
    },
    "category": {
        "ROVING": _("流窜作案"),
        "MULTIPLE": _("多次作案"),
        "GANG": _("结伙作案"),
        "REMOTE": _("交通十分不便的边远地区的重大复杂案件"),
        "CRIMINAL_GROUP": _("重大的犯罪集团案件"),
        "WIDE": _("犯罪涉及面广，取证困难的重大复杂案件"),
    },
    "procedure": {"ORDINARY": _("普通程序"), "SIMPLIFIED": _("简易程序"), "SUMMARY": _("速裁程序")},
    "penalty": {
        "FIXED_TERM": _("有期徒刑"),
        "DETENTION": _("拘役"),
        "LIFE": _("无期徒刑"),
        "DEATH_REPRIEVE": _("死刑缓期二年执行"),
        "DEATH": _("死刑立即执行"),
        "PUBLIC_SURVEILLANCE": _("管制"),
        "PROBATION": _("缓刑"),
        "FINE_ONLY": _("单处罚金"),
        "DEPRIVATION_ONLY": _("单处剥夺政治权利"),
        "EXEMPT": _("免除刑事处罚"),
        "ACQUITTED": _("无罪"),
    },
    "document": {"JUDGMENT": _("判决"), "RULING": _("裁定")},
    "kind": {"PSYCHIATRIC": _("精神病鉴定（不计入期限）"), "OTHER": _("其他鉴定（计入期限）")},
}


PARAM_LABELS = {
    "days": _("天数"),
    "months": _("月数"),
    "credit_days": _("折抵天数"),
    "term_years": _("刑期（年）"),
    "term_months": _("刑期（月）"),
    "term_days": _("刑期（日）"),
    "requested_on": _("提请延长日期"),
    "discovered_on": _("发现另有重要罪行日期"),
    "received_on": _("收到判决书、裁定书日期"),
    "custody_credit_from": _("羁押折抵起算日"),
    "executed_on": _("在公安场所执行起始日"),
    "possible_sentence_over_1y": _("可能判处一年以上有期徒刑"),
    "possible_sentence_over_3y": _("可能判处三年以上有期徒刑"),
    "possible_sentence_10y": _("可能判处十年有期徒刑以上刑罚"),
    "fast_track": _("认罪认罚、适用速裁程序"),
    "self_investigation": _("人民检察院直接受理的案件"),
    "extended_police_stage": _("在公安场所执行期限经批准延长"),
    "step": _("第几次延长"),
    "category": _("延长的法定情形"),
    "procedure": _("审理程序"),
    "penalty": _("刑罚"),
    "document": _("文书种类（一审）"),
    "kind": _("鉴定种类"),
}


def _params_text(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    shown = []
    for key, value in params.items():
        if value is True:
            text = str(_("是"))
        elif key in CHOICE_PARAMS:
            text = str(CHOICE_PARAMS[key].get(str(value), value))
        else:
            text = str(value)
        shown.append((str(PARAM_LABELS.get(key, key)), text))
    return shown


def _legal_params(post: Mapping[str, Any]) -> dict[str, Any]:
    """The params of a legal event from the form's p_* fields; empty ones are left out."""
    params: dict[str, Any] = {}
    for name in INT_PARAMS:
        raw = str(post.get(f"p_{name}") or "").strip()
        if raw:
            if not raw.isdigit():
                raise DomainError("BAD_NUMBER", str(_("应填写整数")), field=f"p_{name}")
            params[name] = int(raw)
    for name in DATE_PARAMS:
        raw = str(post.get(f"p_{name}") or "").strip()
        if raw:
            if parse_date(raw) is None:
                raise DomainError("BAD_DATE", str(_("日期格式应为 年-月-日")), field=f"p_{name}")
            params[name] = raw
    for name in FLAG_PARAMS:
        if post.get(f"p_{name}"):
            params[name] = True
    for name, choices in CHOICE_PARAMS.items():
        raw = str(post.get(f"p_{name}") or "").strip()
        if raw:
            if raw not in choices:
                raise DomainError("BAD_CHOICE", str(_("请从列表中选择")), field=f"p_{name}")
            params[name] = raw
    return params


def _movement_kinds(user: Any) -> list[tuple[str, str]]:
    kinds = []
    for kind, label in MovementKind.choices:
        if kind == MovementKind.CELL_MOVE:
            continue
        perm = Perm.DETAINEE_RELEASE if kind in DEPARTURE_KINDS else Perm.DETAINEE_MOVE
        if has_perm(user, perm):
            kinds.append((kind, label))
    return kinds


DEPARTURE_KINDS = {MovementKind.RELEASE, MovementKind.TRANSFER, MovementKind.DELIVER}


def _record_context(request: HttpRequest, detainee: Detainee, **forms: Any) -> dict[str, Any]:
    user: Any = request.user
    now = timezone.now()
    names = {
        table: code_names(table)
        for table in (
            "GENDER",
            "ETHNICITY",
            "ID_DOCUMENT_TYPE",
            "CASE_NATURE",
            "LEGAL_MEASURE",
            "LITIGATION_STAGE",
        )
    }
    held = detainee.status in HELD_STATUSES
    events = [
        {
            "e": e,
            "label": FACT_KINDS.get(e.kind, e.kind),
            "approval": APPROVAL_LEVELS.get(e.approval, e.approval),
            "params": _params_text(e.params),
        }
        for e in legal_events_of(detainee)
    ]
    _admission, photo = _photo_of(detainee)
    context: dict[str, Any] = {
        "d": detainee,
        "labels": {
            "gender": names["GENDER"].get(detainee.gender, detainee.gender),
            "ethnicity": names["ETHNICITY"].get(detainee.ethnicity, detainee.ethnicity),
            "id_type": names["ID_DOCUMENT_TYPE"].get(detainee.id_type, detainee.id_type),
            "case_nature": names["CASE_NATURE"].get(detainee.case_nature, detainee.case_nature),
            "legal_measure": names["LEGAL_MEASURE"].get(
                detainee.legal_measure, detainee.legal_measure
            ),
            "litigation_stage": names["LITIGATION_STAGE"].get(
                detainee.litigation_stage, detainee.litigation_stage
            ),
        },
        "held": held,
        "clocks": [_clock_row(d, now) for d in deadlines_of(detainee)],
        "events": events,
        "movements": list(movements_of(detainee)),
        "photo": photo,
        "running": list(interrogations_running(user).filter(detainee=detainee)),
        "can_legal": held and has_perm(user, Perm.LEGAL_RECORD),
        "fact_kinds": FACT_KINDS,
        "param_choices": CHOICE_PARAMS,
        "approval_levels": APPROVAL_LEVELS,
        "movement_kinds": _movement_kinds(user) if held else [],
        "can_interrogate": detainee.status == DetaineeStatus.IN_CUSTODY
        and has_perm(user, Perm.INTERROGATION),
        "can_place": held and has_perm(user, Perm.CELL_ASSIGN),
        "legal_v": {"at": _local_input(now)},
        "legal_errors": {},
        "move_v": {},
        "move_errors": {},
        "interrogation_v": {"case_unit": detainee.case_unit},
        "interrogation_errors": {},
    }
    context.update(forms)
    return context


def _photo_of(detainee: Detainee) -> tuple[Admission | None, Any]:
    """The admission that created the record and its latest photo (people entered before the
    admission flow have neither)."""
    try:
        admission = detainee.admission
    except Admission.DoesNotExist:
        return None, None
    return admission, admission.files.filter(purpose="PHOTO").order_by("-uploaded_at").first()


@login_required
def detainee_detail(request: HttpRequest, detainee_id: str) -> HttpResponse:
    user: Any = request.user
    detainee = access_detainee(user=user, actor=_actor(request), id=detainee_id)
    return render(request, "web/detainee_detail.html", _record_context(request, detainee))


@login_required
def detainee_photo(request: HttpRequest, detainee_id: str) -> FileResponse:
    user: Any = request.user
    detainee = access_detainee(user=user, actor=_actor(request), id=detainee_id)
    admission, record = _photo_of(detainee)
    if admission is None or record is None:
        raise NotFound("照片")
    return _serve_photo(request, record, admission_id=str(admission.id))


@login_required
@require_POST
def legal_event_add(request: HttpRequest, detainee_id: str) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.LEGAL_RECORD)
    actor = _actor(request)
    detainee = access_detainee(user=user, actor=actor, id=detainee_id)
    values = _values(request)
    try:
        at = _moment(values.get("at", ""), field="at")
        assert at is not None
        event = legal_event_record(
            actor=actor,
            detainee=detainee,
            kind=values.get("kind", ""),
            at=at,
            approval=values.get("approval", ""),
            params=_legal_params(values),
            document_kind=values.get("document_kind", "").strip(),
            document_number=values.get("document_number", "").strip(),
            issued_by=values.get("issued_by", "").strip(),
            note=values.get("note", "").strip(),
        )
    except DomainError as exc:
        context = _record_context(request, detainee, legal_v=values, legal_errors=_form_error(exc))
        return render(request, "web/detainee_detail.html", context, status=400)
    messages.success(request, f"{_('已登记法律事项')}：{FACT_KINDS.get(event.kind, event.kind)}")
    return redirect(reverse("web:detainee", args=[detainee.id]) + "#legal")


@login_required
@require_POST
def movement_add(request: HttpRequest, detainee_id: str) -> HttpResponse:
    user: Any = request.user
    actor = _actor(request)
    kind = request.POST.get("kind", "")
    require_perm(user, Perm.DETAINEE_RELEASE if kind in DEPARTURE_KINDS else Perm.DETAINEE_MOVE)
    detainee = access_detainee(user=user, actor=actor, id=detainee_id)
    values = _values(request)
    try:
        movement_record(
            actor=actor,
            detainee=detainee,
            kind=kind,
            at=_moment(values.get("at", ""), field="at", required=False),
            document_number=values.get("document_number", ""),
            destination=values.get("destination", ""),
            escort=values.get("escort", ""),
            reason=values.get("reason", ""),
        )
    except DomainError as exc:
        context = _record_context(request, detainee, move_v=values, move_errors=_form_error(exc))
        return render(request, "web/detainee_detail.html", context, status=400)
    messages.success(request, f"{_('已登记')}：{MovementKind(kind).label}")
    return redirect(reverse("web:detainee", args=[detainee.id]) + "#movements")


@login_required
@require_POST
def interrogation_add(request: HttpRequest, detainee_id: str) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.INTERROGATION)
    actor = _actor(request)
    detainee = access_detainee(user=user, actor=actor, id=detainee_id)
    values = _values(request)
    try:
        interrogation_request(
            actor=actor,
            detainee=detainee,
            warrant_number=values.get("warrant_number", ""),
            case_unit=values.get("case_unit", ""),
            officers=values.get("officers", ""),
        )
    except DomainError as exc:
        errors = _form_error(exc)
        context = _record_context(
            request,
            detainee,
            interrogation_v=values,
            interrogation_errors=errors,
            interrogation_refused=exc.code == "WARRANT_VOID",
        )
        return render(request, "web/detainee_detail.html", context, status=400)
    messages.success(request, str(_("已准予提讯，提讯结束后请登记结束")))
    return redirect(reverse("web:detainee", args=[detainee.id]) + "#interrogation")


@login_required
@require_POST
def interrogation_finish(request: HttpRequest, interrogation_id: str) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.INTERROGATION)
    # Missing, finished, out of scope or malformed: one answer.
    record = interrogations_running(user).filter(id=_uuid(interrogation_id, "提讯登记")).first()
    if record is None:
        raise NotFound("提讯登记")
    interrogation_end(actor=_actor(request), interrogation=record)
    messages.success(request, str(_("提讯已结束")))
    return redirect(reverse("web:detainee", args=[record.detainee_id]) + "#interrogation")


# --- 期限看板 ---------------------------------------------------------------------------------


@login_required
def deadline_board_view(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.DETAINEE_VIEW)
    case_unit = request.GET.get("case_unit", "")
    clock = request.GET.get("clock", "")
    qs = deadline_board(user=user, case_unit=case_unit, clock=clock)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [_clock_row(d, now) for d in page.object_list]
    audit_list_read(
        actor=_actor(request),
        ids=[r.d.detainee_id for r in rows],
        query={"board": True, "case_unit": case_unit, "clock": clock, "page": page.number},
    )
    clocks = sorted(set(deadline_board(user=user).values_list("clock", "label").distinct()))
    context = {
        "page": page,
        "rows": rows,
        "case_unit": case_unit,
        "clock": clock,
        "case_units": case_units_in_scope(user),
        "clocks": clocks,
    }
    return render(request, "web/deadline_board.html", context)


# --- 在押点名 --------------------------------------------------------------------------------


@login_required
def roll_view(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.DETAINEE_VIEW)
    facilities = list(units_facilities(user))
    unit_id = request.GET.get("unit") or None
    facility: Any
    if unit_id:
        facility = access_unit(user=user, id=unit_id)
        if facility.level != UnitLevel.FACILITY:
            raise NotFound("监所")
    else:
        facility = _facility_of(user) or (facilities[0] if facilities else None)
    today_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    context: dict[str, Any] = {
        "roll": roll(user=user, today_start=today_start),
        "facilities": facilities,
        "facility": facility,
        "cells": [],
        "unplaced": [],
        "can_place": has_perm(user, Perm.CELL_ASSIGN),
    }
    if facility is not None:
        cells = roll_by_cell(facility.id)
        context["cells"] = cells
        context["totals"] = {
            "capacity": sum(c.capacity for c in cells),
            "present": sum(c.present for c in cells),
            "out": sum(c.out for c in cells),
        }
        context["unplaced_count"] = unplaced(facility.id)
        context["unplaced"] = list(
            detainee_search(user=user, status=DetaineeStatus.IN_CUSTODY, unit_id=facility.id)
            .filter(cell__isnull=True)
            .order_by("admitted_at")[:PAGE_SIZE]
        )
    return render(request, "web/roll.html", context)


# --- 期限通知 --------------------------------------------------------------------------------


def _may_handle_notices(user: Any) -> bool:
    return has_perm(user, Perm.LEAD) or has_perm(user, Perm.LEGAL_RECORD)


@login_required
def notice_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.DETAINEE_VIEW)
    rows = list(notices_open(scope_unit_ids(user))[:200])
    context = {"rows": rows, "can_handle": _may_handle_notices(user), "failed": None}
    return render(request, "web/notice_list.html", context)


@login_required
def notice_print(request: HttpRequest, notice_id: str) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.DETAINEE_VIEW)
    notice = access_notice(user=user, id=notice_id)
    audit_record(
        actor=_actor(request),
        action="custody.notice_printed",
        object_type="detainee",
        object_id=notice.detainee_id,
        detail={"notice": str(notice.id), "kind": notice.kind},
        wait_for_flush=False,
    )
    title = (
        _("羁押期限即将届满通知书")
        if notice.kind == NoticeKind.BEFORE_EXPIRY
        else _("超期羁押情况报告")
    )
    return render(request, "web/notice_print.html", {"n": notice, "title": title})


@login_required
@require_POST
def notice_handle_view(request: HttpRequest, notice_id: str) -> HttpResponse:
    user: Any = request.user
    if not _may_handle_notices(user):
        require_perm(user, Perm.LEAD)
    notice = access_notice(user=user, id=notice_id)
    note = request.POST.get("note", "")
    try:
        notice_handle(actor=_actor(request), notice=notice, note=note)
    except DomainError as exc:
        _form_error(exc)  # a 404/403 is not a form error
        context = {
            "rows": list(notices_open(scope_unit_ids(user))[:200]),
            "can_handle": True,
            "failed": {"id": notice.id, "message": exc.message, "note": note},
        }
        return render(request, "web/notice_list.html", context, status=400)
    messages.success(request, f"{_('已登记处理情况')}：{notice.detainee.name}")
    return redirect("web:notices")


# --- 越过规则审核 ----------------------------------------------------------------------------


def _override_context(user: Any, pending_only: bool, **extra: Any) -> dict[str, Any]:
    rows = list(overrides_in(scope_unit_ids(user), pending_only=pending_only)[:200])
    return {"rows": rows, "pending_only": pending_only, "failed": None, **extra}


@login_required
def override_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.LEAD)
    pending_only = request.GET.get("all") != "1"
    return render(request, "web/override_list.html", _override_context(user, pending_only))


@login_required
@require_POST
def override_decide(request: HttpRequest, override_id: str) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.LEAD)
    override = access_override(user=user, id=override_id)
    decision = request.POST.get("decision", "")
    if decision not in ("approve", "reject"):
        raise DomainError("BAD_CHOICE", str(_("请选择同意或不同意")))
    note = request.POST.get("note", "")
    try:
        override_review(
            actor=_actor(request), override=override, approve=decision == "approve", note=note
        )
    except DomainError as exc:
        _form_error(exc)  # a 404/403 is not a form error
        failed = {"id": override.id, "message": exc.message, "note": note}
        context = _override_context(user, True, failed=failed)
        return render(request, "web/override_list.html", context, status=400)
    messages.success(request, f"{_('已审核')}：{override.detainee.name} · {override.cell.number}")
    return redirect("web:overrides")


# --- home-page counts ------------------------------------------------------------------------


def home_counts(user: Any) -> dict[str, Any]:
    """The counts a post's home page shows: open admissions and unplaced people for the 收押
    post, open over-term alerts and pending overrides for the leader."""
    context: dict[str, Any] = {}
    facility = _facility_of(user)
    if has_perm(user, Perm.DETAINEE_ADMIT):
        context["admission_counts"] = {
            "open": admissions_open(user).count(),
            "unplaced": unplaced(facility.id) if facility else 0,
        }
    if has_perm(user, Perm.LEAD):
        units = scope_unit_ids(user)
        context["lead_counts"] = {
            "expired": notices_open(units).filter(kind=NoticeKind.EXPIRED).count(),
            "notices": notices_open(units).count(),
            "overrides": overrides_in(units, pending_only=True).count(),
        }
    return context
