"""HTTP endpoints of the org app: who am I, my units, and administration of units and users."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from jianguan.core.http import client_address
from jianguan.org.api import (
    Perm,
    access_unit,
    actor_for,
    post_kinds,
    require_perm,
    scope_units,
    unit_create,
    user_create,
    user_perms,
)
from jianguan.org.schemas import MeOut, UnitIn, UnitOut, UserIn, UserOut

router = Router(tags=["组织与人员"])


@router.get("/me", response=MeOut, summary="当前用户")
def me(request: HttpRequest) -> dict[str, Any]:
    user: Any = request.user
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "unit": user.unit,
        "posts": list(post_kinds(user)),
        "permissions": sorted(user_perms(user)),
    }


@router.get("/units", response=list[UnitOut], summary="本人可见的单位（本单位及下级）")
def units(request: HttpRequest) -> Any:
    return list(scope_units(request.user))  # type: ignore[arg-type]


@router.get("/units/{unit_id}", response=UnitOut, summary="单位详情")
def unit_detail(request: HttpRequest, unit_id: uuid.UUID) -> Any:
    return access_unit(user=request.user, id=unit_id)  # type: ignore[arg-type]


@router.post("/units", response={201: UnitOut}, summary="新建单位（系统管理）")
def unit_new(request: HttpRequest, payload: UnitIn) -> Any:
    user: Any = request.user
    require_perm(user, Perm.ADMINISTER)
    parent = access_unit(user=user, id=payload.parent_id) if payload.parent_id else None
    unit = unit_create(
        actor=actor_for(user, address=client_address(request)),
        code=payload.code,
        name=payload.name,
        level=payload.level,
        region_code=payload.region_code,
        parent=parent,
        facility_kind=payload.facility_kind,
    )
    return Status(201, unit)


@router.post("/users", response={201: UserOut}, summary="新建用户（系统管理）")
def user_new(request: HttpRequest, payload: UserIn) -> Any:
    user: Any = request.user
    require_perm(user, Perm.ADMINISTER)
    unit = access_unit(user=user, id=payload.unit_id)
    created = user_create(
        actor=actor_for(user, address=client_address(request)),
        username=payload.username,
        password=payload.password,
        full_name=payload.full_name,
        unit=unit,
        posts=payload.posts,
        police_number=payload.police_number,
    )
    return Status(
        201,
        {
            "id": created.id,
            "username": created.username,
            "full_name": created.full_name,
            "unit_id": created.unit_id,
            "posts": list(post_kinds(created)),
        },
    )
