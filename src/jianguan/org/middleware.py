"""Hold back leaders and administrators until they pass the second factor (DESIGN.md §6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser
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
            and not request.session.get(SECOND_FACTOR_SESSION_KEY)
            and needs_second_factor(user)
        ):
            if not request.path.startswith("/api/"):
                return redirect("web:login_totp")
            if "HTTP_AUTHORIZATION" not in request.META:
                body = {
                    "code": "SECOND_FACTOR_REQUIRED",
                    "message": "请先完成动态口令验证",
                    "field": None,
                }
                return JsonResponse(body, status=401)
            # A machine client's token decides; the half-logged-in session must not count.
            request.user = AnonymousUser()
        return self.get_response(request)
