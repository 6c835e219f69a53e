"""Staff pages. Thin: each view asks a selector or service and renders the answer."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from jianguan.activity.api import recent_activity
from jianguan.audit.api import audit_entries
from jianguan.codes.api import code_names
from jianguan.core.http import client_address
from jianguan.custody.api import (
    DetaineeStatus,
    audit_list_read,
    detainee_search,
    held_by_unit,
    roll,
)
from jianguan.org.api import (
    SECOND_FACTOR_SESSION_KEY,
    Perm,
    PostKind,
    access_unit,
    actor_for,
    has_perm,
    login_failed,
    login_locked,
    login_succeeded,
    needs_second_factor,
    post_kinds,
    require_perm,
    scope_unit_codes,
    scope_units,
    totp_verify,
    units_facilities,
)
from jianguan.web.views_oversight import home_counts

PAGE_SIZE = 50


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    error = ""
    username = ""
    if request.method == "POST":
        username = request.POST.get("username", "").strip()
        password = request.POST.get("password", "")
        address = client_address(request)
        if login_locked(username=username, address=address):
            error = "登录失败次数过多，账号已暂时锁定，请 15 分钟后再试或联系系统管理员。"
        else:
            user: Any = authenticate(request, username=username, password=password)
            if user is None:
                login_failed(username=username, address=address)
                error = "用户名或密码错误。"
            elif not post_kinds(user) and not user.is_superuser:
                error = "该账号尚未分配岗位，不能登录。请联系系统管理员分配岗位。"
            else:
                login(request, user)
                if needs_second_factor(user):
                    return redirect("web:login_totp")
                login_succeeded(user=user, address=address)
                return redirect(_safe_next(request))
    return render(request, "web/login.html", {"error": error, "username": username})


@login_required
@require_http_methods(["GET", "POST"])
def login_totp_view(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if request.session.get(SECOND_FACTOR_SESSION_KEY) or not needs_second_factor(user):
        return redirect("web:home")
    error = ""
    address = client_address(request)
    if not user.totp_secret:
        error = "该账号需要动态口令，但尚未绑定。请联系系统管理员绑定后再登录。"
    elif request.method == "POST":
        if login_locked(username=user.username, address=address):
            logout(request)
            return render(
                request, "web/login.html", {"error": "动态口令错误次数过多，账号已暂时锁定。"}
            )
        if totp_verify(user, request.POST.get("code", "")):
            request.session[SECOND_FACTOR_SESSION_KEY] = True
            login_succeeded(user=user, address=address)
            return redirect(_safe_next(request))
        login_failed(username=user.username, address=address)
        error = "动态口令不正确，请核对手机上的 6 位数字。"
    return render(request, "web/login_totp.html", {"error": error})


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("web:login")


POST_LINKS: dict[str, list[tuple[Any, str]]] = {
    PostKind.RECEPTION: [(_("来所人员登记"), "#"), (_("在押人员查询"), "web:detainees")],
    PostKind.ADMISSION: [
        (_("收押登记"), "web:admissions"),
        (_("在押点名"), "web:roll"),
        (_("期限看板"), "web:deadlines"),
        (_("在押人员"), "web:detainees"),
    ],
    PostKind.INTERROGATION: [(_("提讯登记"), "web:detainees"), (_("期限看板"), "web:deadlines")],
    PostKind.PATROL: [
        (_("巡视记录"), "#"),
        (_("在押点名"), "web:roll"),
        (_("在押人员"), "web:detainees"),
    ],
    PostKind.CUSTODIAN: [
        (_("谈话教育"), "#"),
        (_("在押点名"), "web:roll"),
        (_("在押人员"), "web:detainees"),
    ],
    PostKind.MEDICAL: [(_("医疗记录"), "#"), (_("在押人员"), "web:detainees")],
    PostKind.LEADER: [
        (_("期限看板"), "web:deadlines"),
        (_("期限通知"), "web:notices"),
        (_("越过规则审核"), "web:overrides"),
        (_("在押点名"), "web:roll"),
        (_("在押人员"), "web:detainees"),
        (_("审计日志"), "web:audit"),
    ],
    PostKind.SUPERVISOR: [
        (_("下级单位"), "web:units"),
        (_("期限看板"), "web:deadlines"),
        (_("在押人员"), "web:detainees"),
    ],
    PostKind.ADMINISTRATOR: [(_("系统管理"), "admin:index"), (_("审计日志"), "web:audit")],
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    kinds = post_kinds(user)
    today_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    context: dict[str, Any] = {
        "posts": [PostKind(k) for k in kinds],
        "links": list(dict.fromkeys(link for k in kinds for link in POST_LINKS.get(k, []))),
        "roll": roll(user=user, today_start=today_start)
        if has_perm(user, Perm.DETAINEE_VIEW)
        else None,
    }
    context |= home_counts(user)
    if has_perm(user, Perm.SUPERVISE):
        counts = held_by_unit(user=user)
        context["facilities"] = [(u, counts.get(u.id, 0)) for u in units_facilities(user)]
    return render(request, "web/home.html", context)


@login_required
def activity_feed(request: HttpRequest) -> HttpResponse:
    """The recent-activity panel, refreshed by htmx on the home page."""
    items = recent_activity(unit_codes=scope_unit_codes(request.user))  # type: ignore[arg-type]
    return render(request, "web/_activity.html", {"items": items})


@login_required
def detainee_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.DETAINEE_VIEW)
    status = request.GET.get("status", "HELD")
    text = request.GET.get("q", "")
    unit_id = request.GET.get("unit") or None
    unit = access_unit(user=user, id=unit_id) if unit_id else None
    qs = detainee_search(
        user=user, status=status or None, unit_id=unit.id if unit else None, text=text
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    audit_list_read(
        actor=actor_for(user, address=client_address(request)),
        ids=[d.id for d in rows],
        query={"status": status, "q": text, "unit": unit_id, "page": page.number},
    )
    context = {
        "page": page,
        "rows": rows,
        "status": status,
        "q": text,
        "unit": unit,
        "statuses": [("HELD", "在押（含出所在外）"), *DetaineeStatus.choices, ("", "全部")],
        "measures": code_names("LEGAL_MEASURE"),
        "stages": code_names("LITIGATION_STAGE"),
        "genders": code_names("GENDER"),
    }
    return render(request, "web/detainee_list.html", context)


@login_required
def units(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    counts = held_by_unit(user=user) if has_perm(user, Perm.DETAINEE_VIEW) else {}
    rows = [(u, counts.get(u.id)) for u in scope_units(user)]
    return render(request, "web/units.html", {"rows": rows})


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    require_perm(user, Perm.AUDIT_VIEW)
    codes = None if user.is_superuser or has_perm(user, Perm.ADMINISTER) else scope_unit_codes(user)
    page = Paginator(audit_entries(unit_codes=codes), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/audit.html", {"page": page})
