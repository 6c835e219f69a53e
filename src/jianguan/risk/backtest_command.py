"""`jianguan risk backtest --model VERSION [--model OTHER …]`: replay the record, print the figures.

Several `--model` options compare versions on the same history, one table with a block per
version (the backtest itself is risk/backtest.py).
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Sequence
from typing import Any

from jianguan.core.errors import DomainError
from jianguan.org.api import Unit
from jianguan.risk.backtest import GradeResult, ModelResult, Period, backtest_node, model_version
from jianguan.risk.facts import INCIDENTS


def _day(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def add_backtest_parser(sub: Any) -> None:
    p = sub.add_parser(
        "backtest",
        help="在记录的历史上回测模型版本：各等级预警的精确率、召回率和提前时间",
    )
    p.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="VERSION",
        help="模型版本（已发布的或内置的）；重复此项可在同一段历史上比较多个版本",
    )
    p.add_argument("--unit", default="", help="单位代码；缺省为本节点全部")
    p.add_argument("--from", dest="start", type=_day, help="开始日期 YYYY-MM-DD（缺省：最早记录）")
    p.add_argument("--to", dest="end", type=_day, help="结束日期 YYYY-MM-DD（含当日，缺省：今天）")
    p.add_argument(
        "--horizon-days", type=_positive, default=14, help="预警期：预警后多少天内的事件算命中"
    )
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


def run_backtest(command: Any, opts: dict[str, Any]) -> None:
    unit_path, place = "", "本节点全部单位"
    if opts["unit"]:
        unit = Unit.objects.filter(code=opts["unit"]).first()
        if unit is None:
            raise DomainError("UNKNOWN_UNIT", f"没有单位 {opts['unit']}", field="unit")
        unit_path, place = unit.path, f"{unit.name}（{unit.code}）"
    versions = [model_version(v, unit_path) for v in dict.fromkeys(opts["model"])]
    period, results = backtest_node(
        versions,
        unit_path=unit_path,
        start=opts.get("start"),
        end=opts.get("end"),
        horizon_days=opts.get("horizon_days") or 14,
    )
    if opts.get("json"):
        command.stdout.write(json.dumps(as_json(period, results), ensure_ascii=False, indent=2))
    else:
        for line in report(place, period, results):
            command.stdout.write(line)


# --- the report --------------------------------------------------------------------------------


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _days(hours: float | None) -> str:
    return "—" if hours is None else f"{hours / 24:.1f}"


def _grade_label(grade: GradeResult) -> str:
    return "全部人日（基准）" if grade.rank == 0 else f"≥ {grade.name}"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded by display width (a Chinese character takes two); numbers right-aligned."""
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        out = []
        for i, cell in enumerate(cells):
            pad = " " * (widths[i] - _width(cell))
            out.append(cell + pad if i < 2 else pad + cell)
        return "  ".join(out).rstrip()

    return [line(header), *(line(r) for r in rows)]


def report(place: str, period: Period, results: Sequence[ModelResult]) -> list[str]:
    horizon = period.horizon.days
    lines = [
        f"风险模型回测：{place}，{period.start} 至 {period.end}，每日 0 时评估（只用此前记录的事实），"
        f"预警期 {horizon} 天",
    ]
    for r in results:
        base = r.grades[0]
        mix = "、".join(
            f"{INCIDENTS.get(k, k)} {r.incidents[k]}" for k in sorted(r.incidents, key=_kind_order)
        )
        lines.append(
            f"模型 {r.version}（{r.origin}）：评估 {base.warnings:,} 人日，"
            f"期间事件 {r.incidents_total} 起" + (f"（{mix}）" if mix else "")
        )
        if base.warnings > base.judged:
            lines.append(
                f"  其中 {base.warnings - base.judged:,} 人日的预警期超出记录末尾，不计入精确率"
            )
    lines.append("")
    header = [
        "模型",
        "预警等级",
        "预警人日",
        f"{horizon}天内发生事件",
        "精确率",
        "提升",
        "预警到的事件",
        "召回率",
        "提前天数中位",
        "P25",
        "P75",
    ]
    rows: list[list[str]] = []
    for r in results:
        for g in r.grades:
            lift = r.lift(g)
            rows.append(
                [
                    r.version,
                    _grade_label(g),
                    f"{g.judged:,}",
                    f"{g.hits:,}",
                    _percent(g.precision),
                    "—" if lift is None else f"{lift:.1f}×",
                    f"{g.warned_total}/{r.incidents_total}",
                    _percent(r.recall(g)),
                    _days(g.lead(0.5)) if g.rank else "—",
                    _days(g.lead(0.25)) if g.rank else "—",
                    _days(g.lead(0.75)) if g.rank else "—",
                ]
            )
    lines += _table(header, rows)
    kinds = sorted({k for r in results for k in r.incidents}, key=_kind_order)
    if kinds:
        lines += ["", "按事件类别的召回率（预警到的事件 / 事件）："]
        kind_header = ["模型", "预警等级", *(INCIDENTS.get(k, k) for k in kinds)]
        kind_rows = [
            [
                r.version,
                _grade_label(g),
                *(f"{g.warned[k]}/{r.incidents[k]} {_percent(r.recall(g, k))}" for k in kinds),
            ]
            for r in results
            for g in r.grades
            if g.rank
        ]
        lines += _table(kind_header, kind_rows)
    lines += [
        "",
        "精确率：该等级及以上的人日中，其后预警期内本人发生事件的比例；提升：精确率 ÷ 基准。",
        "召回率：期间事件中，本人在事件前预警期内至少有一天处于该等级及以上的比例；"
        "提前天数：事件距该窗口内首次预警。",
        "人员档案中的静态信息（案件性质、诉讼阶段等）取当前值，而非当日之值。",
    ]
    return lines


def _kind_order(kind: str) -> tuple[int, str]:
    """The incident kinds in the order facts.py lists them; unknown ones last."""
    order = list(INCIDENTS)
    return (order.index(kind) if kind in order else len(order), kind)


def as_json(period: Period, results: Sequence[ModelResult]) -> dict[str, Any]:
    def lead(g: GradeResult) -> dict[str, float | None] | None:
        if not g.rank:
            return None
        return {
            "median": g.lead(0.5),
            "p25": g.lead(0.25),
            "p75": g.lead(0.75),
            "count": len(g.leads),
        }

    return {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "horizon_days": period.horizon.days,
        "observed_until": period.observed_until.isoformat(),
        "models": [
            {
                "version": r.version,
                "origin": r.origin,
                "incidents": dict(r.incidents),
                "grades": [
                    {
                        "code": g.code,
                        "name": g.name,
                        "baseline": g.rank == 0,
                        "person_days": g.warnings,
                        "judged_person_days": g.judged,
                        "followed_by_incident": g.hits,
                        "precision": g.precision,
                        "lift": r.lift(g),
                        "warned_incidents": g.warned_total,
                        "recall": r.recall(g),
                        "lead_hours": lead(g),
                        "by_kind": {
                            k: {"incidents": n, "warned": g.warned[k], "recall": r.recall(g, k)}
                            for k, n in r.incidents.items()
                        },
                    }
                    for g in r.grades
                ],
            }
            for r in results
        ],
    }
