"""Domain errors: a stable code, a message a person can act on, and the field at fault.

Services raise these; the web UI shows the message beside the field and the API answers
{"code", "message", "field"} (see jianguan.api).
"""

from __future__ import annotations


class DomainError(Exception):
    """A request the rules refuse. Nothing was written."""

    status = 400

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


class NotFound(DomainError):
    """Missing or not yours: the same answer for both (DESIGN.md §6)."""

    status = 404

    def __init__(self, what: str = "记录") -> None:
        super().__init__("NOT_FOUND", f"{what}不存在或无权访问")


class PermissionDenied(DomainError):
    status = 403

    def __init__(self, message: str = "当前岗位无此权限") -> None:
        super().__init__("PERMISSION_DENIED", message)
