"""The answers of each admission step, as the form or the API sends them, and small helpers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from jianguan.codes.idcard import check_digit

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def resident_id(first17: str) -> str:
    """A valid 18-digit number: the 17 digits given and their check character."""
    return first17 + check_digit(first17)


MAN_ID = resident_id("44010319900101123")  # born 1990-01-01; 17th digit odd: male
WOMAN_ID = resident_id("44010319920202124")  # born 1992-02-02; even: female


def local(text: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(text))


def ago(**delta: float) -> str:
    """A local time `delta` before now, as the form sends it (YYYY-MM-DDTHH:MM)."""
    return f"{timezone.localtime(timezone.now() - dt.timedelta(**delta)):%Y-%m-%dT%H:%M}"


def person_step(**overrides: Any) -> dict[str, Any]:
    """A man under 刑事拘留 brought to 广州一看 two hours after the 拘留证 was executed."""
    return {
        "name": "张三",
        "id_type": "111",
        "id_number": MAN_ID,
        "gender": "1",
        "nationality": "CHN",
        "ethnicity": "01",
        "legal_measure": "10",
        "case_nature": "0201",
        "case_unit": "广州市公安局天河区分局",
        "case_number": "A4401060000002025010001",
        "document_kind": "DETENTION_WARRANT",
        "document_number": "穗天公（刑）拘字〔2025〕101号",
        "document_issued_by": "广州市公安局天河区分局",
        "document_name": overrides.get("name", "张三"),
        "executed_at": ago(hours=2),
        **overrides,
    }


def woman_step(**overrides: Any) -> dict[str, Any]:
    return person_step(
        **{"name": "李四", "id_number": WOMAN_ID, "gender": "2", "document_name": "李四"}
        | overrides
    )


def health_step(**overrides: Any) -> dict[str, Any]:
    return {
        "blood_pressure": "120/80",
        "blood_routine": "正常",
        "ecg": "窦性心律",
        "ultrasound": "未见异常",
        "chest_xray": "未见异常",
        "current_condition": "无不适",
        "history": "无",
        "allergies": "无",
        "family_history": "无",
        "doctor": "王医生",
        **overrides,
    }


def search_step(*searchers: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "searchers": [str(u.id) for u in searchers],
        "findings": "未发现违禁品",
        **overrides,
    }


def belongings_step(**overrides: Any) -> dict[str, Any]:
    return {
        "items": [{"name": "手机", "quantity": 1, "disposition": "KEPT"}],
        **overrides,
    }


def photo(body: bytes = JPEG, name: str = "face.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, body, content_type="image/jpeg")
