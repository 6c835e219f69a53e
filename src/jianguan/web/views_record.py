"""A person's record: clocks with article, inputs and history; legal events; movements; 提讯."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from jianguan.codes.api import code_names
from jianguan.core.errors import DomainError, NotFound
from jianguan.custody.api import (
    APPROVAL_LEVELS,
    FACT_KINDS,
    HELD_STATUSES,
    Admission,
    Deadline,
    Detainee,
    DetaineeStatus,
    MovementKind,
    access_detainee,
    deadlines_of,
    interrogation_end,
    interrogation_request,
    interrogations_running,
    legal_event_record,
    legal_events_of,
    movement_record,
    movements_of,
    urgency,
)
from jianguan.org.api import (
    Perm,
    has_perm,
    require_perm,
)
from jianguan.web.custody_common import (
    form_errors,
    local_input,
    parse_moment,
    parse_uuid,
    posted_values,
    request_actor,
    serve_photo,
)

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


def clock_row(d: Deadline, now: dt.datetime) -> ClockRow:
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
        "clocks": [clock_row(d, now) for d in deadlines_of(detainee)],
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
        "legal_v": {"at": local_input(now)},
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
    detainee = access_detainee(user=user, actor=request_actor(request), id=detainee_id)
    return render(request, "web/detainee_detail.html", _record_context(request, detainee))


@login_required
def detainee_photo(request: HttpRequest, detainee_id: str) -> FileResponse:
    user: Any = request.user
    detainee = access_detainee(user=user, actor=request_actor(request), id=detainee_id)
    admission, record = _photo_of(detainee)
    if admission is None or record is None:
        raise NotFound("照片")
    return serve_photo(request, record, admission_id=str(admission.id))


@login_required
@require_POST
def legal_event_add(request: HttpRequest, detainee_id: str) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.LEGAL_RECORD)
    actor = request_actor(request)
    detainee = access_detainee(user=user, actor=actor, id=detainee_id)
    values = posted_values(request)
    try:
        at = parse_moment(values.get("at", ""), field="at")
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
        context = _record_context(request, detainee, legal_v=values, legal_errors=form_errors(exc))
        return render(request, "web/detainee_detail.html", context, status=400)
    messages.success(request, f"{_('已登记法律事项')}：{FACT_KINDS.get(event.kind, event.kind)}")
    return redirect(reverse("web:detainee", args=[detainee.id]) + "#legal")


@login_required
@require_POST
def movement_add(request: HttpRequest, detainee_id: str) -> HttpResponse:
    user: Any = request.user
    actor = request_actor(request)
    kind = request.POST.get("kind", "")
    require_perm(user, Perm.DETAINEE_RELEASE if kind in DEPARTURE_KINDS else Perm.DETAINEE_MOVE)
    detainee = access_detainee(user=user, actor=actor, id=detainee_id)
    values = posted_values(request)
    try:
        movement_record(
            actor=actor,
            detainee=detainee,
            kind=kind,
            at=parse_moment(values.get("at", ""), field="at", required=False),
            document_number=values.get("document_number", ""),
            destination=values.get("destination", ""),
            escort=values.get("escort", ""),
            reason=values.get("reason", ""),
        )
    except DomainError as exc:
        context = _record_context(request, detainee, move_v=values, move_errors=form_errors(exc))
        return render(request, "web/detainee_detail.html", context, status=400)
    messages.success(request, f"{_('已登记')}：{MovementKind(kind).label}")
    return redirect(reverse("web:detainee", args=[detainee.id]) + "#movements")


@login_required
@require_POST
def interrogation_add(request: HttpRequest, detainee_id: str) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.INTERROGATION)
    actor = request_actor(request)
    detainee = access_detainee(user=user, actor=actor, id=detainee_id)
    values = posted_values(request)
    try:
        interrogation_request(
            actor=actor,
            detainee=detainee,
            warrant_number=values.get("warrant_number", ""),
            case_unit=values.get("case_unit", ""),
            officers=values.get("officers", ""),
        )
    except DomainError as exc:
        errors = form_errors(exc)
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
    record = (
        interrogations_running(user).filter(id=parse_uuid(interrogation_id, "提讯登记")).first()
    )
    if record is None:
        raise NotFound("提讯登记")
    interrogation_end(actor=request_actor(request), interrogation=record)
    messages.success(request, str(_("提讯已结束")))
    return redirect(reverse("web:detainee", args=[record.detainee_id]) + "#interrogation")


# --- 期限看板 ---------------------------------------------------------------------------------
