"""The command screen (指挥大屏): a facility's roll, cells, open tasks and alerts, overdue items
and today's movements, each a live fragment — only for the facility's command posts and leaders,
and only about their own facility."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from tests.custody.factories import belongings_step, health_step, person_step, photo, search_step

PANELS = ("roll", "cells", "tasks", "overdue", "movements")
GZ_NAMES = ("甲在外", "乙提讯", "丙超员", "丁普通", "戊超期")


def _text(response: Any) -> str:
    return response.content.decode()


def _figure(page: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">([^<]*)<', page)
    assert found, testid
    return found.group(1)


@pytest.fixture
def staff(make_user: Callable[..., Any]) -> dict[str, Any]:
    return {
        "command": make_user("gz_zhihui", "COMMAND", full_name="孙指挥"),
        "subcontrol": make_user("gz_fenkong", "SUBCONTROL", full_name="钱分控"),
        "leader": make_user("gz_suozhang", "LEADER", full_name="周所长"),
        "patrol": make_user("gz_xunkong", "PATROL", full_name="吴巡控"),
        "custodian": make_user("gz_guanjiao", "CUSTODIAN", full_name="李管教"),
        "admission": make_user("gz_shouya", "ADMISSION", gender="1", full_name="陈收押"),
        "sz_command": make_user("sz_zhihui", "COMMAND", unit="sz_k", full_name="深圳指挥"),
        "city": make_user("gz_city", "SUPERVISOR", unit="gz", full_name="市支队"),
    }


@pytest.fixture
def facility(
    staff: dict[str, Any], tree: dict[str, Any], make_detainee: Callable[..., Any]
) -> dict[str, Any]:
    """广州一看 this morning: five held (cell 101 over capacity, one out to hospital, one back
    from 提讯, one admitted today on a 拘留 that has run out), four tasks in different states;
    深圳一看 holds one person of its own."""
    from jianguan.custody.api import (
        admission_add_photo,
        admission_complete,
        admission_save_step,
        admission_start,
        deadline_watch,
        movement_record,
    )
    from jianguan.duty.api import Task, escalate_due, info_record, task_accept, task_handle
    from jianguan.housing.api import Cell
    from jianguan.org.api import actor_for

    def cell(unit: str, number: str, capacity: int) -> Any:
        return Cell.objects.create(
            unit=tree[unit],
            number=number,
            area="一监区",
            kind="ORDINARY",
            gender="1",
            capacity=capacity,
        )

    c101, c102 = cell("gz_k", "101", 2), cell("gz_k", "102", 12)
    cell("sz_k", "901", 12)
    sz_cell = Cell.objects.get(number="901")
    people = {
        "out": make_detainee(name="甲在外", cell=c101),
        "back": make_detainee(name="乙提讯", cell=c101),
        "crowd": make_detainee(name="丙超员", cell=c101),
        "plain": make_detainee(name="丁普通", cell=c102),
        "sz": make_detainee("sz_k", name="深圳人", cell=sz_cell),
    }

    # 戊超期: admitted through the services today on a 拘留证 executed five days ago.
    clerk = staff["admission"]
    actor = actor_for(clerk)
    admission = admission_start(actor=actor, unit=clerk.unit)
    executed = f"{timezone.localtime(timezone.now() - dt.timedelta(days=5)):%Y-%m-%dT%H:%M}"
    steps = {
        "person": person_step(name="戊超期", document_name="戊超期", executed_at=executed),
        "health": health_step(),
        "search": search_step(clerk),
        "belongings": belongings_step(),
    }
    for step, data in steps.items():
        admission = admission_save_step(actor=actor, admission=admission, step=step, data=data)
    admission_add_photo(actor=actor, admission=admission, upload=photo())
    people["expired"] = admission_complete(actor=actor, admission=admission)
    deadline_watch()  # the overdue alert for 戊超期

    now = timezone.now()
    movement_record(
        actor=actor,
        detainee=people["out"],
        kind="OUT_MEDICAL",
        destination="市第一人民医院",
        escort="刘警官",
        at=now - dt.timedelta(minutes=40),
    )
    movement_record(
        actor=actor,
        detainee=people["back"],
        kind="OUT_INTERROGATION",
        destination="天河区分局",
        escort="王警官",
        at=now - dt.timedelta(minutes=30),
    )
    movement_record(
        actor=actor, detainee=people["back"], kind="RETURN", at=now - dt.timedelta(minutes=5)
    )

    def record(category: str, text: str, **where: Any) -> Any:
        return info_record(user=staff["patrol"], category=category, text=text, **where).task

    urgent = record("PATROL_EMERGENCY", "两人推搡", cell_id=c102.id)
    high = record("PATROL_ABNORMAL_BEHAVIOUR", "来回走动", detainee_id=people["crowd"].id)
    late = record("PATROL_CELL_VIOLATION", "私藏物品", cell_id=c102.id)
    done = record("PATROL_CELL_VIOLATION", "大声喧哗", cell_id=c102.id)
    done = task_accept(user=staff["custodian"], task=done)
    task_handle(user=staff["custodian"], task=done, feedback="已教育", outcome="RESOLVED")
    # The clock moves on: nobody accepted the 紧急 task within its 2 minutes, so it goes up to
    # 分控; the violation was reported an hour ago and is past its 30 minutes to accept.
    assert escalate_due(now + dt.timedelta(minutes=3)) == 1
    hour_ago = now - dt.timedelta(hours=1)
    Task.objects.filter(id=late.id).update(
        created_at=hour_ago,
        dispatched_at=hour_ago,
        accept_due=hour_ago + dt.timedelta(minutes=30),
        handle_due=hour_ago + dt.timedelta(hours=8),
        escalate_at=None,
    )
    return {"people": people, "urgent": urgent, "high": high, "late": late, "done": done}


def _panels(client: Client) -> dict[str, str]:
    pages = {}
    for panel in PANELS:
        response = client.get(f"/command/panels/{panel}/")
        assert response.status_code == 200, panel
        pages[panel] = _text(response)
    return pages


def test_screen_is_a_wall_of_live_panels(staff, facility, sign_in):
    """The page has no navigation chrome; each panel loads its fragment on load, on every live
    event and every 30 s; the live script and the live indicator are there."""
    page = _text(sign_in(staff["command"]).get("/command/"))
    assert 'class="top"' not in page  # no navigation bar on the wall
    assert "web/command.css" in page
    assert 'id="live-script"' in page
    assert 'data-url="/live/events/"' in page
    assert "data-live-status" in page
    assert "data-clock" in page
    assert "广州市第一看守所" in page
    for panel in PANELS:
        assert f'hx-get="/command/panels/{panel}/"' in page
    assert page.count('hx-trigger="load, live from:body, every 30s"') == len(PANELS)


def test_panels_show_the_facility_numbers(staff, facility, sign_in):
    pages = _panels(sign_in(staff["command"]))

    roll = pages["roll"]
    assert _figure(roll, "held") == "5"
    assert _figure(roll, "present") == "4"
    assert _figure(roll, "out") == "1"
    assert _figure(roll, "admitted-today") == "1"
    assert _figure(roll, "unplaced") == "1"
    assert "甲在外" in roll
    assert "市第一人民医院" in roll

    cells = pages["cells"]
    assert 'data-cell="101"' in cells
    assert 'data-cell="901"' not in cells
    assert _figure(cells, "cells-over").endswith("1")
    tile = cells[cells.index('data-cell="101"') : cells.index('data-cell="102"')]
    assert 'class="cell over busy"' in cells  # 101: three held for two places, a task open
    assert '<b data-testid="cell-present">2</b><i>+1</i>/2' in tile

    tasks = pages["tasks"]
    assert _figure(tasks, "tasks-open") == "3"
    assert _figure(tasks, "tasks-urgent") == "1"
    assert _figure(tasks, "tasks-escalated") == "1"
    assert _figure(tasks, "expired-alerts") == "1"
    assert _figure(tasks, "group-urgent") == "1"
    assert _figure(tasks, "group-high") == "1"
    assert _figure(tasks, "group-normal") == "1"
    assert "戊超期" in tasks  # the overdue-custody alert

    overdue = pages["overdue"]
    assert _figure(overdue, "overdue-tasks") == "1"
    assert _figure(overdue, "escalated-tasks") == "1"
    assert _figure(overdue, "clocks-expired") == "1"
    assert "戊超期" in overdue
    assert "已上报分控" in overdue

    moves = pages["movements"]
    assert _figure(moves, "movements-total") == "3"
    assert moves.count("乙提讯") == 2
    for kind in ("出所就医", "提解出所", "回所"):
        assert kind in moves


def test_leader_and_subcontrol_may_open_it(staff, facility, sign_in, client):
    for who in ("leader", "subcontrol"):
        client.logout()
        signed = sign_in(staff[who])
        assert signed.get("/command/").status_code == 200
        assert _figure(_text(signed.get("/command/panels/roll/")), "held") == "5"


def test_another_facility_sees_none_of_this_one(staff, facility, sign_in):
    """深圳's command post sees its own one person and nothing of 广州一看."""
    client = sign_in(staff["sz_command"])
    pages = _panels(client)
    joined = "".join(pages.values()) + _text(client.get("/command/"))
    for name in GZ_NAMES:
        assert name not in joined
    assert "广州市第一看守所" not in joined
    assert _figure(pages["roll"], "held") == "1"
    assert 'data-cell="901"' in pages["cells"]
    assert 'data-cell="101"' not in pages["cells"]
    assert _figure(pages["tasks"], "tasks-open") == "0"
    assert _figure(pages["tasks"], "expired-alerts") == "0"
    assert _figure(pages["overdue"], "clocks-expired") == "0"
    assert _figure(pages["movements"], "movements-total") == "0"


@pytest.mark.parametrize("who", ["patrol", "custodian", "city"])
def test_others_are_refused(staff, facility, sign_in, who):
    """A patrol officer, a custodian and a city supervisor get 403 on the page and every panel,
    with none of the facility's data."""
    client = sign_in(staff[who])
    for url in ["/command/", *(f"/command/panels/{p}/" for p in PANELS)]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "甲在外" not in _text(response)


def test_anonymous_is_sent_to_log_in(facility, client):
    response = client.get("/command/panels/roll/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_unknown_panel_is_404(staff, facility, sign_in):
    assert sign_in(staff["command"]).get("/command/panels/secrets/").status_code == 404


def test_nav_links_the_screen_for_command_posts_only(staff, tree, sign_in, client):
    assert 'href="/command/"' in _text(sign_in(staff["command"]).get("/"))
    client.logout()
    assert 'href="/command/"' not in _text(sign_in(staff["patrol"]).get("/"))
