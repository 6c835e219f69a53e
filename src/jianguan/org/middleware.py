"""Hold back leaders and administrators until they pass the second factor (DESIGN.md §6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from jianguan.org.api import SECOND_FACTOR_SESSION_KEY, needs_second_factor

_OPEN_PREFIXES = ("/login", "/logout", "/static/", "/i18n/")


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user: Any = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(_OPEN_PREFIXES)
            and "HTTP_AUTHORIZATION" not in request.META
            and not request.session.get(SECOND_FACTOR_SESSION_KEY)
            and needs_second_factor(user)
        ):
            if request.path.startswith("/api/"):
                body = {
                    "code": "SECOND_FACTOR_REQUIRED",
                    "message": "请先完成动态口令验证",
                    "field": None,
                }
                return JsonResponse(body, status=401)
            return redirect("web:login_totp")
        return self.get_response(request)
