# The risk fixtures are imported from tests.risk.conftest; pytest passes them by name.
# ruff: noqa: F811
"""Risk pages: who may open each (another facility's person is not found), the overview's
distribution, trend and list, the cell board's coloured tiles, a person's explained score
with links to the facts, and the forms — a fact recorded by hand, a leader's manual grade and
another leader's review — each refusal shown beside its field with the input kept and nothing
written."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from tests.risk.conftest import cells, held, record  # noqa: F401

from jianguan.core.actor import Actor
from jianguan.duty.api import Task
from jianguan.risk.api import (
    ReviewStatus,
    RiskFact,
    RiskOverride,
    RiskScore,
    Track,
    override_grant,
    rescore_person,
    snapshot_today,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user: Callable[..., Any]) -> dict[str, Any]:
    """广州一看's officers, and officers who must be refused: other posts, units and levels."""
    return {
        "patrol": make_user("gz_xunkong", "PATROL", full_name="吴巡控"),
        "custodian": make_user("gz_guanjiao", "CUSTODIAN", full_name="李管教"),
        "medical": make_user("gz_yiwu", "MEDICAL", full_name="赵医生"),
        "leader": make_user("gz_suozhang", "LEADER", full_name="周所长"),
        "leader2": make_user("gz_fusuozhang", "LEADER", full_name="郑副所长"),
        "reception": make_user("gz_jiedai", "RECEPTION", full_name="钱接待"),
        "sz_custodian": make_user("sz_guanjiao", "CUSTODIAN", unit="sz_k", full_name="深圳管教"),
        "city": make_user("gz_zhidao", "SUPERVISOR", unit="gz", full_name="市局指导"),
    }


@pytest.fixture
def as_user() -> Callable[[Any], Client]:
    """A fresh client signed in as `user`, second factor passed."""
    from jianguan.org.middleware import SECOND_FACTOR_SESSION_KEY

    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        session = client.session
        session[SECOND_FACTOR_SESSION_KEY] = True
        session.save()
        return client

    return make


@pytest.fixture
def scored(held: Any) -> Any:
    """张三 scored on admission: 放火 gives 18 points, 常规 (NORMAL)."""
    rescore_person(held.id, cause="收押入所")
    return held


def _live(detainee: Any) -> RiskScore:
    return RiskScore.objects.get(detainee_id=detainee.id, track=Track.LIVE)


def _text(response: Any) -> str:
    return response.content.decode()


def _risk_state(detainee: Any) -> dict[str, Any]:
    """What a refused form must leave unchanged."""
    score = RiskScore.objects.filter(detainee_id=detainee.id, track=Track.LIVE).first()
    return {
        "facts": RiskFact.objects.count(),
        "overrides": list(RiskOverride.objects.values_list("id", "review_status", "ended_at")),
        "score": (score.score, score.grade, score.computed_at) if score else None,
        "tasks": Task.objects.count(),
    }


def _tile(html: str, number: str) -> str:
    found = re.search(rf'<a class="risk-tile[^"]*"[^>]*data-cell="{number}"[^>]*>', html)
    assert found, f"no tile for cell {number}"
    return found.group(0)


# --- who may open what ----------------------------------------------------------------------


def test_pages_ask_an_anonymous_visitor_to_log_in(client, scored, cells):
    for url in ("/risk/", "/risk/board/", f"/risk/people/{scored.id}/", "/risk/board/panel/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login/" in response["Location"], url


def test_another_facility_cannot_see_the_person_or_the_cell(as_user, staff, scored, cells):
    other = as_user(staff["sz_custodian"])
    for url in (f"/risk/people/{scored.id}/", f"/risk/people/{scored.id}/panel/"):
        response = other.get(url)
        assert response.status_code == 404, url
        assert "张三" not in _text(response)
    response = other.get(f"/risk/cells/{cells['102'].id}/")
    assert response.status_code == 404
    # The same answer as for a person who does not exist.
    missing = other.get("/risk/people/01900000-0000-7000-8000-000000000000/")
    assert missing.status_code == 404


def test_facility_pages_are_for_facility_officers(as_user, staff, scored):
    city = as_user(staff["city"])
    for url in ("/risk/", "/risk/board/", "/risk/panel/"):
        response = city.get(url)
        assert response.status_code == 403, url
        assert "张三" not in _text(response)
    # The city may read one person of its facilities through the person's page.
    assert city.get(f"/risk/people/{scored.id}/").status_code == 200


def test_forms_refuse_posts_without_the_permission(as_user, staff, scored):
    before = _risk_state(scored)
    reception = as_user(staff["reception"])
    response = reception.post(
        f"/risk/people/{scored.id}/facts/",
        {"kind": "manual.FAMILY_EVENT", "at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 403
    custodian = as_user(staff["custodian"])
    response = custodian.post(
        f"/risk/people/{scored.id}/override/",
        {"grade": "LEVEL1", "reason": "近期情绪极不稳定，需重点关注", "days": "7"},
    )
    assert response.status_code == 403
    page = _text(custodian.get(f"/risk/people/{scored.id}/"))
    assert 'id="fact-form"' in page
    assert 'id="override-form"' not in page
    assert 'id="fact-form"' not in _text(reception.get(f"/risk/people/{scored.id}/"))
    assert _risk_state(scored) == before


# --- the overview ---------------------------------------------------------------------------


def test_overview_shows_the_distribution_and_people_highest_grade_first(
    as_user, staff, scored, record, make_detainee, cells
):
    calm = make_detainee("gz_k", name="李四", cell=cells["101"], case_nature="0301")
    rescore_person(calm.id, cause="收押入所")
    record("PATROL_ABNORMAL_BEHAVIOUR", scored)  # 张三 → 三级风险

    page = _text(as_user(staff["custodian"]).get("/risk/"))
    assert "风险评估" in page
    assert "2026.1" in page
    live = page[page.index('data-testid="dist-live"') : page.index('id="trend"')]
    assert re.search(r'data-grade="LEVEL3">.*?data-f="people">1<', live, re.S)
    assert re.search(r'data-grade="NORMAL">.*?data-f="people">1<', live, re.S)
    assert "#d9a800" in live
    assert "#2f6fb0" in live
    assert 'data-testid="dist-shadow"' not in page
    people = page[page.index('id="people"') :]
    assert people.index("张三") < people.index("李四")
    assert f'href="/risk/people/{scored.id}/"' in people


def test_overview_filters_by_grade_and_lists_a_manual_grade(as_user, staff, scored):
    override_grant(
        actor=Actor.system("test"),
        detainee=scored,
        grade="LEVEL2",
        reason="家属反映其有轻生念头，需重点关注",
        days=7,
    )
    page = _text(as_user(staff["leader"]).get("/risk/?grade=LEVEL2"))
    people = page[page.index('id="people"') :]
    assert "张三" in people
    assert "人工" in people
    normal = _text(as_user(staff["leader"]).get("/risk/?grade=NORMAL"))
    assert "张三" not in normal.split('id="people"')[1]


def test_overview_trend_has_a_slot_per_day_filled_from_the_snapshots(as_user, staff, scored):
    yesterday = timezone.now() - dt.timedelta(days=1)
    snapshot_today(now=yesterday)
    page = _text(as_user(staff["custodian"]).get("/risk/"))
    trend = page[page.index('id="trend"') : page.index('id="people"')]
    slots = re.findall(r'<div class="day( empty)?" title="[^"]*" data-day="([\d-]+)">', trend)
    assert len(slots) == 30
    filled = {day for empty, day in slots if not empty}
    assert filled == {
        f"{timezone.localtime(yesterday):%Y-%m-%d}",
        f"{timezone.localdate():%Y-%m-%d}",
    }
    assert "常规 1" in trend


def test_overview_panel_queries_do_not_grow_with_people(
    as_user, staff, scored, make_detainee, cells
):
    client = as_user(staff["custodian"])
    with CaptureQueriesContext(connection) as few:
        assert client.get("/risk/panel/").status_code == 200
    for i in range(4):
        rescore_person(make_detainee("gz_k", name=f"王{i}", cell=cells["102"]).id, cause="收押入所")
    with CaptureQueriesContext(connection) as many:
        assert "王3" in _text(client.get("/risk/panel/"))
    assert len(many) == len(few)


def test_a_shadow_model_is_shown_beside_the_live_one(as_user, staff, scored):
    from jianguan.risk.model import BUILTIN_PATH
    from jianguan.rules.api import pack_publish

    trial = (
        BUILTIN_PATH.read_text(encoding="utf-8")
        .replace('version: "2026.1"', 'version: "2026.2-trial"')
        .replace("min_score: 25", "min_score: 15")
    )
    pack_publish(actor=Actor.system("test"), kind="risk", text=trial, shadow=True)
    rescore_person(scored.id, cause="影子模型试运行")

    client = as_user(staff["leader"])
    page = _text(client.get("/risk/"))
    shadow = page[page.index('data-testid="dist-shadow"') : page.index('id="trend"')]
    assert "影子模型 版本 2026.2-trial" in shadow
    assert re.search(r'data-grade="LEVEL3">.*?data-f="people">1<', shadow, re.S)
    person = _text(client.get(f"/risk/people/{scored.id}/"))
    assert re.search(r'data-testid="shadow">版本 2026.2-trial：18 分.*?三级风险', person, re.S)
    assert _live(scored).grade == "NORMAL"  # the trial decides nothing


# --- the cell board -------------------------------------------------------------------------


def test_board_colours_each_cell_by_its_grade(as_user, staff, scored, record, cells):
    client = as_user(staff["custodian"])
    tile = _tile(_text(client.get("/risk/board/")), "102")
    assert 'data-grade="NORMAL"' in tile
    assert "--grade:#2f6fb0" in tile
    assert f'href="/risk/cells/{cells["102"].id}/"' in tile
    empty = _tile(_text(client.get("/risk/board/")), "101")
    assert 'data-grade=""' in empty  # no one held, never scored

    record("PATROL_ABNORMAL_BEHAVIOUR", scored)
    panel = _text(client.get("/risk/board/panel/"))
    tile = _tile(panel, "102")
    assert 'data-grade="LEVEL3"' in tile
    assert "--grade:#d9a800" in tile
    assert "一监区" in panel
    assert "33 分" in panel


def test_cell_page_explains_the_score_and_lists_the_occupants(
    as_user, staff, scored, record, cells
):
    record("PATROL_ABNORMAL_BEHAVIOUR", scored)
    page = _text(as_user(staff["custodian"]).get(f"/risk/cells/{cells['102'].id}/"))
    assert 'data-testid="grade" data-grade="LEVEL3"' in page
    explanation = page[page.index('id="explanation"') : page.index('id="occupants"')]
    assert "最高个人积分：张三" in explanation
    assert f'href="/risk/people/{scored.id}/"' in explanation
    occupants = page[page.index('id="occupants"') : page.index('id="history"')]
    assert "张三" in occupants
    assert 'data-grade="LEVEL3"' in occupants
    assert "常规" in page[page.index('id="history"') :]


# --- a person -------------------------------------------------------------------------------


def test_person_page_explains_each_point_and_links_the_fact(as_user, staff, scored, record):
    rec = record("PATROL_ABNORMAL_BEHAVIOUR", scored, text="凌晨在监室内来回走动")
    page = _text(as_user(staff["custodian"]).get(f"/risk/people/{scored.id}/"))
    assert 'data-testid="grade" data-grade="LEVEL3"' in page
    assert 'data-testid="score">33<' in page
    explanation = page[page.index('id="explanation"') : page.index('id="history"')]
    row = re.search(r'<tr data-code="ABNORMAL_BEHAVIOUR">.*?</tr>', explanation, re.S)
    assert row is not None
    assert "+15" in row.group(0)
    assert f'href="/duty/tasks/{rec.task.id}/"' in row.group(0)
    assert "异常行为：凌晨在监室内来回走动" in row.group(0)
    assert "案件性质严重" in explanation  # a static line, from the record itself
    history = page[page.index('id="history"') : page.index('id="facts"')]
    assert "异常行为 +15" in history
    assert "动态信息：异常行为" in history
    assert '<polyline points="' in history  # the trend
    assert "缺少" in page
    assert "出生日期（年龄）" in page


def test_person_panel_answers_204_until_something_changes(as_user, staff, scored):
    client = as_user(staff["custodian"])
    page = _text(client.get(f"/risk/people/{scored.id}/"))
    stamp = re.search(r"panel/\?seen=(\w+)", page).group(1)
    assert client.get(f"/risk/people/{scored.id}/panel/?seen={stamp}").status_code == 204
    rescore_person(scored.id, cause="重新评估")
    fresh = client.get(f"/risk/people/{scored.id}/panel/?seen={stamp}")
    assert fresh.status_code == 200
    assert 'id="risk-person"' in _text(fresh)


def test_a_medical_officer_records_a_fact_and_the_grade_follows(as_user, staff, scored):
    client = as_user(staff["medical"])
    at = timezone.localtime() - dt.timedelta(hours=1)
    response = client.post(
        f"/risk/people/{scored.id}/facts/",
        {"kind": "manual.REFUSES_FOOD", "at": at.strftime("%Y-%m-%dT%H:%M"), "note": "午餐拒食"},
    )
    assert response.status_code == 302
    fact = RiskFact.objects.get(detainee_id=scored.id)
    assert (fact.kind, fact.note, fact.recorded_by) == (
        "manual.REFUSES_FOOD",
        "午餐拒食",
        "gz_yiwu",
    )
    assert (_live(scored).score, _live(scored).grade) == (31.9, "LEVEL3")  # 14 points, 1 h old
    page = _text(client.get(response["Location"]))
    assert "已登记：拒绝进食" in page
    assert f'id="fact-{fact.id}"' in page
    assert f'href="#fact-{fact.id}"' in page  # the explanation points at the fact's row


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"kind": "manual.NOT_A_KIND"}, "kind", "不能人工登记的事实类别"),
        ({"kind": ""}, "kind", "不能人工登记的事实类别"),
        ({"kind": "manual.BAD_NEWS", "at": "2099-01-01T08:00"}, "at", "发生时间不能晚于现在"),
        ({"kind": "manual.BAD_NEWS", "at": "昨天"}, "at", "时间格式应为"),
        ({"kind": "manual.BAD_NEWS", "note": "很" * 2001}, "note", "说明不能超过 2000 字"),
    ],
)
def test_a_refused_fact_is_explained_beside_its_field_and_nothing_is_kept(
    as_user, staff, scored, values, field, message
):
    before = _risk_state(scored)
    form = {"at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "note": "家属来电告知"} | values
    response = as_user(staff["custodian"]).post(f"/risk/people/{scored.id}/facts/", form)
    assert response.status_code == 400
    page = _text(response)
    error = re.search(rf'<span class="field-error" data-field="{field}">([^<]*)</span>', page)
    assert error is not None
    assert message in error.group(1)
    assert form["note"][:50] in page  # what was typed is still there
    assert _risk_state(scored) == before


def test_a_leader_adjusts_the_grade_and_another_leader_reviews_it(as_user, staff, scored):
    leader = as_user(staff["leader"])
    response = leader.post(
        f"/risk/people/{scored.id}/override/",
        {"grade": "LEVEL2", "reason": "家属反映其有轻生念头，需重点关注", "days": "7"},
    )
    assert response.status_code == 302
    score = _live(scored)
    assert (score.grade, score.computed_grade) == ("LEVEL2", "NORMAL")
    page = _text(leader.get(f"/risk/people/{scored.id}/"))
    assert 'data-testid="grade" data-grade="LEVEL2"' in page
    override = re.search(r'data-testid="override">(.*?)</dd>', page, re.S).group(1)
    assert "家属反映其有轻生念头" in override
    assert "待审核" in override
    assert 'data-testid="awaiting-review"' in page
    assert 'id="review-form"' not in page
    review_task = Task.objects.get(category="RISK_OVERRIDE_REVIEW")
    assert review_task.post_kind == "LEADER"

    # The other leader must give a reason to revoke; the refusal keeps the choice.
    deputy = as_user(staff["leader2"])
    pending = RiskOverride.objects.get(detainee_id=scored.id)
    refused = deputy.post(
        f"/risk/people/{scored.id}/override/review/",
        {"override": str(pending.id), "decision": "revoke", "note": ""},
    )
    assert refused.status_code == 400
    assert 'data-field="note">撤销时请写明意见' in _text(refused)
    assert 'value="revoke" checked' in _text(refused)
    assert RiskOverride.objects.get(id=pending.id).review_status == ReviewStatus.PENDING

    response = deputy.post(
        f"/risk/people/{scored.id}/override/review/",
        {"override": str(pending.id), "decision": "revoke", "note": "经谈话核实，情绪平稳"},
    )
    assert response.status_code == 302
    done = RiskOverride.objects.get(id=pending.id)
    assert (done.review_status, done.reviewed_by) == (ReviewStatus.REVOKED, "gz_fusuozhang")
    assert _live(scored).grade == "NORMAL"  # the model's grade applies again


def test_a_leader_cannot_review_their_own_adjustment(as_user, staff, scored):
    leader = as_user(staff["leader"])
    leader.post(
        f"/risk/people/{scored.id}/override/",
        {"grade": "LEVEL1", "reason": "同案犯供述其策划脱逃，需严密看管", "days": "3"},
    )
    pending = RiskOverride.objects.get(detainee_id=scored.id)
    response = leader.post(
        f"/risk/people/{scored.id}/override/review/",
        {"override": str(pending.id), "decision": "uphold"},
    )
    assert response.status_code == 400
    assert "调整人不能审核自己的调整" in _text(response)
    assert RiskOverride.objects.get(id=pending.id).review_status == ReviewStatus.PENDING


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"days": "31"}, "days", "有效期应为 1 至 30 天"),
        ({"days": "七天"}, "days", "请填写有效天数"),
        ({"reason": "调整"}, "reason", "请写明调整理由"),
        ({"grade": "LEVEL9"}, "grade", "没有这个等级"),
        ({"grade": "NORMAL"}, "grade", "与模型评定的等级相同"),
    ],
)
def test_a_refused_adjustment_keeps_the_input_and_changes_nothing(
    as_user, staff, scored, values, field, message
):
    before = _risk_state(scored)
    form = {"grade": "LEVEL2", "reason": "家属反映其有轻生念头，需重点关注", "days": "7"} | values
    response = as_user(staff["leader"]).post(f"/risk/people/{scored.id}/override/", form)
    assert response.status_code == 400
    page = _text(response)
    error = re.search(rf'<span class="field-error" data-field="{field}">([^<]*)</span>', page)
    assert error is not None
    assert message in error.group(1)
    assert form["reason"] in page
    assert _risk_state(scored) == before


def test_the_record_page_links_to_the_risk_page(as_user, staff, scored):
    client = as_user(staff["custodian"])
    page = _text(client.get(f"/detainees/{scored.id}/"))
    assert f'href="/risk/people/{scored.id}/"' in page
    assert 'href="/risk/"' in page  # the nav entry
    assert 'href="/risk/"' not in _text(as_user(staff["city"]).get("/"))


def test_the_pages_read_in_english(as_user, staff, scored, settings):
    client = as_user(staff["leader"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    overview = _text(client.get("/risk/"))
    assert "Distribution now" in overview
    assert "People by risk grade" in overview
    person = _text(client.get(f"/risk/people/{scored.id}/"))
    assert "How the score is made up" in person
    assert "Adjust the risk grade by hand" in person
