"""收押 pages: the open admissions, each step of the wizard, the review, the photos."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from jianguan.codes.api import code_names, codes_of
from jianguan.core.errors import DomainError, NotFound
from jianguan.custody.api import (
    DISPOSITIONS,
    DOCUMENT_KINDS,
    HEALTH_FLAGS,
    HEALTH_ITEMS,
    INTERVIEW_ITEMS,
    STEPS,
    Admission,
    AdmissionStatus,
    access_admission,
    admission_add_photo,
    admission_complete,
    admission_refuse,
    admission_save_step,
    admission_start,
    admissions_open,
    steps_missing,
    unplaced,
)
from jianguan.org.api import (
    Perm,
    has_perm,
    require_perm,
    users_of_unit,
)
from jianguan.web.custody_common import (
    BLANK_ITEM_ROWS,
    facility_of,
    form_errors,
    local_input,
    parse_uuid,
    posted_values,
    request_actor,
    serve_photo,
)


@login_required
def admission_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.DETAINEE_ADMIT)
    facility = facility_of(user)
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
    facility = facility_of(user)
    if facility is None:
        raise DomainError("NOT_A_FACILITY", str(_("只有监所的民警才能办理收押")))
    admission = admission_start(actor=request_actor(request), unit=facility)
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
        saved["executed_at"] = local_input(saved.get("executed_at"))
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
    actor = request_actor(request)
    values = posted_values(request)
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
        errors = form_errors(exc)
    if not errors and step == "health":
        try:
            for upload in request.FILES.getlist("injury_photos"):
                admission_add_photo(
                    actor=actor, admission=admission, upload=upload, purpose="INJURY"
                )
        except DomainError as exc:
            message = form_errors(exc).popitem()[1]
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
        detainee = admission_complete(actor=request_actor(request), admission=admission)
    except DomainError as exc:
        context = _review_context(admission, form_errors(exc))
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
        admission_refuse(actor=request_actor(request), admission=admission, reason=reason)
    except DomainError as exc:
        context = _review_context(admission, form_errors(exc))
        context["reason"] = reason
        return render(request, "web/admission_review.html", context, status=400)
    messages.success(request, str(_("已登记不予收押，请将理由告知送押机关")))
    return redirect("web:admissions")


@login_required
def admission_file(request: HttpRequest, admission_id: str, file_id: str) -> FileResponse:
    """A photo kept with an admission: personal data, so served only here, and audited."""
    admission = _open_admission(request, admission_id)
    record = admission.files.filter(id=parse_uuid(file_id, "照片")).first()
    if record is None:
        raise NotFound("照片")
    return serve_photo(request, record, admission_id=str(admission.id))
