"""The duty catalogue editor (规则包 duty): the catalogue in force at a facility, as a table per
post, and an editor that validates the pack's YAML and publishes the facility's own version.

The catalogue is data (DESIGN.md §5): a leader changes which post records what and where it
goes by publishing a version, never by a code change. The YAML in the editor starts from the
pack in force — the built-in file, or the published text exactly as it was published — and a
refused text comes back with the line at fault and everything that was typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jianguan.core.errors import DomainError, NotFound, PermissionDenied
from jianguan.duty.api import Category, DutyPack, Urgency, post_label
from jianguan.org.api import Perm, PostKind, Unit, has_perm, units_facilities
from jianguan.rules.api import (
    BUILTIN,
    LivePack,
    pack_for,
    pack_kinds,
    pack_publish,
    packs_published,
    parse_source,
)
from jianguan.web.custody_common import facility_of, form_errors, request_actor

KIND = "duty"
MAX_SOURCE = 200_000  # characters; the built-in pack is about 5,000
LINE = re.compile(r"^第 (\d+) 行：")


def _require_editor(user: Any) -> None:
    if not (has_perm(user, Perm.LEAD) or has_perm(user, Perm.RULES_PUBLISH)):
        raise PermissionDenied(str(_("只有所领导或系统管理员可以查看和发布动态信息目录")))


def _facility(user: Any, code: str) -> Unit:
    """The facility the page is about: the one named, if in the user's scope, else their own."""
    if code:
        unit = units_facilities(user).filter(code=code).first()
        if unit is None:
            raise NotFound("监所")
        return unit
    own = facility_of(user) or units_facilities(user).order_by("code").first()
    if own is None:
        raise DomainError("NO_FACILITY", str(_("您的单位下没有监所")))
    return own


# --- the catalogue as tables ----------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One category as the table shows it."""

    category: Category
    recorded_by: str
    handler: str
    urgency: str
    accept_minutes: int | None
    handle_minutes: int | None


@dataclass(frozen=True)
class Section:
    title: str
    rows: list[Row]


def _minutes(delta: Any) -> int:
    return int(delta.total_seconds() // 60)


def _row(pack: DutyPack, c: Category) -> Row:
    limits = pack.limits_for(c, c.urgency)
    return Row(
        category=c,
        recorded_by="、".join(post_label(p) for p in c.recorded_by),
        handler=post_label(c.handler) if c.handler else "",
        urgency=str(Urgency(c.urgency).label),
        accept_minutes=_minutes(limits.accept) if c.task else None,
        handle_minutes=_minutes(limits.handle) if c.task else None,
    )


def _sections(pack: DutyPack) -> list[Section]:
    """A table per post that records something, in the posts' order, then what the platform
    itself raises (deadline notices)."""
    sections = []
    for kind in PostKind:
        rows = [_row(pack, c) for c in pack.recordable_by((kind.value,))]
        if rows:
            sections.append(Section(str(kind.label), rows))
    generated = [_row(pack, c) for c in pack.categories.values() if not c.recorded_by]
    if generated:
        sections.append(Section(str(_("平台生成")), generated))
    return sections


def _limits(pack: DutyPack) -> list[dict[str, Any]]:
    return [
        {
            "urgency": Urgency(u).label,
            "accept": _minutes(pack.limits[u].accept),
            "handle": _minutes(pack.limits[u].handle),
            "escalate": _minutes(pack.limits[u].escalate),
        }
        for u in Urgency.values
    ]


def _source(live: LivePack) -> str:
    """The YAML of the pack in force: the built-in file, or the text as it was published."""
    if live.origin == BUILTIN:
        return pack_kinds()[KIND].builtin_path.read_text(encoding="utf-8")
    record = packs_published(KIND).filter(id=live.origin).first()
    return record.source if record is not None else ""


def _trial(unit: Unit) -> LivePack | None:
    try:
        return pack_for(KIND, unit.path, shadow=True)
    except DomainError:
        return None


def _context(user: Any, unit: Unit, **extra: Any) -> dict[str, Any]:
    live = pack_for(KIND, unit.path)
    pack: DutyPack = live.pack
    published = None
    if live.origin != BUILTIN:
        published = packs_published(KIND).filter(id=live.origin).first()
    context = {
        "unit": unit,
        "facilities": list(units_facilities(user).order_by("code")),
        "live": live,
        "builtin": live.origin == BUILTIN,
        "published": published,
        "own_version": live.unit_code == unit.code,
        "trial": _trial(unit),
        "pack": pack,
        "limits": _limits(pack),
        "escalation": " → ".join(post_label(p) for p in pack.escalation),
        "sections": _sections(pack),
        "source": _source(live),
        "error": None,
        "error_line": None,
        "checked": None,
        "shadow": False,
    }
    return context | extra


def _error_line(text: str, message: str) -> dict[str, Any] | None:
    """The line a refusal names, with its text, so the leader sees what to change."""
    match = LINE.match(message)
    if match is None:
        return None
    number = int(match.group(1))
    lines = text.splitlines()
    return {"number": number, "text": lines[number - 1] if 0 < number <= len(lines) else ""}


def _page_url(unit: Unit, own: Unit | None) -> str:
    url = reverse("web:rules_duty")
    return url if own is not None and own.id == unit.id else f"{url}?unit={unit.code}"


@login_required
def duty_catalogue(request: HttpRequest) -> HttpResponse:
    """Show the catalogue in force; on POST validate ("check") or publish the edited YAML."""
    user: Any = request.user
    _require_editor(user)
    unit = _facility(user, request.GET.get("unit", "") or request.POST.get("unit", ""))
    if request.method != "POST":
        return render(request, "web/rules/duty.html", _context(user, unit))

    text = request.POST.get("source", "").replace("\r\n", "\n")
    shadow = request.POST.get("shadow") == "on"
    publish = request.POST.get("action") == "publish"
    try:
        if len(text) > MAX_SOURCE:
            raise DomainError(
                "TOO_LONG", str(_("规则包文本过长，请检查是否粘贴了多余内容")), field="source"
            )
        if publish:
            record = pack_publish(
                actor=request_actor(request),
                kind=KIND,
                text=text,
                unit_code=unit.code,
                shadow=shadow,
            )
            label = _("已发布试运行版本") if shadow else _("已发布并生效")
            messages.success(request, f"{label}：{record.version}（{unit.name}）")
            return redirect(_page_url(unit, facility_of(user)))
        content, pack = parse_source(KIND, text)
    except DomainError as exc:
        form_errors(exc)  # a 404 or 403 is a page of its own
        context = _context(
            user,
            unit,
            source=text,
            shadow=shadow,
            error=exc.message,
            error_line=_error_line(text, exc.message),
        )
        return render(request, "web/rules/duty.html", context, status=400)
    checked = {"version": content["version"], "count": len(pack.categories)}
    context = _context(user, unit, source=text, shadow=shadow, checked=checked)
    return render(request, "web/rules/duty.html", context)
