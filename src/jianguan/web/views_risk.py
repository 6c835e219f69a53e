"""Risk pages (风险评估): the facility's distribution by grade and its trend, the cell board
(the facility as a map of coloured cells) and one cell's score.

Colours and grade names come from the model that governs the facility, so a facility that
publishes its own grades sees its own colours. Each page is rendered whole and then re-fetched
as a fragment whenever the live stream says something changed at the facility; a re-score
done by the outbox consumer reaches an open board within a second.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from jianguan.core.errors import NotFound, PermissionDenied
from jianguan.custody.api import audit_list_read, detainee_search, held_by_unit, roll_by_cell
from jianguan.housing.api import Cell
from jianguan.org.api import Perm, Unit, has_perm
from jianguan.risk.api import (
    Grade,
    RiskFact,
    RiskModel,
    RiskScore,
    Track,
    cell_scores,
    changes_of,
    distribution,
    facts_about,
    models_for,
    person_scores,
    trend_of,
)
from jianguan.web.custody_common import facility_of, parse_uuid, request_actor

PEOPLE_ROWS = 200  # the overview lists this many people; a grade filter narrows the rest
TREND_DAYS = 30
HISTORY_ROWS = 50
FACT_ROWS = 50
UNSCORED = "#9aa5b1"  # a cell or person no model has scored yet


# --- grades and colours ------------------------------------------------------------------------


def ink_on(colour: str) -> str:
    """Black or white text, whichever reads better on `colour` (#rrggbb)."""
    try:
        r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    except ValueError:
        return "#000"
    return "#000" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#fff"


@dataclass(frozen=True)
class Shade:
    """A grade as a page shows it: its code, name and colour."""

    code: str
    name: str
    colour: str
    rank: int = -1

    @property
    def ink(self) -> str:
        return ink_on(self.colour)


class Palette:
    """The grades of one model, to name and colour any stored grade code."""

    def __init__(self, model: RiskModel) -> None:
        self.model = model
        self.by_code = {g.code: g for g in model.grades}

    def shade(self, code: str) -> Shade:
        grade: Grade | None = self.by_code.get(code)
        if grade is None:  # a code of an older version, or not scored yet
            return Shade(code, code or str(_("未评估")), UNSCORED)
        return Shade(grade.code, grade.name, grade.colour, grade.rank)

    def highest_first(self) -> list[Shade]:
        return [self.shade(g.code) for g in reversed(self.model.grades)]


def facility_for(user: Any) -> Unit:
    """The facility whose risk pages the user may see: their own, with the detainee view."""
    unit = facility_of(user)
    if unit is None:
        raise PermissionDenied(str(_("风险评估页面只对监所民警开放")))
    if not has_perm(user, Perm.DETAINEE_VIEW):
        raise PermissionDenied(str(_("当前岗位不能查看在押人员风险")))
    return unit


def when(value: Any) -> dt.datetime | None:
    """A time stored in an explanation (ISO text) as an aware datetime."""
    if not value:
        return None
    return value if isinstance(value, dt.datetime) else parse_datetime(str(value))


def explain(
    factors: list[dict[str, Any]],
    *,
    facts: dict[str, RiskFact],
    people: Collection[str] = (),
    here: str = "",
) -> list[dict[str, Any]]:
    """The explanation's lines with where each fact can be read: its record, else (or if the
    record is this page) its row in the page's fact list; a cell's top occupant links to their
    risk page."""
    rows = []
    for line in factors:
        ref = str(line.get("fact") or "")
        link = ""
        if ref in facts:
            own = facts[ref].link
            link = own if own and own != here else f"#fact-{ref}"
        elif ref in people:
            link = f"/risk/people/{ref}/"
        rows.append(line | {"link": link, "at": when(line.get("at"))})
    return rows


def fact_rows(facts: list[RiskFact], here: str) -> list[dict[str, Any]]:
    """Facts with their links; a link back to the page itself is dropped."""
    return [{"f": f, "link": f.link if f.link and f.link != here else ""} for f in facts]


def change_rows(changes: list[Any], palette: Palette) -> list[dict[str, Any]]:
    return [
        {
            "c": c,
            "to": palette.shade(c.grade),
            "from": palette.shade(c.from_grade) if c.from_grade else None,
            "rose": bool(c.from_grade)
            and palette.model.rank(c.grade) > palette.model.rank(c.from_grade),
        }
        for c in changes
    ]


# --- 风险概况 -----------------------------------------------------------------------------


@dataclass
class Share:
    shade: Shade
    people: int
    cells: int
    percent: int = 0


def _shares(counts: dict[str, dict[str, int]], palette: Palette) -> list[Share]:
    people, cells = counts["people"], counts["cells"]
    total = sum(people.values()) or 1
    rows = [
        Share(shade, people.get(shade.code, 0), cells.get(shade.code, 0))
        for shade in palette.highest_first()
    ]
    known = {s.shade.code for s in rows}
    for code in sorted((set(people) | set(cells)) - known):  # grades of an older version
        rows.append(Share(palette.shade(code), people.get(code, 0), cells.get(code, 0)))
    for row in rows:
        row.percent = round(100 * row.people / total)
    return rows


@dataclass
class Day:
    """One bar of the trend: the day's people by grade, lowest grade at the bottom."""

    day: dt.date
    total: int
    parts: list[tuple[Shade, int, float]] = field(default_factory=list)  # shade, count, % height


def _trend(unit: Unit, palette: Palette, counts: dict[str, dict[str, int]]) -> list[Day]:
    today = timezone.localdate()
    first = today - dt.timedelta(TREND_DAYS - 1)
    rows = {r.day: r.people for r in trend_of(unit.id, since=first)}
    rows[today] = counts["people"]  # today as it is now, not as this morning's snapshot
    # Every day of the window has its slot, so the time axis stays put; a day without a
    # snapshot (the facility had no scores yet) is an empty slot.
    days = [
        (first + dt.timedelta(i), rows.get(first + dt.timedelta(i), {})) for i in range(TREND_DAYS)
    ]
    tallest = max((sum(p.values()) for _day, p in days), default=0) or 1
    out = []
    for day, people in days:
        bar = Day(day, sum(people.values()))
        order = sorted(people, key=lambda code: palette.model.rank(code))
        for code in order:
            if people[code]:
                bar.parts.append((palette.shade(code), people[code], 100 * people[code] / tallest))
        out.append(bar)
    return out


def _overview_context(user: Any, unit: Unit, grade: str) -> dict[str, Any]:
    governing = models_for(unit.path)
    palette = Palette(governing.live.pack)
    counts = distribution(unit.id)
    scored = person_scores(unit.id, palette.model, grade=grade)
    rows = list(scored[:PEOPLE_ROWS])
    shown = scored.count() if len(rows) == PEOPLE_ROWS else len(rows)
    held = held_by_unit(user=user).get(unit.id, 0)
    shadow = None
    if governing.shadow is not None:
        shadow_palette = Palette(governing.shadow.pack)
        shadow = {
            "version": governing.shadow.version,
            "title": shadow_palette.model.title,
            "shares": _shares(distribution(unit.id, Track.SHADOW), shadow_palette),
        }
    return {
        "unit": unit,
        "live": governing.live,
        "model": palette.model,
        "shares": _shares(counts, palette),
        "held": held,
        "unscored": max(0, held - sum(counts["people"].values())),
        "trend": _trend(unit, palette, counts),
        "shadow": shadow,
        "grade": grade,
        "grade_shade": palette.shade(grade) if grade else None,
        "rows": [{"s": s, "shade": palette.shade(s.grade)} for s in rows],
        "count": shown,
        "more": max(0, shown - len(rows)),
    }


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    unit = facility_for(user)
    grade = request.GET.get("grade", "")
    context = _overview_context(user, unit, grade)
    audit_list_read(
        actor=request_actor(request),
        ids=[r["s"].detainee_id for r in context["rows"]],
        query={"view": "risk-overview", "grade": grade},
    )
    return render(request, "web/risk/overview.html", context)


@login_required
def overview_panel(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    unit = facility_for(user)
    context = _overview_context(user, unit, request.GET.get("grade", ""))
    return render(request, "web/risk/_overview.html", context)


# --- 监室风险图 ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    cell_id: Any
    number: str
    shade: Shade
    score: float | None
    occupants: int
    capacity: int

    @property
    def over(self) -> bool:
        return self.occupants > self.capacity


def _board_context(unit: Unit) -> dict[str, Any]:
    palette = Palette(models_for(unit.path).live.pack)
    risks = {r.cell_id: r for r in cell_scores(unit.id)}
    tiles = []
    for c in roll_by_cell(unit.id):
        risk = risks.get(c.cell_id)
        shade = palette.shade(risk.grade if risk else "")
        tiles.append(
            (
                c.area,
                Tile(
                    c.cell_id,
                    c.number,
                    shade,
                    risk.score if risk else None,
                    c.present + c.out,
                    c.capacity,
                ),
            )
        )
    areas = [
        (area or str(_("未分监区")), [t for _a, t in group])
        for area, group in itertools.groupby(tiles, key=lambda pair: pair[0])
    ]
    counts: dict[str, int] = {}
    for _area, tile in tiles:
        counts[tile.shade.code] = counts.get(tile.shade.code, 0) + 1
    legend = [(shade, counts.get(shade.code, 0)) for shade in palette.highest_first()]
    return {
        "unit": unit,
        "areas": areas,
        "legend": legend,
        "unscored": counts.get("", 0),
        "model": palette.model,
    }


@login_required
def board(request: HttpRequest) -> HttpResponse:
    unit = facility_for(request.user)
    return render(request, "web/risk/board.html", _board_context(unit))


@login_required
def board_panel(request: HttpRequest) -> HttpResponse:
    unit = facility_for(request.user)
    return render(request, "web/risk/_board.html", _board_context(unit))


# --- one cell ------------------------------------------------------------------------------


def _cell(unit: Unit, cell_id: str) -> Any:
    cell = Cell.objects.filter(id=parse_uuid(cell_id, str(_("监室"))), unit=unit).first()
    if cell is None:
        raise NotFound(str(_("监室")))
    return cell


def _cell_context(user: Any, unit: Unit, cell: Any) -> dict[str, Any]:
    governing = models_for(unit.path)
    palette = Palette(governing.live.pack)
    risk = cell_scores(unit.id).filter(cell_id=cell.id).first()
    shadow = cell_scores(unit.id, track=Track.SHADOW).filter(cell_id=cell.id).first()
    people = list(
        detainee_search(user=user, status="HELD", unit_id=unit.id)
        .filter(cell_id=cell.id)
        .order_by("name", "number")
    )
    scores = {
        s.detainee_id: s
        for s in RiskScore.objects.filter(detainee_id__in=[d.id for d in people], track=Track.LIVE)
    }
    facts = list(facts_about(cell_id=cell.id)[:FACT_ROWS])
    factors = risk.factors if risk else []
    refs = [str(line["fact"]) for line in factors if line.get("fact")]
    linked = {str(f.id): f for f in RiskFact.objects.filter(id__in=_uuids(refs))}
    people.sort(
        key=lambda d: (
            -palette.shade(scores[d.id].grade).rank if d.id in scores else 1,
            -scores[d.id].score if d.id in scores else 0,
        )
    )
    occupants = [
        {
            "d": d,
            "score": scores.get(d.id),
            "shade": palette.shade(scores[d.id].grade if d.id in scores else ""),
        }
        for d in people
    ]
    return {
        "unit": unit,
        "cell": cell,
        "risk": risk,
        "shade": palette.shade(risk.grade if risk else ""),
        "shadow": shadow,
        "shadow_shade": (
            Palette(governing.shadow.pack).shade(shadow.grade)
            if shadow is not None and governing.shadow is not None
            else None
        ),
        "lines": explain(factors, facts=linked, people={str(d.id) for d in people}),
        "occupants": occupants,
        "changes": change_rows(list(changes_of(cell_id=cell.id)[:HISTORY_ROWS]), palette),
        "facts": fact_rows(facts, ""),
        "model": palette.model,
    }


def _uuids(refs: list[str]) -> list[uuid.UUID]:
    """The references that are ids (an explanation may name a person instead of a fact)."""
    out = []
    for ref in refs:
        try:
            out.append(uuid.UUID(ref))
        except ValueError:
            continue
    return out


@login_required
def cell_detail(request: HttpRequest, cell_id: str) -> HttpResponse:
    user: Any = request.user
    unit = facility_for(user)
    cell = _cell(unit, cell_id)
    context = _cell_context(user, unit, cell)
    audit_list_read(
        actor=request_actor(request),
        ids=[o["d"].id for o in context["occupants"]],
        query={"view": "risk-cell", "cell": str(cell.id)},
    )
    return render(request, "web/risk/cell.html", context)


@login_required
def cell_panel(request: HttpRequest, cell_id: str) -> HttpResponse:
    user: Any = request.user
    unit = facility_for(user)
    cell = _cell(unit, cell_id)
    return render(request, "web/risk/_cell.html", _cell_context(user, unit, cell))
