"""An officer of the 收押 post admits a person in Chromium, step by step, and places them in a
cell the separation rules allow — after seeing why the co-defendant's cell is excluded."""

from __future__ import annotations

import datetime as dt
import struct
import tempfile
import zlib
from pathlib import Path

import pytest
from django.utils import timezone

from jianguan.codes.idcard import check_digit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CASE_NUMBER = "A4401062025010001"
# Outside the repository: pictures of the placement page and the record to look at after a run.
SCREENSHOTS = Path(tempfile.gettempdir())


def small_png(width: int = 4, height: int = 4) -> bytes:
    """A real (grey) PNG image, made here so the test needs no file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def row(page, number: str):
    return page.locator(f'tr[data-cell="{number}"]')


def test_officer_admits_and_places_a_person(page, login, make_user, make_detainee, tree):
    from jianguan.custody.models import Detainee
    from jianguan.housing.models import Cell

    make_user("gz_shouya", "ADMISSION", full_name="赵收押", gender="1")
    cell_101 = Cell.objects.create(
        unit=tree["gz_k"], number="101", area="一监区", kind="ORDINARY", gender="1", capacity=12
    )
    Cell.objects.create(
        unit=tree["gz_k"], number="102", area="一监区", kind="TRANSITION", gender="1", capacity=8
    )
    make_detainee(
        "gz_k",
        name="王五",
        case_number=CASE_NUMBER,
        legal_measure="10",
        litigation_stage="11",
        cell=cell_101,
    )

    login("gz_shouya")
    with page.expect_navigation():
        page.locator("header nav").get_by_role("link", name="收押").click()
    assert page.locator("h1").inner_text().startswith("收押")
    with page.expect_navigation():
        page.get_by_role("button", name="开始收押").click()
    assert page.url.endswith("/person/")

    # 1. the person and the legal document
    id_number = "44010319900101123" + check_digit("44010319900101123")
    executed = timezone.localtime(timezone.now() - dt.timedelta(hours=3))
    page.fill("input[name=name]", "张三")
    page.select_option("select[name=gender]", "1")
    page.fill("input[name=id_number]", id_number)
    page.select_option("select[name=ethnicity]", "01")
    page.select_option("select[name=legal_measure]", "10")
    page.select_option("select[name=case_nature]", "0201")
    page.fill("input[name=case_unit]", "广州市公安局天河区分局")
    page.fill("input[name=case_number]", CASE_NUMBER)
    page.select_option("select[name=document_kind]", "DETENTION_WARRANT")
    page.fill("input[name=document_number]", "穗天公（刑）拘字〔2025〕101号")
    page.fill("input[name=document_issued_by]", "广州市公安局天河区分局")
    page.fill("input[name=document_name]", "张三")
    page.fill("input[name=executed_at]", f"{executed:%Y-%m-%dT%H:%M}")
    with page.expect_navigation():
        page.get_by_role("button", name="保存并继续").click()
    assert page.url.endswith("/health/")
    assert "已完成" in page.locator(".stepbar li").first.inner_text()

    # 2. health and body surface
    for name, value in {
        "blood_pressure": "120/80",
        "blood_routine": "正常",
        "ecg": "窦性心律",
        "ultrasound": "未见异常",
        "chest_xray": "未见异常",
        "current_condition": "无不适",
        "history": "无",
        "allergies": "青霉素",
        "family_history": "无",
        "doctor": "王医生",
    }.items():
        page.fill(f"input[name={name}]", value)
    assert page.locator("input[name=pregnant]").count() == 0  # a man: no pregnancy items
    with page.expect_navigation():
        page.get_by_role("button", name="保存并继续").click()
    assert page.url.endswith("/search/")

    # 3. search
    page.get_by_label("赵收押").check()
    page.fill("textarea[name=findings]", "未发现违禁品")
    with page.expect_navigation():
        page.get_by_role("button", name="保存并继续").click()
    assert page.url.endswith("/belongings/")

    # 4. belongings: three blank rows, and one more added by the button
    names = page.locator("input[name=item_name]")
    assert names.count() == 3
    page.get_by_role("button", name="添加一行").click()
    assert names.count() == 4
    names.nth(0).fill("手机")
    page.locator("input[name=item_quantity]").nth(0).fill("1")
    names.nth(3).fill("钱包")
    page.locator("input[name=item_quantity]").nth(3).fill("1")
    page.locator("select[name=item_disposition]").nth(3).select_option("TO_FAMILY")
    with page.expect_navigation():
        page.get_by_role("button", name="保存并继续").click()
    assert page.url.endswith("/photo/")

    # 5. photo
    page.set_input_files(
        "input[name=photo]", {"name": "face.png", "mimeType": "image/png", "buffer": small_png()}
    )
    with page.expect_navigation():
        page.get_by_role("button", name="上传并进入审核").click()
    assert page.url.endswith("/review/")
    review = page.locator("main").inner_text()
    for shown in ("张三", "刑事拘留", "青霉素", "钱包", "交家属", "未发现不予收押或需要批准的情形"):
        assert shown in review
    assert page.locator("img.portrait").evaluate("img => img.naturalWidth") == 4

    with page.expect_navigation():
        page.get_by_role("button", name="确认收押").click()
    assert page.url.endswith("/placement/")
    assert "已收押" in page.get_by_role("status").inner_text()

    # The co-defendant's cell is excluded, and the page says why.
    blocked = row(page, "101")
    assert "不可安排" in blocked.inner_text()
    assert "同案犯分押" in blocked.inner_text()
    assert "王五" in blocked.inner_text()
    assert blocked.get_by_role("button").count() == 0
    allowed = row(page, "102")
    assert "可安排" in allowed.inner_text()
    page.screenshot(path=SCREENSHOTS / "jianguan_browser_placement.png", full_page=True)

    with page.expect_navigation():
        allowed.get_by_role("button", name="安排").click()
    person = Detainee.objects.get(name="张三")
    assert page.url.endswith(f"/detainees/{person.id}/")
    assert page.get_by_test_id("cell").inner_text() == "102"
    assert "已安排监室" in page.get_by_role("status").inner_text()
    assert "刑事拘留期限" in page.locator("#deadlines").inner_text()
    page.screenshot(path=SCREENSHOTS / "jianguan_browser_record.png", full_page=True)
