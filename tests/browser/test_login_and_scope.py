"""Log in through the real form in Chromium and stay inside one's own facility."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Outside the repository: a picture of the home page to look at after a run.
SCREENSHOT = Path(tempfile.gettempdir()) / "jianguan_browser_home.png"


def test_custodian_sees_own_facility_only(page, login, make_user, make_detainee):
    make_user("gk_custodian", "CUSTODIAN", unit="gz_k", full_name="李管教")
    make_detainee("gz_k", name="广州甲")
    make_detainee("gz_k", name="广州乙")
    other = make_detainee("sz_k", name="深圳甲")

    login("gk_custodian")
    assert "/login" not in page.url
    assert "管教工作台" in page.locator("h1").inner_text()
    assert page.get_by_test_id("held").inner_text().strip() == "2"
    assert "广州市第一看守所" in page.locator("header").inner_text()
    # htmx (a static file from node_modules) fills the activity panel once it has loaded.
    page.wait_for_function("document.getElementById('activity').textContent.trim() !== '…'")
    page.screenshot(path=SCREENSHOT, full_page=True)

    with page.expect_navigation():
        page.locator("header nav").get_by_role("link", name="在押人员").click()
    assert page.url.endswith("/detainees/")
    table = page.locator("table.list tbody").inner_text()
    assert "广州甲" in table
    assert "广州乙" in table
    assert "深圳甲" not in page.content()

    response = page.goto(f"/detainees/{other.id}/")
    assert response is not None
    assert response.status == 404
    assert "不存在或无权访问" in page.get_by_role("alert").inner_text()
    assert "深圳甲" not in page.content()


def test_denied_detail_is_audited(page, login, make_user, make_detainee):
    from jianguan.audit.models import AuditEntry

    make_user("gk_custodian", "CUSTODIAN", unit="gz_k")
    other = make_detainee("sz_k", name="深圳甲")

    login("gk_custodian")
    response = page.goto(f"/detainees/{other.id}/")
    assert response is not None
    assert response.status == 404
    assert "不存在或无权访问" in page.get_by_role("alert").inner_text()

    denied = AuditEntry.objects.filter(
        action="detainee.view", outcome="DENIED", object_id=str(other.id)
    )
    assert [(e.username, e.unit_code) for e in denied] == [("gk_custodian", "440100K01")]


def _wrong_code(secret: str) -> str:
    import datetime as dt

    import pyotp

    totp = pyotp.TOTP(secret)
    now = dt.datetime.now(tz=dt.UTC)
    valid = {totp.at(now + dt.timedelta(seconds=30 * k)) for k in range(-2, 3)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def test_leader_passes_second_factor(page, login, make_user):
    import pyotp

    from jianguan.core.actor import Actor
    from jianguan.org.api import totp_enrol

    leader = make_user("gk_leader", "LEADER", unit="gz_k", full_name="王所长")
    secret = totp_enrol(actor=Actor.system("test"), user=leader, secret=pyotp.random_base32())

    login("gk_leader")
    assert page.url.endswith("/login/totp/")
    assert "动态口令验证" in page.locator("h1").inner_text()

    # The second factor holds: other pages send the leader back to it.
    page.goto("/detainees/")
    assert page.url.endswith("/login/totp/")

    page.fill("input[name=code]", _wrong_code(secret))
    with page.expect_navigation():
        page.get_by_role("button", name="验证").click()
    assert page.url.endswith("/login/totp/")
    assert "动态口令不正确" in page.get_by_role("alert").inner_text()

    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.get_by_role("button", name="验证").click()
    assert "/login" not in page.url
    assert "所领导工作台" in page.locator("h1").inner_text()


def test_wrong_password_stays_on_login(page, login, make_user):
    make_user("gk_custodian", "CUSTODIAN", unit="gz_k")

    login("gk_custodian", "not-the-password")
    assert page.url.endswith("/login/")
    assert "用户名或密码错误" in page.get_by_role("alert").inner_text()
    assert page.get_by_role("button", name="登录").is_visible()
    assert page.locator("input[name=username]").input_value() == "gk_custodian"
    assert page.locator("header nav").count() == 0


def test_language_switch_to_english(page, login, make_user, make_detainee):
    make_user("gk_custodian", "CUSTODIAN", unit="gz_k")
    make_detainee("gz_k", name="广州甲")

    login("gk_custodian")
    assert page.locator("html").get_attribute("lang") == "zh-hans"

    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "/login" not in page.url
    assert page.get_by_test_id("held").inner_text().strip() == "1"
    assert page.locator("select[name=language]").input_value() == "en"
