"""Assessment pages: the figures page by day/week/month, the printable monthly report and the
Excel ledger — what each shows, and that an ordinary officer sees only their own row."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any
from urllib.parse import quote

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from tests.duty.test_assessment import DAY, Clock, build_history, local

pytestmark = pytest.mark.django_db

LATER = local(dt.date(2026, 4, 2), 12)  # when the pages are read


@pytest.fixture
def staff(make_user: Any) -> dict[str, Any]:
    return {
        "patrol": make_user("gz_xunkong", "PATROL", full_name="吴巡控"),
        "custodian": make_user("gz_guanjiao", "CUSTODIAN", full_name="李管教"),
        "custodian2": make_user("gz_guanjiao2", "CUSTODIAN", full_name="王管教"),
        "medical": make_user("gz_yiwu", "MEDICAL", full_name="赵医生"),
        "subcontrol": make_user("gz_fenkong", "SUBCONTROL", full_name="钱分控"),
        "command": make_user("gz_zhihui", "COMMAND", full_name="孙指挥"),
        "leader": make_user("gz_suozhang", "LEADER", full_name="周所长"),
    }


@pytest.fixture
def history(staff: dict[str, Any], make_detainee: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    tasks = build_history(staff, make_detainee("gz_k", name="张三"), clock)
    clock.now = LATER
    return tasks


def _naive(day: dt.date, hour: int, minute: int) -> dt.datetime:
    """A local time as a spreadsheet cell holds it: without a time zone."""
    return local(day, hour, minute).replace(tzinfo=None)


def _text(response: Any) -> str:
    return response.content.decode()


def _row(page: str, table: str, key: str) -> dict[str, str]:
    """The figures of one row (data-row=key) of one table (data-testid=table)."""
    start = page.index(f'data-testid="{table}"')
    body = page[start : page.index("</table>", start)]
    at = body.index(f'data-row="{key}"')
    row = body[at : body.index("</tr>", at)]
    return dict(re.findall(r'data-f="(\w+)">([^<]*)<', row))


def _rows(page: str, table: str) -> list[str]:
    start = page.index(f'data-testid="{table}"')
    return re.findall(r'data-row="([^"]+)"', page[start : page.index("</table>", start)])


def test_the_leader_sees_every_post_and_officer(staff, history, sign_in):
    client = sign_in(staff["leader"])
    page = _text(client.get("/assessment/", {"period": "day", "date": "2026-03-10"}))
    assert "2026年3月10日" in page
    assert _row(page, "posts", "CUSTODIAN") == {
        "received": "6",
        "on_time": "3",
        "overdue": "2",
        "returned": "1",
        "accept_mean": "4.5",
        "accept_p90": "10.0",
        "close_mean": "46.5",
        "close_p90": "90.0",
        "records": "2",
    }
    assert _row(page, "posts", "total")["received"] == "7"
    mine = _row(page, "officers", str(staff["custodian"].id))
    assert (mine["received"], mine["on_time"], mine["accept_mean"], mine["close_p90"]) == (
        "3",
        "3",
        "2.7",
        "40.0",
    )
    assert _row(page, "officers", str(staff["patrol"].id))["accept_mean"] == "—"
    assert "王管教" in page
    assert "赵医生" in page
    # The switcher moves by one period of the same kind.
    assert "?period=day&amp;date=2026-03-09" in page
    assert "?period=day&amp;date=2026-03-11" in page
    assert "/assessment/monthly/?month=2026-03" in page


def test_week_and_month_pages(staff, history, sign_in):
    client = sign_in(staff["command"])
    week = _text(client.get("/assessment/", {"period": "week", "date": "2026-03-12"}))
    assert "2026年第11周（3月9日—3月15日）" in week
    assert _row(week, "posts", "total")["received"] == "8"
    assert "?period=week&amp;date=2026-03-02" in week
    assert "?period=week&amp;date=2026-03-16" in week
    month = _text(client.get("/assessment/", {"period": "month", "date": "2026-03-31"}))
    total = _row(month, "posts", "total")
    assert (total["received"], total["on_time"], total["overdue"], total["records"]) == (
        "10",
        "4",
        "4",
        "11",
    )


def test_an_officer_sees_only_their_own_row(staff, history, sign_in):
    client = sign_in(staff["custodian2"])
    page = _text(client.get("/assessment/", {"period": "day", "date": "2026-03-10"}))
    assert 'data-testid="posts"' not in page
    assert _rows(page, "officers") == [str(staff["custodian2"].id)]
    assert _row(page, "officers", str(staff["custodian2"].id))["overdue"] == "1"
    assert "李管教" not in page
    assert "赵医生" not in page


def test_the_monthly_report_prints(staff, history, sign_in):
    client = sign_in(staff["leader"])
    response = client.get("/assessment/monthly/", {"month": "2026-03"})
    assert response.status_code == 200
    page = _text(response)
    assert "web/print.css" in page
    assert "月度考核报告" in page
    assert "广州市第一看守所" in page
    assert "2026年3月" in page
    summary = page[page.index('data-testid="summary"') : page.index("</dl>")]
    assert dict(re.findall(r'data-f="(\w+)">(\d+)', summary)) == {
        "received": "10",
        "on_time": "4",
        "overdue": "4",
        "returned": "1",
        "records": "11",
    }
    assert "（50.0%）" in summary  # 4 on time of 8 judged
    assert _row(page, "posts", "CUSTODIAN")["received"] == "9"  # all but 医务's one
    assert "duty 2026.3" in page
    assert "2026-04-02 12:00" in page  # generated at, local time


def test_the_ledger_downloads_as_xlsx(staff, history, sign_in):
    client = sign_in(staff["subcontrol"])
    response = client.get("/assessment/ledger.xlsx", {"period": "day", "date": "2026-03-10"})
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = "广州市第一看守所考核台账_2026-03-10.xlsx"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(name)}" in disposition
    assert 'filename="assessment-2026-03-10.xlsx"' in disposition

    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["岗位", "民警", "任务明细"]
    posts = {row[0]: row[1:] for row in book["岗位"].iter_rows(min_row=2, values_only=True)}
    assert posts["管教"] == (6, 3, 2, 1, 4.5, 10, 46.5, 90, 2)
    assert posts["合计"][0] == 7
    officers = {row[0]: row[1:] for row in book["民警"].iter_rows(min_row=2, values_only=True)}
    assert officers["李管教"] == (3, 3, 0, 1, 2.7, 4, 32, 40, 2)
    assert officers["吴巡控"][-1] == 6

    detail = book["任务明细"]
    header = [cell.value for cell in detail[1]]
    assert header[:6] == ["任务", "类别", "处置岗位", "处置民警", "紧急程度", "派发时间"]
    rows = [
        dict(zip(header, row, strict=True)) for row in detail.iter_rows(min_row=2, values_only=True)
    ]
    assert len(rows) == 7
    urgent = next(r for r in rows if r["紧急程度"] == "紧急")
    assert urgent["处置民警"] == "李管教"
    assert urgent["派发时间"] == _naive(DAY, 9, 0)  # local, naive
    assert urgent["反馈时间"] == _naive(DAY, 9, 10)
    assert urgent["办结时间"] == _naive(DAY, 9, 25)
    assert urgent["办结时限"] == _naive(DAY, 9, 15)
    assert (urgent["是否按时"], urgent["退回次数"], urgent["处置结果"]) == ("是", 1, "已处置")
    verdicts = sorted(r["是否按时"] for r in rows)
    assert verdicts == sorted(["是", "是", "否", "否", "是", "是", "已撤销"])


def test_the_officer_ledger_holds_only_their_tasks(staff, history, sign_in):
    client = sign_in(staff["custodian2"])
    response = client.get("/assessment/ledger.xlsx", {"period": "day", "date": "2026-03-10"})
    book = load_workbook(io.BytesIO(response.content))
    assert [row[0] for row in book["民警"].iter_rows(min_row=2, values_only=True)] == ["王管教"]
    assert list(book["岗位"].iter_rows(min_row=2, values_only=True)) == []
    titles = [row[0] for row in book["任务明细"].iter_rows(min_row=2, values_only=True)]
    assert titles == ["异常行为（张三）"]


def test_refusals(staff, make_user, sign_in, client):
    assert client.get("/assessment/").status_code == 302  # to the login page
    client = sign_in(staff["custodian"])
    bad = client.get("/assessment/", {"period": "year"})
    assert bad.status_code == 400
    assert "统计周期应为日、周或月" in _text(bad)
    assert client.get("/assessment/", {"date": "2026-13-01"}).status_code == 400
    assert client.get("/assessment/monthly/", {"month": "March"}).status_code == 400
    city = make_user("gz_city", "SUPERVISOR", unit="gz")
    refused = sign_in(city).get("/assessment/")
    assert refused.status_code == 403
    assert "考核统计按监所生成" in _text(refused)


def test_today_by_default_and_linked_from_the_nav(staff, sign_in):
    page = _text(sign_in(staff["patrol"]).get("/assessment/"))
    assert '<a href="/assessment/">' in page
    today = timezone.localdate()
    assert f"{today.year}年{today.month}月{today.day}日" in page
    assert _rows(page, "officers") == [str(staff["patrol"].id)]
