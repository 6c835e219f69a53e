"""Acceptance, in Chromium: a behaviour record raises a person's grade. The 所领导 has the cell
board and the person's risk page open; the 巡控 officer records 异常行为 through the real form;
the outbox consumer (played here by a thread, as the worker would) re-scores the person and the
cell; without a reload the board's tile turns from blue (常规) to yellow (三级风险), the person's
page shows the new grade with the behaviour record among its causes, and the 管教 officer's task
list shows the grade-rise task."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(tempfile.gettempdir())  # pictures of the screens, to look at after a run
PHONE = {"width": 390, "height": 844}
BLUE, YELLOW = "rgb(47, 111, 176)", "rgb(217, 168, 0)"  # 常规 #2f6fb0, 三级风险 #d9a800


@pytest.fixture
def screens(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
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
        return context

    try:
        yield open_screen
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def outbox_worker() -> Iterator[Callable[[], None]]:
    """Play the worker: once started, deliver the outbox every 0.2 s on a thread (and a
    database connection) of its own until the test ends."""
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def run() -> None:
        from django.db import connection

        from jianguan.outbox.api import deliver

        try:
            while not stop.is_set():
                deliver()
                stop.wait(0.2)
        finally:
            connection.close()

    def start() -> None:
        thread = threading.Thread(target=run, name="outbox-worker", daemon=True)
        thread.start()
        threads.append(thread)

    try:
        yield start
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
            assert not thread.is_alive(), "the outbox worker did not stop"


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


def test_a_behaviour_record_raises_the_grade_and_the_board_follows_live(
    page, screens, outbox_worker, make_user, make_detainee, tree
):
    import pyotp
    from playwright.sync_api import expect

    from jianguan.core.actor import Actor
    from jianguan.housing.api import Cell, CellGender, CellKind
    from jianguan.org.api import totp_enrol
    from jianguan.risk.api import RiskScore, Track, rescore_person

    make_user("gz_xunkong", "PATROL", full_name="吴巡控")
    make_user("gz_guanjiao", "CUSTODIAN", full_name="李管教")
    leader = make_user("gz_suozhang", "LEADER", full_name="周所长")
    secret = totp_enrol(actor=Actor.system("test"), user=leader, secret=pyotp.random_base32())
    for number in ("101", "102"):
        Cell.objects.create(
            unit=tree["gz_k"],
            number=number,
            area="一监区",
            gender=CellGender.MALE,
            kind=CellKind.ORDINARY,
            capacity=12,
        )
    held = make_detainee(
        "gz_k", name="张三", cell=Cell.objects.get(number="102"), status="IN_CUSTODY"
    )
    rescore_person(held.id, cause="收押入所")  # 放火: 18 points, 常规
    outbox_worker()

    # The leader's desk: the cell board and the person's risk page, both open and live.
    desk = screens()
    board = desk.new_page()
    _log_in(board, "gz_suozhang", totp_secret=secret)
    board.goto("/risk/board/")
    tile = board.locator("a.risk-tile[data-cell='102']")
    expect(tile).to_have_attribute("data-grade", "NORMAL")
    expect(tile).to_have_css("background-color", BLUE)
    expect(tile).to_contain_text("常规")
    expect(tile).to_contain_text("18 分")
    _wait_until_live(board)
    person = desk.new_page()
    person.goto(f"/risk/people/{held.id}/")
    grade = person.get_by_test_id("grade")
    expect(grade).to_have_attribute("data-grade", "NORMAL")
    _wait_until_live(person)

    # The 管教 officer's phone, with the task list open.
    custodian = screens(PHONE).new_page()
    _log_in(custodian, "gz_guanjiao")
    custodian.goto("/duty/")
    expect(custodian.get_by_test_id("no-tasks")).to_be_visible()
    _wait_until_live(custodian)

    # The 巡控 officer records what was seen, through the real form.
    _log_in(page, "gz_xunkong")
    page.goto("/duty/record/")
    page.select_option("select[name=category]", "PATROL_ABNORMAL_BEHAVIOUR")
    page.select_option("select[name=detainee]", str(held.id))
    page.fill("textarea[name=text]", "凌晨2时在监室内来回走动，情绪激动")
    with page.expect_navigation():
        page.get_by_role("button", name="记录", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("已记录")

    # The board's tile turns yellow by itself.
    expect(tile).to_have_attribute("data-grade", "LEVEL3")
    expect(tile).to_have_css("background-color", YELLOW)
    expect(tile).to_contain_text("三级风险")
    expect(tile).to_contain_text("33 分")
    expect(board.locator("a.risk-tile[data-cell='101']")).to_have_attribute("data-grade", "")
    assert _was_not_reloaded(board)
    board.screenshot(path=SHOTS / "jianguan_browser_risk_board.png", full_page=True)

    # The person's page shows the rise and what moved it.
    expect(grade).to_have_attribute("data-grade", "LEVEL3")
    expect(person.get_by_test_id("score")).to_have_text("33")
    cause = person.locator("#explanation tr[data-code='ABNORMAL_BEHAVIOUR']")
    expect(cause).to_contain_text("+15")
    expect(cause.get_by_test_id("fact-link")).to_contain_text("凌晨2时在监室内来回走动")
    expect(person.locator("#history tr.rose").first).to_contain_text("异常行为 +15")
    assert _was_not_reloaded(person)
    person.screenshot(path=SHOTS / "jianguan_browser_risk_person.png", full_page=True)

    # The 管教 officer has the grade-rise task at once, beside the record's own task.
    rise = custodian.locator("article.task-card", has_text="风险等级升高")
    expect(rise).to_be_visible()
    expect(rise).to_contain_text("张三")
    expect(rise).to_contain_text("常规 → 三级风险")
    assert _was_not_reloaded(custodian)
    custodian.screenshot(path=SHOTS / "jianguan_browser_risk_task_phone.png", full_page=True)

    # The facility's overview counts the person at the new grade.
    board.goto("/risk/")
    live = board.get_by_test_id("dist-live")
    expect(live.locator("tr[data-grade='LEVEL3'] td[data-f='people']")).to_have_text("1")
    expect(live.locator("tr[data-grade='NORMAL'] td[data-f='people']")).to_have_text("0")
    expect(board.locator(f"#people tr[data-person='{held.id}']")).to_contain_text("三级风险")
    board.screenshot(path=SHOTS / "jianguan_browser_risk_overview.png", full_page=True)

    score = RiskScore.objects.get(detainee_id=held.id, track=Track.LIVE)
    assert (score.score, score.grade) == (33.0, "LEVEL3")
