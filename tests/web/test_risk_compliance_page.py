"""The graded-management compliance page (/risk/compliance/): a facility's leaders and command
posts see the figures of the hand-built week (tests/risk/test_measures.py), a supervisor sees
the facilities below them, and everyone else sees nothing of it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from tests.risk.test_measures import AFTER, Clock, build_history

pytestmark = pytest.mark.django_db

WEEK = {"period": "week", "date": "2026-03-04"}
NAMES = ("李四", "张三", "王五", "赵六")


@pytest.fixture
def staff(make_user: Callable[..., Any]) -> dict[str, Any]:
    return {
        "custodian": make_user("gz_guanjiao", "CUSTODIAN", full_name="李管教"),
        "patrol": make_user("gz_xunkong", "PATROL", full_name="吴巡控"),
        "subcontrol": make_user("gz_fenkong", "SUBCONTROL", full_name="钱分控"),
        "command": make_user("gz_zhihui", "COMMAND", full_name="孙指挥"),
        "leader": make_user("gz_suozhang", "LEADER", full_name="周所长"),
        "sz_leader": make_user("sz_suozhang", "LEADER", unit="sz_k", full_name="深所长"),
        "gz_supervisor": make_user("gz_zhidui", "SUPERVISOR", unit="gz", full_name="广州支队"),
        "sz_supervisor": make_user("sz_zhidui", "SUPERVISOR", unit="sz", full_name="深圳支队"),
    }


@pytest.fixture
def cells(tree: dict[str, Any]) -> dict[str, Any]:
    from jianguan.housing.api import Cell, CellGender, CellKind

    def cell(number: str, capacity: int) -> Any:
        return Cell.objects.create(
            unit=tree["gz_k"],
            number=number,
            area="一监区",
            gender=CellGender.MALE,
            kind=CellKind.ORDINARY,
            capacity=capacity,
        )

    return {"101": cell("101", 2), "102": cell("102", 12)}


@pytest.fixture
def week(
    monkeypatch: pytest.MonkeyPatch,
    make_detainee: Callable[..., Any],
    cells: dict[str, Any],
    staff: dict[str, Any],
) -> dict[str, Any]:
    clock = Clock(AFTER)
    monkeypatch.setattr(timezone, "now", clock)
    return build_history(clock, make_detainee, cells, staff)


def _text(response: Any) -> str:
    return response.content.decode()


def _row(page: str, table: str, key: str) -> dict[str, str]:
    start = page.index(f'data-testid="{table}"')
    body = page[start : page.index("</table>", start)]
    at = body.index(f'data-row="{key}"')
    row = body[at : body.index("</tr>", at)]
    return dict(re.findall(r'data-f="(\w+)">([^<]*)<', row))


def _failures(page: str) -> list[tuple[str, str]]:
    start = page.index('data-testid="failures"')
    body = page[start : page.index("</table>", start)]
    names = re.findall(r'data-f="name"><a href="[^"]+">([^<]+)</a>', body)
    states = re.findall(r'data-f="status">([^<]+)<', body)
    return list(zip(names, states, strict=True))


def test_the_leader_sees_the_weeks_figures_by_grade_and_who_was_missed(
    staff, week, sign_in, django_assert_max_num_queries
):
    client = sign_in(staff["leader"])
    with django_assert_max_num_queries(40):
        response = client.get("/risk/compliance/", WEEK)
    assert response.status_code == 200
    page = _text(response)
    assert "分级管理落实情况" in page
    assert "2026年第10周（3月2日—3月8日）" in page
    assert re.search(r'data-f="rate">57\.1%<', page)
    assert _row(page, "grades", "LEVEL1") == {
        "people": "1",
        "talk_required": "5",
        "talk_on_time": "3",
        "talk_late": "0",
        "talk_missed": "2",
        "talk_pending": "0",
        "review_required": "5",
        "review_on_time": "4",
        "review_late": "0",
        "review_missed": "1",
        "review_pending": "0",
        "rate": "70.0%",
    }
    assert _row(page, "grades", "NORMAL")["talk_late"] == "1"
    total = _row(page, "grades", "total")
    assert (total["talk_required"], total["review_required"], total["rate"]) == ("8", "6", "57.1%")
    assert _failures(page) == [
        ("张三", "逾期完成"),
        ("赵六", "未落实"),
        ("王五", "未落实"),
        ("李四", "未落实"),
        ("李四", "未落实"),
        ("李四", "未落实"),
    ]
    assert f'href="/risk/people/{week["zhang"].id}/"' in page
    assert _row(page, "people", str(week["li"].id))["talks"] == "3 / 5"


def test_reading_the_page_is_audited_with_the_people_shown(staff, week, sign_in):
    from jianguan.audit.models import AuditEntry

    sign_in(staff["subcontrol"]).get("/risk/compliance/", WEEK)
    entry = AuditEntry.objects.filter(action="detainee.list").latest("seq")
    assert entry.detail["query"]["page"] == "risk.compliance"
    assert set(entry.detail["ids"]) == {str(week[k].id) for k in ("li", "zhang", "wang", "zhao")}


@pytest.mark.parametrize("who", ["subcontrol", "command"])
def test_command_posts_may_open_it(staff, week, sign_in, who):
    page = _text(sign_in(staff[who]).get("/risk/compliance/", WEEK))
    assert re.search(r'data-f="rate">57\.1%<', page)


@pytest.mark.parametrize("who", ["custodian", "patrol"])
def test_other_posts_are_refused_and_see_no_names(staff, week, sign_in, who):
    response = sign_in(staff[who]).get("/risk/compliance/", WEEK)
    assert response.status_code == 403
    page = _text(response)
    assert "分级管理落实情况只对分控、指挥中心和所领导开放" in page
    assert not any(name in page for name in NAMES)


def test_anonymous_is_sent_to_log_in(week, client):
    response = client.get("/risk/compliance/", WEEK)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_another_facility_sees_only_its_own(staff, week, sign_in):
    page = _text(sign_in(staff["sz_leader"]).get("/risk/compliance/", WEEK))
    assert "深圳市第一看守所" in page
    assert not any(name in page for name in NAMES)
    assert re.search(r'data-f="rate">—<', page)


def test_a_supervisor_chooses_among_the_facilities_below(staff, week, sign_in, tree):
    client = sign_in(staff["gz_supervisor"])
    page = _text(client.get("/risk/compliance/", WEEK))
    assert "广州市拘留所" in page  # the first facility by code
    assert 'data-testid="facility"' in page
    assert "广州市第一看守所" in page
    page = _text(client.get("/risk/compliance/", {**WEEK, "unit": str(tree["gz_k"].id)}))
    assert re.search(r'data-f="rate">57\.1%<', page)
    assert f"unit={tree['gz_k'].id}" in page  # the period links keep the facility


def test_a_supervisor_elsewhere_gets_not_found(staff, week, sign_in, tree):
    response = sign_in(staff["sz_supervisor"]).get(
        "/risk/compliance/", {**WEEK, "unit": str(tree["gz_k"].id)}
    )
    assert response.status_code == 404
    assert not any(name in _text(response) for name in NAMES)


def test_a_bad_date_says_what_is_wrong(staff, week, sign_in):
    response = sign_in(staff["leader"]).get("/risk/compliance/", {"date": "2026-13-01"})
    assert response.status_code == 400
    assert "日期格式应为 年-月-日" in _text(response)
