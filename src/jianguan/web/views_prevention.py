"""Prevention pages: the talk report, a person's talks with the meeting form, the exit checks and
passes, and the people out for medical care. Thin: each reads through jianguan.prevention.api and
writes through its services; a refused write shows the service's message beside the form."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from jianguan.core.errors import DomainError, PermissionDenied
from jianguan.core.http import client_address
from jianguan.custody.api import access_detainee, audit_list_read, detainee_search
from jianguan.org.api import Perm, has_perm
from jianguan.prevention.api import (
    KIND_LABELS,
    ExitCheck,
    ExitPass,
    Geofence,
    MeetingKind,
    Outing,
    PassState,
    access_pass,
    geofence_create,
    meeting_record,
    pass_approve,
    pass_cancel,
    pass_items,
    pass_prepare,
    talk_report,
    talks_of,
)
from jianguan.web.custody_common import facility_of, form_errors, request_actor

TALK_VIEWERS = (Perm.EDUCATION, Perm.TASK_DISPATCH, Perm.LEAD)
EXIT_VIEWERS = (Perm.DETAINEE_MOVE, Perm.TASK_DISPATCH, Perm.LEAD, Perm.PATROL)
OUTING_VIEWERS = (Perm.TASK_DISPATCH, Perm.LEAD, Perm.MEDICAL, Perm.PATROL, Perm.DETAINEE_MOVE)


def _facility(user: Any, perms: tuple[Perm, ...], message: str) -> Any:
    unit = facility_of(user)
    if unit is None or not any(has_perm(user, p) for p in perms):
        raise PermissionDenied(message)
    return unit


def _audit_people(request: HttpRequest, ids: list[Any], page: str) -> None:
    if ids:
        audit_list_read(actor=request_actor(request), ids=list(set(ids)), query={"page": page})


@login_required
def talks(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    unit = _facility(user, TALK_VIEWERS, str(_("谈话教育提醒只对管教、指挥岗位和所领导开放")))
    now = timezone.now()
    days = request.GET.get("days", "30")
    span = int(days) if days.isdigit() and 1 <= int(days) <= 366 else 30
    report = talk_report(unit, since=now - dt.timedelta(days=span), until=now, now=now)
    _audit_people(request, [r.detainee_id for r in report.open], "prevention.talks")
    return render(
        request,
        "web/prevention/talks.html",
        {"r": report, "days": span, "choices": (7, 30, 90)},
    )


@login_required
def talk_person(request: HttpRequest, id: uuid.UUID) -> HttpResponse:
    user: Any = request.user
    person = access_detainee(user=user, actor=request_actor(request), id=id)
    errors: dict[str, str] = {}
    can_record = has_perm(user, Perm.RECEPTION)
    if request.method == "POST":
        ended = parse_datetime(request.POST.get("ended_at", ""))
        try:
            if ended is None:
                raise DomainError("REQUIRED", str(_("请填写会见结束时间")), field="ended_at")
            meeting_record(
                user=user,
                detainee_id=person.id,
                kind=request.POST.get("kind", ""),
                visitor=request.POST.get("visitor", ""),
                ended_at=timezone.make_aware(ended) if timezone.is_naive(ended) else ended,
                address=client_address(request),
            )
            return redirect("web:prevention_talk_person", id=person.id)
        except DomainError as exc:
            errors = form_errors(exc)
    return render(
        request,
        "web/prevention/talk_person.html",
        {
            "person": person,
            "talks": talks_of(person.id),
            "can_record": can_record,
            "kinds": MeetingKind.choices,
            "errors": errors,
            "form": request.POST,
        },
    )


@login_required
def exits(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    unit = _facility(
        user, EXIT_VIEWERS, str(_("出监区核验只对出入所登记、巡控、指挥岗位和所领导开放"))
    )
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            _exit_action(request, user)
            return redirect("web:prevention_exits")
        except DomainError as exc:
            errors = form_errors(exc)
    checks = list(
        ExitCheck.objects.filter(unit=unit).select_related("detainee").order_by("-at")[:50]
    )
    passes = list(
        ExitPass.objects.filter(unit=unit, state=PassState.PREPARING)
        .select_related("detainee", "geofence")
        .order_by("-prepared_at")
    )
    for p in passes:
        p.items = pass_items(p)  # type: ignore[attr-defined]
        p.ready = all(i.done for i in p.items)  # type: ignore[attr-defined]
        p.kind_label = KIND_LABELS.get(p.kind, p.kind)  # type: ignore[attr-defined]
    _audit_people(
        request,
        [c.detainee_id for c in checks if c.detainee_id] + [p.detainee_id for p in passes],
        "prevention.exits",
    )
    people = detainee_search(user=user, status="HELD").filter(unit=unit).order_by("number")[:500]
    return render(
        request,
        "web/prevention/exits.html",
        {
            "checks": checks,
            "passes": passes,
            "kinds": list(KIND_LABELS.items()),
            "fences": Geofence.objects.filter(unit=unit, is_active=True).order_by("name"),
            "people": people,
            "can_prepare": has_perm(user, Perm.DETAINEE_MOVE),
            "can_approve": has_perm(user, Perm.LEAD),
            "errors": errors,
            "form": request.POST,
        },
    )


def _exit_action(request: HttpRequest, user: Any) -> None:
    action = request.POST.get("action", "")
    address = client_address(request)
    if action == "prepare":
        pass_prepare(
            user=user,
            detainee_id=request.POST.get("detainee", ""),
            kind=request.POST.get("kind", ""),
            document_number=request.POST.get("document_number", ""),
            escort=request.POST.get("escort", ""),
            destination=request.POST.get("destination", ""),
            geofence_id=request.POST.get("geofence") or None,
            address=address,
        )
        return
    p = access_pass(user=user, id=request.POST.get("pass", ""))
    if action == "approve":
        pass_approve(user=user, exit_pass=p, address=address)
    elif action == "cancel":
        pass_cancel(user=user, exit_pass=p, address=address)
    else:
        raise DomainError("BAD_ACTION", str(_("未知的操作")))


@login_required
def outings(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    unit = _facility(
        user, OUTING_VIEWERS, str(_("出所就医监护只对指挥、巡控、医务岗位和所领导开放"))
    )
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            geofence_create(
                user=user,
                name=request.POST.get("name", ""),
                lat=_float(request.POST.get("lat"), "lat"),
                lon=_float(request.POST.get("lon"), "lon"),
                radius_m=int(_float(request.POST.get("radius_m"), "radius_m")),
                address=client_address(request),
            )
            return redirect("web:prevention_outings")
        except DomainError as exc:
            errors = form_errors(exc)
    out = list(
        Outing.objects.filter(unit=unit, ended_at=None)
        .select_related("detainee", "geofence")
        .order_by("started_at")
    )
    _audit_people(request, [o.detainee_id for o in out], "prevention.outings")
    return render(
        request,
        "web/prevention/outings.html",
        {
            "outings": out,
            "fences": Geofence.objects.filter(unit=unit, is_active=True).order_by("name"),
            "can_fence": has_perm(user, Perm.TASK_DISPATCH) or has_perm(user, Perm.LEAD),
            "errors": errors,
            "form": request.POST,
        },
    )


def _float(value: str | None, field: str) -> float:
    try:
        return float(value or "")
    except ValueError:
        raise DomainError("NOT_A_NUMBER", str(_("请填写数字")), field=field) from None
