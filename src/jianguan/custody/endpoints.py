"""HTTP endpoints of custody: the paged list of people and one person's record (both audited)."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Query, Router, Schema

from jianguan.core.http import client_address
from jianguan.custody.api import access_detainee, audit_list_read, detainee_rows, detainee_search
from jianguan.custody.models import Detainee
from jianguan.custody.schemas import DetaineeDetailOut, DetaineePage
from jianguan.org.api import actor_for

router = Router(tags=["在押人员"])


class ListFilter(Schema):
    status: str | None = None
    unit_id: uuid.UUID | None = None
    q: str = ""
    page: int = 1
    page_size: int = 50


def _row(d: Detainee) -> dict[str, Any]:
    return {
        **{f: getattr(d, f) for f in DetaineeDetailOut.model_fields if hasattr(d, f)},
        "cell_number": d.cell.number if d.cell else None,
    }


@router.get("", response=DetaineePage, summary="在押人员列表（分页）")
def detainee_list(request: HttpRequest, filters: Query[ListFilter]) -> HttpResponse:
    page_size = max(1, min(filters.page_size, 200))
    page = max(1, filters.page)
    qs = detainee_search(
        user=request.user, status=filters.status, unit_id=filters.unit_id, text=filters.q
    )
    count = qs.count()
    rows = detainee_rows(qs, offset=(page - 1) * page_size, limit=page_size)
    audit_list_read(
        actor=actor_for(request.user, address=client_address(request)),  # type: ignore[arg-type]
        ids=[r["id"] for r in rows],
        query=filters.model_dump(mode="json"),
    )
    # The rows come typed from the database in DetaineePage's shape (tests hold it to the
    # schema); serialising them directly skips a per-field validation pass.
    body = {"count": count, "page": page, "page_size": page_size, "items": rows}
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})


@router.get("/{detainee_id}", response=DetaineeDetailOut, summary="在押人员档案（查看留痕）")
def detainee_detail(request: HttpRequest, detainee_id: str) -> dict[str, Any]:
    user: Any = request.user
    detainee = access_detainee(
        user=user, actor=actor_for(user, address=client_address(request)), id=detainee_id
    )
    return _row(detainee)
