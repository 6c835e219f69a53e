"""The duty catalogue editor at /rules/duty/: a leader sees the catalogue in force as a table
per post with its version and origin, checks edited YAML (a fault comes back as 「第 N 行：…」
with the text kept, nothing published) and publishes the facility's own version — after which
officers record by it and its tasks go to the new handler; other facilities keep theirs."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import pytest

from jianguan.duty.api import catalogue_for, info_record
from jianguan.duty.catalogue import BUILTIN_PATH
from jianguan.rules.api import PackStatus, packs_published

pytestmark = pytest.mark.django_db

URL = "/rules/duty/"
BUILTIN_TEXT = BUILTIN_PATH.read_text(encoding="utf-8")

NEW_CATEGORY = (
    "categories:\n"
    "  - code: PATROL_LIGHT_OFF\n"
    '    name: "监室照明故障"\n'
    "    recorded_by: [PATROL]\n"
    "    task: true\n"
    "    handler: SUBCONTROL\n"
    "    urgency: HIGH\n"
    "    handle_minutes: 45\n"
    "    basis: law\n"
    '    article: "看守所条例第十九条"\n'
)


def _with_light_off(version: str = "2026.2-gz1") -> str:
    """The built-in pack under a new version, with one more category for 巡控."""
    return BUILTIN_TEXT.replace('version: "2026.3"', f'version: "{version}"').replace(
        "categories:\n", NEW_CATEGORY, 1
    )


def _text(response: Any) -> str:
    return html.unescape(response.content.decode())


def _section(page: str, title: str) -> str:
    start = page.index(f'data-post="{title}"')
    return page[start : page.index("</section>", start)]


def _textarea(page: str) -> str:
    start = page.index(">", page.index('<textarea id="pack-source"')) + 1
    return page[start : page.index("</textarea>", start)]


@pytest.fixture
def leader(make_user: Any) -> Any:
    return make_user("gz_suozhang", "LEADER", full_name="周所长")


@pytest.fixture
def patrol(make_user: Any) -> Any:
    return make_user("gz_xunkong", "PATROL", full_name="吴巡控")


def test_leader_sees_the_builtin_catalogue_per_post(sign_in, leader):
    response = sign_in(leader).get(URL)
    assert response.status_code == 200
    page = _text(response)
    assert '<dd data-testid="pack-version">2026.3</dd>' in page
    assert "内置默认" in page
    patrol_table = _section(page, "巡控")
    assert 'data-category="PATROL_ABNORMAL_BEHAVIOUR"' in patrol_table
    row = patrol_table[patrol_table.index('data-category="PATROL_EMERGENCY"') :]
    row = row[: row.index("</tr>")]
    # category, recorded by, task, handler, urgency, limits, verify, basis
    for cell in (
        "巡控、分控、指挥中心、管教",
        "<td>管教</td>",
        "紧急",
        "接收 2 · 办结 15",
        "实践做法",
    ):
        assert cell in row, cell
    assert 'data-category="CUSTODIAN_MOOD"' not in patrol_table
    talk = _section(page, "管教")
    assert "仅记录" in talk
    generated = _section(page, "平台生成")
    assert 'data-category="DEADLINE_NOTICE"' in generated
    # The editor starts from the built-in file exactly.
    assert _textarea(page) == BUILTIN_TEXT


def test_only_leaders_and_administrators_open_it(client, sign_in, patrol, leader):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    response = sign_in(patrol).get(URL)
    assert response.status_code == 403
    assert "监室照明" not in _text(response)
    assert "只有所领导或系统管理员" in _text(response)


def test_check_names_the_line_at_fault_and_keeps_the_text(sign_in, leader):
    bad = _with_light_off().replace("recorded_by: [PATROL]\n", "recorded_by: [GUARD]\n")
    line = bad[: bad.index("GUARD")].count("\n") + 1
    response = sign_in(leader).post(URL, {"source": bad, "action": "check"})
    assert response.status_code == 400
    page = _text(response)
    assert f"第 {line} 行：categories.0.recorded_by.0：未知的岗位 GUARD" in page
    assert f"{line}:     recorded_by: [GUARD]" in page  # the line itself, shown under the message
    assert _textarea(page) == bad
    assert packs_published("duty").count() == 0


def test_a_refused_publish_publishes_nothing(sign_in, leader):
    bad = _with_light_off().replace('    article: "看守所条例第十九条"\n', "")
    response = sign_in(leader).post(URL, {"source": bad, "action": "publish"})
    assert response.status_code == 400
    assert "依据为法律的类别必须写明条文" in _text(response)
    assert packs_published("duty").count() == 0


def test_check_of_a_valid_pack_writes_nothing(sign_in, leader):
    response = sign_in(leader).post(URL, {"source": _with_light_off(), "action": "check"})
    assert response.status_code == 200
    assert "校验通过：版本 2026.2-gz1 · 类别数 25" in _text(response)
    assert packs_published("duty").count() == 0


def test_published_catalogue_is_what_officers_record_by(sign_in, leader, patrol, make_user, tree):
    assert "PATROL_LIGHT_OFF" not in [c.code for c in catalogue_for(patrol)]
    text = _with_light_off()
    response = sign_in(leader).post(URL, {"source": text, "action": "publish"})
    assert response.status_code == 302
    assert response["Location"] == URL

    record = packs_published("duty").get()
    assert (record.unit_code, record.version, record.status) == (
        "440100K01",
        "2026.2-gz1",
        PackStatus.ACTIVE,
    )
    assert record.published_by == "gz_suozhang"

    page = _text(sign_in(leader).get(URL))
    assert "已发布并生效：2026.2-gz1（广州市第一看守所）" in page
    assert '<dd data-testid="pack-version">2026.2-gz1</dd>' in page
    assert "本所发布" in page
    row = _section(page, "巡控")
    row = row[row.index('data-category="PATROL_LIGHT_OFF"') :]
    row = row[: row.index("</tr>")]
    assert "<td>分控</td>" in row
    assert "接收 5 · 办结 45" in row
    assert "法律：看守所条例第十九条" in row
    assert _textarea(page) == text  # the published text, as published

    # 巡控 may now record it, and it becomes a task for 分控 under the new version.
    assert "PATROL_LIGHT_OFF" in [c.code for c in catalogue_for(patrol)]
    rec = info_record(user=patrol, category="PATROL_LIGHT_OFF", text="3号监室照明不亮")
    assert rec.pack_version == "2026.2-gz1"
    assert (rec.task.post_kind, rec.task.urgency) == ("SUBCONTROL", "HIGH")
    assert rec.task.handle_due - rec.task.created_at == dt.timedelta(minutes=45)

    # 深圳一看 is untouched: it still has the built-in catalogue.
    sz_patrol = make_user("sz_xunkong", "PATROL", unit="sz_k")
    assert "PATROL_LIGHT_OFF" not in [c.code for c in catalogue_for(sz_patrol)]


def test_a_version_number_is_published_once(sign_in, leader):
    client = sign_in(leader)
    client.post(URL, {"source": _with_light_off(), "action": "publish"})
    response = client.post(URL, {"source": _with_light_off(), "action": "publish"})
    assert response.status_code == 400
    assert "版本 2026.2-gz1 已发布过" in _text(response)
    assert packs_published("duty").count() == 1


def test_trial_version_leaves_the_version_in_force(sign_in, leader, patrol):
    response = sign_in(leader).post(
        URL, {"source": _with_light_off("2026.2-trial"), "action": "publish", "shadow": "on"}
    )
    assert response.status_code == 302
    assert packs_published("duty").get().status == PackStatus.SHADOW
    page = _text(sign_in(leader).get(URL))
    assert '<dd data-testid="pack-version">2026.3</dd>' in page
    assert '<dd data-testid="trial-version">2026.2-trial</dd>' in page
    assert "PATROL_LIGHT_OFF" not in [c.code for c in catalogue_for(patrol)]


def test_administrator_above_chooses_a_facility_in_scope(sign_in, make_user, tree):
    admin = make_user("gz_admin", "ADMINISTRATOR", unit="gz")
    client = sign_in(admin)
    assert client.get(URL + "?unit=440300K01").status_code == 404  # 深圳: not in scope
    page = _text(client.get(URL + "?unit=440100J01"))
    assert "广州市拘留所" in page
    response = client.post(
        URL, {"source": _with_light_off(), "action": "publish", "unit": "440100J01"}
    )
    assert response.status_code == 302
    assert response["Location"] == URL + "?unit=440100J01"
    assert packs_published("duty").get().unit_code == "440100J01"
    response = client.post(
        URL, {"source": _with_light_off("x2"), "action": "publish", "unit": "440300K01"}
    )
    assert response.status_code == 404
    assert packs_published("duty").count() == 1


def test_a_leader_of_another_facility_can_not_reach_this_one(sign_in, make_user, leader):
    stranger = make_user("sz_suozhang", "LEADER", unit="sz_k")
    response = sign_in(stranger).post(
        URL, {"source": _with_light_off(), "action": "publish", "unit": "440100K01"}
    )
    assert response.status_code == 404
    assert packs_published("duty").count() == 0
