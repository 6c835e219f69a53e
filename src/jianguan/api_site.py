"""The HTTP API (django-ninja): one versioned site assembled from each app's endpoints.

Errors answer {"code", "message", "field"} so a client can show the message beside the field.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, django_auth

from jianguan.core.errors import DomainError
from jianguan.org.api import api_token_user


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_user(token)
        if user is not None:
            request.user = user
            request.jianguan_token_auth = True  # type: ignore[attr-defined]
        return user


api = NinjaAPI(
    title="jianguan 智慧监管平台 API",
    version="1",
    urls_namespace="api",
    auth=[BearerToken(), django_auth],
    docs_url="/docs",
)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    loc = [
        str(part)
        for part in first.get("loc", [])
        if part not in ("body", "query", "path", "payload")
    ]
    body = {
        "code": "INVALID",
        "message": f"参数有误：{first.get('msg', '')}",
        "field": ".".join(loc) or None,
        "errors": exc.errors,
    }
    return api.create_response(request, body, status=422)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    body = {"code": "UNAUTHENTICATED", "message": "未登录或令牌无效", "field": None}
    return api.create_response(request, body, status=401)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    body = {"code": "HTTP_ERROR", "message": str(exc), "field": None}
    return api.create_response(request, body, status=exc.status_code)


def _mount() -> None:
    from jianguan.codes.endpoints import router as codes_router
    from jianguan.custody.endpoints import custody_router, interrogation_router
    from jianguan.custody.endpoints import router as detainees_router
    from jianguan.org.endpoints import router as org_router
    from jianguan.rules.endpoints import router as rules_router

    api.add_router("/", org_router)
    api.add_router("/codes", codes_router)
    api.add_router("/detainees", detainees_router)
    api.add_router("/custody", custody_router)
    api.add_router("/interrogations", interrogation_router)
    api.add_router("/rules", rules_router)
    api.add_router("/duty", "jianguan.duty.endpoints.router")
    api.add_router("/risk", "jianguan.risk.endpoints.router")
    api.add_router("/devices", "jianguan.devices.endpoints.router")
    api.add_router("/patrol", "jianguan.patrol.endpoints.router")
    api.add_router("/prevention", "jianguan.prevention.endpoints.router")


_mount()
