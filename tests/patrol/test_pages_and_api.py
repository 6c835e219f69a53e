"""The pages (巡视签到, 巡视逾期, 监室值班) render for the posts that use them and refuse the others;
the check-in button and the reason form work; /api/v1/patrol offers the same."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.devices.conftest import T0
from tests.patrol.conftest import minutes

pytestmark = pytest.mark.django_db

API = "/api/v1/patrol"


def _lapse_now(cells: dict[str, Any]) -> Any:
    """A lapse of 102, opened by the timer an hour after the watch began (real clock)."""
    from jianguan.patrol.api import PatrolLapse, lapses_open

    now = timezone.now()
    lapses_open(now=now - minutes(70))
    lapses_open(now=now)
    return PatrolLapse.objects.get(cell=cells["102"])


class Caller:
    """A client speaking JSON with one user's bearer token."""

    def __init__(self, client: Client, user: Any) -> None:
        from jianguan.core.actor import Actor
        from jianguan.org.api import api_token_issue

        raw = api_token_issue(actor=Actor.system("test"), user=user, name="api-test")
        self.client, self.headers = client, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    def get(self, path: str, **query: Any) -> Any:
        return self.client.get(API + path, query, **self.headers)

    def send(self, method: str, path: str, body: dict[str, Any]) -> Any:
        call = getattr(self.client, method)
        return call(API + path, body, content_type="application/json", **self.headers)


def test_the_patrol_board_lists_cells_and_the_button_checks_in(sign_in, staff, cells, held, trio):
    from jianguan.patrol.api import PatrolCheck

    client = sign_in(staff["patrol"])
    page = client.get("/patrol/")
    text = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="cell-102"' in text
    assert "60 分钟" in text
    assert "未评定风险等级" in text
    assert 'data-testid="checkin-102"' in text
    assert 'hx-trigger="live from:body' in text
    done = client.post(f"/patrol/cells/{cells['102'].id}/checkin/", follow=True)
    assert done.status_code == 200
    assert "已签到" in done.content.decode()
    assert PatrolCheck.objects.get().officer == "gz_xunkong"
    panel = client.get("/patrol/panel/").content.decode()
    assert "吴巡控" in panel


def test_the_leader_sees_lapses_until_explained_and_a_short_reason_is_refused(
    sign_in, staff, cells, held
):
    lapse = _lapse_now(cells)
    client = sign_in(staff["leader"])
    page = client.get("/patrol/lapses/").content.decode()
    assert 'data-testid="lapse-102"' in page
    assert "尚未巡视" in page
    short = client.post(f"/patrol/lapses/{lapse.id}/reason/", {"reason": "忙"})
    assert short.status_code == 400
    assert "不少于 10 个字" in short.content.decode()
    ok = client.post(
        f"/patrol/lapses/{lapse.id}/reason/",
        {"reason": "夜间处置一监室突发事件，未能按时巡视"},
        follow=True,
    )
    text = ok.content.decode()
    assert ok.status_code == 200
    assert 'data-testid="no-lapses"' in text
    assert "夜间处置一监室突发事件" in text


def test_the_duty_rota_page_and_its_edit_form(sign_in, staff, cells, trio):
    from jianguan.patrol.api import DutyPost

    zhang, li, wang = trio
    client = sign_in(staff["custodian"])
    page = client.get("/patrol/duty/")
    assert page.status_code == 200
    assert 'data-testid="rota-102"' in page.content.decode()
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    form = client.get(f"/patrol/duty/{cells['102'].id}/?night={tomorrow}")
    assert form.status_code == 200
    assert "张三" in form.content.decode()
    refused = client.post(
        f"/patrol/duty/{cells['102'].id}/",
        {"night": tomorrow, "shift_0": [zhang.id], "shift_1": [li.id, wang.id]},
    )
    assert refused.status_code == 400
    assert "严禁单人或无人值班" in refused.content.decode()
    assert not DutyPost.objects.exists()
    pairs = {f"shift_{i}": [str(zhang.id), str(li.id)] for i in range(4)}
    saved = client.post(f"/patrol/duty/{cells['102'].id}/", {"night": tomorrow, **pairs})
    assert saved.status_code == 302
    assert DutyPost.objects.count() == 8
    # The patrol officer sees the rota but may not edit it.
    patrol = sign_in(staff["patrol"])
    assert patrol.get(f"/patrol/duty/?night={tomorrow}").status_code == 200
    refused = patrol.post(f"/patrol/duty/{cells['102'].id}/", {"night": tomorrow, **pairs})
    assert refused.status_code == 403


def test_posts_without_the_work_are_refused(sign_in, make_user, cells, held):
    medic = sign_in(make_user("gz_yiwu2", "MEDICAL"))
    assert medic.get("/patrol/").status_code == 403
    assert medic.get("/patrol/lapses/").status_code == 403
    assert medic.get("/patrol/duty/").status_code == 403


def test_the_api_checks_in_lists_due_lapses_and_sets_the_rota(
    client, staff, cells, held, trio, make_user
):
    patrol = Caller(client, staff["patrol"])
    made = patrol.send("post", "/checkins", {"cell_id": str(cells["102"].id)})
    assert made.status_code == 201, made.content
    assert made.json()["via"] == "HAND"
    due = patrol.get("/due").json()
    assert [(d["cell"], d["interval_minutes"], d["last_check_by"]) for d in due] == [
        ("102", 60, "吴巡控")
    ]
    custodian = Caller(client, staff["custodian"])
    refused = custodian.send("post", "/checkins", {"cell_id": str(cells["102"].id)})
    assert refused.status_code == 403

    zhang, _li, wang = trio
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    short = custodian.send(
        "put", f"/rota/{cells['102'].id}", {"night": tomorrow, "shifts": [[str(zhang.id)]] * 4}
    )
    assert short.status_code == 400
    assert short.json()["field"] == "shifts.0"
    body = {"night": tomorrow, "shifts": [[str(zhang.id), str(wang.id)]] * 4}
    saved = custodian.send("put", f"/rota/{cells['102'].id}", body)
    assert saved.status_code == 200, saved.content
    assert [p["name"] for p in saved.json()["shifts"][0]["people"]] == ["张三", "王五"]
    rota = patrol.get("/rota", night=tomorrow).json()
    assert rota[0]["cell"] == "102"
    assert len(rota[0]["shifts"]) == 4
    elsewhere = Caller(client, make_user("sz_guanjiao", "CUSTODIAN", unit="sz_k"))
    assert elsewhere.send("put", f"/rota/{cells['102'].id}", body).status_code == 404


def test_the_api_lists_lapses_and_takes_the_reason(client, staff, cells, held):
    lapse = _lapse_now(cells)
    patrol = Caller(client, staff["patrol"])
    listed = patrol.get("/lapses").json()
    assert [(x["cell"], x["state"]) for x in listed] == [("102", "OPEN")]
    short = patrol.send("post", f"/lapses/{lapse.id}/reason", {"reason": "太忙"})
    assert short.status_code == 400
    assert short.json()["field"] == "reason"
    ok = patrol.send(
        "post", f"/lapses/{lapse.id}/reason", {"reason": "处置二监室打架，未能按时巡视本监室"}
    )
    assert ok.status_code == 200
    assert ok.json()["reason_by"] == "gz_xunkong"
    assert patrol.get("/lapses").json() == []
    assert len(patrol.get("/lapses", explained=True).json()) == 1
    assert T0  # the devices clock is not needed here: the pages read the real clock
