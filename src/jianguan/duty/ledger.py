"""The assessment ledger (考核台账) as an Excel workbook: sheets 岗位 and 民警 with the figures,
and 任务明细 with every task of the period. Times are local (Excel has no time zones)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from jianguan.duty.assessment import Assessment, Figures

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIGURE_HEADERS = [
    "收到任务",
    "按时办结",
    "超时",
    "退回重办",
    "平均接收用时（分钟）",
    "P90接收用时（分钟）",
    "平均办结用时（分钟）",
    "P90办结用时（分钟）",
    "采集信息",
]
TASK_HEADERS = [
    "任务",
    "类别",
    "处置岗位",
    "处置民警",
    "紧急程度",
    "派发时间",
    "接收时间",
    "反馈时间",
    "办结时间",
    "办结时限",
    "是否按时",
    "退回次数",
    "处置结果",
    "状态",
]
TIME_FORMAT = "yyyy-mm-dd hh:mm"
HEADER_FILL = PatternFill("solid", fgColor="EEF2F6")


def _figures(row: Figures) -> list[Any]:
    return [
        row.received,
        row.on_time,
        row.overdue,
        row.returned,
        row.accept_mean,
        row.accept_p90,
        row.close_mean,
        row.close_p90,
        row.records,
    ]


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    """An instant as a naive local time, which is what a spreadsheet cell can hold."""
    if moment is None:
        return None
    return timezone.localtime(moment, timezone.get_default_timezone()).replace(tzinfo=None)


def _sheet(book: Workbook, title: str, headers: list[str], rows: list[list[Any]]) -> Worksheet:
    sheet = book.create_sheet(title)
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in rows:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    for index, header in enumerate(headers, start=1):
        width = max(10, min(40, 2 * len(header) + 2))
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row_cells in sheet.iter_rows(min_row=2):
        for cell in row_cells:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = TIME_FORMAT
    return sheet


def ledger_workbook(assessment: Assessment) -> bytes:
    """The .xlsx bytes of the assessment as this user may see it."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    title = f"{assessment.unit.name} 考核台账 {assessment.period.label}"
    posts = [[row.name, *_figures(row)] for row in assessment.posts]
    if assessment.whole_facility:
        posts.append(["合计", *_figures(assessment.total)])
    _sheet(book, "岗位", ["岗位", *FIGURE_HEADERS], posts)
    _sheet(
        book,
        "民警",
        ["民警", *FIGURE_HEADERS],
        [[row.name, *_figures(row)] for row in assessment.officers],
    )
    tasks = [
        [
            line.title,
            line.category,
            line.post,
            line.officer,
            line.urgency,
            _local(line.dispatched_at),
            _local(line.accepted_at),
            _local(line.handled_at),
            _local(line.closed_at),
            _local(line.handle_due),
            line.on_time or line.verdict_label,
            line.returns,
            line.outcome,
            line.state,
        ]
        for line in assessment.tasks
    ]
    detail = _sheet(book, "任务明细", TASK_HEADERS, tasks)
    detail.column_dimensions["A"].width = 36
    book.properties.title = title
    book.properties.creator = "jianguan"
    book.properties.created = _local(assessment.generated_at)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ledger_filename(assessment: Assessment) -> str:
    return f"{assessment.unit.name}考核台账_{assessment.period.slug}.xlsx"
