"""One route: a fixed page of 50 rows shaped like /api/v1/detainees rows, built once at import."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import path

_UNIT = str(uuid.UUID(int=1))
ROWS: list[dict[str, Any]] = [
    {
        "id": str(uuid.UUID(int=1000 + i)),
        "unit_id": _UNIT,
        "number": f"44010011{i:06d}",
        "name": f"张{'伟芳娜敏静丽强磊军洋'[i % 10]}{'华明国建'[i % 4]}",
        "gender": "1" if i % 3 else "2",
        "birth_date": f"19{70 + i % 30}-0{1 + i % 9}-1{i % 10}",
        "nationality": "CHN",
        "case_nature": "0201",
        "legal_measure": "02",
        "litigation_stage": "03",
        "case_unit": "广州市公安局天河区分局刑事侦查大队",
        "status": "IN_CUSTODY",
        "admitted_at": f"2026-0{1 + i % 9}-1{i % 10}T09:30:00+08:00",
        "left_at": None,
        "cell_number": f"{1 + i % 12:03d}",
    }
    for i in range(50)
]
PAGE = {"count": 1200, "page": 1, "page_size": 50, "items": ROWS}


def page(request: HttpRequest) -> JsonResponse:
    return JsonResponse(PAGE)


urlpatterns = [path("page", page)]
