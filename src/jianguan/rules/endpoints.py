"""HTTP endpoints of rule packs: what kinds there are and which versions are published, and
publishing a new version (the YAML text is the request body)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from jianguan.core.errors import DomainError, NotFound
from jianguan.core.http import client_address
from jianguan.org.api import Perm, UnitLevel, actor_for, require_perm, scope_unit_codes
from jianguan.rules.api import builtin_pack, pack_kinds, pack_publish, packs_published
from jianguan.rules.schemas import PackOut, PacksOut, PublishQuery

router = Router(tags=["规则包"])

_YAML_BODY = {
    "requestBody": {
        "required": True,
        "description": "规则包 YAML 全文（UTF-8）",
        "content": {"application/yaml": {"schema": {"type": "string"}}},
    }
}


def _governing_codes(user: Any) -> list[str]:
    """Units whose packs reach the user: every unit above on the path, and the subtree below."""
    unit = user.unit
    if unit is None:
        return []
    above = [code for code in unit.path.split("/") if code]
    return above + list(scope_unit_codes(user).values_list("code", flat=True))


@router.get("/packs", response=PacksOut, summary="规则包类别与已发布版本")
def packs(request: HttpRequest) -> dict[str, Any]:
    codes = ["", *_governing_codes(request.user)]
    return {
        "kinds": [
            {"name": name, "label": kind.label, "builtin_version": builtin_pack(name).version}
            for name, kind in sorted(pack_kinds().items())
        ],
        "packs": list(packs_published().filter(unit_code__in=codes)),
    }


def _check_unit(user: Any, unit_code: str) -> None:
    """A nationwide pack is published at the top; a unit's pack within one's own subtree."""
    if not unit_code:
        if user.unit is None or user.unit.level != UnitLevel.NATIONAL:
            raise DomainError(
                "RULEPACK_SCOPE",
                "全国规则包只能由部级单位发布；请填写适用单位代码",
                field="unit_code",
            )
        return
    if not scope_unit_codes(user).filter(code=unit_code).exists():
        raise NotFound("单位")


@router.post(
    "/packs/{kind}",
    response={201: PackOut},
    summary="发布规则包（请求体为 YAML 文本；unit_code 适用单位，shadow 试运行）",
    openapi_extra=_YAML_BODY,
)
def pack_new(request: HttpRequest, kind: str, params: Query[PublishQuery]) -> Any:
    user: Any = request.user
    require_perm(user, Perm.RULES_PUBLISH)
    unit_code = params.unit_code.strip()
    _check_unit(user, unit_code)
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise DomainError("RULEPACK_INVALID", "规则包须为 UTF-8 编码的 YAML 文本") from None
    record = pack_publish(
        actor=actor_for(user, address=client_address(request)),
        kind=kind,
        text=text,
        unit_code=unit_code,
        shadow=params.shadow,
    )
    return Status(201, record)
