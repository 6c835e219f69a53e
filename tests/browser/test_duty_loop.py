"""The duty loop across three screens in Chromium: a 巡控 officer records 异常行为, the 管教
officer's open task list shows it without a reload, the 管教 accepts and feeds back on a phone,
the 所领导's command board moves it to today's closed list without a reload, and the day's
assessment counts it."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# Outside the repository: pictures of the phone's task page and the board to look at after a run.
SHOTS = Path(tempfile.gettempdir())


@pytest.fixture
def second_screens(browser: Any, live_server: Any) -> Iterator[Any]:
    """Open more browsers on the same live server: each context is one officer's device."""
    contexts: list[Any] = []

    def open_screen(viewport: dict[str, int] | None = None) -> Any:
        context = browser.new_context(
            base_url=live_server.url,
            locale="zh-CN",
            viewport=viewport or {"width": 1280, "height": 800},
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    try:
        yield open_screen
    finally:
        for context in contexts:
            context.close()


def _log_in(page: Any, username: str, *, totp_secret: str | None = None) -> None:
    from tests.conftest import PASSWORD

    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    if totp_secret is not None:
        import pyotp

        assert page.url.endswith("/login/totp/")
        page.fill("input[name=code]", pyotp.TOTP(totp_secret).now())
        with page.expect_navigation():
            page.get_by_role("button", name="验证").click()
    assert "/login" not in page.url


def _wait_until_live(page: Any) -> None:
    """The page's event stream is open, so the next change reaches it."""
    page.wait_for_function("document.body.dataset.live === 'open'")
    page.evaluate("window.__sameDocument = true")  # lost if the page were reloaded


def _was_not_reloaded(page: Any) -> bool:
    return bool(page.evaluate("window.__sameDocument === true"))


def test_record_accept_feed_back_and_the_board_follows(
    page, second_screens, make_user, make_detainee
):
    import pyotp
    from playwright.sync_api import expect

    from jianguan.core.actor import Actor
    from jianguan.org.api import totp_enrol

    make_user("gz_xunkong", "PATROL", full_name="吴巡控")
    make_user("gz_guanjiao", "CUSTODIAN", full_name="李管教")
    leader = make_user("gz_suozhang", "LEADER", full_name="周所长")
    secret = totp_enrol(actor=Actor.system("test"), user=leader, secret=pyotp.random_base32())
    held = make_detainee("gz_k", name="张三")

    # Browser B: the 管教 officer's phone, with the task list already open.
    custodian = second_screens(PHONE)
    _log_in(custodian, "gz_guanjiao")
    custodian.goto("/duty/")
    expect(custodian.get_by_test_id("no-tasks")).to_be_visible()
    _wait_until_live(custodian)

    # Browser A: the 巡控 officer records what was seen.
    _log_in(page, "gz_xunkong")
    page.locator("header nav").get_by_role("link", name="记录动态信息").click()
    page.wait_for_url("**/duty/record/")
    page.select_option("select[name=category]", "PATROL_ABNORMAL_BEHAVIOUR")
    page.select_option("select[name=detainee]", str(held.id))
    page.fill("textarea[name=text]", "凌晨2时在监室内来回走动，情绪激动")
    with page.expect_navigation():
        page.get_by_role("button", name="记录", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(
        "已记录；已生成任务：异常行为（张三），派发至管教"
    )
    page.screenshot(path=SHOTS / "jianguan_browser_duty_record.png", full_page=True)

    # B shows the task by itself.
    card = custodian.locator("article.task-card", has_text="异常行为（张三）")
    expect(card).to_be_visible()
    expect(card).to_contain_text("待接收")
    custodian.screenshot(path=SHOTS / "jianguan_browser_duty_mine_phone.png", full_page=True)
    assert _was_not_reloaded(custodian)

    # The leader's command board is open before the feedback arrives.
    board = second_screens()
    _log_in(board, "gz_suozhang", totp_secret=secret)
    board.goto("/duty/board/")
    expect(board.locator("#open-tasks")).to_contain_text("异常行为（张三）")
    expect(board.locator("#closed-today")).not_to_contain_text("异常行为（张三）")
    _wait_until_live(board)

    # B accepts and feeds back; the task closes (this category needs no verifying).
    with custodian.expect_navigation():
        card.get_by_role("button", name="接收").click()
    expect(custodian.get_by_test_id("task-state")).to_have_text("处置中")
    custodian.fill("textarea[name=feedback]", "谈话安抚，情绪平稳，已交代夜班加强观察")
    custodian.select_option("select[name=outcome]", "RESOLVED")
    with custodian.expect_navigation():
        custodian.get_by_role("button", name="提交反馈").click()
    expect(custodian.get_by_test_id("task-state")).to_have_text("已办结")
    expect(custodian.locator("ol.timeline")).to_contain_text("反馈")
    custodian.screenshot(path=SHOTS / "jianguan_browser_duty_task_phone.png", full_page=True)

    # The board moved the task to today's closed list without a reload.
    expect(board.locator("#closed-today")).to_contain_text("异常行为（张三）")
    expect(board.locator("#closed-today")).to_contain_text("李管教")
    expect(board.locator("#open-tasks")).not_to_contain_text("异常行为（张三）")
    assert _was_not_reloaded(board)
    board.screenshot(path=SHOTS / "jianguan_browser_duty_board.png", full_page=True)

    # The assessment counts it: the leader opens today's figures.
    board.goto("/assessment/?period=day")
    officer = board.get_by_test_id("officers").locator("tr", has_text="李管教")
    expect(officer.locator("td[data-f=received]")).to_have_text("1")
    expect(officer.locator("td[data-f=on_time]")).to_have_text("1")
    expect(officer.locator("td[data-f=overdue]")).to_have_text("0")
    recorder = board.get_by_test_id("officers").locator("tr", has_text="吴巡控")
    expect(recorder.locator("td[data-f=records]")).to_have_text("1")
    custodians = board.get_by_test_id("posts").locator("tr", has_text="管教")
    expect(custodians.locator("td[data-f=received]")).to_have_text("1")
